/*
 * tpid_assert - unit tests of the issuer binding list (tpid_signers.c).
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

#include "tpid_reason.h"
#include "tpid_signers.h"

/* Specs that must be refused, one reason each. */
static const char *const bad_specs[] = {
		"", "=", "https://cert.example.net/",		   /* no '=' */
		"https://cert.example.net/=",				   /* no domain */
		"http://cert.example.net/=acme.example",	   /* not https */
		"https:/cert.example.net/=acme.example",	   /* one slash */
		"https://=acme.example",					   /* no host */
		"https:///x=acme.example",					   /* empty host */
		"https://user@cert.example.net/=acme.example", /* userinfo */
		"https://cert.example.net/?a=acme.example",	   /* query */
		"https://cert.example.net/#f=acme.example",	   /* fragment */
		"https://cert.example.net/a b=acme.example",   /* blank */
		"https://cert.example.net/a\tb=acme.example",  /* control */
		"https://cert.example.net/\x7f=acme.example",
		"https://cert.example.net/\xc3\xa9=acme.example", /* byte >= 0x80 */
		"https://cert.example.net/a\\b=acme.example",
		"https://cert.example.net/a/../b/=acme.example", /* dot segment */
		"https://cert.example.net/a/%2e%2E/=acme.example",
		"https://cert.example.net/a/./=acme.example",
		"https://cert.example.net/..=acme.example",
		"https://cert.example.net/%zz=acme.example", /* bad escape */
		"https://cert.example.net/%2=acme.example",
		"https://cert.example.net/a%2fb/=acme.example",
		"https://cert.example.net/a%5Cb/=acme.example",
		"https://cert.example.net/a%00/=acme.example",
		"https://cert.example.net:0/=acme.example", /* bad ports */
		"https://cert.example.net:65536/=acme.example",
		"https://cert.example.net:/=acme.example",
		"https://cert.example.net:44x/=acme.example",
		"https://cert.example.net:123456/=acme.example",
		"https://-cert.example.net/=acme.example", /* bad hosts */
		"https://cert-.example.net/=acme.example",
		"https://cert..example.net/=acme.example",
		"https://.cert.example.net/=acme.example",
		"https://cert.example.net./=acme.example",
		"https://cert_x.example.net/=acme.example",
		"https://cert.\"example\".net/=acme.example",
		"https://[::1/=acme.example", "https://[zz::1]/=acme.example",
		"https://cert.example.net/= acme.example", /* blanks in domains */
		"https://cert.example.net/=acme.example ",
		"https://cert.example.net/=acme.example,", /* empty items */
		"https://cert.example.net/=,acme.example",
		"https://cert.example.net/=acme.example,,b.example",
		"https://cert.example.net/=acme",	 /* one label */
		"https://cert.example.net/=*.com",	 /* wildcard over a TLD */
		"https://cert.example.net/=1.2.3.4", /* an address */
		"https://cert.example.net/=*.", "https://cert.example.net/=*",
		"https://cert.example.net/=**.acme.example",
		"https://cert.example.net/=*.*.acme.example",
		"https://cert.example.net/=a*.acme.example",
		"https://cert.example.net/=acme.example/",
		"https://cert.example.net/=acme.example;x",
		"https://cert.example.net/=\"acme.example\"",
		"https://cert.example.net/=acme.example\r\n",
		"https://cert.example.net/=acme.exam\xc3\xa9",
		"https://cert.example.net/=-acme.example",
		"https://cert.example.net/=acme.example,ACME.example", /* twice */
		"https://cert.example.net/=avatar,avatar",
		"https://cert.example.net/=Avatar",
		"https://cert.example.net/=acme.example=b.example",
		"https://cert.example.net/"
		"=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaa.example", /* label of 64 */
};

static void test_bad_specs(void **state)
{
	tpid_signers_t *s = tpid_signers_new();
	char err[128];
	size_t i;

	(void)state;
	assert_non_null(s);
	for(i = 0; i < sizeof(bad_specs) / sizeof(bad_specs[0]); i++) {
		err[0] = '\0';
		if(tpid_signers_add(s, bad_specs[i], err, sizeof(err)) != -1)
			fail_msg("accepted: %s", bad_specs[i]);
		assert_true(strncmp(err, "signer: ", 8) == 0);
	}
	assert_int_equal(tpid_signers_count(s), 0);
	assert_int_equal(tpid_signers_add(s, NULL, err, sizeof(err)), -1);
	assert_int_equal(tpid_signers_add(NULL, "x", NULL, 0), -1);
	tpid_signers_free(s);
}

static const char *const good_specs[] = {
		"https://cert.example.net/=acme.example",
		"https://cert.example.net/acme/=Acme.Example,*.acme.example",
		"https://cert.example.net/other/=other.example,avatar",
		"https://CERT.example.net:8443/=port.example",
		"https://127.0.0.1:8443/tpid=local.example",
		"https://[::1]/=v6.example",
		"https://avatar.example.net=avatar",
		"https://cert.example.net/only-avatar/=avatar",
		"https://cert.example.net/%41/=pct.example",
		"https://cert.example.net/a...b/=dots.example",
};

static tpid_signers_t *good_list(void)
{
	tpid_signers_t *s = tpid_signers_new();
	char err[128];
	size_t i;

	assert_non_null(s);
	for(i = 0; i < sizeof(good_specs) / sizeof(good_specs[0]); i++) {
		if(tpid_signers_add(s, good_specs[i], err, sizeof(err)) != 0)
			fail_msg("refused %s: %s", good_specs[i], err);
	}
	assert_int_equal(tpid_signers_count(s), (int)i);
	return s;
}

typedef struct lookup
{
	const char *x5u;
	const char *iss;
	int ok;
	int avatar;
} lookup_t;

static const lookup_t lookups[] = {
		{"https://cert.example.net/tpid.pem", "acme.example", 1, 0},
		{"https://cert.example.net/tpid.pem", "ACME.EXAMPLE", 1, 0},
		{"HTTPS://Cert.Example.NET/tpid.pem", "acme.example", 1, 0},
		{"https://cert.example.net:443/tpid.pem", "acme.example", 1, 0},
		{"https://cert.example.net/tpid.pem", "other.example", 0, 0},
		{"https://cert.example.net/tpid.pem", "x.acme.example", 0, 0},
		/* the longest prefix wins, and it alone decides */
		{"https://cert.example.net/acme/k.pem", "acme.example", 1, 0},
		{"https://cert.example.net/acme/k.pem", "a.b.acme.example", 1, 0},
		{"https://cert.example.net/acme/k.pem", "other.example", 0, 0},
		{"https://cert.example.net/other/k.pem", "other.example", 1, 1},
		{"https://cert.example.net/other/k.pem", "acme.example", 0, 1},
		{"https://cert.example.net/acmex.pem", "x.acme.example", 0, 0},
		/* path case matters; no dot segments out of a prefix */
		{"https://cert.example.net/ACME/k.pem", "x.acme.example", 0, 0},
		{"https://cert.example.net/acme/../other/k.pem", "other.example", 0, 0},
		{"https://cert.example.net/acme/%2e%2e/k.pem", "acme.example", 0, 0},
		{"https://cert.example.net/acme/./k.pem", "acme.example", 0, 0},
		/* the host must match exactly */
		{"https://cert.example.net.evil/tpid.pem", "acme.example", 0, 0},
		{"https://cert.example.net.evil/acme/k.pem", "acme.example", 0, 0},
		{"https://evilcert.example.net/tpid.pem", "acme.example", 0, 0},
		{"https://x.cert.example.net/tpid.pem", "acme.example", 0, 0},
		{"https://cert.example.net@evil.example/t.pem", "acme.example", 0, 0},
		{"https://evil.example#@cert.example.net/", "acme.example", 0, 0},
		{"https://cert.example.net:8443/k.pem", "acme.example", 0, 0},
		{"https://cert.example.net:8443/k.pem", "port.example", 1, 0},
		{"https://cert.example.net:08443/k.pem", "port.example", 1, 0},
		{"http://cert.example.net/tpid.pem", "acme.example", 0, 0},
		{"https://127.0.0.1:8443/tpid.pem", "local.example", 1, 0},
		{"https://127.0.0.1:8443/tpi.pem", "local.example", 0, 0},
		{"https://127.0.0.1/tpid.pem", "local.example", 0, 0},
		{"https://[::1]/k.pem", "v6.example", 1, 0},
		{"https://[::1]:443/k.pem", "v6.example", 1, 0},
		{"https://avatar.example.net/a.pem", "acme.example", 0, 1},
		{"https://cert.example.net/only-avatar/k.pem", "acme.example", 0, 1},
		{"https://cert.example.net/%41/k.pem", "pct.example", 1, 0},
		{"https://cert.example.net/A/k.pem", "pct.example", 0, 0},
		{"https://cert.example.net/a...b/k.pem", "dots.example", 1, 0},
		/* nothing listed for this host: default deny */
		{"https://unlisted.example.net/k.pem", "acme.example", 0, 0},
		/* hostile iss */
		{"https://cert.example.net/tpid.pem", "acme.example.", 0, 0},
		{"https://cert.example.net/tpid.pem", "acme.example;x", 0, 0},
		{"https://cert.example.net/tpid.pem", " acme.example", 0, 0},
		{"https://cert.example.net/tpid.pem", "acme.example\r\n", 0, 0},
		{"https://cert.example.net/tpid.pem", "\"acme.example\"", 0, 0},
		{"https://cert.example.net/tpid.pem", "acme.exampl\xc3\xa9", 0, 0},
		{"https://cert.example.net/tpid.pem", "*.acme.example", 0, 0},
		{"https://cert.example.net/tpid.pem", "", 0, 0},
		{"https://cert.example.net/acme/k.pem", ".acme.example", 0, 0},
		{"https://cert.example.net/acme/k.pem", "xacme.example", 0, 0},
		/* hostile x5u */
		{"https://cert.example.net/t pem", "acme.example", 0, 0},
		{"https://cert.example.net/t\x01pem", "acme.example", 0, 0},
		{"https://cert.example.net/t.pem?x", "acme.example", 0, 0},
		{"https://cert.example.net/acme/..%2fother/k.pem", "acme.example", 0,
				0},
		{"https://cert.example.net/acme/..%2Fk.pem", "acme.example", 0, 0},
		{"https://cert.example.net/acme/..%5ck.pem", "acme.example", 0, 0},
		{"https://cert.example.net/acme/k%00.pem", "acme.example", 0, 0},
		{"https://cert.example.net/acme/k%20.pem", "acme.example", 1, 0},
		{"https://cert.example.net/t.pem#x", "acme.example", 0, 0},
		{"https://cert.example.net\\@evil/t.pem", "acme.example", 0, 0},
		{"https://cert.example.net/\xc3\xa9.pem", "acme.example", 0, 0},
		{"", "acme.example", 0, 0},
};

static void test_lookups(void **state)
{
	tpid_signers_t *s = good_list();
	const lookup_t *l;
	size_t i;

	(void)state;
	for(i = 0; i < sizeof(lookups) / sizeof(lookups[0]); i++) {
		l = &lookups[i];
		if(tpid_signers_check(s, l->x5u, l->iss)
				!= (l->ok ? TPID_OK : TPID_R_ISSUER_NOT_ALLOWED))
			fail_msg("check %s %s: expected %d", l->x5u, l->iss, l->ok);
		if(tpid_signers_may_avatar(s, l->x5u) != l->avatar)
			fail_msg("avatar %s: expected %d", l->x5u, l->avatar);
	}
	assert_int_equal(tpid_signers_check(s, NULL, "acme.example"),
			TPID_R_ISSUER_NOT_ALLOWED);
	assert_int_equal(
			tpid_signers_check(s, "https://cert.example.net/tpid.pem", NULL),
			TPID_R_ISSUER_NOT_ALLOWED);
	assert_int_equal(tpid_signers_may_avatar(s, NULL), 0);
	tpid_signers_free(s);
}

/* An empty list or none at all allows nothing. */
static void test_default_deny(void **state)
{
	tpid_signers_t *s = tpid_signers_new();

	(void)state;
	assert_int_equal(tpid_signers_count(s), 0);
	assert_int_equal(
			tpid_signers_check(s, "https://cert.example.net/t", "acme.example"),
			TPID_R_ISSUER_NOT_ALLOWED);
	assert_int_equal(tpid_signers_check(NULL, "https://cert.example.net/t",
							 "acme.example"),
			TPID_R_ISSUER_NOT_ALLOWED);
	assert_int_equal(
			tpid_signers_may_avatar(s, "https://cert.example.net/"), 0);
	assert_int_equal(tpid_signers_count(NULL), 0);
	tpid_signers_free(s);
	tpid_signers_free(NULL);
}

/* A prefix listed twice is refused (also in another spelling). */
static void test_duplicate_prefix(void **state)
{
	tpid_signers_t *s = tpid_signers_new();
	char err[128];

	(void)state;
	assert_int_equal(tpid_signers_add(s, "https://c.example.net/=a.example",
							 err, sizeof(err)),
			0);
	assert_int_equal(tpid_signers_add(s, "HTTPS://C.example.net:443/=b.example",
							 err, sizeof(err)),
			-1);
	assert_non_null(strstr(err, "twice"));
	assert_int_equal(tpid_signers_add(s, "https://c.example.net/x=b.example",
							 err, sizeof(err)),
			0);
	assert_int_equal(tpid_signers_count(s), 2);
	tpid_signers_free(s);
}

/* Bounds: signers, domains per signer, URL length, DNS name length, spec
 * length; the error buffer is never overrun. */
static void test_bounds(void **state)
{
	tpid_signers_t *s = tpid_signers_new();
	char spec[TPID_SIGNERS_MAX_SPEC + 64], err[16];
	int i, n;

	(void)state;
	for(i = 0; i < TPID_SIGNERS_MAX; i++) {
		snprintf(spec, sizeof(spec), "https://c.example.net/%d=a.example", i);
		assert_int_equal(tpid_signers_add(s, spec, err, sizeof(err)), 0);
	}
	assert_int_equal(tpid_signers_add(s, "https://c.example.net/x=a.example",
							 err, sizeof(err)),
			-1);
	assert_int_equal(strlen(err), sizeof(err) - 1);
	tpid_signers_free(s);

	s = tpid_signers_new();
	for(i = 0; i <= TPID_SIGNERS_MAX_DOMAINS; i++) {
		n = snprintf(spec, sizeof(spec), "https://c.example.net/=");
		for(int d = 0; d <= i; d++)
			n += snprintf(spec + n, sizeof(spec) - (size_t)n, "%sd%d.example",
					d ? "," : "", d);
		assert_int_equal(tpid_signers_add(s, spec, NULL, 0),
				i < TPID_SIGNERS_MAX_DOMAINS ? 0 : -1);
		tpid_signers_free(s);
		s = tpid_signers_new();
	}
	/* a URL of 255 bytes is the longest */
	n = snprintf(spec, sizeof(spec), "https://c.example.net/");
	memset(spec + n, 'p', 255 - (size_t)n);
	strcpy(spec + 255, "=a.example");
	assert_int_equal(tpid_signers_add(s, spec, NULL, 0), 0);
	spec[255] = 'p';
	strcpy(spec + 256, "=b.example");
	assert_int_equal(tpid_signers_add(s, spec, NULL, 0), -1);
	/* a DNS name of 254 bytes is too long; the spec has a length cap */
	n = snprintf(spec, sizeof(spec), "https://d.example.net/=");
	for(i = 0; i < 50; i++)
		n += snprintf(spec + n, sizeof(spec) - (size_t)n, "abcd.");
	strcpy(spec + n, "exam");
	assert_int_equal(tpid_signers_add(s, spec, NULL, 0), -1);
	memset(spec, 'a', sizeof(spec) - 1);
	spec[sizeof(spec) - 1] = '\0';
	assert_int_equal(tpid_signers_add(s, spec, NULL, 0), -1);
	assert_int_equal(tpid_signers_count(s), 1);
	tpid_signers_free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_bad_specs),
			cmocka_unit_test(test_lookups),
			cmocka_unit_test(test_default_deny),
			cmocka_unit_test(test_duplicate_prefix),
			cmocka_unit_test(test_bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
