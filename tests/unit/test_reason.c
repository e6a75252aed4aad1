/*
 * tpid_assert - unit tests of the reason table (tpid_reason.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

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
	assert_string_equal(tpid_reason_name(12345), "UNDEFINED");
	assert_int_equal(tpid_reason_sip_code(12345), 500);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_reason_table),
	};
	return cmocka_run_group_tests_name("tpid_reason", tests, NULL, NULL);
}
