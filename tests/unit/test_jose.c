/*
 * tpid_assert - unit tests of the JOSE basics (tpid_jose.c): base64url,
 * canonical JSON, ES256 raw r||s, the P-256 key check.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "tpid_jose.h"

static EVP_PKEY *key1;	 /* the signer */
static EVP_PKEY *key2;	 /* someone else */
static EVP_PKEY *key384; /* EC, but not P-256 */
static EVP_PKEY *keyed;	 /* not EC at all */

/* ---- base64url ------------------------------------------------------------ */

static void test_b64u_edges(void **state)
{
	char out[16];
	unsigned char bin[16];

	(void)state;
	assert_int_equal(tpid_b64u_encode((const unsigned char *)"", 0, out, 1), 0);
	assert_string_equal(out, "");
	assert_int_equal(
			tpid_b64u_encode((const unsigned char *)"A", 1, out, 16), 2);
	assert_string_equal(out, "QQ");
	assert_int_equal(
			tpid_b64u_encode((const unsigned char *)"AB", 2, out, 16), 3);
	assert_string_equal(out, "QUI");
	assert_int_equal(
			tpid_b64u_encode((const unsigned char *)"\xfb\xff", 2, out, 16), 3);
	assert_string_equal(out, "-_8");
	/* no room for the NUL */
	assert_int_equal(
			tpid_b64u_encode((const unsigned char *)"ABC", 3, out, 4), -1);

	assert_int_equal(tpid_b64u_decode("", 0, bin, sizeof(bin)), 0);
	assert_int_equal(tpid_b64u_decode("QQ", 2, bin, sizeof(bin)), 1);
	assert_int_equal(bin[0], 'A');
	assert_int_equal(tpid_b64u_decode("-_8", 3, bin, sizeof(bin)), 2);
	assert_int_equal(bin[0], 0xfb);
	assert_int_equal(bin[1], 0xff);
	assert_int_equal(tpid_b64u_decode("QUJD", 4, bin, sizeof(bin)), 3);
	/* refused: padding, standard alphabet, whitespace, len%4==1,
	 * non-zero trailing bits, output too small */
	assert_int_equal(tpid_b64u_decode("QQ==", 4, bin, sizeof(bin)), -1);
	assert_int_equal(tpid_b64u_decode("+/8", 3, bin, sizeof(bin)), -1);
	assert_int_equal(tpid_b64u_decode("QU/D", 4, bin, sizeof(bin)), -1);
	assert_int_equal(tpid_b64u_decode("QU D", 4, bin, sizeof(bin)), -1);
	assert_int_equal(tpid_b64u_decode("QUJ\n", 4, bin, sizeof(bin)), -1);
	assert_int_equal(tpid_b64u_decode("QUJDR", 5, bin, sizeof(bin)), -1);
	assert_int_equal(tpid_b64u_decode("QR", 2, bin, sizeof(bin)), -1);
	assert_int_equal(tpid_b64u_decode("QUJ", 3, bin, sizeof(bin)), -1);
	assert_int_equal(tpid_b64u_decode("QUI", 3, bin, sizeof(bin)), 2);
	assert_int_equal(tpid_b64u_decode("QUJD", 4, bin, 2), -1);
}

static void test_b64u_alphabet(void **state)
{
	int c, n = 0;

	(void)state;
	for(c = 0; c < 256; c++)
		n += tpid_b64u_is_char((char)c);
	assert_int_equal(n, 64);
	assert_true(tpid_b64u_is_char('-') && tpid_b64u_is_char('_'));
	assert_false(tpid_b64u_is_char('+') || tpid_b64u_is_char('/')
				 || tpid_b64u_is_char('=') || tpid_b64u_is_char('\0')
				 || tpid_b64u_is_char('.') || tpid_b64u_is_char('\xc3'));
}

static void test_b64u_dup(void **state)
{
	char *s;

	(void)state;
	s = tpid_b64u_dup((const unsigned char *)"\xfb\xff", 2);
	assert_string_equal(s, "-_8");
	free(s);
	s = tpid_b64u_dup((const unsigned char *)"", 0);
	assert_string_equal(s, "");
	free(s);
}

/* ---- JSON ----------------------------------------------------------------- */

static void test_json_dump_canonical(void **state)
{
	json_t *j = json_pack("{s:s,s:{s:i,s:s},s:s}", "z", "J\xc3\xbcrgen", "a",
			"y", 1, "b", "https://x.example/c", "m", "\"q\"");
	char *s;

	(void)state;
	assert_non_null(j);
	s = tpid_jose_json_dump(j);
	assert_string_equal(s, "{\"a\":{\"b\":\"https://x.example/c\",\"y\":1},"
						   "\"m\":\"\\\"q\\\"\",\"z\":\"J\xc3\xbcrgen\"}");
	free(s);
	json_decref(j);
	assert_null(tpid_jose_json_dump(NULL));
}

static void test_json_b64u(void **state)
{
	/* base64url of the JSON text; 1 where an object must come back */
	static const struct
	{
		const char *json;
		int ok;
	} rows[] = {
			{"{\"ppt\":\"rcd\"}", 1},
			{"{}", 1},
			{"[1,2]", 0},
			{"\"rcd\"", 0},
			{"null", 0},
			{"{\"a\":1,\"a\":2}", 0}, /* duplicate keys */
			{"{\"a\":1}x", 0},		  /* trailing garbage */
			{"{\"a\":\"\xff\"}", 0},  /* invalid UTF-8 */
			{"{\"a\":1", 0},		  /* truncated */
			{"", 0},
	};
	char *b;
	json_t *j;
	size_t i;

	(void)state;
	for(i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		b = tpid_b64u_dup(
				(const unsigned char *)rows[i].json, strlen(rows[i].json));
		assert_non_null(b);
		j = tpid_jose_json_b64u(b, strlen(b));
		if(rows[i].ok != (j != NULL))
			fail_msg("row %zu: %s", i, rows[i].json);
		json_decref(j);
		free(b);
	}
	/* a NUL inside the decoded text, bad base64url, NULL */
	b = tpid_b64u_dup((const unsigned char *)"{}\0", 3);
	assert_null(tpid_jose_json_b64u(b, strlen(b)));
	free(b);
	assert_null(tpid_jose_json_b64u("e30=", 4));
	assert_null(tpid_jose_json_b64u("e3!", 3));
	assert_null(tpid_jose_json_b64u(NULL, 0));
}

/* ---- ES256 ---------------------------------------------------------------- */

static void test_key_is_p256(void **state)
{
	(void)state;
	assert_true(tpid_jose_key_is_p256(key1));
	assert_false(tpid_jose_key_is_p256(key384));
	assert_false(tpid_jose_key_is_p256(keyed));
	assert_false(tpid_jose_key_is_p256(NULL));
}

static void test_es256_sign_verify(void **state)
{
	static const char tbs[] = "eyJhIjoxfQ.eyJiIjoyfQ";
	unsigned char rs[TPID_ES256_SIG_LEN], big[80];
	size_t n = strlen(tbs);

	(void)state;
	assert_int_equal(tpid_jose_es256_sign(key1, tbs, n, rs), 0);
	assert_int_equal(tpid_jose_es256_verify(key1, tbs, n, rs, sizeof(rs)), 0);
	/* another key, another input, a flipped bit */
	assert_int_equal(tpid_jose_es256_verify(key2, tbs, n, rs, sizeof(rs)), -1);
	assert_int_equal(
			tpid_jose_es256_verify(key1, tbs, n - 1, rs, sizeof(rs)), -1);
	rs[10] ^= 1;
	assert_int_equal(tpid_jose_es256_verify(key1, tbs, n, rs, sizeof(rs)), -1);
	rs[10] ^= 1;
	/* only 64 bytes: shorter, longer (DER-sized) */
	memset(big, 0, sizeof(big));
	memcpy(big, rs, sizeof(rs));
	assert_int_equal(tpid_jose_es256_verify(key1, tbs, n, big, 63), -1);
	assert_int_equal(tpid_jose_es256_verify(key1, tbs, n, big, 65), -1);
	assert_int_equal(tpid_jose_es256_verify(key1, tbs, n, big, 72), -1);
	/* r = s = 0 is no signature */
	memset(big, 0, sizeof(big));
	assert_int_equal(tpid_jose_es256_verify(key1, tbs, n, big, 64), -1);
	/* no key, or a key that is not P-256 */
	assert_int_equal(tpid_jose_es256_sign(key384, tbs, n, rs), -1);
	assert_int_equal(tpid_jose_es256_sign(keyed, tbs, n, rs), -1);
	assert_int_equal(tpid_jose_es256_sign(NULL, tbs, n, rs), -1);
	assert_int_equal(tpid_jose_es256_verify(NULL, tbs, n, rs, 64), -1);
	assert_int_equal(tpid_jose_es256_verify(key1, tbs, n, NULL, 64), -1);
}

static int setup(void **state)
{
	(void)state;
	key1 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	key2 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	key384 = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	keyed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	return key1 && key2 && key384 && keyed ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(key1);
	EVP_PKEY_free(key2);
	EVP_PKEY_free(key384);
	EVP_PKEY_free(keyed);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_b64u_edges),
			cmocka_unit_test(test_b64u_alphabet),
			cmocka_unit_test(test_b64u_dup),
			cmocka_unit_test(test_json_dump_canonical),
			cmocka_unit_test(test_json_b64u),
			cmocka_unit_test(test_key_is_p256),
			cmocka_unit_test(test_es256_sign_verify),
	};
	return cmocka_run_group_tests_name("tpid_jose", tests, setup, teardown);
}
