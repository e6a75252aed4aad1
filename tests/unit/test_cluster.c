/*
 * tpid_assert - unit tests of the cluster's messages (tpid_cluster.c): what
 * one instance encodes, the others decode to the same message; anything else
 * a peer could send is refused.
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

#include "tpid_cluster.h"

static tpid_cluster_msg_t m, d;
static char buf[TPID_CLUSTER_MAX_BODY + 1];

static int decode(const char *s)
{
	return tpid_cluster_decode(s, strlen(s), &d);
}

static void test_every_op_round_trips(void **state)
{
	static const tpid_cluster_op_t ops[] = {TPID_CL_REVOKE_USER,
			TPID_CL_REVOKE_ID, TPID_CL_REVOKE_AVATAR, TPID_CL_REVOKE_ENTERPRISE,
			TPID_CL_CACHE_FLUSH, TPID_CL_AVATAR_FLUSH, TPID_CL_RELOAD,
			TPID_CL_RELOAD_BARS, TPID_CL_SYNC};
	size_t i;

	(void)state;
	for(i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		memset(&m, 0, sizeof(m));
		m.op = ops[i];
		if(tpid_cluster_op_has_arg(m.op))
			strcpy(m.arg, "tel:+4971112345001");
		assert_true(tpid_cluster_encode(&m, buf, sizeof(buf)) > 0);
		assert_int_equal(decode(buf), 0);
		assert_int_equal(d.op, m.op);
		assert_string_equal(d.arg, m.arg);
	}
	memset(&m, 0, sizeof(m));
	m.op = TPID_CL_REVOKE_USER;
	assert_int_equal(
			tpid_cluster_encode(&m, buf, sizeof(buf)), -1); /* no arg */
	m.op = (tpid_cluster_op_t)99;
	assert_int_equal(tpid_cluster_encode(&m, buf, sizeof(buf)), -1);
}

static void test_a_full_replay_batch_round_trips(void **state)
{
	int i;

	(void)state;
	memset(&m, 0, sizeof(m));
	m.op = TPID_CL_REPLAY;
	m.n = TPID_CLUSTER_BATCH;
	for(i = 0; i < m.n; i++) {
		memset(m.e[i].key, i, sizeof(m.e[i].key));
		memset(m.e[i].cid, 255 - i, sizeof(m.e[i].cid));
		m.e[i].expires = 1796370000 + i;
	}
	assert_true(tpid_cluster_encode(&m, buf, sizeof(buf)) > 0);
	assert_int_equal(decode(buf), 0);
	assert_int_equal(d.op, TPID_CL_REPLAY);
	assert_int_equal(d.n, m.n);
	assert_memory_equal(d.e, m.e, sizeof(m.e));
	m.n = TPID_CLUSTER_BATCH + 1; /* more than one message holds */
	assert_int_equal(tpid_cluster_encode(&m, buf, sizeof(buf)), -1);
	m.n = 0;
	assert_int_equal(tpid_cluster_encode(&m, buf, sizeof(buf)), -1);
}

static void test_what_a_peer_must_not_send_is_refused(void **state)
{
	static const char *bad[] = {"", "[]", "null", "{}", "{\"op\":1}",
			"{\"op\":\"format_disk\"}", "{\"op\":\"cache_flush\",\"x\":1}",
			"{\"op\":\"cache_flush\",\"op\":\"reload\"}",
			"{\"op\":\"revoke_user\"}", "{\"op\":\"revoke_user\",\"arg\":\"\"}",
			"{\"op\":\"revoke_user\",\"arg\":\"tel:+49 71\"}",
			"{\"op\":\"revoke_user\",\"arg\":\"a\\u0000b\"}",
			"{\"op\":\"revoke_user\",\"arg\":7}",
			"{\"op\":\"sync\",\"arg\":\"x\"}", "{\"op\":\"replay\"}",
			"{\"op\":\"replay\",\"entries\":[]}",
			"{\"op\":\"replay\",\"entries\":[[\"00\",\"00\",5]]}",
			"{\"op\":\"replay\",\"entries\":[[\"" /* upper-case hex */
			"ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB\""
			",\""
			"abababababababababababababababababababababababababababababababab\""
			","
			"5]]}",
			"{\"op\":\"replay\",\"entries\":[[\""
			"abababababababababababababababababababababababababababababababab\""
			",\""
			"abababababababababababababababababababababababababababababababab\""
			","
			"-5]]}",
			"{\"op\":\"replay\",\"entries\":[[\""
			"abababababababababababababababababababababababababababababababab\""
			",\""
			"abababababababababababababababababababababababababababababababab\""
			","
			"5,6]]}",
			"{\"op\":\"cache_flush\"} trailing"};
	char arg[TPID_MAX_URI + 64];
	size_t i;

	(void)state;
	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&d, 0x5a, sizeof(d));
		assert_int_equal(decode(bad[i]), -1);
		assert_int_equal(d.op, 0); /* nothing half-filled is left */
	}
	/* an arg as long as the caches allow, and one byte more */
	memset(arg, 'a', sizeof(arg));
	snprintf(buf, sizeof(buf), "{\"op\":\"revoke_id\",\"arg\":\"%.*s\"}",
			TPID_MAX_URI - 1, arg);
	assert_int_equal(decode(buf), 0);
	snprintf(buf, sizeof(buf), "{\"op\":\"revoke_id\",\"arg\":\"%.*s\"}",
			TPID_MAX_URI, arg);
	assert_int_equal(decode(buf), -1);
	assert_int_equal(
			tpid_cluster_decode(buf, TPID_CLUSTER_MAX_BODY + 1, &d), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_every_op_round_trips),
			cmocka_unit_test(test_a_full_replay_batch_round_trips),
			cmocka_unit_test(test_what_a_peer_must_not_send_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
