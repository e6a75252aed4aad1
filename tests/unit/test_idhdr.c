/*
 * tpid_assert - unit tests of the Identity header tokenizer (tpid_idhdr.c).
 *
 * One table of hostile headers, each with what split() must say and which
 * ppt parameter it must yield, and whether the header is ours; every row
 * (and every truncation of it) also checks that is_ours() agrees with
 * split() plus an independent decoding of the JWS header.
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
#include <jansson.h>

#include "tpid_idhdr.h"
#include "tpid_jose.h"

/* JWS headers; NULL in a row: the tail is the whole header value */
#define H_RCD "{\"alg\":\"ES256\",\"ppt\":\"rcd\",\"typ\":\"passport\"}"
#define H_SHK "{\"alg\":\"ES256\",\"ppt\":\"shaken\",\"typ\":\"passport\"}"
#define H_NONE "{\"alg\":\"ES256\",\"typ\":\"passport\"}"
#define X5U "https://cert.example.net/tpid.pem"
#define LONG40 "0123456789012345678901234567890123456789"

typedef struct row
{
	const char *jws_hdr; /* JSON of the JWS header, or NULL */
	const char *tail;	 /* parameters after the JWS, or the whole value */
	int split_ok;
	const char *ppt; /* the ppt parameter split() yields, NULL: none */
	int ours;		 /* is_ours(.., "rcd") */
} row_t;

/* clang-format off */
static const row_t rows[] = {
	/* well-formed: the ppt parameter or the JWS header names rcd */
	{H_RCD, ";info=<" X5U ">;alg=ES256;ppt=rcd", 1, "rcd", 1},
	{H_RCD, ";ppt=\"rcd\"", 1, "rcd", 1},
	{H_RCD, ";PPT=RCD", 1, "RCD", 1},	   /* token: no case */
	{H_RCD, ";Ppt=rcd", 1, "rcd", 1},
	{H_RCD, ";ppt=\"RCD\"", 1, "RCD", 1},  /* quoted: exact, but signed rcd */
	{H_SHK, ";ppt=\"RCD\"", 1, "RCD", 0},  /* quoted: exact */
	{H_SHK, ";info=<" X5U ">;alg=ES256;ppt=shaken", 1, "shaken", 0},
	{H_RCD, ";ppt=shaken", 1, "shaken", 1}, /* signed as rcd: ours */
	{H_SHK, ";ppt=rcd", 1, "rcd", 1},
	/* quoted-pairs, ';' and '<' inside quotes */
	{H_RCD, ";x=\"a\\\"b\";ppt=rcd", 1, "rcd", 1},
	{H_RCD, ";x=\"a;ppt=shaken\";ppt=rcd", 1, "rcd", 1},
	{H_SHK, ";x=\"a;ppt=rcd\";ppt=shaken", 1, "shaken", 0},
	{H_SHK, ";x=\"a<b\";ppt=shaken", 1, "shaken", 0},
	{H_SHK, ";x=\"a>b\\\\\";ppt=shaken", 1, "shaken", 0},
	{H_SHK, ";ppt=\"sha\\ken\"", 1, "shaken", 0},
	{H_SHK, ";ppt=\"r\\cd\"", 1, "rcd", 1},
	{H_SHK, ";ppt=\"\"", 1, "", 0},
	{H_SHK, ";ppt=\"sh\xc3\xa4ken\"", 1, "sh\xc3\xa4ken", 0},
	/* ';ppt=' inside the info URI is not the parameter */
	{H_SHK, ";info=<https://a.example/c;ppt=rcd>;ppt=shaken", 1, "shaken", 0},
	{H_RCD, ";info=<https://a.example/c;ppt=shaken>", 1, NULL, 1},
	/* no ppt parameter: the JWS header decides */
	{H_RCD, "", 1, NULL, 1},
	{H_RCD, ";info=<" X5U ">;alg=ES256", 1, NULL, 1},
	{H_SHK, ";info=<" X5U ">", 1, NULL, 0},
	{H_NONE, ";info=<" X5U ">", 1, NULL, 0},
	{"{\"ppt\":\"rcd\\u0000x\"}", "", 1, NULL, 0},
	{"{\"ppt\":1}", "", 1, NULL, 0},
	{"{\"ppt\":\"rcd\",\"ppt\":\"rcd\"}", "", 1, NULL, 0},
	{"[\"rcd\"]", "", 1, NULL, 0},
	/* escapes, blanks and other members: is_ours looks for "rcd" in the
	 * decoded text before it parses; the parse must still decide these */
	{"{\"ppt\":\"\\u0072cd\"}", "", 1, NULL, 1},
	{"{\"\\u0070pt\":\"rcd\"}", "", 1, NULL, 1},
	{"{\"ppt\" : \"rcd\" }", "", 1, NULL, 1},
	{"{\"x\":\"rcd\",\"ppt\":\"shaken\"}", "", 1, NULL, 0},
	{"{\"ppt\":\"shaken\",\"rcd\":1}", "", 1, NULL, 0},
	{"{\"ppt\":\"rcd\\\\\"}", "", 1, NULL, 0},
	/* whitespace around ';' and '=' */
	{H_SHK, " ; ppt = shaken ", 1, "shaken", 0},
	{H_SHK, "\t;\tppt\t=\t\"shaken\"\t", 1, "shaken", 0},
	{H_RCD, "\r\n ;ppt=rcd", 1, "rcd", 1},
	/* parameters without value, unknown ones, host values */
	{H_SHK, ";ppt=shaken;flag", 1, "shaken", 0},
	{H_SHK, ";flag;ppt=shaken;host=[::1];x=a:b;y=%41", 1, "shaken", 0},
	/* broken: ours (refused), whatever ppt they name */
	{H_SHK, ";x=\"abc;ppt=shaken", 0, NULL, 1},
	{H_SHK, ";ppt=\"shaken", 0, NULL, 1},
	{H_SHK, ";ppt=\"shaken\\\"", 0, NULL, 1},
	{H_SHK, ";ppt=shaken;", 0, NULL, 1},
	{H_SHK, ";;ppt=shaken", 0, NULL, 1},
	{H_SHK, ";ppt", 0, NULL, 1},
	{H_SHK, ";ppt=", 0, NULL, 1},
	{H_SHK, ";ppt= ;x=1", 0, NULL, 1},
	{H_SHK, ";=shaken", 0, NULL, 1},
	{H_SHK, ";\"ppt\"=shaken", 0, NULL, 1},
	{H_SHK, ";ppt==shaken", 0, NULL, 1},
	{H_SHK, ";ppt=shaken,rcd", 0, NULL, 1},
	{H_SHK, ";ppt=shak en", 0, NULL, 1},
	{H_SHK, ";ppt=shaken junk", 0, NULL, 1},
	{H_SHK, " junk;ppt=shaken", 0, NULL, 1},
	{H_SHK, ";ppt=shaken;ppt=shaken", 0, NULL, 1},
	{H_SHK, ";ppt=shaken;PPT=rcd", 0, NULL, 1},
	{H_SHK, ";alg=ES256;ALG=ES256;ppt=shaken", 0, NULL, 1},
	{H_SHK, ";info=<" X5U ">;Info=<" X5U ">;ppt=shaken", 0, NULL, 1},
	{H_SHK, ";info=" X5U ";ppt=shaken", 0, NULL, 1},
	{H_SHK, ";info=\"" X5U "\";ppt=shaken", 0, NULL, 1},
	{H_SHK, ";info=<" X5U ";ppt=shaken", 0, NULL, 1},
	{H_SHK, ";info=<https://a b>;ppt=shaken", 0, NULL, 1},
	{H_SHK, ";info=<>;ppt=shaken", 0, NULL, 1},
	{H_SHK, ";ppt=<shaken>", 0, NULL, 1},
	{H_SHK, ";x=<" X5U ">;ppt=shaken", 0, NULL, 1},
	{H_SHK, ";ppt=\"sha\x01ken\"", 0, NULL, 1},
	{H_SHK, ";ppt=\"sha\x7fken\"", 0, NULL, 1},
	{H_SHK, ";ppt=\"sha\rken\"", 0, NULL, 1},
	{H_SHK, ";ppt=\"sha\\\rken\"", 0, NULL, 1},
	{H_SHK, ";ppt=\"sha\\\xc3\xa4ken\"", 0, NULL, 1},
	{H_SHK, ";ppt=\"sh\xffken\"", 0, NULL, 1},
	{H_SHK, ";ppt=\"sh\xc3\"", 0, NULL, 1},
	{H_SHK, ";ppt=\"sh\x80ken\"", 0, NULL, 1},
	{H_SHK, ";ppt=sh\xc3\xa4ken", 0, NULL, 1},
	{H_SHK, ";ppt=" LONG40, 0, NULL, 1},
	{H_SHK, ";ppt=\"" LONG40 "\"", 0, NULL, 1},
	{H_SHK, ";alg=" LONG40 ";ppt=shaken", 0, NULL, 1},
	/* the JWS itself */
	{NULL, "", 0, NULL, 1},
	{NULL, "   ", 0, NULL, 1},
	{NULL, "a.b.c", 1, NULL, 0},
	{NULL, "  a.b.c  ", 1, NULL, 0},
	{NULL, "a.b.c;ppt=rcd", 1, "rcd", 1},
	{NULL, "a.b", 0, NULL, 1},
	{NULL, "a.b.c.d", 0, NULL, 1},
	{NULL, "a..c", 0, NULL, 1},
	{NULL, ".b.c", 0, NULL, 1},
	{NULL, "a.b.", 0, NULL, 1},
	{NULL, "a+b.c.d", 0, NULL, 1},
	{NULL, "a.b.c=", 0, NULL, 1},
	{NULL, ";ppt=rcd", 0, NULL, 1},
	{NULL, "!!!.???;info=<x> ; ppt = \"rcd\"", 0, NULL, 1},
	{NULL, "garbage;ppt=shaken;x=1", 0, NULL, 1},
	{NULL, "a.b.c;info=<https://x.example/c;ppt=rcd>;ppt=shaken", 1,
		"shaken", 0},
	{NULL, "a.b.c;info=<https://x.example/c;ppt=rcd>", 1, NULL, 0},
	{NULL, "!!!.b.c;info=<https://x.example/c;ppt=rcd>", 0, NULL, 1},
};
/* clang-format on */

#define NROWS (sizeof(rows) / sizeof(rows[0]))

static char buf[TPID_MAX_HDR_LEN * 2];

/* The header value of a row into buf; its length. */
static size_t build(const row_t *r)
{
	char *hb;

	if(r->jws_hdr == NULL) {
		snprintf(buf, sizeof(buf), "%s", r->tail);
		return strlen(buf);
	}
	hb = tpid_b64u_dup((const unsigned char *)r->jws_hdr, strlen(r->jws_hdr));
	assert_non_null(hb);
	snprintf(buf, sizeof(buf), "%s.e30.AAAA%s", hb, r->tail);
	free(hb);
	return strlen(buf);
}

/* ppt of the JWS header, decoded here without tpid_idhdr: "" if none */
static void ref_jws_ppt(const tpid_idhdr_t *h, char *out, size_t outsize)
{
	unsigned char bin[TPID_MAX_HDR_LEN];
	json_t *j, *v;
	int n;

	out[0] = '\0';
	n = tpid_b64u_decode(h->part[0].s, h->part[0].n, bin, sizeof(bin));
	if(n <= 0 || memchr(bin, '\0', (size_t)n) != NULL)
		return;
	j = json_loadb((const char *)bin, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
	v = json_object_get(j, "ppt");
	if(json_is_string(v) && json_string_length(v) < outsize
			&& strlen(json_string_value(v)) == json_string_length(v))
		strcpy(out, json_string_value(v));
	json_decref(j);
}

/* The oracle: is_ours() must be split() plus the ppt it yields. */
static void differential(const char *s, size_t n, const char *ppt)
{
	tpid_idhdr_t h;
	char got[TPID_MAX_PPT];
	int want;

	if(tpid_idhdr_split(s, n, &h) != TPID_OK)
		want = 1;
	else {
		ref_jws_ppt(&h, got, sizeof(got));
		want = (h.ppt.present && tpid_idhdr_val_eq(&h.ppt, ppt))
			   || (got[0] != '\0' && strcmp(got, ppt) == 0);
	}
	if(tpid_idhdr_is_ours(s, n, ppt) != want)
		fail_msg("is_ours != split for [%.*s] ppt %s", (int)n, s, ppt);
}

static void test_table(void **state)
{
	tpid_idhdr_t h;
	size_t i, n;
	int rc;

	(void)state;
	for(i = 0; i < NROWS; i++) {
		n = build(&rows[i]);
		rc = tpid_idhdr_split(buf, n, &h);
		if((rc == TPID_OK) != rows[i].split_ok)
			fail_msg("row %zu [%s]: split %d", i, rows[i].tail, rc);
		if(rc == TPID_OK && (rows[i].ppt != NULL) != h.ppt.present)
			fail_msg("row %zu [%s]: ppt presence", i, rows[i].tail);
		if(rc == TPID_OK && rows[i].ppt != NULL
				&& strcmp(h.ppt.v, rows[i].ppt) != 0)
			fail_msg("row %zu [%s]: ppt [%s]", i, rows[i].tail, h.ppt.v);
		if(tpid_idhdr_is_ours(buf, n, "rcd") != rows[i].ours)
			fail_msg("row %zu [%s]: is_ours", i, rows[i].tail);
	}
}

/* every row, every truncation, three ppts: is_ours agrees with split */
static void test_differential(void **state)
{
	static const char *ppts[] = {"rcd", "shaken", ""};
	size_t i, n, k, p;

	(void)state;
	for(i = 0; i < NROWS; i++) {
		n = build(&rows[i]);
		for(k = 0; k <= n; k++) {
			for(p = 0; p < 3; p++)
				differential(buf, k, ppts[p]);
		}
	}
}

static void test_spans(void **state)
{
	static const char v[] = " aGg.cGw.c2ln ; info = <" X5U
							"> ;alg=ES256; x=\"q\\\"t\";ppt=rcd ";
	tpid_idhdr_t h;

	(void)state;
	assert_int_equal(tpid_idhdr_split(v, strlen(v), &h), TPID_OK);
	assert_int_equal(h.jws.n, 12);
	assert_memory_equal(h.jws.s, "aGg.cGw.c2ln", 12);
	assert_int_equal(h.signing_input.n, 7);
	assert_memory_equal(h.signing_input.s, "aGg.cGw", 7);
	assert_memory_equal(h.part[2].s, "c2ln", h.part[2].n);
	assert_true(h.has_info);
	assert_int_equal(h.info.n, strlen(X5U));
	assert_memory_equal(h.info.s, X5U, h.info.n);
	assert_true(h.alg.present && !h.alg.quoted);
	assert_string_equal(h.alg.v, "ES256");
	assert_int_equal(h.nparams, 4);
	assert_int_equal(h.param[2].name.n, 1);
	assert_true(h.param[2].quoted);
	assert_memory_equal(h.param[2].value.s, "q\\\"t", h.param[2].value.n);
	assert_string_equal(h.ppt.v, "rcd");
}

static void test_bounds(void **state)
{
	static char big[TPID_MAX_HDR_LEN + 2];
	tpid_idhdr_t h;
	size_t n, i;

	(void)state;
	/* TPID_MAX_HDR_LEN bytes split, one more does not */
	n = (size_t)snprintf(big, sizeof(big), "a.b.c;ppt=rcd;x=");
	memset(big + n, 'x', sizeof(big) - n);
	assert_int_equal(tpid_idhdr_split(big, TPID_MAX_HDR_LEN, &h), TPID_OK);
	assert_int_equal(
			tpid_idhdr_split(big, TPID_MAX_HDR_LEN + 1, &h), TPID_R_BAD_SYNTAX);
	assert_int_equal(tpid_idhdr_is_ours(big, TPID_MAX_HDR_LEN + 1, "x"), 1);
	/* TPID_IDHDR_MAX_PARAMS parameters, then one too many */
	n = (size_t)snprintf(big, sizeof(big), "a.b.c");
	for(i = 0; i < TPID_IDHDR_MAX_PARAMS; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, ";p%zu", i);
	assert_int_equal(tpid_idhdr_split(big, n, &h), TPID_OK);
	assert_int_equal(h.nparams, TPID_IDHDR_MAX_PARAMS);
	strcpy(big + n, ";q");
	assert_int_equal(tpid_idhdr_split(big, n + 2, &h), TPID_R_BAD_SYNTAX);
	/* ppt of TPID_MAX_PPT - 1 chars fits, TPID_MAX_PPT does not */
	n = (size_t)snprintf(big, sizeof(big), "a.b.c;ppt=");
	memset(big + n, 'p', TPID_MAX_PPT);
	assert_int_equal(tpid_idhdr_split(big, n + TPID_MAX_PPT - 1, &h), TPID_OK);
	assert_int_equal(
			tpid_idhdr_split(big, n + TPID_MAX_PPT, &h), TPID_R_BAD_SYNTAX);
}

static void test_nul_and_null(void **state)
{
	static const char v[] = "a.b.c;ppt=shaken\0;ppt=rcd";
	tpid_idhdr_t h;
	char out[8];

	(void)state;
	/* an embedded NUL is refused (ours), the length is what counts */
	assert_int_equal(tpid_idhdr_split(v, sizeof(v) - 1, &h), TPID_R_BAD_SYNTAX);
	assert_int_equal(tpid_idhdr_is_ours(v, sizeof(v) - 1, "shaken"), 1);
	assert_int_equal(tpid_idhdr_split(v, 16, &h), TPID_OK);
	assert_int_equal(tpid_idhdr_is_ours(v, 16, "rcd"), 0);
	assert_int_equal(tpid_idhdr_split(NULL, 5, &h), TPID_R_BAD_SYNTAX);
	assert_int_equal(tpid_idhdr_split(v, 5, NULL), TPID_R_BAD_SYNTAX);
	assert_int_equal(tpid_idhdr_is_ours(NULL, 0, "rcd"), 1);
	assert_int_equal(tpid_idhdr_is_ours(v, 16, NULL), 1);
	assert_int_equal(tpid_idhdr_val_eq(NULL, "rcd"), 0);
	assert_int_equal(tpid_idhdr_jws_ppt(NULL, out, sizeof(out)), -1);
}

static void test_jws_ppt(void **state)
{
	row_t r = {H_SHK, "", 1, NULL, 0};
	tpid_idhdr_t h;
	char out[TPID_MAX_PPT];
	size_t n = build(&r);

	(void)state;
	assert_int_equal(tpid_idhdr_split(buf, n, &h), TPID_OK);
	assert_int_equal(tpid_idhdr_jws_ppt(&h, out, sizeof(out)), 0);
	assert_string_equal(out, "shaken");
	/* does not fit */
	assert_int_equal(tpid_idhdr_jws_ppt(&h, out, 6), -1);
	assert_string_equal(out, "");
	assert_int_equal(tpid_idhdr_jws_ppt(&h, out, 7), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_table),
			cmocka_unit_test(test_differential),
			cmocka_unit_test(test_spans),
			cmocka_unit_test(test_bounds),
			cmocka_unit_test(test_nul_and_null),
			cmocka_unit_test(test_jws_ppt),
	};
	return cmocka_run_group_tests_name("tpid_idhdr", tests, NULL, NULL);
}
