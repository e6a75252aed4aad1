/*
 * tpid_assert - unit tests of the PASSporT (tpid_passport.c): claims, JSON,
 * signing, parsing, checks, and the identities still kept there.
 *
 * Every refusal is checked for its exact reason code: the terminating side
 * maps reasons to SIP replies, so "some error" is not good enough.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "tpid_reason.h"
#include "tpid_ident.h"
#include "tpid_passport.h"

#define X5U "https://cert.example.net/tpid.pem"
#define T0 1760000000

/* the wire-format example (docs/wire-format.md), canonical */
#define H_OK                                                   \
	"{\"alg\":\"ES256\",\"ppt\":\"rcd\",\"typ\":\"passport\"," \
	"\"x5u\":\"" X5U "\"}"
#define P_OK                                                            \
	"{\"dest\":{\"tn\":[\"4961511234567\"]},\"iat\":1760000000,"        \
	"\"orig\":{\"tn\":\"4961519876543\"},"                              \
	"\"rcd\":{\"nam\":\"Alice Example (ACME Corp.)\"},"                 \
	"\"tpid\":{\"exp\":1760000300,\"id\":\"sip:e102938@acme.example\"," \
	"\"iss\":\"acme.example\"}}"
#define PARAMS_OK ";info=<" X5U ">;alg=ES256;ppt=rcd"

static EVP_PKEY *key1;	 /* the signer */
static EVP_PKEY *key2;	 /* someone else */
static EVP_PKEY *key384; /* EC, but not P-256 */

static char hdr[TPID_MAX_HDR_LEN * 2];
static tpid_passport_t tok;

/* ---- helpers -------------------------------------------------------------- */

static void sample_claims(tpid_claims_t *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->ppt, "rcd");
	strcpy(c->x5u, X5U);
	c->iat = T0;
	c->orig.is_tn = 1;
	strcpy(c->orig.value, "4961519876543");
	c->ndest = 1;
	c->dest[0].is_tn = 1;
	strcpy(c->dest[0].value, "4961511234567");
	strcpy(c->name, "Alice Example (ACME Corp.)");
	strcpy(c->id, "sip:e102938@acme.example");
	strcpy(c->iss, "acme.example");
	c->exp = T0 + 300;
}

static char *b64u(const void *in, size_t len)
{
	size_t size = len / 3 * 4 + 4;
	char *out = malloc(size);

	assert_non_null(out);
	assert_true(tpid_b64u_encode(in, len, out, size) >= 0);
	return out;
}

/* ES256 over a signing input, as raw r||s (independent of tpid_jose.c
 * so that forged tokens below carry a signature that really verifies) */
static void es256(EVP_PKEY *key, const char *tbs, unsigned char rs[64])
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char der[128];
	const unsigned char *p = der;
	size_t derlen = sizeof(der);
	ECDSA_SIG *es;
	const BIGNUM *r, *s;

	assert_non_null(md);
	assert_int_equal(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key), 1);
	assert_int_equal(EVP_DigestSign(md, der, &derlen,
							 (const unsigned char *)tbs, strlen(tbs)),
			1);
	es = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
	assert_non_null(es);
	ECDSA_SIG_get0(es, &r, &s);
	assert_int_equal(BN_bn2binpad(r, rs, 32), 32);
	assert_int_equal(BN_bn2binpad(s, rs + 32, 32), 32);
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
}

/* Builds "b64u(hj).b64u(pj).b64u(sig)params" into hdr, signed by key1. */
static const char *forge(const char *hj, const char *pj, const char *params)
{
	char *hb = b64u(hj, strlen(hj));
	char *pb = b64u(pj, strlen(pj));
	char *tbs = malloc(strlen(hb) + strlen(pb) + 2);
	unsigned char rs[64];
	char *sb;

	assert_non_null(tbs);
	sprintf(tbs, "%s.%s", hb, pb);
	es256(key1, tbs, rs);
	sb = b64u(rs, sizeof(rs));
	snprintf(hdr, sizeof(hdr), "%s.%s%s", tbs, sb, params);
	free(hb);
	free(pb);
	free(tbs);
	free(sb);
	return hdr;
}

static int parse_forged(const char *hj, const char *pj, const char *params)
{
	forge(hj, pj, params);
	return tpid_passport_parse(hdr, strlen(hdr), "rcd", &tok);
}

static int parse_payload(const char *pj)
{
	return parse_forged(H_OK, pj, PARAMS_OK);
}

static const char *sign_sample(void)
{
	tpid_claims_t c;

	sample_claims(&c);
	assert_int_equal(tpid_passport_sign(&c, key1, hdr, sizeof(hdr)), TPID_OK);
	return hdr;
}

static int setup(void **state)
{
	(void)state;
	key1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	key2 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	key384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	return key1 && key2 && key384 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(key1);
	EVP_PKEY_free(key2);
	EVP_PKEY_free(key384);
	return 0;
}

/* ---- encoding ------------------------------------------------------------- */

/* "key=value" line of the vector file */
static void vector_get(const char *file, const char *key, char *out, size_t n)
{
	FILE *f = fopen(file, "r");
	char line[1024];
	size_t kl = strlen(key);

	assert_non_null(f);
	out[0] = '\0';
	while(fgets(line, sizeof(line), f)) {
		if(strncmp(line, key, kl) == 0 && line[kl] == '=') {
			line[strcspn(line, "\r\n")] = '\0';
			snprintf(out, n, "%s", line + kl + 1);
			break;
		}
	}
	fclose(f);
	assert_true(out[0] != '\0');
}

static void test_rfc8225_vector(void **state)
{
	const char *dir = getenv("TPID_VECTORS");
	char file[512], want[1024], si[1024];
	tpid_claims_t c;
	char *hj, *pj, *hb, *pb;

	(void)state;
	snprintf(file, sizeof(file), "%s/rfc8225-appendix-a.txt",
			dir ? dir : "tests/vectors");
	memset(&c, 0, sizeof(c));
	strcpy(c.x5u, "https://cert.example.org/passport.cer");
	c.iat = 1471375418;
	c.orig.is_tn = 1;
	strcpy(c.orig.value, "12155551212");
	c.ndest = 1;
	strcpy(c.dest[0].value, "sip:alice@example.com");

	hj = tpid_passport_header_json(&c);
	pj = tpid_passport_payload_json(&c);
	assert_non_null(hj);
	assert_non_null(pj);
	vector_get(file, "header_json", want, sizeof(want));
	assert_string_equal(hj, want);
	vector_get(file, "payload_json", want, sizeof(want));
	assert_string_equal(pj, want);
	hb = b64u(hj, strlen(hj));
	pb = b64u(pj, strlen(pj));
	vector_get(file, "header_b64u", want, sizeof(want));
	assert_string_equal(hb, want);
	vector_get(file, "payload_b64u", want, sizeof(want));
	assert_string_equal(pb, want);
	snprintf(si, sizeof(si), "%s.%s", hb, pb);
	vector_get(file, "signing_input", want, sizeof(want));
	assert_string_equal(si, want);
	free(hj);
	free(pj);
	free(hb);
	free(pb);
}

static void test_design_example_json(void **state)
{
	tpid_claims_t c;
	char *hj, *pj;

	(void)state;
	sample_claims(&c);
	hj = tpid_passport_header_json(&c);
	pj = tpid_passport_payload_json(&c);
	assert_string_equal(hj, H_OK);
	assert_string_equal(pj, P_OK);
	free(hj);
	free(pj);
}

static void test_json_utf8_and_slash_unescaped(void **state)
{
	tpid_claims_t c;
	char *pj;

	(void)state;
	sample_claims(&c);
	strcpy(c.name, "J\xc3\xbcrgen / M\xc3\xbcller \"Q\"");
	pj = tpid_passport_payload_json(&c);
	assert_non_null(pj);
	assert_non_null(
			strstr(pj, "\"nam\":\"J\xc3\xbcrgen / M\xc3\xbcller \\\"Q\\\"\""));
	free(pj);
	/* empty name: rcd.nam is still emitted (RFC 9795 requires it) */
	c.name[0] = '\0';
	pj = tpid_passport_payload_json(&c);
	assert_non_null(strstr(pj, "\"rcd\":{\"nam\":\"\"}"));
	free(pj);
	/* invalid UTF-8 cannot be encoded */
	strcpy(c.name, "\xff\xfe");
	assert_null(tpid_passport_payload_json(&c));
}

/* ---- sign / parse / verify ------------------------------------------------ */

static void test_sign_verify_roundtrip(void **state)
{
	tpid_claims_t c;
	const char *suffix = PARAMS_OK;
	size_t n;

	(void)state;
	sample_claims(&c);
	sign_sample();
	n = strlen(hdr);
	assert_true(n > strlen(suffix));
	assert_string_equal(hdr + n - strlen(suffix), suffix);
	assert_int_equal(tpid_passport_parse(hdr, n, "rcd", &tok), TPID_OK);
	assert_int_equal(tpid_passport_verify_sig(&tok, key1), TPID_OK);
	assert_int_equal(tok.sig_len, 64);
	assert_string_equal(tok.info, X5U);
	assert_string_equal(tok.alg_param, "ES256");
	assert_string_equal(tok.ppt_param, "rcd");
	assert_string_equal(tok.hdr_alg, "ES256");
	assert_string_equal(tok.hdr_typ, "passport");
	/* the parsed claims are exactly the signed ones */
	assert_memory_equal(&tok.claims, &c, sizeof(c));
	/* the header and payload are the canonical JSON */
	{
		char *hb = b64u(H_OK, strlen(H_OK));
		char *pb = b64u(P_OK, strlen(P_OK));
		char si[2048];
		snprintf(si, sizeof(si), "%s.%s", hb, pb);
		assert_string_equal(tok.signing_input, si);
		assert_int_equal(tok.signing_input_len, strlen(si));
		free(hb);
		free(pb);
	}
}

static void test_roundtrip_uri_and_mixed_dest(void **state)
{
	tpid_claims_t c;

	(void)state;
	sample_claims(&c);
	c.orig.is_tn = 0;
	strcpy(c.orig.value, "sip:alice@acme.example");
	c.ndest = 3;
	c.dest[0].is_tn = 1;
	strcpy(c.dest[0].value, "4961511234567");
	c.dest[1].is_tn = 1;
	strcpy(c.dest[1].value, "4961511234568");
	c.dest[2].is_tn = 0;
	strcpy(c.dest[2].value, "sip:bob@example.net");
	memset(c.name, 0, sizeof(c.name)); /* memcmp below */
	assert_int_equal(tpid_passport_sign(&c, key1, hdr, sizeof(hdr)), TPID_OK);
	assert_int_equal(
			tpid_passport_parse(hdr, strlen(hdr), "rcd", &tok), TPID_OK);
	assert_int_equal(tpid_passport_verify_sig(&tok, key1), TPID_OK);
	assert_memory_equal(&tok.claims, &c, sizeof(c));
}

static void test_sign_errors(void **state)
{
	tpid_claims_t c;
	char small[64];

	(void)state;
	sample_claims(&c);
	assert_int_equal(
			tpid_passport_sign(&c, NULL, hdr, sizeof(hdr)), TPID_R_SIGN_FAILED);
	assert_int_equal(tpid_passport_sign(&c, key384, hdr, sizeof(hdr)),
			TPID_R_SIGN_FAILED);
	assert_int_equal(tpid_passport_sign(&c, key1, small, sizeof(small)),
			TPID_R_INTERNAL);
	assert_string_equal(small, "");
	c.ndest = 0;
	assert_int_equal(
			tpid_passport_sign(&c, key1, hdr, sizeof(hdr)), TPID_R_INTERNAL);
	sample_claims(&c);
	strcpy(c.orig.value, "+4961519876543"); /* tn: digits only */
	assert_int_equal(
			tpid_passport_sign(&c, key1, hdr, sizeof(hdr)), TPID_R_INTERNAL);
	sample_claims(&c);
	strcpy(c.x5u, "https://x/>;alg=none"); /* would escape the <> */
	assert_int_equal(
			tpid_passport_sign(&c, key1, hdr, sizeof(hdr)), TPID_R_INTERNAL);
}

static void test_public_key_cannot_sign(void **state)
{
	EVP_PKEY *pub = NULL;
	unsigned char *der = NULL;
	const unsigned char *p;
	int n;
	tpid_claims_t c;

	(void)state;
	n = i2d_PUBKEY(key1, &der);
	assert_true(n > 0);
	p = der;
	pub = d2i_PUBKEY(NULL, &p, n);
	assert_non_null(pub);
	sample_claims(&c);
	assert_int_equal(
			tpid_passport_sign(&c, pub, hdr, sizeof(hdr)), TPID_R_SIGN_FAILED);
	/* ... but verifies */
	sign_sample();
	assert_int_equal(
			tpid_passport_parse(hdr, strlen(hdr), "rcd", &tok), TPID_OK);
	assert_int_equal(tpid_passport_verify_sig(&tok, pub), TPID_OK);
	EVP_PKEY_free(pub);
	OPENSSL_free(der);
}

static void test_forged_helper_is_valid(void **state)
{
	(void)state;
	/* the baseline every negative test below deviates from */
	assert_int_equal(parse_forged(H_OK, P_OK, PARAMS_OK), TPID_OK);
	assert_int_equal(tpid_passport_verify_sig(&tok, key1), TPID_OK);
}

static void test_der_signature_refused(void **state)
{
	ECDSA_SIG *es = ECDSA_SIG_new();
	unsigned char *der = NULL;
	char *sb, *dot, spliced[TPID_MAX_HDR_LEN];
	int derlen;
	EVP_MD_CTX *md;

	(void)state;
	sign_sample();
	assert_int_equal(
			tpid_passport_parse(hdr, strlen(hdr), "rcd", &tok), TPID_OK);
	assert_non_null(es);
	assert_int_equal(ECDSA_SIG_set0(es, BN_bin2bn(tok.sig, 32, NULL),
							 BN_bin2bn(tok.sig + 32, 32, NULL)),
			1);
	derlen = i2d_ECDSA_SIG(es, &der);
	assert_true(derlen > 64);
	/* the DER form is a correct signature: only its form is wrong */
	md = EVP_MD_CTX_new();
	assert_int_equal(
			EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, key1), 1);
	assert_int_equal(EVP_DigestVerify(md, der, (size_t)derlen,
							 (const unsigned char *)tok.signing_input,
							 tok.signing_input_len),
			1);
	EVP_MD_CTX_free(md);

	sb = b64u(der, (size_t)derlen);
	dot = strchr(strchr(hdr, '.') + 1, '.');
	*dot = '\0';
	snprintf(spliced, sizeof(spliced), "%s.%s" PARAMS_OK, hdr, sb);
	assert_int_equal(tpid_passport_parse(spliced, strlen(spliced), "rcd", &tok),
			TPID_OK);
	assert_int_equal(tok.sig_len, (size_t)derlen);
	assert_int_equal(
			tpid_passport_verify_sig(&tok, key1), TPID_R_BAD_SIGNATURE);
	free(sb);
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
}

static void test_wrong_key(void **state)
{
	(void)state;
	sign_sample();
	assert_int_equal(
			tpid_passport_parse(hdr, strlen(hdr), "rcd", &tok), TPID_OK);
	assert_int_equal(
			tpid_passport_verify_sig(&tok, key2), TPID_R_BAD_SIGNATURE);
	assert_int_equal(
			tpid_passport_verify_sig(&tok, key384), TPID_R_BAD_SIGNATURE);
	assert_int_equal(
			tpid_passport_verify_sig(&tok, NULL), TPID_R_BAD_SIGNATURE);
	/* a flipped signature bit */
	tok.sig[10] ^= 1;
	assert_int_equal(
			tpid_passport_verify_sig(&tok, key1), TPID_R_BAD_SIGNATURE);
}

static void test_payload_tampered(void **state)
{
	char *pb, *sig;
	static char tampered[3 * TPID_MAX_HDR_LEN];
	const char *pj =
			"{\"dest\":{\"tn\":[\"4961511234567\"]},\"iat\":1760000000,"
			"\"orig\":{\"tn\":\"4961519876543\"},"
			"\"rcd\":{\"nam\":\"Mallory (ACME Corp.)\"},"
			"\"tpid\":{\"exp\":1760000300,"
			"\"id\":\"sip:ceo@acme.example\","
			"\"iss\":\"acme.example\"}}";
	char *d1, *d2;

	(void)state;
	sign_sample();
	/* keep header part and signature+params, swap the payload */
	d1 = strchr(hdr, '.');
	d2 = strchr(d1 + 1, '.');
	sig = d2; /* ".sig;params" */
	*d1 = '\0';
	pb = b64u(pj, strlen(pj));
	snprintf(tampered, sizeof(tampered), "%s.%s%s", hdr, pb, sig);
	free(pb);
	assert_int_equal(
			tpid_passport_parse(tampered, strlen(tampered), "rcd", &tok),
			TPID_OK);
	assert_string_equal(tok.claims.id, "sip:ceo@acme.example");
	assert_int_equal(
			tpid_passport_verify_sig(&tok, key1), TPID_R_BAD_SIGNATURE);
}

/* ---- header checks -------------------------------------------------------- */

static void test_alg_refused_in_header(void **state)
{
	static const char *const bad[] = {
			"none", "HS256", "RS256", "ES384", "es256"};
	char hj[256];
	size_t i;

	(void)state;
	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(hj, sizeof(hj),
				"{\"alg\":\"%s\",\"ppt\":\"rcd\",\"typ\":\"passport\","
				"\"x5u\":\"" X5U "\"}",
				bad[i]);
		assert_int_equal(parse_forged(hj, P_OK, PARAMS_OK), TPID_R_BAD_ALG);
	}
	/* missing and non-string alg */
	assert_int_equal(parse_forged("{\"ppt\":\"rcd\",\"typ\":\"passport\","
								  "\"x5u\":\"" X5U "\"}",
							 P_OK, PARAMS_OK),
			TPID_R_BAD_ALG);
	assert_int_equal(parse_forged("{\"alg\":256,\"ppt\":\"rcd\",\"typ\":"
								  "\"passport\",\"x5u\":\"" X5U "\"}",
							 P_OK, PARAMS_OK),
			TPID_R_BAD_ALG);
}

static void test_alg_refused_in_param(void **state)
{
	static const char *const bad[] = {"none", "HS256", "RS256", "\"none\""};
	char params[256];
	size_t i;

	(void)state;
	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(params, sizeof(params), ";info=<" X5U ">;alg=%s;ppt=rcd",
				bad[i]);
		assert_int_equal(parse_forged(H_OK, P_OK, params), TPID_R_BAD_ALG);
	}
	/* the alg parameter is optional */
	assert_int_equal(
			parse_forged(H_OK, P_OK, ";info=<" X5U ">;ppt=rcd"), TPID_OK);
	assert_string_equal(tok.alg_param, "");
}

static void test_typ_refused(void **state)
{
	(void)state;
	assert_int_equal(parse_forged("{\"alg\":\"ES256\",\"ppt\":\"rcd\","
								  "\"typ\":\"JWT\",\"x5u\":\"" X5U "\"}",
							 P_OK, PARAMS_OK),
			TPID_R_BAD_TYP);
	assert_int_equal(parse_forged("{\"alg\":\"ES256\",\"ppt\":\"rcd\","
								  "\"x5u\":\"" X5U "\"}",
							 P_OK, PARAMS_OK),
			TPID_R_BAD_TYP);
}

static void test_ppt_refused(void **state)
{
	(void)state;
	/* header ppt differs */
	assert_int_equal(parse_forged("{\"alg\":\"ES256\",\"ppt\":\"shaken\","
								  "\"typ\":\"passport\",\"x5u\":\"" X5U "\"}",
							 P_OK, PARAMS_OK),
			TPID_R_BAD_PPT);
	/* header ppt missing */
	assert_int_equal(parse_forged("{\"alg\":\"ES256\",\"typ\":\"passport\","
								  "\"x5u\":\"" X5U "\"}",
							 P_OK, PARAMS_OK),
			TPID_R_BAD_PPT);
	/* parameter differs */
	assert_int_equal(
			parse_forged(H_OK, P_OK, ";info=<" X5U ">;alg=ES256;ppt=shaken"),
			TPID_R_BAD_PPT);
	/* parameter missing */
	assert_int_equal(parse_forged(H_OK, P_OK, ";info=<" X5U ">;alg=ES256"),
			TPID_R_BAD_PPT);
	/* ppt is checked before alg */
	assert_int_equal(
			parse_forged(H_OK, P_OK, ";info=<" X5U ">;alg=none;ppt=shaken"),
			TPID_R_BAD_PPT);
	/* a valid rcd token is not what a caller expecting "div" wants */
	forge(H_OK, P_OK, PARAMS_OK);
	assert_int_equal(
			tpid_passport_parse(hdr, strlen(hdr), "div", &tok), TPID_R_BAD_PPT);
}

static void test_ppt_quoted_and_lws_accepted(void **state)
{
	(void)state;
	assert_int_equal(
			parse_forged(H_OK, P_OK, ";info=<" X5U ">;alg=ES256;ppt=\"rcd\""),
			TPID_OK);
	assert_string_equal(tok.ppt_param, "rcd");
	assert_int_equal(parse_forged(H_OK, P_OK,
							 " ; info = <" X5U "> ;\talg= ES256 ;ppt =rcd "),
			TPID_OK);
	/* unknown parameters, with and without value, are ignored */
	assert_int_equal(parse_forged(H_OK, P_OK,
							 ";foo=bar;info=<" X5U ">;x=\"a;b\";alg=ES256;"
							 "flag;ppt=rcd;host=[::1]"),
			TPID_OK);
	/* a quoted-pair before ppt: picked as ours, and parsed alike */
	forge(H_OK, P_OK, ";x=\"a\\\"b\";info=<" X5U ">;alg=ES256;ppt=rcd");
	assert_int_equal(tpid_idhdr_is_ours(hdr, strlen(hdr), "rcd"), 1);
	assert_int_equal(
			tpid_passport_parse(hdr, strlen(hdr), "rcd", &tok), TPID_OK);
	/* a token value compares without case, a quoted one exactly */
	assert_int_equal(
			parse_forged(H_OK, P_OK, ";info=<" X5U ">;alg=es256;ppt=RCD"),
			TPID_OK);
	assert_int_equal(
			parse_forged(H_OK, P_OK, ";info=<" X5U ">;alg=ES256;ppt=\"RCD\""),
			TPID_R_BAD_PPT);
	/* parameter names are case-insensitive */
	assert_int_equal(
			parse_forged(H_OK, P_OK, ";INFO=<" X5U ">;Alg=ES256;PPT=rcd"),
			TPID_OK);
}

static void test_param_syntax(void **state)
{
	(void)state;
	/* duplicate known parameter */
	assert_int_equal(
			parse_forged(H_OK, P_OK, PARAMS_OK ";ppt=rcd"), TPID_R_BAD_SYNTAX);
	/* info not in <> */
	assert_int_equal(parse_forged(H_OK, P_OK, ";info=" X5U ";ppt=rcd"),
			TPID_R_BAD_SYNTAX);
	/* unterminated <, unterminated quote, empty param, garbage */
	assert_int_equal(parse_forged(H_OK, P_OK, ";info=<" X5U ";ppt=rcd"),
			TPID_R_BAD_SYNTAX);
	assert_int_equal(
			parse_forged(H_OK, P_OK, PARAMS_OK ";x=\"abc"), TPID_R_BAD_SYNTAX);
	assert_int_equal(
			parse_forged(H_OK, P_OK, PARAMS_OK ";"), TPID_R_BAD_SYNTAX);
	assert_int_equal(
			parse_forged(H_OK, P_OK, " junk" PARAMS_OK), TPID_R_BAD_SYNTAX);
	assert_int_equal(parse_forged(H_OK, P_OK, ";ppt=<rcd>;info=<" X5U ">"),
			TPID_R_BAD_SYNTAX);
	assert_int_equal(
			parse_forged(H_OK, P_OK, ";ppt;info=<" X5U ">"), TPID_R_BAD_SYNTAX);
}

static void test_x5u_mismatch(void **state)
{
	(void)state;
	assert_int_equal(parse_forged(H_OK, P_OK,
							 ";info=<https://evil.example/c.pem>;alg=ES256;"
							 "ppt=rcd"),
			TPID_R_X5U_MISMATCH);
	/* x5u missing from the JWS header */
	assert_int_equal(parse_forged("{\"alg\":\"ES256\",\"ppt\":\"rcd\","
								  "\"typ\":\"passport\"}",
							 P_OK, PARAMS_OK),
			TPID_R_X5U_MISMATCH);
}

static void test_info_missing(void **state)
{
	(void)state;
	assert_int_equal(parse_forged(H_OK, P_OK, ";alg=ES256;ppt=rcd"),
			TPID_R_X5U_MISMATCH);
}

/* ---- structure ------------------------------------------------------------ */

static void test_bad_base64url(void **state)
{
	char *d1, *d2;
	static char bad[3 * TPID_MAX_HDR_LEN];
	const char *inject[] = {"=", "==", "+", "/", "*", "%", "\xc3\xa9"};
	size_t i;

	(void)state;
	for(i = 0; i < sizeof(inject) / sizeof(inject[0]); i++) {
		/* into each of the three parts */
		int part;
		for(part = 0; part < 3; part++) {
			sign_sample();
			d1 = strchr(hdr, '.');
			d2 = strchr(d1 + 1, '.');
			if(part == 0) {
				*d1 = '\0';
				snprintf(bad, sizeof(bad), "%s%s.%s", hdr, inject[i], d1 + 1);
			} else if(part == 1) {
				*d2 = '\0';
				snprintf(bad, sizeof(bad), "%s%s.%s", hdr, inject[i], d2 + 1);
			} else {
				char *semi = strchr(d2, ';');
				char rest[256];
				snprintf(rest, sizeof(rest), "%s", semi);
				*semi = '\0';
				snprintf(bad, sizeof(bad), "%s%s%s", hdr, inject[i], rest);
			}
			assert_int_equal(tpid_passport_parse(bad, strlen(bad), "rcd", &tok),
					TPID_R_BAD_SYNTAX);
		}
	}
	/* padded header part (valid base64 otherwise) */
	{
		char *hb = b64u(H_OK, strlen(H_OK)), *pb = b64u(P_OK, strlen(P_OK));
		snprintf(bad, sizeof(bad), "%s==.%s.AAAA" PARAMS_OK, hb, pb);
		assert_int_equal(tpid_passport_parse(bad, strlen(bad), "rcd", &tok),
				TPID_R_BAD_SYNTAX);
		/* right alphabet, impossible length (len % 4 == 1) */
		snprintf(bad, sizeof(bad), "%s%s.%s.AAAA" PARAMS_OK, hb,
				strlen(hb) % 4 == 0	  ? "A"
				: strlen(hb) % 4 == 3 ? "AA"
									  : "AAA",
				pb);
		assert_int_equal(tpid_passport_parse(bad, strlen(bad), "rcd", &tok),
				TPID_R_BAD_SYNTAX);
		/* non-zero trailing bits in the signature ("AB": 4 bits set) */
		snprintf(bad, sizeof(bad), "%s.%s.AB" PARAMS_OK, hb, pb);
		assert_int_equal(tpid_passport_parse(bad, strlen(bad), "rcd", &tok),
				TPID_R_BAD_SYNTAX);
		snprintf(bad, sizeof(bad), "%s.%s.AA" PARAMS_OK, hb, pb);
		assert_int_equal(
				tpid_passport_parse(bad, strlen(bad), "rcd", &tok), TPID_OK);
		assert_int_equal(tok.sig_len, 1);
		assert_int_equal(
				tpid_passport_verify_sig(&tok, key1), TPID_R_BAD_SIGNATURE);
		free(hb);
		free(pb);
	}
	/* the JSON is not an object, or not JSON */
	assert_int_equal(parse_forged("[1,2]", P_OK, PARAMS_OK), TPID_R_BAD_SYNTAX);
	assert_int_equal(parse_forged(H_OK, "\"x\"", PARAMS_OK), TPID_R_BAD_SYNTAX);
	assert_int_equal(
			parse_forged(H_OK, "{\"iat\":", PARAMS_OK), TPID_R_BAD_SYNTAX);
	assert_int_equal(
			parse_forged(H_OK, P_OK "x", PARAMS_OK), TPID_R_BAD_SYNTAX);
}

static void test_duplicate_keys_and_crit(void **state)
{
	(void)state;
	assert_int_equal(parse_forged("{\"alg\":\"ES256\",\"alg\":\"none\","
								  "\"ppt\":\"rcd\",\"typ\":\"passport\","
								  "\"x5u\":\"" X5U "\"}",
							 P_OK, PARAMS_OK),
			TPID_R_BAD_SYNTAX);
	assert_int_equal(
			parse_payload("{\"dest\":{\"tn\":[\"1\"]},\"iat\":1,\"iat\":2,"
						  "\"orig\":{\"tn\":\"2\"},\"rcd\":{\"nam\":\"\"},"
						  "\"tpid\":{\"exp\":1,\"id\":\"x\",\"iss\":\"y\"}}"),
			TPID_R_BAD_SYNTAX);
	assert_int_equal(parse_forged("{\"alg\":\"ES256\",\"crit\":[\"x\"],"
								  "\"ppt\":\"rcd\",\"typ\":\"passport\","
								  "\"x5u\":\"" X5U "\"}",
							 P_OK, PARAMS_OK),
			TPID_R_BAD_SYNTAX);
}

static void test_truncated(void **state)
{
	char *d2, cut[TPID_MAX_HDR_LEN];

	(void)state;
	sign_sample();
	d2 = strchr(strchr(hdr, '.') + 1, '.');
	/* two parts */
	snprintf(cut, sizeof(cut), "%.*s" PARAMS_OK, (int)(d2 - hdr), hdr);
	assert_int_equal(tpid_passport_parse(cut, strlen(cut), "rcd", &tok),
			TPID_R_BAD_SYNTAX);
	/* empty signature */
	snprintf(cut, sizeof(cut), "%.*s." PARAMS_OK, (int)(d2 - hdr), hdr);
	assert_int_equal(tpid_passport_parse(cut, strlen(cut), "rcd", &tok),
			TPID_R_BAD_SYNTAX);
	/* compact form with detached (empty) payload */
	assert_int_equal(tpid_passport_parse("eyJ9..AAAA" PARAMS_OK,
							 strlen("eyJ9..AAAA" PARAMS_OK), "rcd", &tok),
			TPID_R_BAD_SYNTAX);
	/* four parts */
	snprintf(
			cut, sizeof(cut), "%.*s.AAAA.AAAA" PARAMS_OK, (int)(d2 - hdr), hdr);
	assert_int_equal(tpid_passport_parse(cut, strlen(cut), "rcd", &tok),
			TPID_R_BAD_SYNTAX);
	/* cut in the middle: length not decodable or JSON truncated */
	assert_int_equal(
			tpid_passport_parse(hdr, 40, "rcd", &tok), TPID_R_BAD_SYNTAX);
	assert_int_equal(
			tpid_passport_parse("", 0, "rcd", &tok), TPID_R_BAD_SYNTAX);
	assert_int_equal(
			tpid_passport_parse(NULL, 10, "rcd", &tok), TPID_R_BAD_SYNTAX);
	/* embedded NUL */
	sign_sample();
	hdr[5] = '\0';
	assert_int_equal(tpid_passport_parse(hdr, strlen(hdr + 6) + 6, "rcd", &tok),
			TPID_R_BAD_SYNTAX);
}

static void test_oversized(void **state)
{
	char *big;
	size_t n;

	(void)state;
	sign_sample();
	n = strlen(hdr);
	big = malloc(TPID_MAX_HDR_LEN + 64);
	assert_non_null(big);
	memcpy(big, hdr, n);
	/* pad with an unknown parameter up to the limit: still fine */
	memcpy(big + n, ";x=", 3);
	memset(big + n + 3, 'a', TPID_MAX_HDR_LEN - n - 3);
	assert_int_equal(
			tpid_passport_parse(big, TPID_MAX_HDR_LEN, "rcd", &tok), TPID_OK);
	/* one byte over */
	big[TPID_MAX_HDR_LEN] = 'a';
	assert_int_equal(
			tpid_passport_parse(big, TPID_MAX_HDR_LEN + 1, "rcd", &tok),
			TPID_R_BAD_SYNTAX);
	free(big);
	/* info longer than the buffer */
	{
		char params[TPID_MAX_URI + 64];
		char longuri[TPID_MAX_URI + 8];
		memset(longuri, 'a', sizeof(longuri) - 1);
		longuri[sizeof(longuri) - 1] = '\0';
		snprintf(params, sizeof(params), ";info=<%s>;alg=ES256;ppt=rcd",
				longuri);
		assert_int_equal(parse_forged(H_OK, P_OK, params), TPID_R_BAD_SYNTAX);
	}
}

/* ---- claims --------------------------------------------------------------- */

#define P_DEST "\"dest\":{\"tn\":[\"4961511234567\"]}"
#define P_ORIG "\"orig\":{\"tn\":\"4961519876543\"}"
#define P_RCD "\"rcd\":{\"nam\":\"Alice\"}"
#define P_TPID                                                     \
	"\"tpid\":{\"exp\":1760000300,\"id\":\"sip:e1@acme.example\"," \
	"\"iss\":\"acme.example\"}"

static void test_claims_iat(void **state)
{
	(void)state;
	assert_int_equal(parse_payload("{" P_DEST ",\"iat\":\"1760000000\"," P_ORIG
								   "," P_RCD "," P_TPID "}"),
			TPID_R_BAD_CLAIMS);
	assert_int_equal(parse_payload("{" P_DEST ",\"iat\":1760000000.0," P_ORIG
								   "," P_RCD "," P_TPID "}"),
			TPID_R_BAD_CLAIMS);
	assert_int_equal(parse_payload("{" P_DEST ",\"iat\":1.76e9," P_ORIG
								   "," P_RCD "," P_TPID "}"),
			TPID_R_BAD_CLAIMS);
	assert_int_equal(
			parse_payload("{" P_DEST "," P_ORIG "," P_RCD "," P_TPID "}"),
			TPID_R_BAD_CLAIMS);
	assert_int_equal(parse_payload("{" P_DEST ",\"iat\":-5," P_ORIG "," P_RCD
								   "," P_TPID "}"),
			TPID_R_BAD_CLAIMS);
	/* too big for an integer: a JSON error */
	assert_int_equal(
			parse_payload("{" P_DEST ",\"iat\":99999999999999999999," P_ORIG
						  "," P_RCD "," P_TPID "}"),
			TPID_R_BAD_SYNTAX);
	assert_int_equal(parse_payload("{" P_DEST ",\"iat\":1760000000," P_ORIG
								   "," P_RCD "," P_TPID "}"),
			TPID_OK);
	assert_int_equal(tok.claims.iat, 1760000000);
}

static void test_claims_orig(void **state)
{
	(void)state;
	/* missing */
	assert_int_equal(
			parse_payload("{" P_DEST ",\"iat\":1," P_RCD "," P_TPID "}"),
			TPID_R_BAD_CLAIMS);
	/* both tn and uri, neither, wrong types, tn not digits */
	assert_int_equal(
			parse_payload("{" P_DEST ",\"iat\":1,\"orig\":{\"tn\":"
						  "\"1\",\"uri\":\"sip:a@b\"}," P_RCD "," P_TPID "}"),
			TPID_R_BAD_CLAIMS);
	assert_int_equal(parse_payload("{" P_DEST ",\"iat\":1,\"orig\":{}," P_RCD
								   "," P_TPID "}"),
			TPID_R_BAD_CLAIMS);
	assert_int_equal(parse_payload("{" P_DEST ",\"iat\":1,\"orig\":\"1\"," P_RCD
								   "," P_TPID "}"),
			TPID_R_BAD_CLAIMS);
	assert_int_equal(parse_payload("{" P_DEST ",\"iat\":1,\"orig\":{\"tn\":"
								   "12345}," P_RCD "," P_TPID "}"),
			TPID_R_BAD_CLAIMS);
	assert_int_equal(parse_payload("{" P_DEST ",\"iat\":1,\"orig\":{\"tn\":"
								   "\"+4961519876543\"}," P_RCD "," P_TPID "}"),
			TPID_R_BAD_CLAIMS);
	assert_int_equal(parse_payload("{" P_DEST ",\"iat\":1,\"orig\":{\"tn\":"
								   "\"\"}," P_RCD "," P_TPID "}"),
			TPID_R_BAD_CLAIMS);
	assert_int_equal(
			parse_payload("{" P_DEST ",\"iat\":1,\"orig\":{\"uri\":"
						  "\"sip:a@acme.example\"}," P_RCD "," P_TPID "}"),
			TPID_OK);
	assert_int_equal(tok.claims.orig.is_tn, 0);
	assert_string_equal(tok.claims.orig.value, "sip:a@acme.example");
}

static void test_claims_dest(void **state)
{
	char pj[2048];

	(void)state;
	assert_int_equal(parse_payload("{\"dest\":{\"tn\":[]},\"iat\":1," P_ORIG
								   "," P_RCD "," P_TPID "}"),
			TPID_R_BAD_CLAIMS);
	assert_int_equal(parse_payload("{\"dest\":{},\"iat\":1," P_ORIG "," P_RCD
								   "," P_TPID "}"),
			TPID_R_BAD_CLAIMS);
	assert_int_equal(parse_payload("{\"dest\":{\"tn\":\"1\"},\"iat\":1," P_ORIG
								   "," P_RCD "," P_TPID "}"),
			TPID_R_BAD_CLAIMS);
	assert_int_equal(parse_payload("{\"dest\":{\"tn\":[1]},\"iat\":1," P_ORIG
								   "," P_RCD "," P_TPID "}"),
			TPID_R_BAD_CLAIMS);
	assert_int_equal(parse_payload("{\"dest\":[\"1\"],\"iat\":1," P_ORIG
								   "," P_RCD "," P_TPID "}"),
			TPID_R_BAD_CLAIMS);
	assert_int_equal(
			parse_payload("{\"iat\":1," P_ORIG "," P_RCD "," P_TPID "}"),
			TPID_R_BAD_CLAIMS);
	/* more entries than we keep: refused, not truncated */
	snprintf(pj, sizeof(pj),
			"{\"dest\":{\"tn\":[\"1\",\"2\",\"3\",\"4\",\"5\"],\"uri\":"
			"[\"sip:a@b\",\"sip:c@d\",\"sip:e@f\",\"sip:g@h\"]},"
			"\"iat\":1," P_ORIG "," P_RCD "," P_TPID "}");
	assert_int_equal(parse_payload(pj), TPID_R_BAD_CLAIMS);
	snprintf(pj, sizeof(pj),
			"{\"dest\":{\"tn\":[\"1\",\"2\",\"3\",\"4\",\"5\"],\"uri\":"
			"[\"sip:a@b\",\"sip:c@d\",\"sip:e@f\"]},"
			"\"iat\":1," P_ORIG "," P_RCD "," P_TPID "}");
	assert_int_equal(parse_payload(pj), TPID_OK);
	assert_int_equal(tok.claims.ndest, 8);
	assert_int_equal(tok.claims.dest[7].is_tn, 0);
	assert_string_equal(tok.claims.dest[7].value, "sip:e@f");
}

static void test_claims_rcd_and_tpid(void **state)
{
	(void)state;
	/* missing tpid */
	assert_int_equal(
			parse_payload("{" P_DEST ",\"iat\":1," P_ORIG "," P_RCD "}"),
			TPID_R_BAD_CLAIMS);
	/* tpid.exp a string, real; id/iss missing or empty */
	assert_int_equal(parse_payload("{" P_DEST ",\"iat\":1," P_ORIG "," P_RCD
								   ",\"tpid\":{\"exp\":\"1760000300\","
								   "\"id\":\"x\",\"iss\":\"y\"}}"),
			TPID_R_BAD_CLAIMS);
	assert_int_equal(parse_payload("{" P_DEST ",\"iat\":1," P_ORIG "," P_RCD
								   ",\"tpid\":{\"exp\":1.5,"
								   "\"id\":\"x\",\"iss\":\"y\"}}"),
			TPID_R_BAD_CLAIMS);
	assert_int_equal(parse_payload("{" P_DEST ",\"iat\":1," P_ORIG "," P_RCD
								   ",\"tpid\":{\"exp\":1,\"iss\":\"y\"}}"),
			TPID_R_BAD_CLAIMS);
	assert_int_equal(parse_payload("{" P_DEST ",\"iat\":1," P_ORIG "," P_RCD
								   ",\"tpid\":{\"exp\":1,\"id\":\"\","
								   "\"iss\":\"y\"}}"),
			TPID_R_BAD_CLAIMS);
	assert_int_equal(parse_payload("{" P_DEST ",\"iat\":1," P_ORIG "," P_RCD
								   ",\"tpid\":{\"exp\":1,\"id\":\"x\"}}"),
			TPID_R_BAD_CLAIMS);
	assert_int_equal(parse_payload("{" P_DEST ",\"iat\":1," P_ORIG "," P_RCD
								   ",\"tpid\":\"sip:x@y\"}"),
			TPID_R_BAD_CLAIMS);
	/* rcd missing, rcd.nam missing or not a string */
	assert_int_equal(
			parse_payload("{" P_DEST ",\"iat\":1," P_ORIG "," P_TPID "}"),
			TPID_R_BAD_CLAIMS);
	assert_int_equal(parse_payload("{" P_DEST ",\"iat\":1," P_ORIG
								   ",\"rcd\":{}," P_TPID "}"),
			TPID_R_BAD_CLAIMS);
	assert_int_equal(parse_payload("{" P_DEST ",\"iat\":1," P_ORIG
								   ",\"rcd\":{\"nam\":7}," P_TPID "}"),
			TPID_R_BAD_CLAIMS);
	/* unknown claims are ignored */
	assert_int_equal(parse_payload("{" P_DEST ",\"iat\":1," P_ORIG
								   ",\"rcd\":{\"jcd\":[],\"nam\":\"A\"},"
								   "\"x\":[1,{}]," P_TPID "}"),
			TPID_OK);
	assert_string_equal(tok.claims.name, "A");
	assert_string_equal(tok.claims.id, "sip:e1@acme.example");
	assert_string_equal(tok.claims.iss, "acme.example");
	assert_int_equal(tok.claims.exp, 1760000300);
}

static void test_claims_too_long(void **state)
{
	char pj[4096], name[TPID_MAX_NAME + 1];

	(void)state;
	/* exactly the buffer minus NUL fits */
	memset(name, 'n', TPID_MAX_NAME - 1);
	name[TPID_MAX_NAME - 1] = '\0';
	snprintf(pj, sizeof(pj),
			"{" P_DEST ",\"iat\":1," P_ORIG ",\"rcd\":{\"nam\":\"%s\"}," P_TPID
			"}",
			name);
	assert_int_equal(parse_payload(pj), TPID_OK);
	assert_int_equal(strlen(tok.claims.name), TPID_MAX_NAME - 1);
	/* one more byte is refused, never truncated */
	memset(name, 'n', TPID_MAX_NAME);
	name[TPID_MAX_NAME] = '\0';
	snprintf(pj, sizeof(pj),
			"{" P_DEST ",\"iat\":1," P_ORIG ",\"rcd\":{\"nam\":\"%s\"}," P_TPID
			"}",
			name);
	assert_int_equal(parse_payload(pj), TPID_R_BAD_CLAIMS);
	assert_string_equal(tok.claims.name, "");
	snprintf(pj, sizeof(pj),
			"{" P_DEST ",\"iat\":1," P_ORIG "," P_RCD
			",\"tpid\":{\"exp\":1,\"id\":\"sip:%s@x\",\"iss\":\"y\"}}",
			name);
	assert_int_equal(parse_payload(pj), TPID_R_BAD_CLAIMS);
}

/* ---- time, orig, dest ----------------------------------------------------- */

static void test_time_checks(void **state)
{
	tpid_claims_t c;

	(void)state;
	sample_claims(&c);
	assert_int_equal(tpid_passport_check_time(&c, T0, 60, 15), TPID_OK);
	assert_int_equal(tpid_passport_check_time(&c, T0 + 60, 60, 15), TPID_OK);
	assert_int_equal(
			tpid_passport_check_time(&c, T0 + 61, 60, 15), TPID_R_IAT_STALE);
	assert_int_equal(tpid_passport_check_time(&c, T0 - 15, 60, 15), TPID_OK);
	assert_int_equal(
			tpid_passport_check_time(&c, T0 - 16, 60, 15), TPID_R_IAT_FUTURE);
	/* exp passed while iat is still fresh */
	c.exp = T0 + 10;
	assert_int_equal(tpid_passport_check_time(&c, T0 + 9, 60, 15), TPID_OK);
	assert_int_equal(
			tpid_passport_check_time(&c, T0 + 10, 60, 15), TPID_R_TPID_EXPIRED);
	/* hostile extremes do not overflow */
	c.iat = INT64_MAX;
	assert_int_equal(
			tpid_passport_check_time(&c, T0, 60, 15), TPID_R_IAT_FUTURE);
	c.iat = 0;
	assert_int_equal(
			tpid_passport_check_time(&c, T0, 60, 15), TPID_R_IAT_STALE);
}

static void test_time_via_parsed_token(void **state)
{
	(void)state;
	sign_sample();
	assert_int_equal(
			tpid_passport_parse(hdr, strlen(hdr), "rcd", &tok), TPID_OK);
	assert_int_equal(tpid_passport_check_time(&tok.claims, T0 + 3600, 60, 15),
			TPID_R_IAT_STALE);
	assert_int_equal(tpid_passport_check_time(&tok.claims, T0 - 3600, 60, 15),
			TPID_R_IAT_FUTURE);
	assert_int_equal(tpid_passport_check_time(&tok.claims, T0 + 300, 600, 15),
			TPID_R_TPID_EXPIRED);
}

/* The orig/dest form of a URI, by the one identity grammar. */
static int ident_of(const char *text, tpid_ident_t *id)
{
	tpid_uri_t u;

	if(tpid_uri_from_text(text, strlen(text), &u) != 0)
		return -1;
	return tpid_uri_ident(&u, id);
}

static void test_orig_dest_checks(void **state)
{
	tpid_claims_t c;
	tpid_ident_t id;

	(void)state;
	sample_claims(&c);
	c.ndest = 2;
	c.dest[1].is_tn = 0;
	strcpy(c.dest[1].value, "sip:bob@example.net");

	assert_int_equal(tpid_passport_check_orig(&c, NULL), TPID_OK);
	assert_int_equal(tpid_passport_check_dest(&c, NULL), TPID_OK);

	assert_int_equal(ident_of("tel:+49-6151-9876543", &id), 0);
	assert_int_equal(tpid_passport_check_orig(&c, &id), TPID_OK);
	strcpy(id.value, "4961519876544");
	assert_int_equal(tpid_passport_check_orig(&c, &id), TPID_R_ORIG_MISMATCH);
	/* same digits, other kind */
	id.is_tn = 0;
	strcpy(id.value, "4961519876543");
	assert_int_equal(tpid_passport_check_orig(&c, &id), TPID_R_ORIG_MISMATCH);

	assert_int_equal(
			ident_of("<sip:+4961511234567@ims.example;user=phone>", &id), 0);
	assert_int_equal(tpid_passport_check_dest(&c, &id), TPID_OK);
	assert_int_equal(ident_of("<sip:bob@EXAMPLE.net>;tag=x", &id), 0);
	assert_int_equal(tpid_passport_check_dest(&c, &id), TPID_OK);
	assert_int_equal(ident_of("tel:+4961511234568", &id), 0);
	assert_int_equal(tpid_passport_check_dest(&c, &id), TPID_R_DEST_MISMATCH);
	assert_int_equal(ident_of("sip:Bob@example.net", &id), 0);
	assert_int_equal(tpid_passport_check_dest(&c, &id), TPID_R_DEST_MISMATCH);
}

/* ---- avatar tokens (ppt=avatar) -------------------------------------------- */

#define AV_URL "https://bar.example.net/bar/v1/avatars/alice-01/representation"
#define AV_SRI "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
#define H_AV                                                      \
	"{\"alg\":\"ES256\",\"ppt\":\"avatar\",\"typ\":\"passport\"," \
	"\"x5u\":\"" X5U "\"}"
#define P_AV_HEAD                                                \
	"{\"dest\":{\"tn\":[\"4961511234567\"]},\"iat\":1760000000," \
	"\"orig\":{\"tn\":\"4961519876543\"}"
#define PARAMS_AV ";info=<" X5U ">;alg=ES256;ppt=avatar"

static void avatar_claims(tpid_claims_t *c)
{
	sample_claims(c);
	strcpy(c->ppt, "avatar");
	c->name[0] = c->id[0] = c->iss[0] = '\0';
	c->exp = 0;
	strcpy(c->aid, "alice-01");
	strcpy(c->bar, AV_URL);
	strcpy(c->fmt, "model/gltf-binary");
	strcpy(c->digest, AV_SRI);
}

static int parse_avatar(const char *pj)
{
	forge(H_AV, pj, PARAMS_AV);
	return tpid_passport_parse(hdr, strlen(hdr), "avatar", &tok);
}

static void test_avatar_json_and_roundtrip(void **state)
{
	tpid_claims_t c;
	char *pj;
	const char *params;
	(void)state;
	avatar_claims(&c);
	pj = tpid_passport_payload_json(&c);
	assert_non_null(pj);
	/* canonical, no rcd and no tpid */
	assert_non_null(strstr(pj, "\"avatari\":{\"/avatar/bar\":\"" AV_SRI "\"}"));
	assert_null(strstr(pj, "\"tpid\""));
	assert_null(strstr(pj, "\"rcd\""));
	assert_string_equal(pj,
			"{\"avatar\":{\"aid\":\"alice-01\",\"bar\":\"" AV_URL
			"\",\"fmt\":\"model/gltf-binary\"},\"avatari\":{\"/avatar/bar\":"
			"\"" AV_SRI "\"},\"dest\":{\"tn\":[\"4961511234567\"]},\"iat\":"
			"1760000000,\"orig\":{\"tn\":\"4961519876543\"}}");
	free(pj);

	assert_int_equal(tpid_passport_sign(&c, key1, hdr, sizeof(hdr)), TPID_OK);
	params = strchr(hdr, ';');
	assert_non_null(params);
	assert_string_equal(params, PARAMS_AV);
	assert_int_equal(
			tpid_passport_parse(hdr, strlen(hdr), "avatar", &tok), TPID_OK);
	assert_string_equal(tok.claims.aid, "alice-01");
	assert_string_equal(tok.claims.bar, AV_URL);
	assert_string_equal(tok.claims.fmt, "model/gltf-binary");
	assert_string_equal(tok.claims.digest, AV_SRI);
	assert_string_equal(tok.claims.id, "");
	assert_int_equal(tpid_passport_verify_sig(&tok, key1), TPID_OK);
	assert_int_equal(
			tpid_passport_verify_sig(&tok, key2), TPID_R_BAD_SIGNATURE);
	/* one kind is never taken for the other */
	assert_int_equal(
			tpid_passport_parse(hdr, strlen(hdr), "rcd", &tok), TPID_R_BAD_PPT);
	sign_sample();
	assert_int_equal(tpid_passport_parse(hdr, strlen(hdr), "avatar", &tok),
			TPID_R_BAD_PPT);
}

static void test_avatar_claims_required(void **state)
{
	static const char *const bad[] = {/* no avatar, no avatari */
			P_AV_HEAD "}",
			P_AV_HEAD ",\"avatari\":{\"/avatar/bar\":\"" AV_SRI "\"}}",
			P_AV_HEAD ",\"avatar\":{\"aid\":\"a\",\"bar\":\"" AV_URL
					  "\",\"fmt\":\"a/b\"}}",
			/* a member missing, empty or not a string */
			P_AV_HEAD ",\"avatar\":{\"bar\":\"" AV_URL "\",\"fmt\":\"a/b\"},"
					  "\"avatari\":{\"/avatar/bar\":\"" AV_SRI "\"}}",
			P_AV_HEAD
			",\"avatar\":{\"aid\":\"\",\"bar\":\"" AV_URL
			"\",\"fmt\":\"a/b\"},\"avatari\":{\"/avatar/bar\":\"" AV_SRI "\"}}",
			P_AV_HEAD
			",\"avatar\":{\"aid\":7,\"bar\":\"" AV_URL
			"\",\"fmt\":\"a/b\"},\"avatari\":{\"/avatar/bar\":\"" AV_SRI "\"}}",
			P_AV_HEAD ",\"avatar\":{\"aid\":\"a\",\"bar\":\"" AV_URL
					  "\",\"fmt\":null},\"avatari\":{\"/avatar/bar\":\"" AV_SRI
					  "\"}}",
			P_AV_HEAD
			",\"avatar\":\"alice-01\",\"avatari\":{\"/avatar/bar\":\"" AV_SRI
			"\"}}",
			/* avatari: only "/avatar/bar", a string */
			P_AV_HEAD ",\"avatar\":{\"aid\":\"a\",\"bar\":\"" AV_URL
					  "\",\"fmt\":\"a/b\"},\"avatari\":{}}",
			P_AV_HEAD
			",\"avatar\":{\"aid\":\"a\",\"bar\":\"" AV_URL
			"\",\"fmt\":\"a/b\"},\"avatari\":{\"/avatar/bar\":\"" AV_SRI
			"\",\"/avatar/aid\":\"" AV_SRI "\"}}",
			P_AV_HEAD
			",\"avatar\":{\"aid\":\"a\",\"bar\":\"" AV_URL
			"\",\"fmt\":\"a/b\"},\"avatari\":{\"/avatar/fmt\":\"" AV_SRI "\"}}",
			P_AV_HEAD ",\"avatar\":{\"aid\":\"a\",\"bar\":\"" AV_URL
					  "\",\"fmt\":\"a/b\"},\"avatari\":{\"/avatar/bar\":[]}}",
			NULL};
	int i;

	(void)state;
	for(i = 0; bad[i] != NULL; i++) {
		if(parse_avatar(bad[i]) != TPID_R_BAD_CLAIMS)
			fail_msg("case %d accepted: %s", i, bad[i]);
	}
	/* an aid too long for the claims is refused, not cut */
	{
		char pj[1024], aid[TPID_MAX_AID + 2];
		memset(aid, 'a', sizeof(aid) - 1);
		aid[sizeof(aid) - 1] = '\0';
		snprintf(pj, sizeof(pj),
				P_AV_HEAD
				",\"avatar\":{\"aid\":\"%s\",\"bar\":\"" AV_URL
				"\",\"fmt\":\"a/b\"},\"avatari\":{\"/avatar/bar\":\"" AV_SRI
				"\"}}",
				aid);
		assert_int_equal(parse_avatar(pj), TPID_R_BAD_CLAIMS);
	}
	/* a tpid claim in an avatar token is not read: nothing third-party */
	assert_int_equal(
			parse_avatar(P_AV_HEAD
					",\"avatar\":{\"aid\":\"a\",\"bar\":\"" AV_URL
					"\",\"fmt\":\"a/b\"},\"avatari\":{\"/avatar/bar\":\"" AV_SRI
					"\"},\"tpid\":{\"exp\":1,\"id\":\"sip:ceo@acme.example\","
					"\"iss\":\"acme.example\"}}"),
			TPID_OK);
	assert_string_equal(tok.claims.id, "");
	assert_int_equal(tok.claims.exp, 0);
}

static void test_avatar_tampered(void **state)
{
	tpid_claims_t c;
	char *dot1, *dot2, *pb, *pj, *swapped;
	char forged[TPID_MAX_HDR_LEN];

	(void)state;
	avatar_claims(&c);
	assert_int_equal(tpid_passport_sign(&c, key1, hdr, sizeof(hdr)), TPID_OK);
	/* the payload of another avatar, under the first one's signature */
	strcpy(c.aid, "mallory-01");
	pj = tpid_passport_payload_json(&c);
	assert_non_null(pj);
	pb = b64u(pj, strlen(pj));
	dot1 = strchr(hdr, '.');
	dot2 = strchr(dot1 + 1, '.');
	snprintf(forged, sizeof(forged), "%.*s.%s%s", (int)(dot1 - hdr), hdr, pb,
			dot2);
	swapped = forged;
	assert_int_equal(
			tpid_passport_parse(swapped, strlen(swapped), "avatar", &tok),
			TPID_OK);
	assert_string_equal(tok.claims.aid, "mallory-01");
	assert_int_equal(
			tpid_passport_verify_sig(&tok, key1), TPID_R_BAD_SIGNATURE);
	free(pj);
	free(pb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_rfc8225_vector),
			cmocka_unit_test(test_design_example_json),
			cmocka_unit_test(test_json_utf8_and_slash_unescaped),
			cmocka_unit_test(test_sign_verify_roundtrip),
			cmocka_unit_test(test_roundtrip_uri_and_mixed_dest),
			cmocka_unit_test(test_sign_errors),
			cmocka_unit_test(test_public_key_cannot_sign),
			cmocka_unit_test(test_forged_helper_is_valid),
			cmocka_unit_test(test_der_signature_refused),
			cmocka_unit_test(test_wrong_key),
			cmocka_unit_test(test_payload_tampered),
			cmocka_unit_test(test_alg_refused_in_header),
			cmocka_unit_test(test_alg_refused_in_param),
			cmocka_unit_test(test_typ_refused),
			cmocka_unit_test(test_ppt_refused),
			cmocka_unit_test(test_ppt_quoted_and_lws_accepted),
			cmocka_unit_test(test_param_syntax),
			cmocka_unit_test(test_x5u_mismatch),
			cmocka_unit_test(test_info_missing),
			cmocka_unit_test(test_bad_base64url),
			cmocka_unit_test(test_duplicate_keys_and_crit),
			cmocka_unit_test(test_truncated),
			cmocka_unit_test(test_oversized),
			cmocka_unit_test(test_claims_iat),
			cmocka_unit_test(test_claims_orig),
			cmocka_unit_test(test_claims_dest),
			cmocka_unit_test(test_claims_rcd_and_tpid),
			cmocka_unit_test(test_claims_too_long),
			cmocka_unit_test(test_time_checks),
			cmocka_unit_test(test_time_via_parsed_token),
			cmocka_unit_test(test_orig_dest_checks),
			cmocka_unit_test(test_avatar_json_and_roundtrip),
			cmocka_unit_test(test_avatar_claims_required),
			cmocka_unit_test(test_avatar_tampered),
	};

	return cmocka_run_group_tests_name("tpid_passport", tests, setup, teardown);
}
