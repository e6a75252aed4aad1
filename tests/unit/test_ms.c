/*
 * tpid_assert - unit tests: the Ms client (tpid_ms.c): request bodies byte
 * for byte, the STI-AS's and the STI-VS's answers (every refusal), Ms
 * error objects, the engine's failure classes, the service file, verstat.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "tpid_ident.h"
#include "tpid_ms.h"
#include "tpid_reason.h"

#define ORIGID "123e4567-e89b-42d3-a456-426614174000"
#define X5U "https://sti.example/certs/sti.pem"
#define PARAMS ";info=<" X5U ">;alg=ES256;ppt=rcd"
#define H_RCD                                                  \
	"{\"alg\":\"ES256\",\"ppt\":\"rcd\",\"typ\":\"passport\"," \
	"\"x5u\":\"" X5U "\"}"
#define P_HEAD                                                   \
	"{\"dest\":{\"tn\":[\"4961511234567\"]},\"iat\":1760000000," \
	"\"orig\":{\"tn\":\"4961519876543\"}"
#define P_RCD_TAIL                                                        \
	"\"rcd\":{\"nam\":\"Alice Example (ACME Corp.)\"},\"tpid\":{\"exp\":" \
	"1760003600,\"id\":\"sip:e102938@acme.example\",\"iss\":"             \
	"\"acme.example\"}}"
#define P_RCD P_HEAD "," P_RCD_TAIL

static char dir[64];
static char ca[128];

/* ---- fixtures ---------------------------------------------------------- */

static void rcd_claims(tpid_claims_t *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->ppt, "rcd");
	strcpy(c->x5u, "https://orig.example/not-sent.pem");
	c->iat = 1760000000;
	c->orig.is_tn = 1;
	strcpy(c->orig.value, "4961519876543");
	c->ndest = 1;
	c->dest[0].is_tn = 1;
	strcpy(c->dest[0].value, "4961511234567");
	strcpy(c->name, "Alice Example (ACME Corp.)");
	strcpy(c->id, "sip:e102938@acme.example");
	strcpy(c->iss, "acme.example");
	c->exp = 1760003600;
}

static void avatar_claims(tpid_claims_t *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->ppt, "avatar");
	c->iat = 1760000000;
	c->orig.is_tn = 1;
	strcpy(c->orig.value, "4961519876543");
	c->ndest = 1;
	c->dest[0].is_tn = 1;
	strcpy(c->dest[0].value, "4961511234567");
	strcpy(c->aid, "alice-1");
	strcpy(c->bar, "https://bar.example/a/alice-1");
	strcpy(c->fmt, "image/png");
	strcpy(c->digest, "sha256-47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU");
}

/* An Identity header value from its JSON parts, a fake signature of
 * siglen bytes and the parameters (static buffer). */
static const char *mkhdr(
		const char *h, const char *p, size_t siglen, const char *params)
{
	static char out[TPID_MAX_HDR_LEN * 2];
	unsigned char sig[128];
	char *hb, *pb, *sb;

	memset(sig, 0x5a, sizeof(sig));
	hb = tpid_b64u_dup((const unsigned char *)h, strlen(h));
	pb = tpid_b64u_dup((const unsigned char *)p, strlen(p));
	sb = tpid_b64u_dup(sig, siglen);
	assert_non_null(hb);
	assert_non_null(pb);
	assert_non_null(sb);
	snprintf(out, sizeof(out), "%s.%s.%s%s", hb, pb, sb, params);
	free(hb);
	free(pb);
	free(sb);
	return out;
}

/* A signingResponse carrying hdr (malloc()ed). */
static char *sign_body(const char *hdr)
{
	json_t *j =
			json_pack("{s:{s:s}}", "signingResponse", "identityHeader", hdr);
	char *s;

	assert_non_null(j);
	s = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	assert_non_null(s);
	return s;
}

static tpid_https_result_t ok_result(const char *body)
{
	tpid_https_result_t r;

	memset(&r, 0, sizeof(r));
	r.cls = TPID_HTTPS_OK;
	r.status = 200;
	r.body = (char *)body;
	r.body_len = body ? strlen(body) : 0;
	return r;
}

static int group_setup(void **state)
{
	FILE *f;
	(void)state;

	snprintf(dir, sizeof(dir), "/tmp/tpid_ms_XXXXXX");
	if(mkdtemp(dir) == NULL)
		return -1;
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	f = fopen(ca, "w"); /* only its readability is checked on load */
	if(f == NULL)
		return -1;
	fputs("-----BEGIN CERTIFICATE-----\n", f);
	fclose(f);
	return tpid_https_global_init();
}

static int group_teardown(void **state)
{
	(void)state;
	tpid_https_global_cleanup();
	unlink(ca);
	rmdir(dir);
	return 0;
}

/* ---- requests ---------------------------------------------------------- */

static void test_sign_request_rcd(void **state)
{
	char out[TPID_MS_MAX_REQUEST], *pj;
	tpid_claims_t c;
	int n;
	(void)state;

	rcd_claims(&c);
	/* the fixture is the module's own payload */
	pj = tpid_passport_payload_json(&c);
	assert_string_equal(pj, P_RCD);
	free(pj);
	n = tpid_ms_sign_request(&c, ORIGID, out, sizeof(out));
	assert_string_equal(out,
			"{\"signingRequest\":" P_HEAD ",\"origid\":\"" ORIGID
			"\",\"ppt\":\"rcd\"," P_RCD_TAIL "}");
	assert_int_equal(n, (int)strlen(out));
}

static void test_sign_request_avatar(void **state)
{
	char out[TPID_MS_MAX_REQUEST];
	tpid_claims_t c;
	(void)state;

	avatar_claims(&c);
	c.ndest = 2;
	c.dest[1].is_tn = 0;
	strcpy(c.dest[1].value, "sip:bob@beta.example");
	assert_true(tpid_ms_sign_request(&c, ORIGID, out, sizeof(out)) > 0);
	assert_string_equal(out,
			"{\"signingRequest\":{\"avatar\":{\"aid\":\"alice-1\",\"bar\":"
			"\"https://bar.example/a/alice-1\",\"fmt\":\"image/png\"},"
			"\"avatari\":{\"/avatar/bar\":\"sha256-47DEQpj8HBSa-_TImW-"
			"5JCeuQeRkm5NMpJWZG3hSuFU\"},\"dest\":{\"tn\":[\"4961511234567\"],"
			"\"uri\":[\"sip:bob@beta.example\"]},\"iat\":1760000000,\"orig\":"
			"{\"tn\":\"4961519876543\"},\"origid\":\"" ORIGID
			"\",\"ppt\":\"avatar\"}}");
}

static void test_sign_request_refused(void **state)
{
	static const char *const bad_origid[] = {"",
			"123E4567-E89B-42D3-A456-426614174000",
			"123e4567-e89b-42d3-a456-42661417400",
			"123e4567-e89b-42d3-a456-4266141740000",
			"123e4567xe89b-42d3-a456-426614174000",
			"123e4567-e89b-42d3-a456-42661417400g"};
	char out[TPID_MS_MAX_REQUEST];
	tpid_claims_t c;
	size_t i;
	int n;
	(void)state;

	rcd_claims(&c);
	for(i = 0; i < sizeof(bad_origid) / sizeof(bad_origid[0]); i++) {
		strcpy(out, "x");
		assert_int_equal(
				tpid_ms_sign_request(&c, bad_origid[i], out, sizeof(out)), -1);
		assert_string_equal(out, "");
	}
	assert_int_equal(tpid_ms_sign_request(&c, NULL, out, sizeof(out)), -1);
	assert_int_equal(tpid_ms_sign_request(NULL, ORIGID, out, sizeof(out)), -1);
	assert_int_equal(tpid_ms_sign_request(&c, ORIGID, NULL, 10), -1);
	strcpy(c.ppt, "shaken");
	assert_int_equal(tpid_ms_sign_request(&c, ORIGID, out, sizeof(out)), -1);
	strcpy(c.ppt, "");
	assert_int_equal(tpid_ms_sign_request(&c, ORIGID, out, sizeof(out)), -1);
	rcd_claims(&c);
	c.ndest = 0;
	assert_int_equal(tpid_ms_sign_request(&c, ORIGID, out, sizeof(out)), -1);
	rcd_claims(&c);
	strcpy(c.orig.value, "+4961519876543"); /* a tn is digits */
	assert_int_equal(tpid_ms_sign_request(&c, ORIGID, out, sizeof(out)), -1);
	rcd_claims(&c);
	strcpy(c.name, "\xff"); /* not UTF-8 */
	assert_int_equal(tpid_ms_sign_request(&c, ORIGID, out, sizeof(out)), -1);
	/* exactly fits, one byte short */
	rcd_claims(&c);
	n = tpid_ms_sign_request(&c, ORIGID, out, sizeof(out));
	assert_true(n > 0);
	assert_int_equal(tpid_ms_sign_request(&c, ORIGID, out, (size_t)n + 1), n);
	assert_int_equal(tpid_ms_sign_request(&c, ORIGID, out, (size_t)n), -1);
	assert_string_equal(out, "");
}

static void test_origid(void **state)
{
	char a[TPID_MS_ORIGID_LEN], b[TPID_MS_ORIGID_LEN], out[4096];
	tpid_claims_t c;
	(void)state;

	assert_int_equal(tpid_ms_origid(a, sizeof(a)), 0);
	assert_int_equal(tpid_ms_origid(b, sizeof(b)), 0);
	assert_int_equal(strlen(a), 36);
	assert_string_not_equal(a, b);
	assert_int_equal(a[14], '4');			/* version 4 */
	assert_non_null(strchr("89ab", a[19])); /* RFC 4122 variant */
	/* what it makes is what the request takes */
	rcd_claims(&c);
	assert_true(tpid_ms_sign_request(&c, a, out, sizeof(out)) > 0);
	assert_int_equal(tpid_ms_origid(a, TPID_MS_ORIGID_LEN - 1), -1);
	assert_int_equal(tpid_ms_origid(NULL, 64), -1);
}

static void test_verify_request(void **state)
{
	static const char hdr[] = "a.b.c;info=<https://x.example/c.pem>;alg=ES256;"
							  "ppt=\"rcd\"";
	char out[TPID_MS_MAX_REQUEST];
	tpid_ident_t from = {1, "4961519876543"};
	tpid_ident_t to[3] = {{1, "4961511234567"}, {0, "sip:bob@beta.example"},
			{1, "4961511234568"}};
	int n;
	(void)state;

	n = tpid_ms_verify_request(
			hdr, strlen(hdr), &from, to, 1, 1760000005, out, sizeof(out));
	assert_string_equal(out,
			"{\"verificationRequest\":{\"from\":{\"tn\":\"4961519876543\"},"
			"\"identityHeader\":\"a.b.c;info=<https://x.example/c.pem>;"
			"alg=ES256;ppt=\\\"rcd\\\"\",\"time\":1760000005,\"to\":{\"tn\":"
			"[\"4961511234567\"]}}}");
	assert_int_equal(n, (int)strlen(out));
	/* a uri caller, several callees of both kinds */
	from.is_tn = 0;
	strcpy(from.value, "sip:alice@acme.example");
	assert_true(
			tpid_ms_verify_request(hdr, 5, &from, to, 3, 0, out, sizeof(out))
			> 0);
	assert_string_equal(out,
			"{\"verificationRequest\":{\"from\":{\"uri\":\"sip:alice@acme."
			"example\"},\"identityHeader\":\"a.b.c\",\"time\":0,\"to\":{\"tn\":"
			"[\"4961511234567\",\"4961511234568\"],\"uri\":[\"sip:bob@beta."
			"example\"]}}}");
}

static void test_verify_request_refused(void **state)
{
	static char big[TPID_MAX_HDR_LEN + 2];
	char out[TPID_MS_MAX_REQUEST];
	tpid_ident_t from = {1, "4961519876543"}, to = {1, "4961511234567"};
	tpid_ident_t bad = {1, "+4961519876543"};
	(void)state;

	assert_int_equal(tpid_ms_verify_request(
							 "a.b.c", 0, &from, &to, 1, 5, out, sizeof(out)),
			-1);
	assert_int_equal(tpid_ms_verify_request(
							 "a\0b.c", 5, &from, &to, 1, 5, out, sizeof(out)),
			-1);
	assert_int_equal(tpid_ms_verify_request(
							 "a.\xff.c", 5, &from, &to, 1, 5, out, sizeof(out)),
			-1);
	assert_int_equal(
			tpid_ms_verify_request(NULL, 5, &from, &to, 1, 5, out, sizeof(out)),
			-1);
	assert_int_equal(tpid_ms_verify_request(
							 "a.b.c", 5, &from, &to, 0, 5, out, sizeof(out)),
			-1);
	assert_int_equal(tpid_ms_verify_request("a.b.c", 5, &from, &to,
							 TPID_MAX_DEST + 1, 5, out, sizeof(out)),
			-1);
	assert_int_equal(tpid_ms_verify_request(
							 "a.b.c", 5, NULL, &to, 1, 5, out, sizeof(out)),
			-1);
	assert_int_equal(tpid_ms_verify_request(
							 "a.b.c", 5, &bad, &to, 1, 5, out, sizeof(out)),
			-1);
	assert_int_equal(tpid_ms_verify_request(
							 "a.b.c", 5, &from, &bad, 1, 5, out, sizeof(out)),
			-1);
	assert_int_equal(tpid_ms_verify_request(
							 "a.b.c", 5, &from, &to, 1, -1, out, sizeof(out)),
			-1);
	assert_int_equal(
			tpid_ms_verify_request("a.b.c", 5, &from, &to, 1, 5, out, 20), -1);
	assert_string_equal(out, "");
	/* the longest header, all quotes (each escaped into two): fits */
	memset(big, '"', sizeof(big));
	assert_true(tpid_ms_verify_request(big, TPID_MAX_HDR_LEN, &from, &to,
						TPID_MAX_DEST > 1 ? 1 : 1, 5, out, sizeof(out))
				> 2 * TPID_MAX_HDR_LEN);
	assert_int_equal(tpid_ms_verify_request(big, TPID_MAX_HDR_LEN + 1, &from,
							 &to, 1, 5, out, sizeof(out)),
			-1);
}

/* ---- signing answers ---------------------------------------------------- */

static int sign(const char *body, tpid_claims_t *signed_c, char *hdr,
		size_t hdrsize, char *text)
{
	tpid_https_result_t r = ok_result(body);
	tpid_claims_t asked;

	rcd_claims(&asked);
	return tpid_ms_sign_result(
			&r, &asked, ORIGID, hdr, hdrsize, signed_c, text, TPID_MS_MAX_TEXT);
}

/* The module's own signer, a real key: what a good STI-AS returns. */
static void test_sign_result_good(void **state)
{
	char hdr[TPID_MAX_HDR_LEN + 1], out[TPID_MAX_HDR_LEN + 1];
	char text[TPID_MS_MAX_TEXT], *body;
	tpid_claims_t asked, signed_c, sti;
	tpid_https_result_t r;
	EVP_PKEY *k = EVP_EC_gen("P-256");
	(void)state;

	assert_non_null(k);
	rcd_claims(&sti);
	strcpy(sti.x5u, X5U);
	assert_int_equal(tpid_passport_sign(&sti, k, hdr, sizeof(hdr)), TPID_OK);
	body = sign_body(hdr);
	memset(&signed_c, 0x5a, sizeof(signed_c));
	assert_int_equal(sign(body, &signed_c, out, sizeof(out), text), TPID_OK);
	assert_string_equal(out, hdr);
	assert_string_equal(text, "");
	/* the claims as signed: the ones asked for, with the STI-AS's x5u */
	assert_string_equal(signed_c.x5u, X5U);
	assert_string_equal(signed_c.ppt, "rcd");
	assert_int_equal(signed_c.iat, 1760000000);
	assert_string_equal(signed_c.orig.value, "4961519876543");
	assert_int_equal(signed_c.ndest, 1);
	assert_string_equal(signed_c.name, "Alice Example (ACME Corp.)");
	assert_string_equal(signed_c.id, "sip:e102938@acme.example");
	assert_int_equal(signed_c.exp, 1760003600);
	/* signed_c may be asked itself; text and signed_c may be NULL */
	rcd_claims(&asked);
	r = ok_result(body);
	assert_int_equal(tpid_ms_sign_result(&r, &asked, ORIGID, out, sizeof(out),
							 &asked, NULL, 0),
			TPID_OK);
	assert_string_equal(asked.x5u, X5U);
	assert_string_equal(asked.name, "Alice Example (ACME Corp.)");
	rcd_claims(&asked);
	assert_int_equal(tpid_ms_sign_result(&r, &asked, ORIGID, out, sizeof(out),
							 NULL, NULL, 0),
			TPID_OK);
	/* exactly the room the header needs */
	assert_int_equal(sign(body, NULL, out, strlen(hdr) + 1, text), TPID_OK);
	assert_int_equal(
			sign(body, NULL, out, strlen(hdr), text), TPID_R_MS_BAD_ANSWER);
	assert_string_equal(out, "");
	free(body);
	EVP_PKEY_free(k);
}

static void test_sign_result_avatar(void **state)
{
	char out[TPID_MAX_HDR_LEN + 1], text[TPID_MS_MAX_TEXT], *pj, *body;
	tpid_claims_t asked, got;
	tpid_https_result_t r;
	(void)state;

	avatar_claims(&asked);
	pj = tpid_passport_payload_json(&asked);
	body = sign_body(mkhdr("{\"alg\":\"ES256\",\"ppt\":\"avatar\",\"typ\":"
						   "\"passport\",\"x5u\":\"" X5U "\"}",
			pj, 64, ";info=<" X5U ">;alg=ES256;ppt=avatar"));
	r = ok_result(body);
	assert_int_equal(tpid_ms_sign_result(&r, &asked, ORIGID, out, sizeof(out),
							 &got, text, sizeof(text)),
			TPID_OK);
	assert_string_equal(got.digest, asked.digest);
	assert_string_equal(got.x5u, X5U);
	/* an rcd token is not the avatar token asked for */
	free(body);
	body = sign_body(mkhdr(H_RCD, P_RCD, 64, PARAMS));
	r = ok_result(body);
	assert_int_equal(tpid_ms_sign_result(&r, &asked, ORIGID, out, sizeof(out),
							 &got, text, sizeof(text)),
			TPID_R_MS_BAD_ANSWER);
	assert_string_equal(text, "identityHeader refused: BAD_PPT");
	free(body);
	free(pj);
}

/* Each header that is not the token asked for. */
static void test_sign_result_not_asked(void **state)
{
	static const struct
	{
		const char *name, *h, *p;
		size_t siglen;
		const char *params;
		int rc;
		const char *text; /* a part of it, NULL: not checked */
	} cases[] = {
			{"good", H_RCD, P_RCD, 64, PARAMS, TPID_OK, ""},
			{"origid equal", H_RCD,
					P_HEAD ",\"origid\":\"" ORIGID "\"," P_RCD_TAIL, 64, PARAMS,
					TPID_OK, ""},
			{"param case", H_RCD, P_RCD, 64,
					" ; info=<" X5U "> ; ALG=es256 ; PPT=RCD", TPID_OK, ""},
			{"origid other", H_RCD,
					P_HEAD ",\"origid\":\"123e4567-e89b-42d3-a456-"
						   "426614174001\"," P_RCD_TAIL,
					64, PARAMS, TPID_R_MS_BAD_ANSWER, "origid"},
			{"origid number", H_RCD, P_HEAD ",\"origid\":1," P_RCD_TAIL, 64,
					PARAMS, TPID_R_MS_BAD_ANSWER, "origid"},
			{"orig", H_RCD,
					"{\"dest\":{\"tn\":[\"4961511234567\"]},\"iat\":1760000000,"
					"\"orig\":{\"tn\":\"4961519876544\"}," P_RCD_TAIL,
					64, PARAMS, TPID_R_MS_BAD_ANSWER, "claims"},
			{"orig as uri", H_RCD,
					"{\"dest\":{\"tn\":[\"4961511234567\"]},\"iat\":1760000000,"
					"\"orig\":{\"uri\":\"tel:+4961519876543\"}," P_RCD_TAIL,
					64, PARAMS, TPID_R_MS_BAD_ANSWER, "claims"},
			{"dest added", H_RCD,
					"{\"dest\":{\"tn\":[\"4961511234567\",\"4961511234568\"]},"
					"\"iat\":1760000000,\"orig\":{\"tn\":\"4961519876543\"}"
					"," P_RCD_TAIL,
					64, PARAMS, TPID_R_MS_BAD_ANSWER, "claims"},
			{"dest", H_RCD,
					"{\"dest\":{\"uri\":[\"sip:bob@beta.example\"]},"
					"\"iat\":1760000000,\"orig\":{\"tn\":\"4961519876543\"}"
					"," P_RCD_TAIL,
					64, PARAMS, TPID_R_MS_BAD_ANSWER, "claims"},
			{"iat", H_RCD,
					"{\"dest\":{\"tn\":[\"4961511234567\"]},\"iat\":1760000001,"
					"\"orig\":{\"tn\":\"4961519876543\"}," P_RCD_TAIL,
					64, PARAMS, TPID_R_MS_BAD_ANSWER, "claims"},
			{"iat real", H_RCD,
					"{\"dest\":{\"tn\":[\"4961511234567\"]},\"iat\":1760000000."
					"0,"
					"\"orig\":{\"tn\":\"4961519876543\"}," P_RCD_TAIL,
					64, PARAMS, TPID_R_MS_BAD_ANSWER, "BAD_CLAIMS"},
			{"nam", H_RCD,
					P_HEAD ",\"rcd\":{\"nam\":\"Mallory\"},\"tpid\":{\"exp\":"
						   "1760003600,\"id\":\"sip:e102938@acme.example\","
						   "\"iss\":\"acme.example\"}}",
					64, PARAMS, TPID_R_MS_BAD_ANSWER, "claims"},
			{"rcd extra", H_RCD,
					P_HEAD ",\"rcd\":{\"nam\":\"Alice Example (ACME Corp.)\","
						   "\"icn\":\"https://x.example/i.png\"},\"tpid\":{"
						   "\"exp\":1760003600,\"id\":\"sip:e102938@acme."
						   "example\",\"iss\":\"acme.example\"}}",
					64, PARAMS, TPID_R_MS_BAD_ANSWER, "claims"},
			{"tpid.exp", H_RCD,
					P_HEAD ",\"rcd\":{\"nam\":\"Alice Example (ACME Corp.)\"},"
						   "\"tpid\":{\"exp\":1760099999,\"id\":\"sip:"
						   "e102938@acme.example\",\"iss\":\"acme.example\"}}",
					64, PARAMS, TPID_R_MS_BAD_ANSWER, "claims"},
			{"tpid.id", H_RCD,
					P_HEAD ",\"rcd\":{\"nam\":\"Alice Example (ACME Corp.)\"},"
						   "\"tpid\":{\"exp\":1760003600,\"id\":\"sip:"
						   "boss@acme.example\",\"iss\":\"acme.example\"}}",
					64, PARAMS, TPID_R_MS_BAD_ANSWER, "claims"},
			{"tpid.iss", H_RCD,
					P_HEAD ",\"rcd\":{\"nam\":\"Alice Example (ACME Corp.)\"},"
						   "\"tpid\":{\"exp\":1760003600,\"id\":\"sip:"
						   "e102938@acme.example\",\"iss\":\"example\"}}",
					64, PARAMS, TPID_R_MS_BAD_ANSWER, "claims"},
			{"tpid extra", H_RCD,
					P_HEAD ",\"rcd\":{\"nam\":\"Alice Example (ACME Corp.)\"},"
						   "\"tpid\":{\"exp\":1760003600,\"id\":\"sip:"
						   "e102938@acme.example\",\"iss\":\"acme.example\","
						   "\"x\":1}}",
					64, PARAMS, TPID_R_MS_BAD_ANSWER, "claims"},
			{"extra claim", H_RCD, P_HEAD ",\"div\":{}," P_RCD_TAIL, 64, PARAMS,
					TPID_R_MS_BAD_ANSWER, "claims"},
			{"no tpid", H_RCD,
					P_HEAD ",\"rcd\":{\"nam\":\"Alice Example (ACME Corp.)\"}}",
					64, PARAMS, TPID_R_MS_BAD_ANSWER, "BAD_CLAIMS"},
			{"another call", H_RCD,
					"{\"dest\":{\"tn\":[\"4961517777777\"]},\"iat\":1759990000,"
					"\"orig\":{\"tn\":\"4961519876543\"}," P_RCD_TAIL,
					64, PARAMS, TPID_R_MS_BAD_ANSWER, "claims"},
			{"ppt avatar",
					"{\"alg\":\"ES256\",\"ppt\":\"avatar\",\"typ\":"
					"\"passport\",\"x5u\":\"" X5U "\"}",
					P_RCD, 64, ";info=<" X5U ">;alg=ES256;ppt=avatar",
					TPID_R_MS_BAD_ANSWER, "BAD_PPT"},
			{"ppt param", H_RCD, P_RCD, 64,
					";info=<" X5U ">;alg=ES256;ppt=shaken",
					TPID_R_MS_BAD_ANSWER, "BAD_PPT"},
			{"no ppt param", H_RCD, P_RCD, 64, ";info=<" X5U ">;alg=ES256",
					TPID_R_MS_BAD_ANSWER, "BAD_PPT"},
			{"alg ES384",
					"{\"alg\":\"ES384\",\"ppt\":\"rcd\",\"typ\":"
					"\"passport\",\"x5u\":\"" X5U "\"}",
					P_RCD, 64, PARAMS, TPID_R_MS_BAD_ANSWER, "BAD_ALG"},
			{"alg param", H_RCD, P_RCD, 64, ";info=<" X5U ">;alg=RS256;ppt=rcd",
					TPID_R_MS_BAD_ANSWER, "BAD_ALG"},
			{"no alg param", H_RCD, P_RCD, 64, ";info=<" X5U ">;ppt=rcd",
					TPID_R_MS_BAD_ANSWER, "without alg"},
			{"typ",
					"{\"alg\":\"ES256\",\"ppt\":\"rcd\",\"typ\":\"JWT\","
					"\"x5u\":\"" X5U "\"}",
					P_RCD, 64, PARAMS, TPID_R_MS_BAD_ANSWER, "BAD_TYP"},
			{"x5u not info",
					"{\"alg\":\"ES256\",\"ppt\":\"rcd\",\"typ\":"
					"\"passport\",\"x5u\":\"https://evil.example/c."
					"pem\"}",
					P_RCD, 64, PARAMS, TPID_R_MS_BAD_ANSWER, "X5U_MISMATCH"},
			{"no info", H_RCD, P_RCD, 64, ";alg=ES256;ppt=rcd",
					TPID_R_MS_BAD_ANSWER, "X5U_MISMATCH"},
			{"x5u http",
					"{\"alg\":\"ES256\",\"ppt\":\"rcd\",\"typ\":"
					"\"passport\",\"x5u\":\"http://sti.example/c.pem\"}",
					P_RCD, 64,
					";info=<http://sti.example/c.pem>;alg=ES256;ppt=rcd",
					TPID_R_MS_BAD_ANSWER, "https"},
			{"DER signature", H_RCD, P_RCD, 71, PARAMS, TPID_R_MS_BAD_ANSWER,
					"64 bytes"},
			{"short signature", H_RCD, P_RCD, 63, PARAMS, TPID_R_MS_BAD_ANSWER,
					"64 bytes"},
			{"crit",
					"{\"alg\":\"ES256\",\"crit\":[\"x\"],\"ppt\":\"rcd\","
					"\"typ\":\"passport\",\"x5u\":\"" X5U "\"}",
					P_RCD, 64, PARAMS, TPID_R_MS_BAD_ANSWER, "BAD_SYNTAX"},
			{"payload not JSON", H_RCD, "{\"dest\":", 64, PARAMS,
					TPID_R_MS_BAD_ANSWER, "BAD_SYNTAX"},
	};
	char hdr[TPID_MAX_HDR_LEN + 1], text[TPID_MS_MAX_TEXT], *body;
	tpid_claims_t got;
	const char *h;
	size_t i;
	int rc;
	(void)state;

	for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		h = mkhdr(cases[i].h, cases[i].p, cases[i].siglen, cases[i].params);
		body = sign_body(h);
		memset(&got, 0x5a, sizeof(got));
		strcpy(hdr, "x");
		rc = sign(body, &got, hdr, sizeof(hdr), text);
		if(rc != cases[i].rc || strstr(text, cases[i].text) == NULL)
			fail_msg("%s: %s (%s)", cases[i].name, tpid_reason_name(rc), text);
		if(rc == TPID_OK) {
			assert_string_equal(hdr, h);
			assert_string_equal(got.x5u, X5U);
		} else {
			assert_string_equal(hdr, "");
			assert_int_equal(got.iat, 0x5a5a5a5a5a5a5a5aLL); /* untouched */
		}
		free(body);
	}
}

/* Each answer that is not {"signingResponse":{"identityHeader":"..."}}. */
static void test_sign_result_bad_shapes(void **state)
{
	static char big[TPID_MAX_HDR_LEN + 2], bigbody[TPID_MAX_HDR_LEN + 128];
	static const char *const bodies[] = {"", "garbage", "[]", "{}", "null",
			"{\"signingResponse\":[]}", "{\"signingResponse\":{}}",
			"{\"signingResponse\":{\"identityHeader\":1}}",
			"{\"signingResponse\":{\"identityHeader\":null}}",
			"{\"signingResponse\":{\"identityHeader\":\"\"}}",
			"{\"signingResponse\":{\"identityHeader\":\"x\"}}",
			"{\"signingResponse\":{\"identityHeader\":\"a.b.c\\u0000\"}}",
			"{\"identityHeader\":\"a.b.c\"}",
			"{\"signingResponse\":{\"identityHeader\":\"a\"},"
			"\"signingResponse\":{\"identityHeader\":\"a\"}}"};
	char hdr[TPID_MAX_HDR_LEN + 1], text[TPID_MS_MAX_TEXT], *good, *body;
	const char *h = mkhdr(H_RCD, P_RCD, 64, PARAMS);
	tpid_https_result_t r;
	tpid_claims_t asked;
	size_t i;
	(void)state;

	for(i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		text[0] = '\0';
		if(sign(bodies[i], NULL, hdr, sizeof(hdr), text)
				!= TPID_R_MS_BAD_ANSWER)
			fail_msg("accepted: %s", bodies[i]);
		assert_true(text[0] != '\0');
	}
	/* a good answer cut short, or followed by more */
	good = sign_body(h);
	rcd_claims(&asked);
	r = ok_result(good);
	r.body_len--;
	assert_int_equal(tpid_ms_sign_result(&r, &asked, ORIGID, hdr, sizeof(hdr),
							 NULL, text, sizeof(text)),
			TPID_R_MS_BAD_ANSWER);
	/* CR LF (a header line of its own), other controls, non-ASCII */
	body = malloc(strlen(good) + 32);
	assert_non_null(body);
	snprintf(body, strlen(good) + 32,
			"{\"signingResponse\":{\"identityHeader\":\"%s\\r\\nX: y\"}}", h);
	assert_int_equal(
			sign(body, NULL, hdr, sizeof(hdr), text), TPID_R_MS_BAD_ANSWER);
	assert_non_null(strstr(text, "control"));
	snprintf(body, strlen(good) + 32,
			"{\"signingResponse\":{\"identityHeader\":\"%s;x=\\u00e9\"}}", h);
	assert_int_equal(
			sign(body, NULL, hdr, sizeof(hdr), text), TPID_R_MS_BAD_ANSWER);
	snprintf(body, strlen(good) + 32,
			"{\"signingResponse\":{\"identityHeader\":\"%s\\t\"}}", h);
	assert_int_equal(
			sign(body, NULL, hdr, sizeof(hdr), text), TPID_R_MS_BAD_ANSWER);
	/* unknown members around it are tolerated */
	snprintf(body, strlen(good) + 32,
			"{\"signingResponse\":{\"identityHeader\":\"%s\",\"x\":1}}", h);
	assert_int_equal(sign(body, NULL, hdr, sizeof(hdr), text), TPID_OK);
	free(body);
	free(good);
	/* over TPID_MAX_HDR_LEN */
	memset(big, 'a', sizeof(big) - 1);
	snprintf(bigbody, sizeof(bigbody),
			"{\"signingResponse\":{\"identityHeader\":\"%s\"}}", big);
	assert_int_equal(
			sign(bigbody, NULL, hdr, sizeof(hdr), text), TPID_R_MS_BAD_ANSWER);
	assert_non_null(strstr(text, "too long"));
}

static void test_sign_result_internal(void **state)
{
	char hdr[TPID_MAX_HDR_LEN + 1],
			*body = sign_body(mkhdr(H_RCD, P_RCD, 64, PARAMS));
	tpid_https_result_t r = ok_result(body);
	tpid_claims_t asked;
	(void)state;

	rcd_claims(&asked);
	assert_int_equal(tpid_ms_sign_result(NULL, &asked, ORIGID, hdr, sizeof(hdr),
							 NULL, NULL, 0),
			TPID_R_INTERNAL);
	assert_int_equal(tpid_ms_sign_result(
							 &r, NULL, ORIGID, hdr, sizeof(hdr), NULL, NULL, 0),
			TPID_R_INTERNAL);
	assert_int_equal(tpid_ms_sign_result(
							 &r, &asked, "x", hdr, sizeof(hdr), NULL, NULL, 0),
			TPID_R_INTERNAL);
	assert_int_equal(
			tpid_ms_sign_result(&r, &asked, ORIGID, NULL, 100, NULL, NULL, 0),
			TPID_R_INTERNAL);
	assert_int_equal(
			tpid_ms_sign_result(&r, &asked, ORIGID, hdr, 0, NULL, NULL, 0),
			TPID_R_INTERNAL);
	strcpy(asked.ppt, "shaken");
	assert_int_equal(tpid_ms_sign_result(&r, &asked, ORIGID, hdr, sizeof(hdr),
							 NULL, NULL, 0),
			TPID_R_INTERNAL);
	free(body);
}

/* ---- transport failures and Ms error objects (both answers) ------------- */

static void test_result_transport_and_errors(void **state)
{
	static const struct
	{
		int cls;
		long status;
		const char *body;
		int rc;
		const char *text;
	} cases[] = {
			{TPID_HTTPS_CONNECT, 0, NULL, TPID_R_MS_CONNECT, "curl said"},
			{TPID_HTTPS_ADDRESS, 0, NULL, TPID_R_MS_CONNECT,
					"address refused by policy"},
			{TPID_HTTPS_TIMEOUT, 0, NULL, TPID_R_MS_TIMEOUT, "curl said"},
			{TPID_HTTPS_TLS, 0, NULL, TPID_R_MS_TLS, "curl said"},
			{TPID_HTTPS_TOO_BIG, 200, NULL, TPID_R_MS_TOO_BIG, "curl said"},
			{TPID_HTTPS_HTTP, 502, "<html>bad gateway</html>", TPID_R_MS_HTTP,
					"curl said"},
			{TPID_HTTPS_HTTP, 404, "{\"requestError\":{}}", TPID_R_MS_HTTP,
					"curl said"},
			{TPID_HTTPS_HTTP, 400,
					"{\"requestError\":{\"serviceException\":{\"text\":"
					"\"no id\"}}}",
					TPID_R_MS_HTTP, "curl said"},
			{TPID_HTTPS_HTTP, 400,
					"{\"requestError\":{\"serviceException\":{\"messageId\":"
					"\"SVC4001\",\"text\":\"x\"},\"policyException\":{"
					"\"messageId\":\"POL4001\",\"text\":\"y\"}}}",
					TPID_R_MS_HTTP, "curl said"},
			{TPID_HTTPS_INTERNAL, 0, NULL, TPID_R_INTERNAL, "curl said"},
			{42, 0, NULL, TPID_R_INTERNAL, "curl said"},
			{TPID_HTTPS_HTTP, 400,
					"{\"requestError\":{\"serviceException\":{\"messageId\":"
					"\"SVC4001\",\"text\":\"Invalid input value for message "
					"part %1: %2\",\"variables\":[\"orig\",\"tn\"]}}}",
					TPID_R_MS_SERVICE_ERROR,
					"SVC4001: Invalid input value for message part orig: tn"},
			{TPID_HTTPS_HTTP, 500,
					"{\"requestError\":{\"serviceException\":{\"messageId\":"
					"\"SVC0001\",\"text\":\"%1 %3 %x %\",\"variables\":[1]}}}",
					TPID_R_MS_SERVICE_ERROR, "SVC0001: %1 %3 %x %"},
			{TPID_HTTPS_HTTP, 403,
					"{\"requestError\":{\"policyException\":{\"messageId\":"
					"\"POL4050\",\"text\":\"Not allowed\\n to sign\"}}}",
					TPID_R_MS_POLICY_ERROR, "POL4050: Not allowed  to sign"},
			{TPID_HTTPS_OK, 200,
					"{\"requestError\":{\"policyException\":{\"messageId\":"
					"\"POL0001\"}}}",
					TPID_R_MS_POLICY_ERROR, "POL0001: "},
	};
	char hdr[TPID_MAX_HDR_LEN + 1], text[TPID_MS_MAX_TEXT];
	const char *h = mkhdr(H_RCD, P_RCD, 64, PARAMS);
	tpid_ms_verification_t v;
	tpid_https_result_t r;
	tpid_claims_t asked;
	size_t i;
	int rc;
	(void)state;

	rcd_claims(&asked);
	for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&r, 0, sizeof(r));
		r.cls = cases[i].cls;
		r.status = cases[i].status;
		r.body = (char *)cases[i].body;
		r.body_len = cases[i].body ? strlen(cases[i].body) : 0;
		r.elapsed_ms = 12.5;
		snprintf(r.error, sizeof(r.error), "curl said\nno");
		rc = tpid_ms_sign_result(
				&r, &asked, ORIGID, hdr, sizeof(hdr), NULL, text, sizeof(text));
		if(rc != cases[i].rc || strstr(text, cases[i].text) != text)
			fail_msg("sign %zu: %s (%s)", i, tpid_reason_name(rc), text);
		assert_null(strchr(text, '\n'));
		assert_string_equal(hdr, "");
		rc = tpid_ms_verify_result(&r, h, strlen(h), &v);
		if(rc != cases[i].rc
				|| strstr(v.reason_text, cases[i].text) != v.reason_text)
			fail_msg("verify %zu: %s (%s)", i, tpid_reason_name(rc),
					v.reason_text);
		assert_int_equal(v.verstat, TPID_VERSTAT_NONE);
		assert_int_equal(v.http_status, cases[i].status);
		assert_true(v.elapsed_ms == 12.5);
		assert_string_equal(v.x5u, "");
	}
}

/* An error's text is bounded and log-safe, whatever the service sends. */
static void test_error_text_bounded(void **state)
{
	static char body[8192], big[3000];
	char hdr[64], text[TPID_MS_MAX_TEXT];
	tpid_https_result_t r;
	tpid_claims_t asked;
	(void)state;

	memset(big, 'x', sizeof(big) - 1);
	snprintf(body, sizeof(body),
			"{\"requestError\":{\"serviceException\":{\"messageId\":"
			"\"S\\u0001%s\",\"text\":\"%%1%%1\",\"variables\":[\"%s\"]}}}",
			big, big);
	memset(&r, 0, sizeof(r));
	r.cls = TPID_HTTPS_HTTP;
	r.status = 500;
	r.body = body;
	r.body_len = strlen(body);
	rcd_claims(&asked);
	assert_int_equal(tpid_ms_sign_result(&r, &asked, ORIGID, hdr, sizeof(hdr),
							 NULL, text, sizeof(text)),
			TPID_R_MS_SERVICE_ERROR);
	assert_int_equal(strlen(text), sizeof(text) - 1);
	assert_null(strchr(text, '\x01'));
	/* and fits a small buffer, cut on a UTF-8 boundary */
	snprintf(body, sizeof(body),
			"{\"requestError\":{\"policyException\":{\"messageId\":\"P\","
			"\"text\":\"\\u00e9\\u00e9\\u00e9\"}}}");
	r.body_len = strlen(body);
	assert_int_equal(tpid_ms_sign_result(&r, &asked, ORIGID, hdr, sizeof(hdr),
							 NULL, text, 6),
			TPID_R_MS_POLICY_ERROR);
	assert_string_equal(text, "P: \xc3\xa9");
}

/* ---- verification answers ---------------------------------------------- */

static char *verify_body(const char *verstat, int code, const char *text,
		const char *x5u, const char *payload)
{
	json_t *r = json_object(),
		   *root = json_pack("{s:o}", "verificationResponse", r);
	char *s;

	assert_non_null(root);
	if(verstat != NULL)
		json_object_set_new(r, "verstatValue", json_string(verstat));
	if(code != 0)
		json_object_set_new(r, "reasonCode", json_integer(code));
	if(text != NULL)
		json_object_set_new(r, "reasonText", json_string(text));
	if(x5u != NULL)
		json_object_set_new(r, "x5u", json_string(x5u));
	if(payload != NULL)
		json_object_set_new(r, "payload", json_loads(payload, 0, NULL));
	s = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	assert_non_null(s);
	return s;
}

static int verify(const char *body, const char *hdr, tpid_ms_verification_t *v)
{
	tpid_https_result_t r = ok_result(body);

	return tpid_ms_verify_result(&r, hdr, strlen(hdr), v);
}

static void test_verify_result_passed(void **state)
{
	const char *h = mkhdr(H_RCD, P_RCD, 64, PARAMS);
	tpid_ms_verification_t v;
	char *body;
	(void)state;

	body = verify_body("TN-Validation-Passed", 0, NULL, X5U, P_RCD);
	assert_int_equal(verify(body, h, &v), TPID_OK);
	assert_int_equal(v.verstat, TPID_VERSTAT_PASSED);
	assert_string_equal(v.x5u, X5U);
	assert_string_equal(v.claims.x5u, X5U);
	assert_string_equal(v.claims.ppt, "rcd");
	assert_string_equal(v.claims.id, "sip:e102938@acme.example");
	assert_int_equal(v.claims.iat, 1760000000);
	assert_int_equal(v.http_status, 200);
	free(body);
	/* the same payload in another key order, with a reasonText */
	body = verify_body("TN-Validation-Passed", 0, "ok", X5U,
			"{\"tpid\":{\"iss\":\"acme.example\",\"id\":\"sip:e102938@acme."
			"example\",\"exp\":1760003600},\"rcd\":{\"nam\":\"Alice Example "
			"(ACME Corp.)\"},\"orig\":{\"tn\":\"4961519876543\"},\"iat\":"
			"1760000000,\"dest\":{\"tn\":[\"4961511234567\"]}}");
	assert_int_equal(verify(body, h, &v), TPID_OK);
	assert_string_equal(v.reason_text, "ok");
	free(body);
	/* an avatar token (the header's own ppt) */
	{
		tpid_claims_t c;
		char *pj;
		const char *ah;

		avatar_claims(&c);
		pj = tpid_passport_payload_json(&c);
		ah = mkhdr("{\"alg\":\"ES256\",\"ppt\":\"avatar\",\"typ\":"
				   "\"passport\",\"x5u\":\"" X5U "\"}",
				pj, 64, ";info=<" X5U ">;alg=ES256;ppt=avatar");
		body = verify_body("TN-Validation-Passed", 0, NULL, X5U, pj);
		assert_int_equal(verify(body, ah, &v), TPID_OK);
		assert_string_equal(v.claims.aid, "alice-1");
		free(body);
		free(pj);
	}
}

/* A pass only counts for the token sent. */
static void test_verify_result_not_the_token(void **state)
{
	static const struct
	{
		const char *name, *x5u, *payload;
	} cases[] = {
			{"no payload", X5U, NULL},
			{"no x5u", NULL, P_RCD},
			{"no x5u, no payload", NULL, NULL},
			{"other x5u", "https://sti.example/certs/other.pem", P_RCD},
			{"x5u case", "HTTPS://sti.example/certs/sti.pem", P_RCD},
			{"iat", X5U,
					"{\"dest\":{\"tn\":[\"4961511234567\"]},\"iat\":1760000001,"
					"\"orig\":{\"tn\":\"4961519876543\"}," P_RCD_TAIL},
			{"iat real", X5U,
					"{\"dest\":{\"tn\":[\"4961511234567\"]},\"iat\":1760000000."
					"0,"
					"\"orig\":{\"tn\":\"4961519876543\"}," P_RCD_TAIL},
			{"orig", X5U,
					"{\"dest\":{\"tn\":[\"4961511234567\"]},\"iat\":1760000000,"
					"\"orig\":{\"tn\":\"4961519876540\"}," P_RCD_TAIL},
			{"extra claim", X5U, P_HEAD ",\"x\":true," P_RCD_TAIL},
			{"claim missing", X5U, P_HEAD "}"},
			{"nam", X5U,
					P_HEAD ",\"rcd\":{\"nam\":\"Mallory\"},\"tpid\":{\"exp\":"
						   "1760003600,\"id\":\"sip:e102938@acme.example\","
						   "\"iss\":\"acme.example\"}}"},
			{"empty", X5U, "{}"},
	};
	const char *h = mkhdr(H_RCD, P_RCD, 64, PARAMS);
	tpid_ms_verification_t v;
	char *body;
	size_t i;
	int rc;
	(void)state;

	for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		body = verify_body("TN-Validation-Passed", 0, NULL, cases[i].x5u,
				cases[i].payload);
		rc = verify(body, h, &v);
		if(rc != TPID_R_MS_BAD_ANSWER)
			fail_msg("%s: %s", cases[i].name, tpid_reason_name(rc));
		assert_int_equal(v.verstat, TPID_VERSTAT_PASSED);
		assert_string_equal(v.x5u, "");
		assert_string_equal(v.claims.ppt, "");
		assert_true(v.reason_text[0] != '\0');
		free(body);
	}
	/* a pass for a header that itself is garbage: the parser's reason */
	body = verify_body("TN-Validation-Passed", 0, NULL, X5U, P_RCD);
	assert_int_equal(verify(body, "garbage", &v), TPID_R_BAD_SYNTAX);
	/* the pass of another call's token */
	assert_int_equal(verify(body,
							 mkhdr(H_RCD,
									 "{\"dest\":{\"tn\":[\"1\"]},\"iat\":1,"
									 "\"orig\":{\"tn\":\"2\"}," P_RCD_TAIL,
									 64, PARAMS),
							 &v),
			TPID_R_MS_BAD_ANSWER);
	free(body);
}

static void test_verify_result_failed(void **state)
{
	static const struct
	{
		const char *verstat;
		int code;
		int rc;
	} cases[] = {
			{"TN-Validation-Failed", 436, TPID_R_CERT_FETCH},
			{"TN-Validation-Failed", 437, TPID_R_CERT_INVALID},
			{"TN-Validation-Failed", 438, TPID_R_BAD_SIGNATURE},
			{"TN-Validation-Failed", 403, TPID_R_IAT_STALE},
			{"TN-Validation-Failed", 500, TPID_R_MS_VERIFY_FAILED},
			{"TN-Validation-Failed", 0, TPID_R_MS_VERIFY_FAILED},
			{"No-TN-Validation", 0, TPID_R_MS_NO_VALIDATION},
			{"No-TN-Validation", 438, TPID_R_MS_NO_VALIDATION},
	};
	const char *h = mkhdr(H_RCD, P_RCD, 64, PARAMS);
	tpid_ms_verification_t v;
	char *body;
	size_t i;
	int rc;
	(void)state;

	for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/* x5u and payload on a failure change nothing */
		body = verify_body(cases[i].verstat, cases[i].code,
				"Invalid Identity\r\nHeader", X5U, P_RCD);
		rc = verify(body, h, &v);
		if(rc != cases[i].rc)
			fail_msg("%zu: %s", i, tpid_reason_name(rc));
		assert_int_equal(
				v.verstat, strcmp(cases[i].verstat, "No-TN-Validation") == 0
								   ? TPID_VERSTAT_NO_TN
								   : TPID_VERSTAT_FAILED);
		assert_int_equal(v.reason_code, cases[i].code);
		assert_string_equal(v.reason_text, "Invalid Identity  Header");
		assert_string_equal(v.x5u, "");
		free(body);
	}
}

static void test_verify_result_bad_shapes(void **state)
{
	static char longtext[2000];
	static const char *const bodies[] = {
			"",
			"garbage",
			"[]",
			"{}",
			"{\"verificationResponse\":[]}",
			"{\"verificationResponse\":{}}",
			"{\"verificationResponse\":{\"verstatValue\":1}}",
			"{\"verificationResponse\":{\"verstatValue\":\"tn-validation-"
			"passed\"}}",
			"{\"verificationResponse\":{\"verstatValue\":\"TN-Validation-"
			"Passed \"}}",
			"{\"verificationResponse\":{\"verstatValue\":\"Passed\"}}",
			"{\"verificationResponse\":{\"verstatValue\":\"TN-Validation-"
			"Failed\",\"reasonCode\":\"438\"}}",
			"{\"verificationResponse\":{\"verstatValue\":\"TN-Validation-"
			"Failed\",\"reasonCode\":99}}",
			"{\"verificationResponse\":{\"verstatValue\":\"TN-Validation-"
			"Failed\",\"reasonCode\":700}}",
			"{\"verificationResponse\":{\"verstatValue\":\"TN-Validation-"
			"Failed\",\"reasonCode\":438.0}}",
			"{\"verificationResponse\":{\"verstatValue\":\"TN-Validation-"
			"Failed\",\"reasonCode\":-438}}",
			"{\"verificationResponse\":{\"verstatValue\":\"TN-Validation-"
			"Failed\",\"reasonText\":5}}",
			"{\"verificationResponse\":{\"verstatValue\":\"TN-Validation-"
			"Passed\",\"x5u\":5,\"payload\":{}}}",
			"{\"verificationResponse\":{\"verstatValue\":\"TN-Validation-"
			"Passed\",\"x5u\":\"\",\"payload\":{}}}",
			"{\"verificationResponse\":{\"verstatValue\":\"TN-Validation-"
			"Passed\",\"x5u\":\"" X5U "\",\"payload\":\"{}\"}}",
			"{\"verificationResponse\":{\"verstatValue\":\"TN-Validation-"
			"Passed\",\"x5u\":\"" X5U "\",\"payload\":[]}}",
			"{\"verificationResponse\":{\"verstatValue\":\"No-TN-Validation\","
			"\"verstatValue\":\"No-TN-Validation\"}}",
	};
	const char *h = mkhdr(H_RCD, P_RCD, 64, PARAMS);
	tpid_ms_verification_t v;
	char *body, x5u[TPID_MAX_URI + 20];
	size_t i;
	(void)state;

	for(i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		if(verify(bodies[i], h, &v) != TPID_R_MS_BAD_ANSWER)
			fail_msg("accepted: %s", bodies[i]);
		assert_true(v.reason_text[0] != '\0');
		assert_int_equal(v.verstat, TPID_VERSTAT_NONE);
	}
	/* an x5u too long for the module */
	memset(x5u, 'a', sizeof(x5u) - 1);
	x5u[sizeof(x5u) - 1] = '\0';
	memcpy(x5u, "https://", 8);
	body = verify_body("TN-Validation-Passed", 0, NULL, x5u, P_RCD);
	assert_int_equal(verify(body, h, &v), TPID_R_MS_BAD_ANSWER);
	free(body);
	/* a long reasonText is kept, bounded */
	memset(longtext, 'y', sizeof(longtext) - 1);
	body = verify_body("No-TN-Validation", 0, longtext, NULL, NULL);
	assert_int_equal(verify(body, h, &v), TPID_R_MS_NO_VALIDATION);
	assert_int_equal(strlen(v.reason_text), sizeof(v.reason_text) - 1);
	free(body);
	assert_int_equal(
			tpid_ms_verify_result(NULL, h, strlen(h), &v), TPID_R_INTERNAL);
	assert_int_equal(
			tpid_ms_verify_result(NULL, h, strlen(h), NULL), TPID_R_INTERNAL);
}

/* ---- the service --------------------------------------------------------- */

static int load(const char *json, tpid_enterprise_t *svc, char *err)
{
	char path[128];
	FILE *f;
	int rc;

	snprintf(path, sizeof(path), "%s/ms.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(json, f);
	fclose(f);
	rc = tpid_ms_load(path, svc, err, 256);
	unlink(path);
	return rc;
}

static void test_load(void **state)
{
	char json[1024], err[256];
	tpid_enterprise_t svc;
	(void)state;

	snprintf(json, sizeof(json),
			"{\"ms\":[{\"domain\":\"*\",\"api_root\":\"https://sti.example/"
			"ms/\",\"ca_file\":\"%s\",\"connect_timeout_ms\":300,"
			"\"timeout_ms\":1000,\"allow_private_address\":false}]}",
			ca);
	assert_int_equal(load(json, &svc, err), 0);
	assert_string_equal(svc.api_root, "https://sti.example/ms");
	assert_string_equal(svc.ca_file, ca);
	assert_int_equal(svc.connect_timeout_ms, 300);
	assert_int_equal(svc.timeout_ms, 1000);
	assert_int_equal(svc.allow_private_address, 0);
	assert_string_equal(svc.bearer_token, "");

	memset(&svc, 0x5a, sizeof(svc));
	snprintf(json, sizeof(json),
			"{\"ms\":[{\"domain\":\"sti.example\",\"api_root\":\"https://"
			"sti.example\",\"ca_file\":\"%s\"}]}",
			ca);
	assert_int_equal(load(json, &svc, err), -1);
	assert_non_null(strstr(err, "exactly one service"));
	assert_int_equal(svc.timeout_ms, 0x5a5a5a5a5a5a5a5aL); /* untouched */
	snprintf(json, sizeof(json),
			"{\"ms\":[{\"domain\":\"*\",\"api_root\":\"https://a.example\","
			"\"ca_file\":\"%s\"},{\"domain\":\"b.example\",\"api_root\":"
			"\"https://b.example\",\"ca_file\":\"%s\"}]}",
			ca, ca);
	assert_int_equal(load(json, &svc, err), -1);
	assert_non_null(strstr(err, "exactly one service"));
	assert_int_equal(load("{\"ms\":[]}", &svc, err), -1);
	snprintf(json, sizeof(json),
			"{\"ms\":[{\"domain\":\"*\",\"api_root\":\"https://a.example\","
			"\"ca_file\":\"%s\",\"ms_root\":\"x\"}]}",
			ca);
	assert_int_equal(load(json, &svc, err), -1);
	assert_non_null(strstr(err, "ms_file"));
	assert_non_null(strstr(err, "unknown key 'ms_root'"));
	assert_int_equal(load("{\"ms\":[{\"domain\":\"*\",\"api_root\":\"http://"
						  "a.example\",\"ca_file\":\"/nonexistent\"}]}",
							 &svc, err),
			-1);
	assert_int_equal(load("{\"enterprises\":[]}", &svc, err), -1);
	assert_int_equal(tpid_ms_load("/nonexistent/ms.json", &svc, err, 256), -1);
	assert_non_null(strstr(err, "ms_file /nonexistent/ms.json"));
	assert_int_equal(tpid_ms_load(NULL, &svc, err, 256), -1);
}

/* The request on the engine: to a port nobody listens on. */
static void test_add_connect_refused(void **state)
{
	tpid_https_t *m = tpid_https_new(0);
	tpid_https_result_t r;
	tpid_enterprise_t svc;
	tpid_ms_verification_t v;
	void *user = NULL;
	char body[] = "{}";
	int u, i, got = 0;
	(void)state;

	assert_non_null(m);
	memset(&svc, 0, sizeof(svc));
	snprintf(svc.api_root, sizeof(svc.api_root), "https://127.0.0.1:%d",
			free_port());
	snprintf(svc.ca_file, sizeof(svc.ca_file), "%s", ca);
	svc.connect_timeout_ms = 1000;
	svc.timeout_ms = 2000;
	svc.allow_private_address = 1;
	assert_int_equal(tpid_ms_add(m, &svc, TPID_MS_VERIFY_PATH, body,
							 strlen(body), 0, &u),
			TPID_OK);
	for(i = 0; i < 60 && !got; i++) {
		assert_int_equal(tpid_https_wait(m, -1, 50, NULL), 0);
		got = tpid_https_next(m, &user, &r);
	}
	assert_int_equal(got, 1);
	assert_ptr_equal(user, &u);
	assert_int_equal(
			tpid_ms_verify_result(&r, "a.b.c", 5, &v), TPID_R_MS_CONNECT);
	tpid_https_result_clear(&r);
	/* the service's address policy holds */
	svc.allow_private_address = 0;
	assert_int_equal(
			tpid_ms_add(m, &svc, TPID_MS_SIGN_PATH, body, strlen(body), 0, &u),
			TPID_OK);
	for(i = 0, got = 0; i < 60 && !got; i++) {
		assert_int_equal(tpid_https_wait(m, -1, 50, NULL), 0);
		got = tpid_https_next(m, &user, &r);
	}
	assert_int_equal(got, 1);
	assert_int_equal(r.cls, TPID_HTTPS_ADDRESS);
	tpid_https_result_clear(&r);
	assert_int_equal(tpid_ms_add(NULL, &svc, TPID_MS_SIGN_PATH, body, 2, 0, &u),
			TPID_R_INTERNAL);
	assert_int_equal(tpid_ms_add(m, NULL, TPID_MS_SIGN_PATH, body, 2, 0, &u),
			TPID_R_INTERNAL);
	assert_int_equal(tpid_ms_add(m, &svc, TPID_MS_SIGN_PATH, NULL, 0, 0, &u),
			TPID_R_INTERNAL);
	tpid_https_free(m);
}

/* ---- verstat ----------------------------------------------------------- */

static void test_verstat_name(void **state)
{
	(void)state;
	assert_string_equal(
			tpid_ms_verstat_name(TPID_VERSTAT_PASSED), "TN-Validation-Passed");
	assert_string_equal(
			tpid_ms_verstat_name(TPID_VERSTAT_FAILED), "TN-Validation-Failed");
	assert_string_equal(
			tpid_ms_verstat_name(TPID_VERSTAT_NO_TN), "No-TN-Validation");
	assert_string_equal(tpid_ms_verstat_name(TPID_VERSTAT_NONE), "none");
	assert_string_equal(tpid_ms_verstat_name(4), "none");
	assert_string_equal(tpid_ms_verstat_name(-1), "none");
}

#define VP ";verstat=TN-Validation-Passed"
#define VF ";verstat=TN-Validation-Failed"
#define VN ";verstat=No-TN-Validation"

static void test_verstat_uri(void **state)
{
	static const struct
	{
		const char *in;
		int verstat;
		const char *out; /* NULL: refused */
	} cases[] = {
			{"tel:+4961519876543", 1, "tel:+4961519876543" VP},
			{"TEL:+49-6151-9876543", 2, "TEL:+49-6151-9876543" VF},
			{"tel:+4961519876543" VP, 2, "tel:+4961519876543" VF},
			{"tel:+4961519876543;VERSTAT=x;cpc=ordinary", 3,
					"tel:+4961519876543;cpc=ordinary" VN},
			{"tel:+4961519876543;verstat;verstat=a", 1,
					"tel:+4961519876543" VP},
			{"tel:+4961519876543;zz=1", 1, "tel:+4961519876543" VP ";zz=1"},
			{"tel:+4961519876543;verst=1;verstatx=2", 1,
					"tel:+4961519876543;verst=1" VP ";verstatx=2"},
			{"tel:+4961519876543;ext=12;a=1;z=2", 1,
					"tel:+4961519876543;ext=12;a=1" VP ";z=2"},
			{"tel:+4961519876543;isub=12;ext=1", 1,
					"tel:+4961519876543;isub=12;ext=1" VP},
			{"tel:1234;phone-context=ims.example", 1,
					"tel:1234;phone-context=ims.example" VP},
			{"tel:1234;phone-context=+4961", 3,
					"tel:1234;phone-context=+4961" VN},
			{"sip:+4961519876543@ims.example;user=phone", 1,
					"sip:+4961519876543" VP "@ims.example;user=phone"},
			{"sip:+4961519876543;cpc=ordinary@ims.example;user=phone", 1,
					"sip:+4961519876543;cpc=ordinary" VP
					"@ims.example;user=phone"},
			{"sips:+4961519876543" VP "@ims.example:5061;user=phone" VP, 2,
					"sips:+4961519876543" VF "@ims.example:5061;user=phone"},
			{"sip:+4961519876543@[2001:db8::1];transport=tcp;user=phone", 3,
					"sip:+4961519876543" VN
					"@[2001:db8::1];transport=tcp;user=phone"},
			{"sip:1234;phone-context=ims.example@ims.example;user=phone", 1,
					"sip:1234;phone-context=ims.example" VP
					"@ims.example;user=phone"},
			/* no telephone number, or not the grammar */
			{"sip:+4961519876543@ims.example", 1, NULL},
			{"sip:alice@ims.example", 1, NULL},
			{"sip:alice@ims.example;user=phone", 1, NULL},
			{"sip:ims.example;user=phone", 1, NULL},
			{"tel:4961519876543", 1, NULL}, /* local without context */
			{"tel:+49 6151", 1, NULL},
			{"https://ims.example/", 1, NULL},
			{"<tel:+4961519876543>", 1, NULL},
			{"tel:+4961519876543", 0, NULL},
			{"tel:+4961519876543", 4, NULL},
			{"", 1, NULL},
	};
	char out[TPID_MAX_URI + 64];
	tpid_uri_t u;
	size_t i;
	int n;
	(void)state;

	for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strcpy(out, "x");
		n = tpid_ms_verstat_uri(cases[i].in, strlen(cases[i].in),
				cases[i].verstat, out, sizeof(out));
		if(cases[i].out == NULL) {
			if(n != -1 || out[0] != '\0')
				fail_msg("%s: accepted as %s", cases[i].in, out);
			continue;
		}
		if(n != (int)strlen(cases[i].out) || strcmp(out, cases[i].out) != 0)
			fail_msg("%s: %d %s", cases[i].in, n, out);
		/* the result is a URI of the one grammar, the same number */
		assert_int_equal(tpid_uri_parse(out, (size_t)n, &u), 0);
		assert_true(u.is_phone);
	}
	/* bounded: exactly the room, one byte short */
	n = tpid_ms_verstat_uri("tel:+1", 6, 1, out, sizeof(out));
	assert_int_equal(n, (int)strlen("tel:+1" VP));
	assert_int_equal(
			tpid_ms_verstat_uri("tel:+1", 6, 1, out, (size_t)n + 1), n);
	assert_int_equal(tpid_ms_verstat_uri("tel:+1", 6, 1, out, (size_t)n), -1);
	assert_string_equal(out, "");
	assert_int_equal(tpid_ms_verstat_uri(NULL, 6, 1, out, sizeof(out)), -1);
	assert_int_equal(tpid_ms_verstat_uri("tel:+1", 6, 1, NULL, 10), -1);
	/* len is authoritative */
	assert_int_equal(tpid_ms_verstat_uri("tel:+12;x=1", 7, 1, out, sizeof(out)),
			(int)strlen("tel:+12" VP));
}

static void test_verstat_pai(void **state)
{
	static const struct
	{
		const char *in;
		int verstat;
		const char *out;
	} cases[] = {
			{"<tel:+4961519876543>", 1, "<tel:+4961519876543" VP ">"},
			{"\"Alice <boss>\" <sip:+4961519876543@ims.example;user=phone>", 1,
					"\"Alice <boss>\" <sip:+4961519876543" VP
					"@ims.example;user=phone>"},
			{"Alice Example <tel:+4961519876543" VP ">" VP, 2,
					"Alice Example <tel:+4961519876543" VF ">"},
			{"<tel:+4961519876543>;foo=\"a;verstat=b\";verstat=c;x", 3,
					"<tel:+4961519876543" VN ">;foo=\"a;verstat=b\";x"},
			{"tel:+4961519876543", 1, "<tel:+4961519876543" VP ">"},
			{"tel:+4961519876543" VP, 2, "<tel:+4961519876543" VF ">"},
			{" tel:+4961519876543;x=1 ", 1, " <tel:+4961519876543" VP ">;x=1 "},
			{"<sip:alice@ims.example>", 1, NULL},
			{"<tel:+1>, <tel:+2>", 1, NULL},
			{"<tel:+1", 1, NULL},
			{"\"Alice <tel:+1>", 1, NULL},
			{"garbage", 1, NULL},
			{"<tel:+1>", 0, NULL},
	};
	char out[TPID_NAME_ADDR_MAX];
	size_t i;
	int n;
	(void)state;

	for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strcpy(out, "x");
		n = tpid_ms_verstat_pai(cases[i].in, strlen(cases[i].in),
				cases[i].verstat, out, sizeof(out));
		if(cases[i].out == NULL) {
			if(n != -1 || out[0] != '\0')
				fail_msg("%s: accepted as %s", cases[i].in, out);
			continue;
		}
		if(n != (int)strlen(cases[i].out) || strcmp(out, cases[i].out) != 0)
			fail_msg("%s: %d %s", cases[i].in, n, out);
	}
	assert_int_equal(tpid_ms_verstat_pai("<tel:+1>", 8, 1, out, 10), -1);
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_sign_request_rcd),
			cmocka_unit_test(test_sign_request_avatar),
			cmocka_unit_test(test_sign_request_refused),
			cmocka_unit_test(test_origid),
			cmocka_unit_test(test_verify_request),
			cmocka_unit_test(test_verify_request_refused),
			cmocka_unit_test(test_sign_result_good),
			cmocka_unit_test(test_sign_result_avatar),
			cmocka_unit_test(test_sign_result_not_asked),
			cmocka_unit_test(test_sign_result_bad_shapes),
			cmocka_unit_test(test_sign_result_internal),
			cmocka_unit_test(test_result_transport_and_errors),
			cmocka_unit_test(test_error_text_bounded),
			cmocka_unit_test(test_verify_result_passed),
			cmocka_unit_test(test_verify_result_not_the_token),
			cmocka_unit_test(test_verify_result_failed),
			cmocka_unit_test(test_verify_result_bad_shapes),
			cmocka_unit_test(test_load),
			cmocka_unit_test(test_add_connect_refused),
			cmocka_unit_test(test_verstat_name),
			cmocka_unit_test(test_verstat_uri),
			cmocka_unit_test(test_verstat_pai),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
