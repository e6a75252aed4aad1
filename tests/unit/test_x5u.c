/*
 * tpid_assert - unit tests of the x5u cache lifetime (tpid_x5u.c):
 * Cache-Control / Expires within bounds and notAfter, hostile header text.
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

#include "tpid_x5u.h"

/* Sun, 06 Nov 1994 08:49:37 GMT */
#define NOW 784111777
#define MIN 60
#define MAX 86400
#define FAR (NOW + 10 * 365 * 86400LL)

typedef struct lifetime_case
{
	const char *cc, *expires;
	int64_t not_after;
	int ttl;
} lifetime_case_t;

static void run(const lifetime_case_t *cases, size_t n)
{
	size_t i;
	int got;

	for(i = 0; i < n; i++) {
		got = tpid_x5u_lifetime(cases[i].cc, cases[i].expires, NOW, MIN, MAX,
				cases[i].not_after);
		if(got != cases[i].ttl)
			fail_msg("case %zu (%s | %s): %d, expected %d\n", i,
					cases[i].cc ? cases[i].cc : "NULL",
					cases[i].expires ? cases[i].expires : "NULL", got,
					cases[i].ttl);
	}
}

#define NCASES(a) (sizeof(a) / sizeof(a[0]))

static void test_cache_control(void **state)
{
	static const lifetime_case_t cases[] = {
			{NULL, NULL, FAR, MAX},
			{"", NULL, FAR, MAX},
			{" , ,", NULL, FAR, MAX},
			{"max-age=3600", NULL, FAR, 3600},
			{"MAX-AGE=3600", NULL, FAR, 3600},
			{"public, max-age=3600", NULL, FAR, 3600},
			{"max-age = 3600 ,public", NULL, FAR, 3600},
			{"max-age=0", NULL, FAR, MIN},
			{"max-age=10", NULL, FAR, MIN},
			{"max-age=999999", NULL, FAR, MAX},
			{"max-age=99999999999999999999", NULL, FAR, MAX},
			{"max-age=00000000000000000000000000000000120", NULL, FAR, 120},
			{"s-maxage=100", NULL, FAR, MAX}, /* ignored */
			{"s-maxage=100, max-age=200", NULL, FAR, 200},
			{"no-store", NULL, FAR, MIN},
			{"no-cache", NULL, FAR, MIN},
			{"No-Cache=\"Set-Cookie, Age\"", NULL, FAR, MIN},
			{"max-age=3600, no-store", NULL, FAR, MIN},
			{"private, max-age=300, must-revalidate", NULL, FAR, 300},
			{"ext=\"a\\\"b, max-age=1\", max-age=500", NULL, FAR, 500},
			{"max-age=3600", "Sun, 06 Nov 1994 08:59:37 GMT", FAR, 3600},
			/* malformed: stale */
			{"max-age=", NULL, FAR, MIN},
			{"max-age", NULL, FAR, MIN},
			{"max-age=-1", NULL, FAR, MIN},
			{"max-age=+5", NULL, FAR, MIN},
			{"max-age=5s", NULL, FAR, MIN},
			{"max-age=0x100", NULL, FAR, MIN},
			{"max-age=\"3600\"", NULL, FAR, MIN},
			{"max-age=3600, max-age=3600", NULL, FAR, MIN},
			{"max-age=3600 3600", NULL, FAR, MIN},
			{"max-age=3600;x", NULL, FAR, MIN},
			{"=3600", NULL, FAR, MIN},
			{"max-age=3600, ext=\"open", NULL, FAR, MIN},
			{"max-age=3600, \"x\"", NULL, FAR, MIN},
			{"max-age=3600\r\nX-Evil: 1", NULL, FAR, MIN},
			{"max-age=3600\x01", NULL, FAR, MIN},
			{"max-age=3600, ext=\"caf\xc3\xa9\"", NULL, FAR, MIN},
			{"max-age=3600, \xc3\xa9", NULL, FAR, MIN},
			{"max-age\xef\xbc\x9d"
			 "3600",
					NULL, FAR, MIN},
	};

	(void)state;
	run(cases, NCASES(cases));
}

static void test_expires(void **state)
{
	static const lifetime_case_t cases[] = {
			{NULL, "Sun, 06 Nov 1994 09:49:37 GMT", FAR, 3600},
			{NULL, "  Sun, 06 Nov 1994 09:49:37 GMT\t", FAR, 3600},
			{"public", "Sun, 06 Nov 1994 09:49:37 GMT", FAR, 3600},
			{NULL, "Mon, 07 Nov 1994 08:49:37 GMT", FAR, 86400},
			{NULL, "Tue, 08 Nov 1994 08:49:37 GMT", FAR, MAX},
			{NULL, "Sun, 06 Nov 1994 08:49:37 GMT", FAR, MIN}, /* now */
			{NULL, "Sat, 05 Nov 1994 08:49:37 GMT", FAR, MIN}, /* past */
			{NULL, "Thu, 01 Jan 1970 00:00:00 GMT", FAR, MIN},
			{NULL, "Fri, 31 Dec 9999 23:59:59 GMT", FAR, MAX},
			{"no-cache", "Tue, 08 Nov 1994 08:49:37 GMT", FAR, MIN},
			/* invalid dates mean "already expired" */
			{NULL, "0", FAR, MIN},
			{NULL, "", FAR, MIN},
			{NULL, "-1", FAR, MIN},
			{NULL, "Sunday, 06-Nov-94 09:49:37 GMT", FAR, MIN}, /* RFC 850 */
			{NULL, "Sun Nov  6 09:49:37 1994", FAR, MIN},		/* asctime */
			{NULL, "Mon, 06 Nov 1994 09:49:37 GMT", FAR, MIN},	/* weekday */
			{NULL, "sun, 06 Nov 1994 09:49:37 GMT", FAR, MIN},
			{NULL, "Sun, 06 nov 1994 09:49:37 GMT", FAR, MIN},
			{NULL, "Sun, 06 Nov 1994 09:49:37 UTC", FAR, MIN},
			{NULL, "Sun, 06 Nov 1994 09:49:37 GMT+1", FAR, MIN},
			{NULL, "Sun, 6 Nov 1994 09:49:37 GMT", FAR, MIN},
			{NULL, "Sun, 06 Nov 1994 24:00:00 GMT", FAR, MIN},
			{NULL, "Sun, 06 Nov 1994 09:60:00 GMT", FAR, MIN},
			{NULL, "Sun, 06 Nov 1994 09:49:61 GMT", FAR, MIN},
			{NULL, "Sun, 06 Nov 1994 +9:49:37 GMT", FAR, MIN},
			{NULL, "Thu, 31 Nov 1994 09:49:37 GMT", FAR, MIN},
			{NULL, "Sun, 00 Nov 1994 09:49:37 GMT", FAR, MIN},
			{NULL, "Tue, 29 Feb 1994 09:49:37 GMT", FAR, MIN},
			{NULL, "Sun, 06 Nov 1994 09:49:37 GMT\r\n", FAR, MIN},
			{NULL, "Sun, 06 Nov 1994 09:49:37 GMT\x01", FAR, MIN},
			{NULL, "Sun, 06 Nov 1994 09:49:37 G\xc3\x8dT", FAR, MIN},
			{NULL, "Sun, 06 ovN 1994 09:49:37 GMT", FAR, MIN},
			{NULL, "Sun, 06 vNo 1994 09:49:37 GMT", FAR, MIN},
	};
	int64_t t;

	(void)state;
	run(cases, NCASES(cases));
	/* leap day, epoch, pre-epoch weekday */
	assert_int_equal(
			tpid_x5u_http_date("Tue, 29 Feb 2000 00:00:00 GMT", &t), 0);
	assert_int_equal(t, 951782400);
	assert_int_equal(
			tpid_x5u_http_date("Thu, 01 Jan 1970 00:00:00 GMT", &t), 0);
	assert_int_equal(t, 0);
	assert_int_equal(
			tpid_x5u_http_date("Wed, 31 Dec 1969 23:59:59 GMT", &t), 0);
	assert_int_equal(t, -1);
	assert_int_equal(
			tpid_x5u_http_date("Mon, 29 Feb 2100 00:00:00 GMT", &t), -1);
	assert_int_equal(tpid_x5u_http_date(NULL, &t), -1);
}

static void test_not_after(void **state)
{
	static const lifetime_case_t cases[] = {
			{NULL, NULL, NOW + 100, 100},
			{"max-age=3600", NULL, NOW + 100, 100},
			{"max-age=3600", NULL, NOW + 30, 30}, /* below min_ttl too */
			{"no-store", NULL, NOW + 30, 30},
			{NULL, NULL, NOW + 1, 1},
			{NULL, NULL, NOW, 0},
			{NULL, NULL, NOW - 1, 0},
			{NULL, NULL, INT64_MIN, 0},
			{"max-age=99999999999999999999", NULL, INT64_MAX, MAX},
	};

	(void)state;
	run(cases, NCASES(cases));
}

static void test_bounds(void **state)
{
	static char big[TPID_X5U_MAX_HDR + 64];

	(void)state;
	/* min above max: min wins; negative min: 0 */
	assert_int_equal(tpid_x5u_lifetime(NULL, NULL, NOW, 100, 10, FAR), 100);
	assert_int_equal(tpid_x5u_lifetime("max-age=5", NULL, NOW, -5, 10, FAR), 5);
	assert_int_equal(tpid_x5u_lifetime("max-age=0", NULL, NOW, -5, 10, FAR), 0);
	assert_int_equal(tpid_x5u_lifetime(NULL, NULL, NOW, 0, -3, FAR), 0);
	/* over-long: malformed, even if it starts well */
	memset(big, ' ', sizeof(big) - 1);
	memcpy(big, "max-age=3600", 12);
	assert_int_equal(tpid_x5u_lifetime(big, NULL, NOW, MIN, MAX, FAR), MIN);
	big[TPID_X5U_MAX_HDR] = '\0';
	assert_int_equal(tpid_x5u_lifetime(big, NULL, NOW, MIN, MAX, FAR), 3600);
	/* a long run of digits saturates, never wraps */
	memset(big, '9', sizeof(big) - 1);
	memcpy(big, "max-age=", 8);
	big[TPID_X5U_MAX_HDR] = '\0';
	assert_int_equal(tpid_x5u_lifetime(big, NULL, NOW, MIN, MAX, FAR), MAX);
	assert_int_equal(
			tpid_x5u_lifetime(big, NULL, NOW, MIN, INT32_MAX, INT64_MAX),
			INT32_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_cache_control),
			cmocka_unit_test(test_expires),
			cmocka_unit_test(test_not_after),
			cmocka_unit_test(test_bounds),
	};
	return cmocka_run_group_tests_name("tpid_x5u", tests, NULL, NULL);
}
