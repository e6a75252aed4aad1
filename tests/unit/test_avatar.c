/*
 * tpid_assert - unit tests of the avatar grammar (tpid_avatar.c): Avatar-IDs,
 * media types, SRI digests and the claim check the terminating side runs.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tpid_avatar.h"
#include "tpid_reason.h"

/* SHA-256 of "" and of "abc", in SRI form */
#define SRI_EMPTY "sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
#define SRI_ABC "sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="

static int aid_ok(const char *s)
{
	return tpid_avatar_id_ok(s, strlen(s));
}

static void test_avatar_id_grammar(void **state)
{
	char buf[TPID_MAX_AID + 2];
	int c;

	(void)state;
	assert_true(aid_ok("alice-01"));
	assert_true(aid_ok("a"));
	assert_true(aid_ok("A.b_c~d:e-F9"));
	assert_false(aid_ok(""));
	assert_false(tpid_avatar_id_ok(NULL, 1));
	/* the bound: 128 yes, 129 no */
	memset(buf, 'x', sizeof(buf));
	assert_true(tpid_avatar_id_ok(buf, TPID_MAX_AID));
	assert_false(tpid_avatar_id_ok(buf, TPID_MAX_AID + 1));
	/* every byte outside the set, alone and inside an ID */
	for(c = 0; c < 256; c++) {
		int allowed = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
					  || (c >= '0' && c <= '9') || c == '.' || c == '_'
					  || c == '~' || c == ':' || c == '-';
		char s[4] = {'a', (char)c, 'b', '\0'};
		if(tpid_avatar_id_ok(s, 3) != allowed)
			fail_msg("byte 0x%02x: %d", c, !allowed);
	}
	/* a NUL inside the given length is not an ID */
	assert_false(tpid_avatar_id_ok("ab\0cd", 5));
}

static int fmt_ok(const char *s)
{
	return tpid_avatar_fmt_ok(s, strlen(s));
}

static void test_media_type_grammar(void **state)
{
	char buf[300];

	(void)state;
	assert_true(fmt_ok("model/gltf-binary"));
	assert_true(fmt_ok("image/png"));
	assert_true(fmt_ok("application/vnd.example+json"));
	assert_true(fmt_ok("a/b"));
	static const char *const bad[] = {"", "model", "/png", "image/",
			"image//png", "image/png/x", "image/png; charset=x", "image/png ",
			" image/png", "image/p\"ng", "image/p\\ng", "-image/png",
			"image/-png", "image/p\x80ng", "image/p\rng", "image/p,ng",
			"image/p=ng", NULL};
	int i;
	for(i = 0; bad[i]; i++) {
		if(fmt_ok(bad[i]))
			fail_msg("accepted: '%s'", bad[i]);
	}
	/* total bound: under TPID_MAX_FMT bytes */
	memset(buf, 'a', sizeof(buf));
	buf[60] = '/';
	assert_true(tpid_avatar_fmt_ok(buf, TPID_MAX_FMT - 1));
	assert_false(tpid_avatar_fmt_ok(buf, TPID_MAX_FMT));
	/* each name at most 127 */
	buf[60] = 'a';
	buf[128] = '/';
	assert_false(tpid_avatar_fmt_ok(buf, 140));
}

static void test_sri(void **state)
{
	char out[TPID_MAX_SRI];
	char s[TPID_MAX_SRI + 8];

	(void)state;
	assert_int_equal(tpid_sri_sha256("", 0, out, sizeof(out)), 0);
	assert_string_equal(out, SRI_EMPTY);
	assert_int_equal(tpid_sri_sha256("abc", 3, out, sizeof(out)), 0);
	assert_string_equal(out, SRI_ABC);
	assert_int_equal(tpid_sri_sha256("abc", 3, out, 51), -1); /* too small */
	assert_true(tpid_sri_ok(SRI_ABC, strlen(SRI_ABC)));
	assert_true(tpid_sri_match(SRI_ABC, "abc", 3));
	assert_false(tpid_sri_match(SRI_ABC, "abd", 3));
	assert_false(tpid_sri_match(SRI_ABC, "abc", 2));
	assert_true(tpid_sri_match(SRI_EMPTY, NULL, 0));

	static const char *const bad[] = {"", "sha256-",
			"sha384-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=",
			"SHA256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=",
			/* base64url alphabet */
			"sha256-ungWv48Bz-pBQUDeXa4iI7ADYaOWF3qctBD_YfIAFa0=",
			/* padding missing, doubled, inside */
			"sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0",
			"sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa==",
			"sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qc=BD/YfIAFa0=",
			/* non-canonical last character (stray low bits) */
			"sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa1=",
			/* blanks and extra characters */
			"sha256- ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=",
			"sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0= ",
			"sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=x",
			/* a digest of another length */
			"sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIA", NULL};
	int i;
	for(i = 0; bad[i]; i++) {
		if(tpid_sri_ok(bad[i], strlen(bad[i])))
			fail_msg("accepted: '%s'", bad[i]);
		if(tpid_sri_match(bad[i], "abc", 3))
			fail_msg("matched: '%s'", bad[i]);
	}
	/* a NUL inside the given length */
	memcpy(s, SRI_ABC, sizeof(SRI_ABC));
	s[20] = '\0';
	assert_false(tpid_sri_ok(s, strlen(SRI_ABC)));
}

static void good_claims(tpid_claims_t *c)
{
	memset(c, 0, sizeof(*c));
	strcpy(c->ppt, "avatar");
	strcpy(c->aid, "alice-01");
	strcpy(c->bar,
			"https://bar.example.net/bar/v1/avatars/alice-01/representation");
	strcpy(c->fmt, "model/gltf-binary");
	strcpy(c->digest, SRI_ABC);
}

static void test_check_claims(void **state)
{
	static const char *const bad_bar[] = {"", "http://bar.example.net/x",
			"https://", "https://u@bar.example/x", "https://bar.example/x?y=1",
			"https://bar.example/x#f", "https://bar.example/a/../b",
			"https://bar.example/%2e%2e/b", "https://bar.example/a%00b",
			"https://bar.example/a b", "https://bar.example/a\"b",
			"file:///etc/passwd", "https://bar..example/x", NULL};
	tpid_claims_t c;
	int i;

	(void)state;
	good_claims(&c);
	assert_int_equal(tpid_avatar_check_claims(&c), TPID_OK);
	assert_int_equal(tpid_avatar_check_claims(NULL), TPID_R_BAD_AVATAR);
	for(i = 0; bad_bar[i]; i++) {
		good_claims(&c);
		strcpy(c.bar, bad_bar[i]);
		if(tpid_avatar_check_claims(&c) != TPID_R_BAD_AVATAR)
			fail_msg("bar accepted: '%s'", bad_bar[i]);
	}
	good_claims(&c);
	strcpy(c.aid, "alice 01");
	assert_int_equal(tpid_avatar_check_claims(&c), TPID_R_BAD_AVATAR);
	good_claims(&c);
	strcpy(c.fmt, "model/gltf-binary\";x=\"");
	assert_int_equal(tpid_avatar_check_claims(&c), TPID_R_BAD_AVATAR);
	good_claims(&c);
	strcpy(c.digest, "sha256-abc");
	assert_int_equal(tpid_avatar_check_claims(&c), TPID_R_BAD_AVATAR);
	/* a field filled to the last byte, without a NUL, is not read past */
	good_claims(&c);
	memset(c.aid, 'a', sizeof(c.aid));
	assert_int_equal(tpid_avatar_check_claims(&c), TPID_R_BAD_AVATAR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_avatar_id_grammar),
			cmocka_unit_test(test_media_type_grammar),
			cmocka_unit_test(test_sri),
			cmocka_unit_test(test_check_claims),
	};

	return cmocka_run_group_tests_name("tpid_avatar", tests, NULL, NULL);
}
