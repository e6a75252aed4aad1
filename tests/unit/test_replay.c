/*
 * tpid_assert - unit tests: the replay cache (same token on another
 * Call-ID refused, same Call-ID passes, expiry, the size bound and its
 * eviction rule, the ECDSA twin signature, concurrent use).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "tpid_reason.h"
#include "tpid_replay.h"

#include "test_locks.h"

static locks_t lk;

static tpid_replay_t *new_replay(unsigned int max)
{
	tpid_cache_ops_t ops;
	tpid_replay_t *r;

	locks_init(&lk);
	ops = locks_ops(&lk);
	r = tpid_replay_new(&ops, max);
	assert_non_null(r);
	return r;
}

static void end_replay(tpid_replay_t *r)
{
	tpid_replay_destroy(r);
	locks_done(&lk);
}

/* Key of token number i, Call-ID hash of call number j. */
static void key_of(int i, unsigned char k[TPID_REPLAY_HASH_LEN])
{
	char si[32];
	unsigned char sig[64];

	snprintf(si, sizeof(si), "hdr.payload%d", i);
	memset(sig, i & 0xff, sizeof(sig));
	assert_int_equal(tpid_replay_key(si, strlen(si), sig, sizeof(sig), k), 0);
}

static void cid_of(int j, unsigned char c[TPID_REPLAY_HASH_LEN])
{
	char s[32];

	snprintf(s, sizeof(s), "call-%d@example", j);
	assert_int_equal(tpid_replay_callid_hash(s, strlen(s), c), 0);
}

static int check(tpid_replay_t *r, int tok, int call, int64_t now, int64_t exp)
{
	unsigned char k[TPID_REPLAY_HASH_LEN], c[TPID_REPLAY_HASH_LEN];

	key_of(tok, k);
	cid_of(call, c);
	return tpid_replay_check(r, k, c, now, exp);
}

static void test_new_bad_args(void **state)
{
	tpid_cache_ops_t ops;
	(void)state;

	locks_init(&lk);
	ops = locks_ops(&lk);
	assert_null(tpid_replay_new(NULL, 8));
	assert_null(tpid_replay_new(&ops, 0));
	assert_null(tpid_replay_new(&ops, (1u << 26) + 1));
	ops.lock = NULL;
	assert_null(tpid_replay_new(&ops, 8));
	tpid_replay_destroy(NULL);
	locks_done(&lk);
}

static void test_same_call_passes_other_call_refused(void **state)
{
	tpid_replay_t *r = new_replay(16);
	(void)state;

	assert_int_equal(check(r, 1, 1, 1000, 1060), TPID_OK);
	/* retransmission, fork: same Call-ID */
	assert_int_equal(check(r, 1, 1, 1001, 1060), TPID_OK);
	assert_int_equal(check(r, 1, 1, 1059, 1060), TPID_OK);
	/* the callee passes it on */
	assert_int_equal(check(r, 1, 2, 1010, 1060), TPID_R_REPLAY);
	/* another token on that other call is fine */
	assert_int_equal(check(r, 2, 2, 1010, 1070), TPID_OK);
	assert_int_equal(tpid_replay_count(r), 2);
	/* once the window is over the token is forgotten (and the verifier
	 * refuses it as stale anyway) */
	assert_int_equal(check(r, 1, 3, 1060, 1120), TPID_OK);
	assert_int_equal(tpid_replay_count(r), 2); /* 1 re-added, 2 kept */
	end_replay(r);
}

static void test_already_expired_not_recorded(void **state)
{
	tpid_replay_t *r = new_replay(4);
	(void)state;

	assert_int_equal(check(r, 1, 1, 1000, 1000), TPID_OK);
	assert_int_equal(tpid_replay_count(r), 0);
	assert_int_equal(check(r, 1, 2, 1000, 999), TPID_OK);
	assert_int_equal(tpid_replay_count(r), 0);
	end_replay(r);
}

/* ECDSA's (r, n - s) twin and any other s: the same token. A different
 * signing input or r: another token. */
static void test_key_ignores_s(void **state)
{
	unsigned char sig[64], twin[64], k1[32], k2[32];
	const char *si = "eyJhbGciOiJFUzI1NiJ9.eyJ4IjoxfQ";
	(void)state;

	memset(sig, 0x11, 64);
	memcpy(twin, sig, 32);
	memset(twin + 32, 0xee, 32);
	assert_int_equal(tpid_replay_key(si, strlen(si), sig, 64, k1), 0);
	assert_int_equal(tpid_replay_key(si, strlen(si), twin, 64, k2), 0);
	assert_memory_equal(k1, k2, 32);
	twin[0] ^= 1; /* other r */
	assert_int_equal(tpid_replay_key(si, strlen(si), twin, 64, k2), 0);
	assert_memory_not_equal(k1, k2, 32);
	assert_int_equal(tpid_replay_key(si, strlen(si) - 1, sig, 64, k2), 0);
	assert_memory_not_equal(k1, k2, 32);
	/* not 64 bytes: all of it counts */
	assert_int_equal(tpid_replay_key(si, strlen(si), sig, 63, k2), 0);
	assert_memory_not_equal(k1, k2, 32);
}

/* Full: the soonest-expiring entry goes, never the fresh token. */
static void test_full_evicts_soonest(void **state)
{
	tpid_replay_t *r = new_replay(3);
	(void)state;

	assert_int_equal(check(r, 1, 1, 1000, 1050), TPID_OK);
	assert_int_equal(check(r, 2, 2, 1000, 1030), TPID_OK); /* soonest */
	assert_int_equal(check(r, 3, 3, 1000, 1060), TPID_OK);
	assert_int_equal(check(r, 4, 4, 1001, 1061), TPID_OK);
	assert_int_equal(tpid_replay_count(r), 3);
	assert_int_equal(tpid_replay_evictions(r), 1);
	/* 2 was evicted: it passes elsewhere now (documented); 1, 3, 4 kept */
	assert_int_equal(check(r, 1, 9, 1002, 1062), TPID_R_REPLAY);
	assert_int_equal(check(r, 3, 9, 1002, 1062), TPID_R_REPLAY);
	assert_int_equal(check(r, 4, 9, 1002, 1062), TPID_R_REPLAY);
	assert_int_equal(check(r, 2, 9, 1002, 1062), TPID_OK);
	assert_int_equal(tpid_replay_evictions(r), 2); /* 1 went for it */
	end_replay(r);
}

/* Expired entries make room before anything is evicted. */
static void test_purge_before_evict(void **state)
{
	tpid_replay_t *r = new_replay(2);
	(void)state;

	assert_int_equal(check(r, 1, 1, 1000, 1010), TPID_OK);
	assert_int_equal(check(r, 2, 2, 1000, 1020), TPID_OK);
	assert_int_equal(check(r, 3, 3, 1015, 1075), TPID_OK);
	assert_int_equal(tpid_replay_evictions(r), 0);
	assert_int_equal(check(r, 2, 4, 1016, 1076), TPID_R_REPLAY);
	assert_int_equal(tpid_replay_purge(r, 1020), 1);
	assert_int_equal(tpid_replay_count(r), 1);
	assert_int_equal(tpid_replay_flush(r), 1);
	assert_int_equal(tpid_replay_count(r), 0);
	assert_int_equal(check(r, 3, 4, 1016, 1076), TPID_OK);
	end_replay(r);
}

static void test_insert_from_peer(void **state)
{
	tpid_replay_t *r = new_replay(4);
	unsigned char k[32], c[32];
	(void)state;

	key_of(7, k);
	cid_of(7, c);
	assert_int_equal(tpid_replay_insert(r, k, c, 1000, 1000), -1);
	assert_int_equal(tpid_replay_insert(r, k, c, 1000, 1060), 0);
	assert_int_equal(tpid_replay_insert(r, k, c, 1000, 1060), 0);
	assert_int_equal(tpid_replay_count(r), 1);
	assert_int_equal(check(r, 7, 7, 1001, 1061), TPID_OK);
	assert_int_equal(check(r, 7, 8, 1001, 1061), TPID_R_REPLAY);
	end_replay(r);
}

/* What a joining cluster node gets: every live entry once, in batches, the
 * expired ones left out; another cache that learns them refuses the same
 * replays. */
static void test_export_for_a_joining_node(void **state)
{
	tpid_replay_t *r = new_replay(16), *r2;
	tpid_replay_entry_t out[3];
	unsigned char k[32], c[32];
	unsigned int pos = 0;
	int i, n, seen = 0;
	tpid_cache_ops_t ops = locks_ops(&lk);
	(void)state;

	for(i = 0; i < 7; i++) {
		key_of(i, k);
		cid_of(i, c);
		assert_int_equal(tpid_replay_insert(r, k, c, 1000, 1010 + i), 0);
	}
	r2 = tpid_replay_new(&ops, 16);
	assert_non_null(r2);
	/* at 1012, the first three have expired */
	while((n = tpid_replay_export(r, 1012, &pos, out, 3)) > 0) {
		assert_true(n <= 3);
		for(i = 0; i < n; i++) {
			assert_true(out[i].expires > 1012);
			assert_int_equal(tpid_replay_insert(r2, out[i].key, out[i].cid,
									 1012, out[i].expires),
					0);
		}
		seen += n;
	}
	assert_int_equal(seen, 4);
	assert_int_equal(tpid_replay_count(r2), 4);
	assert_int_equal(check(r2, 6, 6, 1012, 1016), TPID_OK);
	assert_int_equal(check(r2, 6, 9, 1012, 1016), TPID_R_REPLAY);
	assert_int_equal(check(r2, 2, 9, 1012, 1016), TPID_OK); /* it had expired */
	tpid_replay_destroy(r2);
	end_replay(r);
}

/* Many tokens through a small cache, checked against a model of the rule
 * (when full, the soonest expiry goes): the heap and the chains stay
 * consistent. Expiries are distinct so that the model is exact. */
static void test_churn(void **state)
{
	enum
	{
		MAX = 64,
		N = 5000
	};
	tpid_replay_t *r = new_replay(MAX);
	int mtok[MAX], n = 0, i, j, lo;
	int64_t mexp[MAX], e;
	(void)state;

	for(i = 0; i < N; i++) {
		e = 2000 + (i * 7919) % 10007;
		assert_int_equal(check(r, i, i, 1000, e), TPID_OK);
		if(n == MAX) {
			for(lo = 0, j = 1; j < n; j++)
				if(mexp[j] < mexp[lo])
					lo = j;
			mtok[lo] = mtok[n - 1];
			mexp[lo] = mexp[n - 1];
			n--;
		}
		mtok[n] = i;
		mexp[n++] = e;
	}
	assert_int_equal(tpid_replay_count(r), MAX);
	assert_int_equal(tpid_replay_evictions(r), N - MAX);
	for(j = 0; j < n; j++)
		assert_int_equal(check(r, mtok[j], -1, 1000, 99999), TPID_R_REPLAY);
	assert_int_equal(tpid_replay_count(r), MAX);
	end_replay(r);
}

typedef struct thr_arg
{
	tpid_replay_t *r;
	int base;
	int replays;
} thr_arg_t;

static void *thr_main(void *p)
{
	thr_arg_t *a = p;
	int i;

	for(i = 0; i < 2000; i++) {
		/* tokens are shared by pairs of threads: one of each pair sees
		 * the other's call as a replay */
		if(check(a->r, i, a->base + i, 1000, 1060) == TPID_R_REPLAY)
			a->replays++;
	}
	return NULL;
}

static void test_threads(void **state)
{
	tpid_replay_t *r = new_replay(4096);
	pthread_t th[4];
	thr_arg_t a[4];
	int i, total = 0;
	(void)state;

	for(i = 0; i < 4; i++) {
		a[i].r = r;
		a[i].base = i * 100000;
		a[i].replays = 0;
		assert_int_equal(pthread_create(&th[i], NULL, thr_main, &a[i]), 0);
	}
	for(i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		total += a[i].replays;
	}
	/* 2000 tokens, each tried on 4 calls: the first wins, 3 are replays */
	assert_int_equal(total, 3 * 2000);
	assert_int_equal(tpid_replay_count(r), 2000);
	end_replay(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_new_bad_args),
			cmocka_unit_test(test_same_call_passes_other_call_refused),
			cmocka_unit_test(test_already_expired_not_recorded),
			cmocka_unit_test(test_key_ignores_s),
			cmocka_unit_test(test_full_evicts_soonest),
			cmocka_unit_test(test_purge_before_evict),
			cmocka_unit_test(test_insert_from_peer),
			cmocka_unit_test(test_export_for_a_joining_node),
			cmocka_unit_test(test_churn),
			cmocka_unit_test(test_threads),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
