/*
 * tpid_assert - unit tests: the enterprise decision cache (single-flight
 * misses, expiry, revocation, the size bound, concurrent use).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_locks.h"
#include "test_threads.h"
#include "tpid_cache.h"
#include "tpid_reason.h"

static locks_t lk;

static tpid_cache_t *new_cache(
		unsigned int nbuckets, unsigned int nstripes, unsigned int max_entries)
{
	tpid_cache_ops_t ops;
	tpid_cache_t *c;

	locks_init(&lk);
	ops = locks_ops(&lk);
	c = tpid_cache_new(&ops, nbuckets, nstripes, max_entries);
	assert_non_null(c);
	return c;
}

static void end_cache(tpid_cache_t *c)
{
	tpid_cache_destroy(c);
	locks_done(&lk);
}

/* ---- helpers ------------------------------------------------------------- */

#define SERVED "tel:+4961519876543"
#define ID "sip:e102938@acme.example"
#define DOMAIN "acme.example"
#define T0 1760000000

static int lookup(tpid_cache_t *c, const char *served, const char *id,
		int64_t now, tpid_waiter_t *w, tpid_cache_view_t *v)
{
	return tpid_cache_lookup(c, served, id, DOMAIN, now, 0, w, v);
}

/* An authorization for (SERVED, id) with ttl, as an enterprise answer makes
 * it: the lookup that owns the query, then its completion. */
static void answer(
		tpid_cache_t *c, const char *id, tpid_waiter_t *w, int64_t now, int ttl)
{
	assert_int_equal(lookup(c, SERVED, id, now, w, NULL), TPID_CACHE_OWNER);
	assert_non_null(
			tpid_cache_complete(c, SERVED, id, w, TPID_OK, "N", now, ttl));
}

/* ---- construction -------------------------------------------------------- */

static void test_new_bad_args(void **state)
{
	tpid_cache_ops_t ops;
	tpid_cache_t *c;
	(void)state;

	memset(&ops, 0, sizeof(ops));
	assert_null(tpid_cache_new(NULL, 8, 1, 8));
	assert_null(tpid_cache_new(&ops, 8, 1, 8)); /* no alloc/free */
	ops.alloc = t_alloc;
	ops.free = t_free;
	assert_null(tpid_cache_new(&ops, 8, 1, 0)); /* max_entries 0 */
	/* no locks at all is allowed (single-threaded use); odd sizes round */
	c = tpid_cache_new(&ops, 0, 0, 1);
	assert_non_null(c);
	assert_int_equal(tpid_cache_count(c), 0);
	tpid_cache_destroy(c);
	c = tpid_cache_new(&ops, 5, 100, 3);
	assert_non_null(c);
	tpid_cache_destroy(c);
	tpid_cache_destroy(NULL);
}

/* nstripes is capped to nbuckets, and a stripe is always < nstripes. */
static void test_stripes(void **state)
{
	tpid_waiter_t w[64];
	tpid_cache_t *c = new_cache(3, 16, 1000); /* 4 buckets, 4 stripes */
	char id[64];
	int i;
	(void)state;

	for(i = 0; i < 64; i++) {
		snprintf(id, sizeof(id), "sip:u%d@acme.example", i);
		assert_int_equal(
				lookup(c, SERVED, id, T0, &w[i], NULL), TPID_CACHE_OWNER);
	}
	assert_int_equal(tpid_cache_count(c), 64);
	assert_true(lk.max_stripe < 4);
	assert_true(lk.taken >= 64);
	end_cache(c);
}

/* ---- single flight ------------------------------------------------------- */

static void test_owner_joined_full(void **state)
{
	tpid_cache_t *c = new_cache(16, 4, 100);
	tpid_waiter_t w1, w2, w3;
	tpid_cache_view_t v;
	(void)state;

	assert_int_equal(lookup(c, SERVED, ID, T0, &w1, &v), TPID_CACHE_OWNER);
	assert_int_equal(tpid_cache_count(c), 1);
	assert_int_equal(lookup(c, SERVED, ID, T0 + 1, &w2, &v), TPID_CACHE_JOINED);
	assert_int_equal(tpid_cache_count(c), 1);
	/* without a waiter a pending key is just a miss: nothing stored */
	assert_int_equal(lookup(c, SERVED, ID, T0 + 1, NULL, &v), TPID_CACHE_FULL);
	assert_int_equal(tpid_cache_count(c), 1);
	/* another key, no waiter: nothing stored either */
	assert_int_equal(lookup(c, SERVED, "sip:other@acme.example", T0, NULL, &v),
			TPID_CACHE_FULL);
	assert_int_equal(tpid_cache_count(c), 1);
	/* the key is (served, id): another served user is another entry */
	assert_int_equal(
			lookup(c, "tel:+4961510000000", ID, T0, &w3, &v), TPID_CACHE_OWNER);
	assert_int_equal(tpid_cache_count(c), 2);
	end_cache(c);
}

static void test_complete_ttl_then_hit(void **state)
{
	tpid_cache_t *c = new_cache(16, 4, 100);
	tpid_waiter_t w1, w2, w3, *ws[3] = {&w1, &w2, &w3};
	tpid_cache_view_t v;
	(void)state;

	assert_int_equal(lookup(c, SERVED, ID, T0, &w1, NULL), TPID_CACHE_OWNER);
	assert_int_equal(lookup(c, SERVED, ID, T0, &w2, NULL), TPID_CACHE_JOINED);
	assert_int_equal(lookup(c, SERVED, ID, T0, &w3, NULL), TPID_CACHE_JOINED);
	assert_list(tpid_cache_complete(c, SERVED, ID, &w1, TPID_OK,
						"Alice Example", T0 + 2, 60),
			ws, 3);
	assert_int_equal(tpid_cache_count(c), 1);

	memset(&v, 0, sizeof(v));
	assert_int_equal(lookup(c, SERVED, ID, T0 + 3, NULL, &v), TPID_CACHE_HIT);
	assert_int_equal(v.state, TPID_CACHE_DONE);
	assert_int_equal(v.reason, TPID_OK);
	assert_string_equal(v.value, "Alice Example");
	assert_int_equal(v.expires, T0 + 2 + 60);
	assert_int_equal(v.created, T0);
	assert_int_equal(v.hits, 1);
	assert_string_equal(v.served, SERVED);
	assert_string_equal(v.id, ID);
	assert_string_equal(v.domain, DOMAIN);
	/* a hit with a waiter does not keep the waiter */
	assert_int_equal(lookup(c, SERVED, ID, T0 + 61, &w1, &v), TPID_CACHE_HIT);
	assert_int_equal(v.hits, 2);
	assert_int_equal(
			lookup(c, SERVED, ID, T0 + 61, NULL, NULL), TPID_CACHE_HIT);
	assert_int_equal(tpid_cache_count(c), 1);
	/* the entry is DONE: completing it again finds nothing */
	assert_null(tpid_cache_complete(
			c, SERVED, ID, &w1, TPID_R_DENIED, NULL, T0 + 62, 60));
	assert_int_equal(lookup(c, SERVED, ID, T0 + 61, NULL, &v), TPID_CACHE_HIT);
	assert_int_equal(v.reason, TPID_OK);
	end_cache(c);
}

/* With a minimum life, an answer about to end is stale: not handed out, and
 * the next asker with a waiter refreshes it (the others join that query). */
static void test_min_life_refresh(void **state)
{
	tpid_cache_t *c = new_cache(16, 4, 100);
	tpid_waiter_t w1, w2, w3, *ws[2] = {&w2, &w3};
	tpid_cache_view_t v;
	(void)state;

	tpid_cache_set_min_life(c, 3);
	assert_int_equal(lookup(c, SERVED, ID, T0, &w1, NULL), TPID_CACHE_OWNER);
	assert_ptr_equal(
			tpid_cache_complete(c, SERVED, ID, &w1, TPID_OK, "A", T0, 10), &w1);
	/* 3 s left (T0 + 7): still good; 2 s left: stale, for a peek too */
	assert_int_equal(lookup(c, SERVED, ID, T0 + 7, NULL, &v), TPID_CACHE_HIT);
	assert_int_equal(lookup(c, SERVED, ID, T0 + 8, NULL, &v), TPID_CACHE_FULL);
	assert_int_equal(lookup(c, SERVED, ID, T0 + 8, &w2, &v), TPID_CACHE_OWNER);
	assert_int_equal(lookup(c, SERVED, ID, T0 + 8, &w3, &v), TPID_CACHE_JOINED);
	assert_int_equal(tpid_cache_count(c), 1);
	assert_list(
			tpid_cache_complete(c, SERVED, ID, &w2, TPID_OK, "B", T0 + 8, 10),
			ws, 2);
	assert_int_equal(lookup(c, SERVED, ID, T0 + 9, NULL, &v), TPID_CACHE_HIT);
	assert_string_equal(v.value, "B");
	assert_int_equal(v.expires, T0 + 18);
	/* an answer that lives less than the minimum is never handed out */
	assert_int_equal(lookup(c, SERVED, "sip:x@acme.example", T0, &w1, NULL),
			TPID_CACHE_OWNER);
	assert_ptr_equal(tpid_cache_complete(c, SERVED, "sip:x@acme.example", &w1,
							 TPID_OK, NULL, T0, 2),
			&w1);
	assert_int_equal(lookup(c, SERVED, "sip:x@acme.example", T0, NULL, &v),
			TPID_CACHE_FULL);
	/* 0 (the default) switches it off: an answer is good to its last second */
	tpid_cache_set_min_life(c, 0);
	assert_int_equal(lookup(c, SERVED, ID, T0 + 17, NULL, &v), TPID_CACHE_HIT);
	end_cache(c);
}

static void test_complete_denied_name(void **state)
{
	tpid_cache_t *c = new_cache(16, 4, 100);
	char longname[TPID_CACHE_MAX_VALUE + 8];
	tpid_waiter_t w1, w2;
	tpid_cache_view_t v;
	(void)state;

	assert_int_equal(lookup(c, SERVED, ID, T0, &w1, NULL), TPID_CACHE_OWNER);
	assert_ptr_equal(tpid_cache_complete(
							 c, SERVED, ID, &w1, TPID_R_DENIED, NULL, T0, 30),
			&w1);
	assert_int_equal(lookup(c, SERVED, ID, T0, NULL, &v), TPID_CACHE_HIT);
	assert_int_equal(v.reason, TPID_R_DENIED);
	assert_string_equal(v.value, "");
	/* a value too long for the entry is dropped, not cut */
	memset(longname, 'n', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(lookup(c, SERVED, "sip:x@acme.example", T0, &w2, NULL),
			TPID_CACHE_OWNER);
	assert_ptr_equal(tpid_cache_complete(c, SERVED, "sip:x@acme.example", &w2,
							 TPID_R_UNKNOWN_ID, longname, T0, 30),
			&w2);
	assert_int_equal(lookup(c, SERVED, "sip:x@acme.example", T0, NULL, &v),
			TPID_CACHE_HIT);
	assert_int_equal(v.reason, TPID_R_UNKNOWN_ID);
	assert_string_equal(v.value, "");
	end_cache(c);
}

static void test_expiry(void **state)
{
	tpid_cache_t *c = new_cache(16, 4, 100);
	tpid_waiter_t w1, w2;
	tpid_cache_view_t v;
	(void)state;

	assert_int_equal(lookup(c, SERVED, ID, T0, &w1, NULL), TPID_CACHE_OWNER);
	assert_non_null(
			tpid_cache_complete(c, SERVED, ID, &w1, TPID_OK, "A", T0, 10));
	assert_int_equal(lookup(c, SERVED, ID, T0 + 9, NULL, &v), TPID_CACHE_HIT);
	assert_int_equal(tpid_cache_count(c), 1);
	/* at now + ttl the answer is gone (purged), not a hit */
	assert_int_equal(lookup(c, SERVED, ID, T0 + 10, NULL, &v), TPID_CACHE_FULL);
	assert_int_equal(tpid_cache_count(c), 0);
	/* and a miss with a waiter asks again */
	assert_int_equal(
			lookup(c, SERVED, ID, T0 + 10, &w2, NULL), TPID_CACHE_OWNER);
	assert_int_equal(tpid_cache_count(c), 1);
	/* pending entries never expire */
	assert_int_equal(
			lookup(c, SERVED, ID, T0 + 100000, NULL, &v), TPID_CACHE_FULL);
	assert_int_equal(tpid_cache_count(c), 1);
	end_cache(c);
}

/* The timer's sweep: expired answers in every bucket go, pending stay. */
static void test_purge(void **state)
{
	tpid_cache_t *c = new_cache(64, 4, 100);
	tpid_waiter_t w1, w2, w3;
	(void)state;

	assert_int_equal(lookup(c, SERVED, "sip:a@x.example", T0, &w1, NULL),
			TPID_CACHE_OWNER);
	assert_int_equal(lookup(c, SERVED, "sip:b@x.example", T0, &w2, NULL),
			TPID_CACHE_OWNER);
	assert_int_equal(lookup(c, SERVED, "sip:c@x.example", T0, &w3, NULL),
			TPID_CACHE_OWNER);
	tpid_cache_complete(c, SERVED, "sip:a@x.example", &w1, TPID_OK, "", T0, 5);
	tpid_cache_complete(c, SERVED, "sip:b@x.example", &w2, TPID_OK, "", T0, 50);
	assert_int_equal(tpid_cache_purge(c, T0 + 4, NULL), 0);
	assert_int_equal(tpid_cache_purge(c, T0 + 5, NULL), 1);
	assert_int_equal(tpid_cache_count(c), 2);
	assert_int_equal(tpid_cache_purge(c, T0 + 1000, NULL), 1);
	assert_int_equal(tpid_cache_count(c), 1); /* the pending one */
	end_cache(c);
}

static void test_complete_no_ttl(void **state)
{
	tpid_cache_t *c = new_cache(16, 4, 100);
	tpid_waiter_t w1, w2, *ws[2] = {&w1, &w2};
	(void)state;

	/* ttl 0 ("do not cache") */
	assert_int_equal(lookup(c, SERVED, ID, T0, &w1, NULL), TPID_CACHE_OWNER);
	assert_int_equal(lookup(c, SERVED, ID, T0, &w2, NULL), TPID_CACHE_JOINED);
	assert_list(tpid_cache_complete(c, SERVED, ID, &w1, TPID_OK, "A", T0, 0),
			ws, 2);
	assert_int_equal(tpid_cache_count(c), 0);
	assert_int_equal(lookup(c, SERVED, ID, T0, NULL, NULL), TPID_CACHE_FULL);
	/* a failure (negative ttl) */
	assert_int_equal(lookup(c, SERVED, ID, T0, &w1, NULL), TPID_CACHE_OWNER);
	assert_int_equal(lookup(c, SERVED, ID, T0, &w2, NULL), TPID_CACHE_JOINED);
	assert_list(tpid_cache_complete(
						c, SERVED, ID, &w1, TPID_R_HOOK_TIMEOUT, NULL, T0, -1),
			ws, 2);
	assert_int_equal(tpid_cache_count(c), 0);
	end_cache(c);
}

static void test_complete_unknown(void **state)
{
	tpid_cache_t *c = new_cache(16, 4, 100);
	char longid[TPID_MAX_URI + 8];
	tpid_waiter_t w1, w2;
	(void)state;

	assert_null(tpid_cache_complete(c, SERVED, ID, &w1, TPID_OK, "A", T0, 60));
	assert_int_equal(lookup(c, SERVED, ID, T0, &w1, NULL), TPID_CACHE_OWNER);
	/* another key, another owner, a key too long: none of them */
	assert_null(tpid_cache_complete(
			c, SERVED, "sip:x@acme.example", &w1, TPID_OK, "A", T0, 60));
	assert_null(tpid_cache_complete(c, SERVED, ID, &w2, TPID_OK, "A", T0, 60));
	assert_null(tpid_cache_complete(c, SERVED, ID, NULL, TPID_OK, "A", T0, 60));
	memset(longid, 'i', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	assert_null(
			tpid_cache_complete(c, SERVED, longid, &w1, TPID_OK, "A", T0, 60));
	assert_null(tpid_cache_complete(c, NULL, ID, &w1, TPID_OK, "A", T0, 60));
	assert_int_equal(tpid_cache_count(c), 1);
	assert_ptr_equal(
			tpid_cache_complete(c, SERVED, ID, &w1, TPID_OK, "A", T0, 60), &w1);
	end_cache(c);
}

/* ---- eviction ------------------------------------------------------------ */

/* Three DONE entries: (s1, id1, acme), (s1, id2, acme), (s2, id1, Beta). */
static void fill3(tpid_cache_t *c)
{
	tpid_waiter_t w;

	assert_int_equal(tpid_cache_lookup(c, "tel:+1", "sip:a@acme.example",
							 "acme.example", T0, 0, &w, NULL),
			TPID_CACHE_OWNER);
	assert_non_null(tpid_cache_complete(
			c, "tel:+1", "sip:a@acme.example", &w, TPID_OK, "A", T0, 60));
	assert_int_equal(tpid_cache_lookup(c, "tel:+1", "sip:b@acme.example",
							 "acme.example", T0, 0, &w, NULL),
			TPID_CACHE_OWNER);
	assert_non_null(tpid_cache_complete(
			c, "tel:+1", "sip:b@acme.example", &w, TPID_OK, "B", T0, 60));
	assert_int_equal(tpid_cache_lookup(c, "tel:+2", "sip:a@acme.example",
							 "Beta.Example", T0, 0, &w, NULL),
			TPID_CACHE_OWNER);
	assert_non_null(tpid_cache_complete(
			c, "tel:+2", "sip:a@acme.example", &w, TPID_OK, "C", T0, 60));
	assert_int_equal(tpid_cache_count(c), 3);
}

static void test_evict(void **state)
{
	tpid_cache_t *c = new_cache(16, 4, 100);
	(void)state;

	fill3(c);
	assert_int_equal(
			tpid_cache_evict(c, NULL, "sip:none@acme.example", NULL), 0);
	assert_int_equal(tpid_cache_evict(c, NULL, "sip:a@acme.example", NULL), 2);
	assert_int_equal(tpid_cache_count(c), 1);
	assert_int_equal(lookup(c, "tel:+1", "sip:b@acme.example", T0, NULL, NULL),
			TPID_CACHE_HIT);
	assert_int_equal(lookup(c, "tel:+1", "sip:a@acme.example", T0, NULL, NULL),
			TPID_CACHE_FULL);
	assert_int_equal(tpid_cache_evict(c, NULL, NULL, NULL), 1);
	assert_int_equal(tpid_cache_count(c), 0);

	fill3(c);
	assert_int_equal(tpid_cache_evict(c, "tel:+1", NULL, NULL), 2);
	assert_int_equal(tpid_cache_count(c), 1);
	assert_int_equal(tpid_cache_evict(c, NULL, NULL, NULL), 1);

	/* domain: case-insensitive */
	fill3(c);
	assert_int_equal(tpid_cache_evict(c, NULL, NULL, "BETA.example"), 1);
	assert_int_equal(tpid_cache_evict(c, NULL, NULL, "beta.example"), 0);
	assert_int_equal(tpid_cache_evict(c, NULL, NULL, "ACME.EXAMPLE"), 2);
	assert_int_equal(tpid_cache_count(c), 0);

	/* all criteria must match; served and id are exact */
	fill3(c);
	assert_int_equal(
			tpid_cache_evict(c, "tel:+2", "sip:a@acme.example", "acme.example"),
			0);
	assert_int_equal(tpid_cache_evict(c, NULL, "SIP:A@acme.example", NULL), 0);
	assert_int_equal(
			tpid_cache_evict(c, "tel:+1", "sip:a@acme.example", "acme.example"),
			1);
	assert_int_equal(tpid_cache_evict(c, NULL, NULL, NULL), 2);
	assert_int_equal(tpid_cache_evict(c, NULL, NULL, NULL), 0);
	assert_int_equal(tpid_cache_count(c), 0);
	end_cache(c);
}

/* Revoked while pending: the answer reaches the waiters, not the cache. */
static void test_evict_pending(void **state)
{
	tpid_cache_t *c = new_cache(16, 4, 100);
	tpid_waiter_t w1, w2, *ws[2] = {&w1, &w2};
	(void)state;

	assert_int_equal(lookup(c, SERVED, ID, T0, &w1, NULL), TPID_CACHE_OWNER);
	assert_int_equal(lookup(c, SERVED, ID, T0, &w2, NULL), TPID_CACHE_JOINED);
	assert_int_equal(tpid_cache_evict(c, NULL, ID, NULL), 1);
	assert_int_equal(tpid_cache_count(c), 1); /* kept until answered */
	assert_list(tpid_cache_complete(c, SERVED, ID, &w1, TPID_OK, "A", T0, 60),
			ws, 2);
	assert_int_equal(tpid_cache_count(c), 0);
	assert_int_equal(lookup(c, SERVED, ID, T0, NULL, NULL), TPID_CACHE_FULL);
	end_cache(c);
}

/* A lookup after the revocation does not join the revoked query (its
 * answer predates the revocation): it makes a fresh entry, so one key has
 * two pending entries. Each answer must go to its own entry: the stale one
 * to its waiters only, the fresh one to the cache. (Completing by key alone
 * used to take the newest entry first: the revoked query's answer was
 * cached and handed to the fresh query's waiters.) */
static void test_revoked_and_fresh_pending(void **state)
{
	tpid_cache_t *c = new_cache(1, 1, 100);
	tpid_waiter_t w1, w2, w3, *old[1] = {&w1}, *fresh[2] = {&w2, &w3};
	tpid_cache_view_t v;
	int order;
	(void)state;

	for(order = 0; order < 2; order++) {
		assert_int_equal(
				lookup(c, SERVED, ID, T0, &w1, NULL), TPID_CACHE_OWNER);
		assert_int_equal(tpid_cache_evict(c, NULL, ID, NULL), 1);
		assert_int_equal(
				lookup(c, SERVED, ID, T0, &w2, NULL), TPID_CACHE_OWNER);
		assert_int_equal(
				lookup(c, SERVED, ID, T0, &w3, NULL), TPID_CACHE_JOINED);
		assert_int_equal(tpid_cache_count(c), 2);
		if(order == 0) {
			/* the revoked query answers first */
			assert_list(tpid_cache_complete(c, SERVED, ID, &w1, TPID_OK,
								"Stale", T0 + 1, 60),
					old, 1);
			assert_int_equal(tpid_cache_count(c), 1);
			assert_int_equal(
					lookup(c, SERVED, ID, T0 + 1, NULL, NULL), TPID_CACHE_FULL);
			assert_list(tpid_cache_complete(c, SERVED, ID, &w2, TPID_R_DENIED,
								"Fresh", T0 + 2, 60),
					fresh, 2);
		} else {
			/* the fresh query answers first */
			assert_list(tpid_cache_complete(c, SERVED, ID, &w2, TPID_R_DENIED,
								"Fresh", T0 + 1, 60),
					fresh, 2);
			assert_int_equal(tpid_cache_count(c), 2);
			assert_list(tpid_cache_complete(c, SERVED, ID, &w1, TPID_OK,
								"Stale", T0 + 2, 60),
					old, 1);
		}
		assert_int_equal(tpid_cache_count(c), 1);
		assert_int_equal(
				lookup(c, SERVED, ID, T0 + 3, NULL, &v), TPID_CACHE_HIT);
		assert_int_equal(v.reason, TPID_R_DENIED);
		assert_string_equal(v.value, "Fresh");
		assert_int_equal(tpid_cache_evict(c, NULL, NULL, NULL), 1);
		assert_int_equal(tpid_cache_count(c), 0);
	}
	end_cache(c);
}

/* ---- the size bound ------------------------------------------------------ */

static void test_max_entries_evicts_soonest(void **state)
{
	tpid_cache_t *c = new_cache(1, 1, 4);
	static const int ttls[4] = {50, 20, 90, 70};
	tpid_waiter_t w[6];
	tpid_cache_view_t v;
	char id[64];
	int i;
	(void)state;

	for(i = 0; i < 4; i++) {
		snprintf(id, sizeof(id), "sip:u%d@acme.example", i);
		answer(c, id, &w[i], T0, ttls[i]);
	}
	assert_int_equal(tpid_cache_count(c), 4);
	/* full: the answer expiring soonest (u1, T0 + 20) makes room */
	assert_int_equal(
			lookup(c, SERVED, "sip:u4@acme.example", T0 + 1, &w[4], NULL),
			TPID_CACHE_OWNER);
	assert_int_equal(tpid_cache_count(c), 4);
	assert_int_equal(lookup(c, SERVED, "sip:u1@acme.example", T0 + 1, NULL, &v),
			TPID_CACHE_FULL);
	for(i = 0; i < 4; i++) {
		if(i == 1)
			continue;
		snprintf(id, sizeof(id), "sip:u%d@acme.example", i);
		assert_int_equal(
				lookup(c, SERVED, id, T0 + 1, NULL, &v), TPID_CACHE_HIT);
	}
	/* expired answers go first, before anything is evicted */
	assert_int_equal(
			lookup(c, SERVED, "sip:u5@acme.example", T0 + 60, &w[5], NULL),
			TPID_CACHE_OWNER); /* u0 (T0 + 50) purged */
	assert_int_equal(tpid_cache_count(c), 4);
	assert_int_equal(
			lookup(c, SERVED, "sip:u2@acme.example", T0 + 60, NULL, &v),
			TPID_CACHE_HIT);
	assert_int_equal(
			lookup(c, SERVED, "sip:u3@acme.example", T0 + 60, NULL, &v),
			TPID_CACHE_HIT);
	end_cache(c);
}

/* The expiry heaps against a model: 2000 answers with mixed TTLs, some
 * refreshed, some evicted, in 64 buckets over 4 stripes; every purge drops
 * exactly the answers expired by then, and the rest still hit. */
static void test_purge_model(void **state)
{
	enum
	{
		N = 2000
	};
	tpid_cache_t *c = new_cache(64, 4, N);
	static int64_t exp[N]; /* 0: not cached */
	tpid_waiter_t w;
	tpid_cache_view_t v;
	unsigned int seed = 7;
	char id[64];
	int i, t, live, before;
	(void)state;

	for(i = 0; i < N; i++) {
		seed = seed * 1103515245u + 12345u;
		snprintf(id, sizeof(id), "sip:m%d@acme.example", i);
		exp[i] = T0 + 1 + (seed >> 16) % 300;
		answer(c, id, &w, T0, (int)(exp[i] - T0));
	}
	for(i = 0; i < N; i += 7) { /* revoked: out of the heap too */
		snprintf(id, sizeof(id), "sip:m%d@acme.example", i);
		assert_int_equal(tpid_cache_evict(c, NULL, id, NULL), 1);
		exp[i] = 0;
	}
	for(t = 0; t <= 300; t += 13) {
		live = 0;
		for(i = 0; i < N; i++)
			live += exp[i] > T0 + t;
		before = (int)tpid_cache_count(c);
		assert_int_equal(tpid_cache_purge(c, T0 + t, NULL), before - live);
		assert_int_equal(tpid_cache_count(c), live);
		for(i = 0; i < N; i += 11) {
			snprintf(id, sizeof(id), "sip:m%d@acme.example", i);
			assert_int_equal(lookup(c, SERVED, id, T0 + t, NULL, &v),
					exp[i] > T0 + t ? TPID_CACHE_HIT : TPID_CACHE_FULL);
			if(exp[i] > T0 + t)
				assert_int_equal(v.expires, exp[i]);
		}
	}
	before = (int)tpid_cache_count(c);
	assert_true(before > 0);
	assert_int_equal(tpid_cache_purge(c, T0 + 300, NULL), before);
	assert_int_equal(tpid_cache_count(c), 0);
	end_cache(c);
}

/* When full, the answer that expires soonest in the new key's stripe goes,
 * wherever its bucket is (one stripe: the whole cache). */
static void test_max_entries_stripe_wide(void **state)
{
	tpid_cache_t *c = new_cache(64, 1, 8);
	tpid_waiter_t w[9];
	tpid_cache_view_t v;
	char id[64];
	int i;
	(void)state;

	for(i = 0; i < 8; i++) {
		snprintf(id, sizeof(id), "sip:s%d@acme.example", i);
		answer(c, id, &w[i], T0, i == 5 ? 10 : 100 + i);
	}
	assert_int_equal(
			lookup(c, SERVED, "sip:new@acme.example", T0 + 1, &w[8], NULL),
			TPID_CACHE_OWNER);
	assert_int_equal(tpid_cache_count(c), 8);
	assert_int_equal(lookup(c, SERVED, "sip:s5@acme.example", T0 + 1, NULL, &v),
			TPID_CACHE_FULL);
	assert_int_equal(lookup(c, SERVED, "sip:s0@acme.example", T0 + 1, NULL, &v),
			TPID_CACHE_HIT);
	end_cache(c);
}

/* A value is stored at its own length: the longest that fits comes back
 * whole, a longer one is dropped (the answer stands), strings keep their
 * bytes. */
static void test_value_lengths(void **state)
{
	tpid_cache_t *c = new_cache(16, 4, 100);
	static char big[TPID_CACHE_MAX_VALUE + 1];
	tpid_waiter_t w;
	tpid_cache_view_t v;
	(void)state;

	memset(big, 'x', TPID_CACHE_MAX_VALUE - 1);
	big[TPID_CACHE_MAX_VALUE - 1] = '\0';
	assert_int_equal(lookup(c, SERVED, ID, T0, &w, NULL), TPID_CACHE_OWNER);
	assert_non_null(
			tpid_cache_complete(c, SERVED, ID, &w, TPID_OK, big, T0, 60));
	assert_int_equal(lookup(c, SERVED, ID, T0, NULL, &v), TPID_CACHE_HIT);
	assert_string_equal(v.value, big);
	assert_string_equal(v.served, SERVED);
	assert_string_equal(v.id, ID);
	assert_string_equal(v.domain, DOMAIN);

	big[TPID_CACHE_MAX_VALUE - 1] = 'x';
	assert_int_equal(lookup(c, SERVED, "sip:b@acme.example", T0, &w, NULL),
			TPID_CACHE_OWNER);
	assert_non_null(tpid_cache_complete(
			c, SERVED, "sip:b@acme.example", &w, TPID_R_DENIED, big, T0, 60));
	assert_int_equal(lookup(c, SERVED, "sip:b@acme.example", T0, NULL, &v),
			TPID_CACHE_HIT);
	assert_int_equal(v.reason, TPID_R_DENIED);
	assert_string_equal(v.value, "");

	assert_int_equal(lookup(c, SERVED, "sip:n@acme.example", T0, &w, NULL),
			TPID_CACHE_OWNER);
	assert_non_null(tpid_cache_complete(
			c, SERVED, "sip:n@acme.example", &w, TPID_OK, NULL, T0, 60));
	assert_int_equal(lookup(c, SERVED, "sip:n@acme.example", T0, NULL, &v),
			TPID_CACHE_HIT);
	assert_string_equal(v.value, "");
	end_cache(c);
}

static void test_max_entries_all_pending(void **state)
{
	tpid_cache_t *c = new_cache(1, 1, 4);
	tpid_waiter_t w[5], *one[1];
	char id[64];
	int i;
	(void)state;

	for(i = 0; i < 4; i++) {
		snprintf(id, sizeof(id), "sip:u%d@acme.example", i);
		assert_int_equal(
				lookup(c, SERVED, id, T0, &w[i], NULL), TPID_CACHE_OWNER);
	}
	/* nothing can go: query without caching */
	assert_int_equal(lookup(c, SERVED, "sip:u4@acme.example", T0, &w[4], NULL),
			TPID_CACHE_FULL);
	assert_int_equal(tpid_cache_count(c), 4);
	/* joining a pending entry needs no room */
	assert_int_equal(lookup(c, SERVED, "sip:u0@acme.example", T0, &w[4], NULL),
			TPID_CACHE_JOINED);
	for(i = 1; i < 4; i++) {
		snprintf(id, sizeof(id), "sip:u%d@acme.example", i);
		one[0] = &w[i];
		assert_list(
				tpid_cache_complete(c, SERVED, id, &w[i], TPID_OK, "N", T0, 0),
				one, 1);
	}
	assert_int_equal(tpid_cache_count(c), 1);
	end_cache(c);
}

static void test_too_long(void **state)
{
	tpid_cache_t *c = new_cache(16, 4, 100);
	char uri[TPID_MAX_URI + 1], dom[TPID_MAX_DOMAIN + 1];
	tpid_waiter_t w;
	(void)state;

	memset(uri, 'u', sizeof(uri) - 1);
	uri[sizeof(uri) - 1] = '\0'; /* TPID_MAX_URI chars: one too many */
	memset(dom, 'd', sizeof(dom) - 1);
	dom[sizeof(dom) - 1] = '\0';
	assert_int_equal(lookup(c, uri, ID, T0, &w, NULL), TPID_CACHE_FULL);
	assert_int_equal(lookup(c, SERVED, uri, T0, &w, NULL), TPID_CACHE_FULL);
	assert_int_equal(tpid_cache_lookup(c, SERVED, ID, dom, T0, 0, &w, NULL),
			TPID_CACHE_FULL);
	assert_int_equal(tpid_cache_lookup(c, SERVED, ID, NULL, T0, 0, &w, NULL),
			TPID_CACHE_FULL);
	assert_int_equal(tpid_cache_count(c), 0);
	/* the longest that fits */
	uri[TPID_MAX_URI - 1] = '\0';
	dom[TPID_MAX_DOMAIN - 1] = '\0';
	assert_int_equal(tpid_cache_lookup(c, uri, uri, dom, T0, 0, &w, NULL),
			TPID_CACHE_OWNER);
	assert_ptr_equal(
			tpid_cache_complete(c, uri, uri, &w, TPID_OK, "N", T0, 60), &w);
	assert_int_equal(tpid_cache_evict(c, uri, uri, dom), 1);
	end_cache(c);
}

/* ---- walk ---------------------------------------------------------------- */

typedef struct seen
{
	int n, pending, done, stop_after;
	char ids[8][TPID_MAX_URI];
} seen_t;

static int walk_fn(const tpid_cache_view_t *v, void *arg)
{
	seen_t *s = arg;

	if(s->n < 8)
		snprintf(s->ids[s->n], sizeof(s->ids[0]), "%s", v->id);
	s->n++;
	if(v->state == TPID_CACHE_PENDING)
		s->pending++;
	else
		s->done++;
	return s->stop_after > 0 && s->n >= s->stop_after;
}

static int seen_has(const seen_t *s, const char *id)
{
	int i;

	for(i = 0; i < s->n && i < 8; i++)
		if(strcmp(s->ids[i], id) == 0)
			return 1;
	return 0;
}

static void test_walk(void **state)
{
	tpid_cache_t *c = new_cache(8, 2, 100);
	tpid_waiter_t w[4];
	seen_t s;
	(void)state;

	memset(&s, 0, sizeof(s));
	assert_int_equal(tpid_cache_walk(c, T0, walk_fn, &s), 0);
	assert_int_equal(s.n, 0);

	assert_int_equal(lookup(c, SERVED, "sip:a@acme.example", T0, &w[0], NULL),
			TPID_CACHE_OWNER);
	assert_non_null(tpid_cache_complete(
			c, SERVED, "sip:a@acme.example", &w[0], TPID_OK, "A", T0, 10));
	assert_int_equal(lookup(c, SERVED, "sip:b@acme.example", T0, &w[1], NULL),
			TPID_CACHE_OWNER);
	assert_non_null(tpid_cache_complete(
			c, SERVED, "sip:b@acme.example", &w[1], TPID_OK, "B", T0, 100));
	assert_int_equal(lookup(c, SERVED, "sip:c@acme.example", T0, &w[2], NULL),
			TPID_CACHE_OWNER); /* pending */

	memset(&s, 0, sizeof(s));
	assert_int_equal(tpid_cache_walk(c, T0 + 5, walk_fn, &s), 3);
	assert_int_equal(s.done, 2);
	assert_int_equal(s.pending, 1);
	/* a expired at T0 + 10: skipped, though still counted until purged */
	memset(&s, 0, sizeof(s));
	assert_int_equal(tpid_cache_walk(c, T0 + 10, walk_fn, &s), 2);
	assert_int_equal(s.done, 1);
	assert_int_equal(s.pending, 1);
	assert_true(seen_has(&s, "sip:b@acme.example"));
	assert_true(seen_has(&s, "sip:c@acme.example"));
	assert_false(seen_has(&s, "sip:a@acme.example"));
	assert_int_equal(tpid_cache_count(c), 3);
	/* fn stops the walk */
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	assert_int_equal(tpid_cache_walk(c, T0, walk_fn, &s), 1);
	assert_int_equal(s.n, 1);
	assert_non_null(tpid_cache_complete(
			c, SERVED, "sip:c@acme.example", &w[2], TPID_OK, "C", T0, 0));
	end_cache(c);
}

/* ---- concurrency --------------------------------------------------------- */

#define NITER 1000
#define NKEYS 16

static int64_t cclock; /* atomic: op counter, the clock */

static void ckey(int k, char *served, char *id)
{
	snprintf(served, TPID_MAX_URI, "tel:+49615100000%02d", k % 4);
	snprintf(id, TPID_MAX_URI, "sip:u%d@acme.example", k);
}

/* The oldest owned query of this thread answers. */
static void cthread_complete(st_thread_t *t)
{
	char served[TPID_MAX_URI], id[TPID_MAX_URI];
	st_waiter_t *o = t->owned[t->first++];
	int64_t now = __atomic_load_n(&cclock, __ATOMIC_RELAXED) / 256;
	int ttl = (int)(rand_r(&t->seed) % 4) - 1; /* -1 .. 2 */

	ckey(o->key, served, id);
	/* its own entry, owner first */
	st_returned(t,
			tpid_cache_complete(t->c, served, id, &o->link,
					ttl > 0 ? TPID_OK : TPID_R_HOOK_CONNECT, "N", now, ttl),
			o, 0);
}

static void *cthread_run(void *arg)
{
	char served[TPID_MAX_URI], id[TPID_MAX_URI];
	st_thread_t *t = arg;
	tpid_cache_view_t v;
	int i, rc, k;
	int64_t now;

	for(i = 0; i < t->niter; i++) {
		k = (int)(rand_r(&t->seed) % NKEYS);
		ckey(k, served, id);
		now = __atomic_fetch_add(&cclock, 1, __ATOMIC_RELAXED) / 256;
		t->pool[i].key = k;
		rc = tpid_cache_lookup(
				t->c, served, id, DOMAIN, now, 0, &t->pool[i].link, &v);
		st_note(t, i, rc, TPID_CACHE_OWNER, TPID_CACHE_JOINED, TPID_CACHE_FULL);
		if(rc == TPID_CACHE_HIT
				&& (v.state != TPID_CACHE_DONE || strcmp(v.id, id) != 0))
			t->errors++;
		st_settle(t, 2, cthread_complete);
		if(t->idx == 0 && i % 97 == 0)
			tpid_cache_evict(t->c, NULL, id, NULL); /* revocations too */
		if(t->idx == 1 && i % 211 == 0)
			tpid_cache_evict(t->c, NULL, NULL, "ACME.example");
	}
	st_settle(t, 0, cthread_complete);
	return NULL;
}

static void test_concurrent(void **state)
{
	tpid_cache_t *c = new_cache(8, 4, 12); /* 12 < 16 keys: FULL happens */
	static st_thread_t th[ST_NTHREADS];
	seen_t s;

	(void)state;
	st_run(th, c, NITER, cthread_run);
	st_check(th, TPID_CACHE_OWNER, TPID_CACHE_JOINED);
	/* all answered: no pending entry is left, only DONE ones */
	memset(&s, 0, sizeof(s));
	tpid_cache_walk(c, 0, walk_fn, &s);
	assert_int_equal(s.pending, 0);
	assert_true(tpid_cache_count(c) <= 12 + ST_NTHREADS);
	assert_true((int)tpid_cache_count(c) == s.n);
	end_cache(c);
}

static int lookup_dl(tpid_cache_t *c, const char *id, int64_t now,
		int64_t deadline, tpid_waiter_t *w)
{
	return tpid_cache_lookup(c, SERVED, id, DOMAIN, now, deadline, w, NULL);
}

/* A PENDING entry past its deadline: its waiters (joiners included) are
 * handed back by the purge, the late answer finds nothing, the key is
 * free for a fresh query. */
static void test_deadline(void **state)
{
	tpid_cache_t *c = new_cache(16, 4, 100);
	tpid_waiter_t w1, w2, w3, w4, *late, *ws[3] = {&w1, &w2, &w3};
	(void)state;

	assert_int_equal(lookup_dl(c, ID, T0, T0 + 3, &w1), TPID_CACHE_OWNER);
	assert_int_equal(lookup_dl(c, ID, T0 + 1, T0 + 99, &w2), TPID_CACHE_JOINED);
	late = &w4; /* overwritten */
	assert_int_equal(tpid_cache_purge(c, T0 + 2, &late), 0);
	assert_null(late);
	/* not purged yet: a joiner still joins, and goes back with the rest */
	assert_int_equal(lookup_dl(c, ID, T0 + 3, T0 + 99, &w3), TPID_CACHE_JOINED);
	/* a lookup's own purge does not hand waiters back */
	assert_int_equal(lookup_dl(c, "sip:x@acme.example", T0 + 5, 0, NULL),
			TPID_CACHE_FULL);
	assert_int_equal(tpid_cache_count(c), 1);
	assert_int_equal(tpid_cache_purge(c, T0 + 5, NULL), 0); /* no list */
	assert_int_equal(tpid_cache_count(c), 1);
	assert_int_equal(tpid_cache_purge(c, T0 + 3, &late), 1);
	assert_list(late, ws, 3);
	assert_int_equal(tpid_cache_count(c), 0);
	/* the late answer is dropped; nothing is stored */
	assert_null(
			tpid_cache_complete(c, SERVED, ID, &w1, TPID_OK, "A", T0 + 4, 60));
	assert_int_equal(tpid_cache_count(c), 0);
	assert_int_equal(lookup_dl(c, ID, T0 + 4, 0, &w4), TPID_CACHE_OWNER);
	/* deadline 0: never handed back */
	assert_int_equal(tpid_cache_purge(c, INT64_MAX, &late), 0);
	assert_null(late);
	assert_int_equal(tpid_cache_count(c), 1);
	end_cache(c);
}

/* Several late entries (one revoked) among answers and young queries:
 * exactly the late ones go, all their waiters come back. */
static void test_deadline_mixed(void **state)
{
	static const struct
	{
		const char *id;
		int64_t deadline; /* 0: completed with a 5 s TTL instead */
		int revoke;
		int back;
	} e[] = {{"sip:a@acme.example", T0 + 2, 0, 1},
			{"sip:b@acme.example", T0 + 2, 1, 1},
			{"sip:c@acme.example", T0 + 9, 0, 0},
			{"sip:d@acme.example", 0, 0, 0},
			{"sip:e@acme.example", T0 + 1, 0, 1}};
	enum
	{
		N = sizeof(e) / sizeof(e[0])
	};
	tpid_cache_t *c = new_cache(64, 4, 100);
	tpid_waiter_t w[N][2], *late, *l;
	int i, j, n, seen[N][2];
	(void)state;

	memset(seen, 0, sizeof(seen));
	for(i = 0; i < N; i++) {
		assert_int_equal(lookup_dl(c, e[i].id, T0, e[i].deadline, &w[i][0]),
				TPID_CACHE_OWNER);
		assert_int_equal(
				lookup_dl(c, e[i].id, T0, 0, &w[i][1]), TPID_CACHE_JOINED);
		if(e[i].deadline == 0)
			assert_non_null(tpid_cache_complete(
					c, SERVED, e[i].id, &w[i][0], TPID_OK, "", T0, 5));
		if(e[i].revoke)
			assert_int_equal(tpid_cache_evict(c, NULL, e[i].id, NULL), 1);
	}
	assert_int_equal(tpid_cache_purge(c, T0 + 2, &late), 3);
	for(n = 0, l = late; l; l = l->next, n++)
		for(i = 0; i < N; i++)
			for(j = 0; j < 2; j++)
				if(l == &w[i][j])
					seen[i][j]++;
	assert_int_equal(n, 6);
	for(i = 0; i < N; i++)
		for(j = 0; j < 2; j++)
			assert_int_equal(seen[i][j], e[i].back);
	assert_int_equal(tpid_cache_count(c), 2);
	assert_int_equal(tpid_cache_purge(c, T0 + 5, &late), 1); /* the answer */
	assert_null(late);
	assert_int_equal(tpid_cache_purge(c, T0 + 9, &late), 1);
	assert_list(late, (tpid_waiter_t *[]){&w[2][0], &w[2][1]}, 2);
	assert_int_equal(tpid_cache_count(c), 0);
	end_cache(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_new_bad_args),
			cmocka_unit_test(test_stripes),
			cmocka_unit_test(test_owner_joined_full),
			cmocka_unit_test(test_complete_ttl_then_hit),
			cmocka_unit_test(test_min_life_refresh),
			cmocka_unit_test(test_complete_denied_name),
			cmocka_unit_test(test_expiry),
			cmocka_unit_test(test_purge),
			cmocka_unit_test(test_complete_no_ttl),
			cmocka_unit_test(test_complete_unknown),
			cmocka_unit_test(test_evict),
			cmocka_unit_test(test_evict_pending),
			cmocka_unit_test(test_revoked_and_fresh_pending),
			cmocka_unit_test(test_max_entries_evicts_soonest),
			cmocka_unit_test(test_max_entries_all_pending),
			cmocka_unit_test(test_max_entries_stripe_wide),
			cmocka_unit_test(test_purge_model),
			cmocka_unit_test(test_value_lengths),
			cmocka_unit_test(test_too_long),
			cmocka_unit_test(test_walk),
			cmocka_unit_test(test_concurrent),
			cmocka_unit_test(test_deadline),
			cmocka_unit_test(test_deadline_mixed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
