/*
 * tpid_assert - unit tests of the reason table (tpid_reason.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "tpid_reason.h"

static void test_reason_table(void **state)
{
	(void)state;
	assert_string_equal(tpid_reason_name(TPID_R_IAT_STALE), "IAT_STALE");
	assert_int_equal(TPID_R_IAT_STALE, 41);
	assert_int_equal(tpid_reason_sip_code(TPID_R_IAT_STALE), 403);
	assert_string_equal(tpid_reason_sip_phrase(TPID_R_IAT_STALE), "Stale Date");
	assert_int_equal(tpid_reason_sip_code(TPID_R_NO_IDENTITY), 428);
	assert_int_equal(tpid_reason_sip_code(TPID_R_CERT_INVALID), 437);
	assert_int_equal(tpid_reason_sip_code(TPID_R_BAD_SIGNATURE), 438);
	assert_string_equal(
			tpid_reason_name(TPID_R_BAD_SIGNATURE), "BAD_SIGNATURE");
	assert_int_equal(tpid_reason_sip_code(TPID_R_X5U_MISMATCH), 436);
	assert_string_equal(
			tpid_reason_sip_phrase(TPID_R_X5U_MISMATCH), "Bad Identity Info");
	assert_int_equal(TPID_R_ISSUER_NOT_ALLOWED, 51);
	assert_int_equal(tpid_reason_sip_code(TPID_R_ISSUER_NOT_ALLOWED), 437);
	assert_string_equal(tpid_reason_sip_phrase(TPID_R_ISSUER_NOT_ALLOWED),
			"Unsupported Credential");
	assert_int_equal(TPID_R_CLAIM_CONSTRAINTS, 52);
	assert_int_equal(tpid_reason_sip_code(TPID_R_CLAIM_CONSTRAINTS), 438);
	assert_string_equal(
			tpid_reason_name(TPID_R_CLAIM_CONSTRAINTS), "CLAIM_CONSTRAINTS");
	/* the STI-AS / STI-VS over Ms: numbers the glue and the docs rely on */
	assert_int_equal(TPID_R_MS_UNAVAILABLE, 90);
	assert_int_equal(TPID_R_MS_BUSY, 91);
	assert_int_equal(TPID_R_MS_BAD_ANSWER, 96);
	assert_string_equal(
			tpid_reason_name(TPID_R_MS_BAD_ANSWER), "MS_BAD_ANSWER");
	assert_int_equal(tpid_reason_sip_code(TPID_R_MS_TIMEOUT), 500);
	assert_int_equal(tpid_reason_sip_code(TPID_R_MS_NO_VALIDATION), 438);
	assert_string_equal(tpid_reason_get(TPID_R_MS_POLICY_ERROR)->counter,
			"ms_policy_error");
	assert_string_equal(tpid_reason_name(12345), "UNDEFINED");
	assert_int_equal(tpid_reason_sip_code(12345), 500);
}

/* 1 if s is a non-empty run of [a-z0-9_] (a Kamailio statistic name) */
static int counter_name_ok(const char *s)
{
	if(*s == '\0')
		return 0;
	for(; *s; s++) {
		if(!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	}
	return 1;
}

/* Every row whole; numbers, names and counters each unique; lookup by
 * reason finds the row iteration finds. */
static void test_reason_rows(void **state)
{
	const tpid_reason_info_t *r, *q;
	size_t i, j, n = 0;

	(void)state;
	for(i = 0; (r = tpid_reason_at(i)) != NULL; i++) {
		assert_non_null(r->name);
		assert_non_null(r->sip_phrase);
		assert_true(r->sip_code >= 200 && r->sip_code <= 699);
		assert_true(r->reason >= 0 && r->reason <= 99);
		assert_ptr_equal(tpid_reason_get(r->reason), r);
		assert_string_equal(tpid_reason_name(r->reason), r->name);
		if(r->counter != NULL)
			assert_true(counter_name_ok(r->counter));
		for(j = 0; j < i; j++) {
			q = tpid_reason_at(j);
			assert_int_not_equal(q->reason, r->reason);
			assert_true(strcmp(q->name, r->name) != 0);
			assert_false(q->counter && r->counter
						 && strcmp(q->counter, r->counter) == 0);
		}
		n++;
	}
	assert_true(n >= 34);
	assert_null(tpid_reason_at(n));
	assert_null(tpid_reason_get(-1));
	assert_null(tpid_reason_get(12345));
}

/* The counter names the integration tests and dashboards read. */
static void test_reason_counters(void **state)
{
	static const struct
	{
		int reason;
		const char *counter;
	} keep[] = {
			{TPID_R_DENIED, "denied"},
			{TPID_R_UNKNOWN_ID, "unknown_id"},
			{TPID_R_BAD_CLAIM, "bad_claim"},
			{TPID_R_HOOK_TIMEOUT, "hook_timeout"},
			{TPID_R_BAD_SIGNATURE, "bad_signature"},
			{TPID_R_TPID_EXPIRED, "tpid_expired"},
			{TPID_R_INTERNAL, "internal"},
	};
	size_t i;

	(void)state;
	for(i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
		assert_string_equal(
				tpid_reason_get(keep[i].reason)->counter, keep[i].counter);
	/* success and "nothing claimed" count nothing */
	assert_null(tpid_reason_get(TPID_OK)->counter);
	assert_null(tpid_reason_get(TPID_R_NO_CLAIM)->counter);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_reason_table),
			cmocka_unit_test(test_reason_rows),
			cmocka_unit_test(test_reason_counters),
	};
	return cmocka_run_group_tests_name("tpid_reason", tests, NULL, NULL);
}
