/*
 * tpid-token - sign, verify and decode third-party PASSporTs (ppt=rcd with
 * the tpid claim) and avatar PASSporTs (ppt=avatar) from the command line,
 * with the module's own token code; and fetch an avatar's representation as
 * the callee's phone would, accepting it only if it matches the signed
 * digest.
 *
 * Exit codes: 0 success, 1 the token (or key/certificate) was refused, the
 * reason printed on stdout as "NAME (number) SIP_CODE SIP_PHRASE" (for
 * avatar-fetch also "AVATAR_FETCH <CLASS> <http status>" and
 * "AVATAR_DIGEST_MISMATCH <digest of what came>"), 2 usage.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "tpid_avatar.h"
#include "tpid_https.h"
#include "tpid_ident.h"
#include "tpid_passport.h"
#include "tpid_reason.h"

#define EXIT_REFUSED 1
#define EXIT_USAGE 2

static const char usage_text[] =
		"usage:\n"
		"  tpid-token sign --key KEY.pem --x5u URL --orig URI_OR_TN\n"
		"         --dest URI_OR_TN [--dest ...] --id TPID_URI --iss DOMAIN\n"
		"         [--name TEXT] [--iat N] [--exp N | --ttl SECONDS]\n"
		"  tpid-token sign --ppt avatar --key KEY.pem --x5u URL --orig X\n"
		"         --dest X [--dest ...] --aid AVATAR_ID --bar URL --fmt TYPE\n"
		"         (--digest sha256-... | --object FILE) [--iat N]\n"
		"  tpid-token verify --cert CERT.pem [--ca CA.pem] [--orig X]"
		" [--dest X]\n"
		"         [--now N] [--max-age 60] [--max-future 15]"
		" [--ppt rcd|avatar]\n"
		"         [--token VALUE]   (token from stdin without --token)\n"
		"  tpid-token decode [--token VALUE]\n"
		"  tpid-token avatar-fetch (--token VALUE | --url URL --digest SRI)\n"
		"         (--bearer TOKEN | --bearer-file F) --ca-file CA.pem\n"
		"         [--out FILE] [--max-size 16777216] [--timeout-ms 5000]\n"
		"         [--allow-private]\n"
		"    GETs the representation (https only, no redirect, size cap,\n"
		"    timeouts; loopback and private addresses only with\n"
		"    --allow-private) and accepts it only if its SHA-256 is the\n"
		"    signed digest; --out gets the accepted bytes, never others.\n"
		"    With --token the avatar token's bar and digest are used (its\n"
		"    signature is verify's job).\n";

static int usage(const char *fmt, const char *arg)
{
	if(fmt != NULL) {
		fputs("tpid-token: ", stderr);
		fprintf(stderr, fmt, arg ? arg : "");
		fputc('\n', stderr);
	}
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

/* The one line a refusal prints, e.g. "IAT_STALE (41) 403 Stale Date". */
static int refuse(int reason)
{
	printf("%s (%d) %d %s\n", tpid_reason_name(reason), reason,
			tpid_reason_sip_code(reason), tpid_reason_sip_phrase(reason));
	return EXIT_REFUSED;
}

static void openssl_error(const char *what, const char *file)
{
	unsigned long e = ERR_get_error();
	char buf[256] = "";

	if(e != 0)
		ERR_error_string_n(e, buf, sizeof(buf));
	fprintf(stderr, "tpid-token: %s %s%s%s\n", what, file, e ? ": " : "", buf);
	ERR_clear_error();
}

static int parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if(s == NULL || *s == '\0')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if(errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = (int64_t)v;
	return 0;
}

/* A URI (the module's grammar, tpid_ident.h) or a bare global number ('+'
 * optional, digits, visual separators) as orig/dest. */
static int ident_arg(const char *s, tpid_ident_t *out)
{
	char tel[TPID_MAX_URI + 8];
	tpid_uri_t u;

	if(s[0] != '\0' && strchr("+0123456789", s[0]) != NULL) {
		if(snprintf(tel, sizeof(tel), "tel:%s%s", s[0] == '+' ? "" : "+", s)
				>= (int)sizeof(tel))
			return -1;
		s = tel;
	}
	if(tpid_uri_from_text(s, strlen(s), &u) < 0)
		return -1;
	return tpid_uri_ident(&u, out);
}

static int set_str(char *dst, size_t size, const char *src, const char *opt)
{
	if(src[0] == '\0' || strlen(src) >= size) {
		fprintf(stderr, "tpid-token: %s: empty or longer than %zu bytes\n", opt,
				size - 1);
		return -1;
	}
	strcpy(dst, src);
	return 0;
}

/* No passphrase prompts: an encrypted key is an error, never a hang. */
static int no_passphrase(char *buf, int size, int rw, void *u)
{
	(void)buf;
	(void)size;
	(void)rw;
	(void)u;
	return 0;
}

/* The token from --token or from stdin, trimmed, an "Identity:" prefix
 * dropped. Longer than the limit is passed on as such: the parser says
 * BAD_SYNTAX. Returns a malloc()ed buffer or NULL. */
static char *read_token(const char *arg, size_t *len)
{
	size_t cap = TPID_MAX_HDR_LEN * 2, n = 0, r;
	char *buf, *p, *e;

	buf = malloc(cap + 1);
	if(buf == NULL)
		return NULL;
	if(arg != NULL) {
		n = strlen(arg);
		if(n > cap)
			n = cap;
		memcpy(buf, arg, n);
	} else {
		while(n < cap && (r = fread(buf + n, 1, cap - n, stdin)) > 0)
			n += r;
		if(ferror(stdin)) {
			free(buf);
			return NULL;
		}
	}
	buf[n] = '\0';
	p = buf;
	e = buf + n;
	while(p < e && strchr(" \t\r\n", *p) != NULL)
		p++;
	while(e > p && strchr(" \t\r\n", e[-1]) != NULL)
		e--;
	if(e - p >= 9 && strncasecmp(p, "Identity:", 9) == 0) {
		p += 9;
		while(p < e && (*p == ' ' || *p == '\t'))
			p++;
	}
	*len = (size_t)(e - p);
	memmove(buf, p, *len);
	buf[*len] = '\0';
	return buf;
}

/* JWS header and payload of a token as JSON objects (no verification),
 * split by the module's own tokenizer */
static int decode_jws(const char *tok, size_t len, json_t **h, json_t **p)
{
	tpid_idhdr_t hp;

	*h = *p = NULL;
	if(tpid_idhdr_split(tok, len, &hp) != TPID_OK)
		return -1;
	*h = tpid_jose_json_b64u(hp.part[0].s, hp.part[0].n);
	*p = tpid_jose_json_b64u(hp.part[1].s, hp.part[1].n);
	if(*h == NULL || *p == NULL) {
		json_decref(*h);
		json_decref(*p);
		*h = *p = NULL;
		return -1;
	}
	return 0;
}

static int print_canonical(json_t *j)
{
	char *s = tpid_jose_json_dump(j);

	if(s == NULL)
		return -1;
	puts(s);
	free(s);
	return 0;
}

/* Reads a whole file (at most max bytes) into a malloc()ed buffer. */
static unsigned char *read_file(const char *path, size_t max, size_t *len)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf;
	size_t n;

	if(f == NULL) {
		fprintf(stderr, "tpid-token: cannot open %s: %s\n", path,
				strerror(errno));
		return NULL;
	}
	buf = malloc(max + 1);
	n = buf ? fread(buf, 1, max + 1, f) : 0;
	fclose(f);
	if(buf == NULL || n > max) {
		fprintf(stderr, "tpid-token: %s: larger than %zu bytes\n", path, max);
		free(buf);
		return NULL;
	}
	*len = n;
	return buf;
}

/* The SRI digest (sha256-<base64>) of a file's bytes. 0 or -1. */
static int object_digest(const char *path, char *out, size_t outsize)
{
	size_t len = 0;
	unsigned char *buf = read_file(path, 64 * 1024 * 1024, &len);
	int rc;

	if(buf == NULL)
		return -1;
	rc = tpid_sri_sha256(buf, len, out, outsize);
	free(buf);
	return rc;
}

/* ---- sign ----------------------------------------------------------------- */

static int cmd_sign(int argc, char **argv)
{
	tpid_claims_t c;
	const char *keyfile = NULL, *exp_s = NULL, *ttl_s = NULL, *iat_s = NULL;
	int have_orig = 0, have_x5u = 0, have_id = 0, have_iss = 0, i, rc;
	int64_t ttl = 300;
	EVP_PKEY *key = NULL;
	FILE *f;
	char *out;

	const char *object = NULL;
	int have_digest = 0;

	memset(&c, 0, sizeof(c));
	strcpy(c.ppt, "rcd");
	for(i = 0; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if(v == NULL)
			return usage("%s: missing value", o);
		i++;
		if(strcmp(o, "--key") == 0) {
			keyfile = v;
		} else if(strcmp(o, "--x5u") == 0) {
			if(set_str(c.x5u, sizeof(c.x5u), v, o) < 0)
				return EXIT_USAGE;
			have_x5u = 1;
		} else if(strcmp(o, "--orig") == 0) {
			if(ident_arg(v, &c.orig) < 0)
				return usage("--orig: not a tel/sip URI or number: %s", v);
			have_orig = 1;
		} else if(strcmp(o, "--dest") == 0) {
			if(c.ndest >= TPID_MAX_DEST)
				return usage("--dest: too many (at most 8)", NULL);
			if(ident_arg(v, &c.dest[c.ndest]) < 0)
				return usage("--dest: not a tel/sip URI or number: %s", v);
			c.ndest++;
		} else if(strcmp(o, "--id") == 0) {
			if(set_str(c.id, sizeof(c.id), v, o) < 0)
				return EXIT_USAGE;
			have_id = 1;
		} else if(strcmp(o, "--iss") == 0) {
			if(set_str(c.iss, sizeof(c.iss), v, o) < 0)
				return EXIT_USAGE;
			have_iss = 1;
		} else if(strcmp(o, "--name") == 0) {
			/* may be empty: rcd.nam "" */
			if(strlen(v) >= sizeof(c.name))
				return usage("--name: too long", NULL);
			strcpy(c.name, v);
		} else if(strcmp(o, "--iat") == 0) {
			iat_s = v;
		} else if(strcmp(o, "--exp") == 0) {
			exp_s = v;
		} else if(strcmp(o, "--ttl") == 0) {
			ttl_s = v;
		} else if(strcmp(o, "--ppt") == 0) {
			if(strcmp(v, "rcd") != 0 && strcmp(v, TPID_PPT_AVATAR) != 0)
				return usage("--ppt: rcd or avatar, not %s", v);
			strcpy(c.ppt, v);
		} else if(strcmp(o, "--aid") == 0) {
			if(set_str(c.aid, sizeof(c.aid), v, o) < 0)
				return EXIT_USAGE;
		} else if(strcmp(o, "--bar") == 0) {
			if(set_str(c.bar, sizeof(c.bar), v, o) < 0)
				return EXIT_USAGE;
		} else if(strcmp(o, "--fmt") == 0) {
			if(set_str(c.fmt, sizeof(c.fmt), v, o) < 0)
				return EXIT_USAGE;
		} else if(strcmp(o, "--digest") == 0) {
			if(set_str(c.digest, sizeof(c.digest), v, o) < 0)
				return EXIT_USAGE;
			have_digest = 1;
		} else if(strcmp(o, "--object") == 0) {
			object = v;
		} else {
			return usage("unknown option %s", o);
		}
	}
	if(strcmp(c.ppt, TPID_PPT_AVATAR) == 0) {
		/* no claim grammar here: tests sign hostile tokens on purpose */
		if(keyfile == NULL || !have_x5u || !have_orig || c.ndest == 0
				|| c.aid[0] == '\0' || c.bar[0] == '\0' || c.fmt[0] == '\0'
				|| have_digest == (object != NULL))
			return usage(
					"sign --ppt avatar needs --key, --x5u, --orig, --dest, "
					"--aid, --bar, --fmt and one of --digest, --object",
					NULL);
		if(object != NULL
				&& object_digest(object, c.digest, sizeof(c.digest)) < 0)
			return refuse(TPID_R_INTERNAL);
		c.id[0] = c.iss[0] = c.name[0] = '\0';
		have_id = have_iss = 1;
	}
	if(keyfile == NULL || !have_x5u || !have_orig || c.ndest == 0 || !have_id
			|| !have_iss)
		return usage(
				"sign needs --key, --x5u, --orig, --dest, --id, --iss", NULL);
	if(exp_s != NULL && ttl_s != NULL)
		return usage("--exp and --ttl exclude each other", NULL);
	c.iat = (int64_t)time(NULL);
	if(iat_s != NULL && parse_i64(iat_s, 0, INT64_MAX / 2, &c.iat) < 0)
		return usage("--iat: not a number of seconds: %s", iat_s);
	if(ttl_s != NULL && parse_i64(ttl_s, 1, INT32_MAX, &ttl) < 0)
		return usage("--ttl: not a positive number of seconds: %s", ttl_s);
	c.exp = c.iat + ttl;
	if(exp_s != NULL && parse_i64(exp_s, 0, INT64_MAX / 2, &c.exp) < 0)
		return usage("--exp: not a number of seconds: %s", exp_s);

	f = fopen(keyfile, "r");
	if(f == NULL) {
		fprintf(stderr, "tpid-token: cannot open %s: %s\n", keyfile,
				strerror(errno));
		return refuse(TPID_R_SIGN_FAILED);
	}
	key = PEM_read_PrivateKey(f, NULL, no_passphrase, NULL);
	fclose(f);
	if(key == NULL) {
		openssl_error("no usable private key in", keyfile);
		return refuse(TPID_R_SIGN_FAILED);
	}
	out = malloc(TPID_MAX_HDR_LEN + 1);
	if(out == NULL) {
		EVP_PKEY_free(key);
		return refuse(TPID_R_INTERNAL);
	}
	rc = tpid_passport_sign(&c, key, out, TPID_MAX_HDR_LEN + 1);
	EVP_PKEY_free(key);
	if(rc != TPID_OK) {
		if(rc == TPID_R_SIGN_FAILED)
			fprintf(stderr, "tpid-token: the key must be EC P-256 (ES256)\n");
		free(out);
		return refuse(rc);
	}
	puts(out);
	free(out);
	return 0;
}

/* ---- verify --------------------------------------------------------------- */

static int key_is_p256(EVP_PKEY *k)
{
	char group[64];
	size_t n = 0;

	return k != NULL && EVP_PKEY_is_a(k, "EC")
		   && EVP_PKEY_get_group_name(k, group, sizeof(group), &n) == 1
		   && strcmp(group, "prime256v1") == 0;
}

/* The leaf is the first certificate of the file; any further ones are
 * intermediates offered to the chain check. */
static X509 *load_certs(const char *file, STACK_OF(X509) * *extra)
{
	FILE *f = fopen(file, "r");
	X509 *leaf, *x;

	*extra = NULL;
	if(f == NULL) {
		fprintf(stderr, "tpid-token: cannot open %s: %s\n", file,
				strerror(errno));
		return NULL;
	}
	leaf = PEM_read_X509(f, NULL, no_passphrase, NULL);
	if(leaf == NULL) {
		openssl_error("no certificate in", file);
		fclose(f);
		return NULL;
	}
	*extra = sk_X509_new_null();
	while(*extra != NULL
			&& (x = PEM_read_X509(f, NULL, no_passphrase, NULL)) != NULL) {
		if(!sk_X509_push(*extra, x))
			X509_free(x);
	}
	ERR_clear_error(); /* the end of the file reads as an error */
	fclose(f);
	return leaf;
}

static int chain_ok(X509 *leaf, STACK_OF(X509) * extra, const char *ca,
		int64_t now, int now_given)
{
	X509_STORE *store = X509_STORE_new();
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	int ok = 0;

	if(store == NULL || ctx == NULL)
		goto done;
	if(X509_STORE_load_file(store, ca) != 1) {
		openssl_error("cannot load trust anchors from", ca);
		goto done;
	}
	if(X509_STORE_CTX_init(ctx, store, leaf, extra) != 1)
		goto done;
	if(now_given)
		X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), (time_t)now);
	if(X509_verify_cert(ctx) == 1) {
		ok = 1;
	} else {
		fprintf(stderr, "tpid-token: certificate not trusted: %s\n",
				X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
	}
done:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	return ok;
}

static int cmd_verify(int argc, char **argv)
{
	const char *certfile = NULL, *ca = NULL, *token = NULL, *ppt = "rcd";
	tpid_ident_t orig, dest;
	int have_orig = 0, have_dest = 0, now_given = 0, i, rc;
	int64_t now = (int64_t)time(NULL), max_age = 60, max_future = 15;
	tpid_passport_t *t = NULL;
	STACK_OF(X509) *extra = NULL;
	X509 *cert = NULL;
	json_t *h = NULL, *p = NULL;
	char *buf = NULL;
	size_t len;

	for(i = 0; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if(v == NULL)
			return usage("%s: missing value", o);
		i++;
		if(strcmp(o, "--cert") == 0) {
			certfile = v;
		} else if(strcmp(o, "--ca") == 0) {
			ca = v;
		} else if(strcmp(o, "--token") == 0) {
			token = v;
		} else if(strcmp(o, "--ppt") == 0) {
			ppt = v;
		} else if(strcmp(o, "--orig") == 0) {
			if(ident_arg(v, &orig) < 0)
				return usage("--orig: not a tel/sip URI or number: %s", v);
			have_orig = 1;
		} else if(strcmp(o, "--dest") == 0) {
			if(ident_arg(v, &dest) < 0)
				return usage("--dest: not a tel/sip URI or number: %s", v);
			have_dest = 1;
		} else if(strcmp(o, "--now") == 0) {
			if(parse_i64(v, 0, INT64_MAX / 2, &now) < 0)
				return usage("--now: not a number of seconds: %s", v);
			now_given = 1;
		} else if(strcmp(o, "--max-age") == 0) {
			if(parse_i64(v, 0, INT32_MAX, &max_age) < 0)
				return usage("--max-age: not a number of seconds: %s", v);
		} else if(strcmp(o, "--max-future") == 0) {
			if(parse_i64(v, 0, INT32_MAX, &max_future) < 0)
				return usage("--max-future: not a number of seconds: %s", v);
		} else {
			return usage("unknown option %s", o);
		}
	}
	if(certfile == NULL)
		return usage("verify needs --cert", NULL);

	buf = read_token(token, &len);
	t = malloc(sizeof(*t));
	if(buf == NULL || t == NULL) {
		rc = refuse(TPID_R_INTERNAL);
		goto done;
	}
	/* the order of the terminating side: syntax .. x5u, certificate,
	 * signature, iat, exp, orig, dest */
	rc = tpid_passport_parse(buf, len, ppt, t);
	if(rc != TPID_OK)
		goto refused;
	cert = load_certs(certfile, &extra);
	if(cert == NULL) {
		rc = TPID_R_CERT_UNAVAILABLE;
		goto refused;
	}
	if(!key_is_p256(X509_get0_pubkey(cert))) {
		fprintf(stderr, "tpid-token: certificate key is not EC P-256\n");
		rc = TPID_R_CERT_INVALID;
		goto refused;
	}
	if(ca != NULL && !chain_ok(cert, extra, ca, now, now_given)) {
		rc = TPID_R_CERT_INVALID;
		goto refused;
	}
	rc = tpid_passport_verify_sig(t, X509_get0_pubkey(cert));
	/* the claim grammar of the token's kind, as the module checks it */
	if(rc == TPID_OK)
		rc = strcmp(t->claims.ppt, TPID_PPT_AVATAR) == 0
					 ? tpid_avatar_check_claims(&t->claims)
					 : tpid_claim_rules(t->claims.id, t->claims.iss);
	if(rc == TPID_OK)
		rc = tpid_passport_check_time(
				&t->claims, now, (int)max_age, (int)max_future);
	if(rc == TPID_OK && have_orig)
		rc = tpid_passport_check_orig(&t->claims, &orig);
	if(rc == TPID_OK && have_dest)
		rc = tpid_passport_check_dest(&t->claims, &dest);
	if(rc != TPID_OK)
		goto refused;
	if(decode_jws(buf, len, &h, &p) < 0 || print_canonical(p) < 0) {
		rc = refuse(TPID_R_INTERNAL);
		goto done;
	}
	rc = 0;
	goto done;
refused:
	rc = refuse(rc);
done:
	json_decref(h);
	json_decref(p);
	X509_free(cert);
	sk_X509_pop_free(extra, X509_free);
	free(t);
	free(buf);
	return rc;
}

/* ---- decode --------------------------------------------------------------- */

static int cmd_decode(int argc, char **argv)
{
	const char *token = NULL;
	tpid_passport_t *t = NULL;
	json_t *h = NULL, *p = NULL, *all;
	char *buf = NULL;
	size_t len;
	int i, rc;

	for(i = 0; i < argc; i++) {
		if(strcmp(argv[i], "--token") == 0 && i + 1 < argc)
			token = argv[++i];
		else
			return usage("unknown option or missing value: %s", argv[i]);
	}
	buf = read_token(token, &len);
	t = malloc(sizeof(*t));
	if(buf == NULL || t == NULL) {
		rc = refuse(TPID_R_INTERNAL);
		goto done;
	}
	/* only the syntax counts here: any ppt, no claim requirements */
	if(tpid_passport_parse(buf, len, NULL, t) == TPID_R_BAD_SYNTAX
			|| decode_jws(buf, len, &h, &p) < 0) {
		rc = refuse(TPID_R_BAD_SYNTAX);
		goto done;
	}
	all = json_pack("{s:O,s:O}", "header", h, "payload", p);
	rc = (all != NULL && print_canonical(all) == 0) ? 0
													: refuse(TPID_R_INTERNAL);
	json_decref(all);
done:
	json_decref(h);
	json_decref(p);
	free(t);
	free(buf);
	return rc;
}

/* ---- avatar-fetch ---------------------------------------------------------- */

/* One GET on the module's HTTPS engine (its guards: https only, no
 * redirects, size cap, timeouts, address policy), waited for here. */
static int fetch(const char *url, const char *auth, const char *ca, size_t max,
		long timeout_ms, int allow_private, tpid_https_result_t *res)
{
	const char *hdrs[1] = {auth};
	tpid_https_req_t r;
	tpid_https_t *eng;
	void *user = NULL;
	int got = 0;

	if(tpid_https_global_init() != 0 || (eng = tpid_https_new(1)) == NULL)
		return -1;
	memset(&r, 0, sizeof(r));
	r.url = url;
	r.method = TPID_HTTPS_GET;
	r.headers = hdrs;
	r.nheaders = 1;
	r.ca_file = ca;
	r.connect_timeout_ms = timeout_ms < 2000 ? timeout_ms : 2000;
	r.timeout_ms = timeout_ms;
	r.max_body = max;
	r.allow_private = allow_private;
	if(tpid_https_add(eng, &r, NULL) == 0) {
		while(!(got = tpid_https_next(eng, &user, res))
				&& tpid_https_wait(eng, -1, 100, NULL) == 0)
			;
	}
	tpid_https_free(eng);
	tpid_https_global_cleanup();
	return got ? 0 : -1;
}

static int cmd_avatar_fetch(int argc, char **argv)
{
	const char *token = NULL, *url = NULL, *digest = NULL, *bearer = NULL;
	const char *bearer_file = NULL, *ca = NULL, *out = NULL;
	int64_t max = 16 * 1024 * 1024, timeout_ms = 5000;
	int allow_private = 0, i, rc;
	char auth[1100], got_sri[TPID_MAX_SRI];
	tpid_passport_t *t = NULL;
	tpid_https_result_t res;
	char *buf = NULL;
	unsigned char *tok = NULL;
	size_t len;
	FILE *f;

	for(i = 0; i < argc; i++) {
		const char *o = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if(strcmp(o, "--allow-private") == 0) {
			allow_private = 1;
			continue;
		}
		if(v == NULL)
			return usage("%s: missing value", o);
		i++;
		if(strcmp(o, "--token") == 0)
			token = v;
		else if(strcmp(o, "--url") == 0)
			url = v;
		else if(strcmp(o, "--digest") == 0)
			digest = v;
		else if(strcmp(o, "--bearer") == 0)
			bearer = v;
		else if(strcmp(o, "--bearer-file") == 0)
			bearer_file = v;
		else if(strcmp(o, "--ca-file") == 0)
			ca = v;
		else if(strcmp(o, "--out") == 0)
			out = v;
		else if(strcmp(o, "--max-size") == 0) {
			if(parse_i64(v, 1, 1024 * 1024 * 1024, &max) < 0)
				return usage("--max-size: 1..1073741824 bytes: %s", v);
		} else if(strcmp(o, "--timeout-ms") == 0) {
			if(parse_i64(v, 1, 600000, &timeout_ms) < 0)
				return usage("--timeout-ms: 1..600000: %s", v);
		} else
			return usage("unknown option %s", o);
	}
	if((token != NULL) == (url != NULL || digest != NULL)
			|| (token == NULL && (url == NULL || digest == NULL)))
		return usage("avatar-fetch needs --token, or --url and --digest", NULL);
	if((bearer != NULL) == (bearer_file != NULL) || ca == NULL)
		return usage("avatar-fetch needs one of --bearer, --bearer-file, and "
					 "--ca-file",
				NULL);
	if(bearer_file != NULL) {
		tok = read_file(bearer_file, 1024, &len);
		if(tok == NULL)
			return EXIT_USAGE;
		while(len > 0 && (tok[len - 1] == '\n' || tok[len - 1] == '\r'))
			len--;
		tok[len] = '\0';
		bearer = (const char *)tok;
	}
	for(i = 0; bearer[i]; i++) {
		/* a header line: nothing that could end or fold it */
		if((unsigned char)bearer[i] < 0x21 || bearer[i] == 0x7f) {
			free(tok);
			return usage("the bearer credential has a blank or control", NULL);
		}
	}
	snprintf(auth, sizeof(auth), "Authorization: Bearer %.1024s", bearer);
	if(token != NULL) {
		buf = read_token(token, &len);
		t = malloc(sizeof(*t));
		if(buf == NULL || t == NULL) {
			rc = refuse(TPID_R_INTERNAL);
			goto done;
		}
		rc = tpid_passport_parse(buf, len, TPID_PPT_AVATAR, t);
		if(rc == TPID_OK)
			rc = tpid_avatar_check_claims(&t->claims);
		if(rc != TPID_OK) {
			rc = refuse(rc);
			goto done;
		}
		url = t->claims.bar;
		digest = t->claims.digest;
	}
	if(!tpid_sri_ok(digest, strlen(digest))) {
		rc = refuse(TPID_R_BAD_AVATAR);
		goto done;
	}
	memset(&res, 0, sizeof(res));
	if(fetch(url, auth, ca, (size_t)max, (long)timeout_ms, allow_private, &res)
			< 0) {
		printf("AVATAR_FETCH INTERNAL 0\n");
		rc = EXIT_REFUSED;
		goto done;
	}
	if(res.cls != TPID_HTTPS_OK) {
		/* 401, 403, too big, refused address...: no bytes are kept */
		printf("AVATAR_FETCH %s %ld\n", tpid_https_class_name(res.cls),
				res.status);
		rc = EXIT_REFUSED;
	} else if(!tpid_sri_match(digest, res.body, res.body_len)) {
		tpid_sri_sha256(res.body, res.body_len, got_sri, sizeof(got_sri));
		printf("AVATAR_DIGEST_MISMATCH %s\n", got_sri);
		rc = EXIT_REFUSED;
	} else {
		rc = 0;
		if(out != NULL) {
			f = fopen(out, "wb");
			if(f == NULL
					|| (fwrite(res.body, 1, res.body_len, f) != res.body_len)
									   + (fclose(f) != 0)
							   > 0) {
				fprintf(stderr, "tpid-token: cannot write %s\n", out);
				rc = refuse(TPID_R_INTERNAL);
			}
		}
		if(rc == 0)
			printf("OK %zu %s\n", res.body_len, digest);
	}
	tpid_https_result_clear(&res);
done:
	free(t);
	free(buf);
	free(tok);
	return rc;
}

int main(int argc, char **argv)
{
	if(argc < 2)
		return usage(NULL, NULL);
	if(strcmp(argv[1], "sign") == 0)
		return cmd_sign(argc - 2, argv + 2);
	if(strcmp(argv[1], "verify") == 0)
		return cmd_verify(argc - 2, argv + 2);
	if(strcmp(argv[1], "decode") == 0)
		return cmd_decode(argc - 2, argv + 2);
	if(strcmp(argv[1], "avatar-fetch") == 0)
		return cmd_avatar_fetch(argc - 2, argv + 2);
	if(strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	return usage("unknown command %s", argv[1]);
}
