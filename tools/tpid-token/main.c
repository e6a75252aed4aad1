/*
 * tpid-token - sign, verify and decode third-party PASSporTs (ppt=rcd with
 * the tpid claim) from the command line, with the module's own token code.
 *
 * Exit codes: 0 success, 1 the token (or key/certificate) was refused, the
 * reason printed on stdout as "NAME (number) SIP_CODE SIP_PHRASE", 2 usage.
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

#include "tpid_reason.h"
#include "tpid_ident.h"
#include "tpid_passport.h"

#define EXIT_REFUSED 1
#define EXIT_USAGE 2

static const char usage_text[] =
		"usage:\n"
		"  tpid-token sign --key KEY.pem --x5u URL --orig URI_OR_TN\n"
		"         --dest URI_OR_TN [--dest ...] --id TPID_URI --iss DOMAIN\n"
		"         [--name TEXT] [--iat N] [--exp N | --ttl SECONDS]\n"
		"  tpid-token verify --cert CERT.pem [--ca CA.pem] [--orig X]"
		" [--dest X]\n"
		"         [--now N] [--max-age 60] [--max-future 15] [--ppt rcd]\n"
		"         [--token VALUE]   (token from stdin without --token)\n"
		"  tpid-token decode [--token VALUE]\n";

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
		} else {
			return usage("unknown option %s", o);
		}
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
	if(strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		fputs(usage_text, stdout);
		return 0;
	}
	return usage("unknown command %s", argv[1]);
}
