/*
 * tpid_assert - trust store: x5u -> certificate, chain validation
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tpid_trust.h"
#include "tpid_ident.h"
#include "tpid_jose.h"
#include "tpid_reason.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

typedef struct tpid_trust_entry
{
	char *x5u;
	tpid_cert_t *cert;
} tpid_trust_entry_t;

struct tpid_trust
{
	X509_STORE *anchors; /* anchors and CRLs, nothing else */
	int crl;			 /* CRLs loaded: check revocation */
	int nentries;
	tpid_trust_entry_t entries[TPID_TRUST_MAX_CERTS];
	int nallow;
	tpid_url_t allow[TPID_TRUST_MAX_ALLOW];
};

tpid_trust_t *tpid_trust_new(void)
{
	tpid_trust_t *t = calloc(1, sizeof(*t));

	if(t == NULL)
		return NULL;
	t->anchors = X509_STORE_new();
	if(t->anchors == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

void tpid_trust_free(tpid_trust_t *t)
{
	int i;

	if(t == NULL)
		return;
	for(i = 0; i < t->nentries; i++) {
		free(t->entries[i].x5u);
		tpid_cert_free(t->entries[i].cert);
	}
	X509_STORE_free(t->anchors);
	free(t);
}

int tpid_trust_load_ca(
		tpid_trust_t *t, const char *ca_file, char *err, size_t errsize)
{
	if(X509_STORE_load_file(t->anchors, ca_file) != 1) {
		snprintf(err, errsize, "cannot load trust anchors from '%s'", ca_file);
		ERR_clear_error();
		return -1;
	}
	return 0;
}

int tpid_trust_load_crl(
		tpid_trust_t *t, const char *crl_file, char *err, size_t errsize)
{
	BIO *bio = BIO_new_file(crl_file, "r");
	X509_CRL *crl;
	int n = 0, ok = 1;

	/* not X509_STORE_load_file: a certificate in this file must not
	 * become an anchor */
	while(bio != NULL && ok
			&& (crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL) {
		ok = X509_STORE_add_crl(t->anchors, crl) == 1;
		X509_CRL_free(crl);
		n++;
	}
	BIO_free(bio);
	ERR_clear_error(); /* end of file shows as an error */
	if(n == 0 || !ok) {
		snprintf(err, errsize, "cannot load CRLs from '%s'", crl_file);
		return -1;
	}
	t->crl = 1;
	return 0;
}

/* Reads a whole file of at most max bytes; *len its size. NULL if it cannot
 * be read or is bigger. */
static char *tpid_trust_read_file(const char *file, size_t max, size_t *len)
{
	FILE *f = fopen(file, "rb");
	char *buf;

	if(f == NULL)
		return NULL;
	buf = malloc(max + 1);
	if(buf != NULL) {
		*len = fread(buf, 1, max + 1, f);
		if(ferror(f) || *len > max) {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

static int tpid_trust_find(const tpid_trust_t *t, const char *x5u)
{
	int i;

	for(i = 0; i < t->nentries; i++) {
		if(strcmp(t->entries[i].x5u, x5u) == 0)
			return i;
	}
	return -1;
}

/* 0 when x5u may be added, else -1 with a reason in err. */
static int tpid_trust_add_check(
		const tpid_trust_t *t, const char *x5u, char *err, size_t errsize)
{
	if(t->nentries >= TPID_TRUST_MAX_CERTS) {
		snprintf(err, errsize, "too many certificates (max %d)",
				TPID_TRUST_MAX_CERTS);
		return -1;
	}
	if(strncmp(x5u, "https://", 8) != 0) {
		snprintf(err, errsize, "x5u '%s' is not an https URL", x5u);
		return -1;
	}
	if(tpid_trust_find(t, x5u) >= 0) {
		snprintf(err, errsize, "x5u '%s' configured twice", x5u);
		return -1;
	}
	return 0;
}

int tpid_trust_add_cert(tpid_trust_t *t, const char *x5u, const char *pem_file,
		char *err, size_t errsize)
{
	STACK_OF(X509) *chain = NULL;
	tpid_trust_entry_t *e;
	size_t len = 0;
	char *buf;
	int rc;

	if(tpid_trust_add_check(t, x5u, err, errsize) < 0)
		return -1;
	buf = tpid_trust_read_file(pem_file, TPID_TRUST_MAX_PEM, &len);
	if(buf == NULL) {
		snprintf(err, errsize,
				"cannot open certificate '%s' (or over %d bytes)", pem_file,
				TPID_TRUST_MAX_PEM);
		return -1;
	}
	rc = tpid_trust_parse_pem(buf, len, TPID_TRUST_MAX_CHAIN, &chain);
	free(buf);
	if(rc != TPID_OK) {
		snprintf(err, errsize,
				"no certificate in '%s' (1 to %d PEM CERTIFICATE blocks only)",
				pem_file, TPID_TRUST_MAX_CHAIN);
		return -1;
	}
	e = &t->entries[t->nentries];
	e->x5u = strdup(x5u);
	/* kept even if it does not validate, so that the verifier can tell
	 * CERT_INVALID from CERT_UNAVAILABLE */
	e->cert = tpid_cert_new(chain);
	if(e->x5u == NULL || e->cert == NULL) {
		free(e->x5u);
		tpid_cert_free(e->cert);
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	t->nentries++;
	return 0;
}

int tpid_trust_allow(tpid_trust_t *t, const char *prefix)
{
	tpid_url_t u;

	if(t->nallow >= TPID_TRUST_MAX_ALLOW
			|| tpid_url_parse(prefix, strlen(prefix), &u) != 0)
		return -1;
	t->allow[t->nallow] = u;
	t->nallow++;
	return 0;
}

int tpid_trust_allow_count(const tpid_trust_t *t)
{
	return t->nallow;
}

int tpid_trust_check_allowed(const tpid_trust_t *t, const char *x5u)
{
	tpid_url_t u;
	int i;

	if(t->nallow == 0)
		return TPID_OK;
	/* the one URL grammar: https, no userinfo, query, fragment or dot
	 * segment; host compared as a host, not as text */
	if(tpid_url_parse(x5u, strlen(x5u), &u) != 0)
		return TPID_R_X5U_NOT_ALLOWED;
	for(i = 0; i < t->nallow; i++) {
		if(tpid_url_under(&u, &t->allow[i]))
			return TPID_OK;
	}
	return TPID_R_X5U_NOT_ALLOWED;
}

tpid_cert_t *tpid_trust_pinned(const tpid_trust_t *t, const char *x5u)
{
	int i = tpid_trust_find(t, x5u);

	return i < 0 ? NULL : t->entries[i].cert;
}

int tpid_trust_get_key(
		const tpid_trust_t *t, const char *x5u, int64_t at, EVP_PKEY **pub)
{
	tpid_cert_t *c = tpid_trust_pinned(t, x5u);

	if(c == NULL)
		return TPID_R_CERT_UNAVAILABLE;
	return tpid_trust_check_cert(t, c, at, pub);
}

/* ---- PEM ------------------------------------------------------------------ */

static const char tpid_pem_begin[] = "-----BEGIN CERTIFICATE-----";
static const char tpid_pem_end[] = "-----END CERTIFICATE-----";
#define TPID_PEM_BEGIN_LEN (sizeof(tpid_pem_begin) - 1)
#define TPID_PEM_END_LEN (sizeof(tpid_pem_end) - 1)

static int tpid_pem_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int tpid_pem_b64(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
		   || (c >= '0' && c <= '9') || c == '+' || c == '/' || c == '=';
}

/* Length of the block starting at buf: the BEGIN line, base64 lines, the END
 * marker at the start of a line. 0 when buf does not hold exactly that. */
static size_t tpid_pem_block_len(const char *buf, size_t len)
{
	size_t i = TPID_PEM_BEGIN_LEN;

	if(len <= i || memcmp(buf, tpid_pem_begin, i) != 0
			|| (buf[i] != '\r' && buf[i] != '\n'))
		return 0;
	while(i < len && (tpid_pem_ws(buf[i]) || tpid_pem_b64(buf[i])))
		i++;
	if(len - i < TPID_PEM_END_LEN || buf[i - 1] != '\n'
			|| memcmp(buf + i, tpid_pem_end, TPID_PEM_END_LEN) != 0)
		return 0;
	return i + TPID_PEM_END_LEN;
}

/* One block to a certificate: OpenSSL's PEM decoder, then DER that must be
 * one certificate and nothing after it. NULL if not. */
static X509 *tpid_pem_decode(const char *block, size_t len)
{
	BIO *bio = BIO_new_mem_buf(block, (int)len);
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	const unsigned char *p;
	long dlen = 0;
	X509 *x = NULL;

	if(bio != NULL && PEM_read_bio(bio, &name, &header, &data, &dlen) == 1
			&& strcmp(name, "CERTIFICATE") == 0 && header[0] == '\0') {
		p = data;
		x = d2i_X509(NULL, &p, dlen);
		if(x != NULL && p != data + dlen) {
			X509_free(x);
			x = NULL;
		}
	}
	OPENSSL_free(name);
	OPENSSL_free(header);
	OPENSSL_free(data);
	BIO_free(bio);
	return x;
}

/* The next certificate of buf at *pos (whitespace before it skipped), *pos
 * moved past it. NULL if what follows is not one. */
static X509 *tpid_pem_next(const char *buf, size_t len, size_t *pos)
{
	size_t n = tpid_pem_block_len(buf + *pos, len - *pos);
	X509 *x;

	if(n == 0)
		return NULL;
	x = tpid_pem_decode(buf + *pos, n);
	*pos += n;
	/* glued to what follows is not a block of its own */
	if(x != NULL && *pos < len && !tpid_pem_ws(buf[*pos])) {
		X509_free(x);
		x = NULL;
	}
	return x;
}

int tpid_trust_parse_pem(
		const char *buf, size_t len, int max_certs, STACK_OF(X509) * *out)
{
	STACK_OF(X509) *sk = NULL;
	size_t pos = 0;
	X509 *x;

	*out = NULL;
	if(buf == NULL || len > TPID_TRUST_MAX_PEM || max_certs < 1
			|| (sk = sk_X509_new_null()) == NULL)
		return TPID_R_CERT_INVALID;
	for(;;) {
		while(pos < len && tpid_pem_ws(buf[pos]))
			pos++;
		if(pos == len)
			break;
		if(sk_X509_num(sk) >= max_certs
				|| (x = tpid_pem_next(buf, len, &pos)) == NULL)
			goto fail;
		if(!sk_X509_push(sk, x)) {
			X509_free(x);
			goto fail;
		}
	}
	if(sk_X509_num(sk) == 0)
		goto fail;
	*out = sk;
	return TPID_OK;
fail:
	sk_X509_pop_free(sk, X509_free);
	ERR_clear_error();
	return TPID_R_CERT_INVALID;
}

/* ---- validation ----------------------------------------------------------- */

/* A CRL issued after the token's iat still tells what is revoked. */
static int tpid_trust_verify_cb(int ok, X509_STORE_CTX *ctx)
{
	if(!ok && X509_STORE_CTX_get_error(ctx) == X509_V_ERR_CRL_NOT_YET_VALID)
		return 1;
	return ok;
}

/* RFC 8226 profile: a signing key, not a CA; ES256 needs P-256. */
static int tpid_trust_leaf_ok(X509 *leaf)
{
	uint32_t flags = X509_get_extension_flags(leaf);

	/* EXFLAG_CA too: X509_check_ca() says 0 for CA:TRUE without
	 * keyCertSign, which is still a CA certificate */
	return (flags & EXFLAG_KUSAGE) != 0 && (flags & EXFLAG_CA) == 0
		   && (X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE) != 0
		   && X509_check_ca(leaf) == 0
		   && tpid_jose_key_is_p256(X509_get0_pubkey(leaf));
}

static int tpid_trust_time(const ASN1_TIME *tm, int64_t *out)
{
	ASN1_TIME *epoch = ASN1_TIME_set(NULL, 0);
	int days, secs, rc = -1;

	if(epoch != NULL && ASN1_TIME_diff(&days, &secs, epoch, tm) == 1) {
		*out = (int64_t)days * 86400 + secs;
		rc = 0;
	}
	ASN1_TIME_free(epoch);
	return rc;
}

/* The times at which every certificate of the verified chain (anchor
 * included) is within its validity. 0 or -1. */
static int tpid_trust_window(
		STACK_OF(X509) * verified, int64_t *from, int64_t *until)
{
	int64_t nb, na;
	X509 *x;
	int i;

	*from = INT64_MIN;
	*until = INT64_MAX;
	for(i = 0; i < sk_X509_num(verified); i++) {
		x = sk_X509_value(verified, i);
		if(tpid_trust_time(X509_get0_notBefore(x), &nb) < 0
				|| tpid_trust_time(X509_get0_notAfter(x), &na) < 0)
			return -1;
		/* OpenSSL: valid from notBefore, expired at notAfter itself */
		*from = nb > *from ? nb : *from;
		*until = na - 1 < *until ? na - 1 : *until;
	}
	return 0;
}

/* Validates chain at time at; with c, remembers the window in which the
 * result holds. */
static int tpid_trust_run(const tpid_trust_t *t, STACK_OF(X509) * chain,
		int64_t at, EVP_PKEY **pub_out, tpid_cert_t *c)
{
	X509_STORE_CTX *ctx;
	X509 *leaf;
	int ok = 0;

	if(pub_out != NULL)
		*pub_out = NULL;
	if(t == NULL || chain == NULL || sk_X509_num(chain) < 1)
		return TPID_R_CERT_INVALID;
	leaf = sk_X509_value(chain, 0);
	if(!tpid_trust_leaf_ok(leaf))
		return TPID_R_CERT_INVALID;
	ctx = X509_STORE_CTX_new();
	if(ctx != NULL && X509_STORE_CTX_init(ctx, t->anchors, leaf, chain) == 1) {
		X509_STORE_CTX_set_time(ctx, 0, (time_t)at);
		X509_STORE_CTX_set_flags(ctx,
				X509_V_FLAG_X509_STRICT | (t->crl ? X509_V_FLAG_CRL_CHECK : 0));
		X509_STORE_CTX_set_verify_cb(ctx, tpid_trust_verify_cb);
		ok = X509_verify_cert(ctx) == 1;
		if(ok && c != NULL && !t->crl)
			c->ok = tpid_trust_window(X509_STORE_CTX_get0_chain(ctx),
							&c->ok_from, &c->ok_until)
					== 0;
	}
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	if(!ok)
		return TPID_R_CERT_INVALID;
	if(pub_out != NULL)
		*pub_out = X509_get0_pubkey(leaf);
	return TPID_OK;
}

int tpid_trust_validate(const tpid_trust_t *t, STACK_OF(X509) * chain,
		int64_t at, EVP_PKEY **pub_out)
{
	return tpid_trust_run(t, chain, at, pub_out, NULL);
}

int tpid_trust_check_cert(
		const tpid_trust_t *t, tpid_cert_t *c, int64_t at, EVP_PKEY **pub)
{
	*pub = NULL;
	if(c == NULL || c->jcc_bad)
		return TPID_R_CERT_INVALID;
	if(c->ok && at >= c->ok_from && at <= c->ok_until) {
		*pub = X509_get0_pubkey(sk_X509_value(c->chain, 0));
		return *pub != NULL ? TPID_OK : TPID_R_CERT_INVALID;
	}
	c->ok = 0;
	return tpid_trust_run(t, c->chain, at, pub, c);
}

tpid_cert_t *tpid_cert_new(STACK_OF(X509) * chain)
{
	tpid_cert_t *c = calloc(1, sizeof(*c));

	if(c == NULL || chain == NULL || sk_X509_num(chain) < 1) {
		free(c);
		sk_X509_pop_free(chain, X509_free);
		return NULL;
	}
	c->chain = chain;
	c->jcc_bad = tpid_jcc_from_cert(sk_X509_value(chain, 0), &c->jcc) < 0;
	return c;
}

void tpid_cert_free(tpid_cert_t *c)
{
	if(c == NULL)
		return;
	sk_X509_pop_free(c->chain, X509_free);
	tpid_jcc_free(c->jcc);
	free(c);
}

int tpid_trust_not_after(STACK_OF(X509) * chain, int64_t *out)
{
	if(chain == NULL || sk_X509_num(chain) < 1)
		return -1;
	return tpid_trust_time(X509_get0_notAfter(sk_X509_value(chain, 0)), out);
}

int tpid_trust_count(const tpid_trust_t *t)
{
	return t->nentries;
}
