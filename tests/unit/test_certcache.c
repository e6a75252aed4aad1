/*
 * tpid_assert - unit tests: the shared certificate cache (single-flight
 * fetches, GOOD/BAD expiry, generations, deadlines, flush, the bounds,
 * hostile URLs, concurrent use).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test_locks.h"
#include "test_threads.h"
#include "tpid_certcache.h"
#include "tpid_reason.h"

#define URL "https://cert.example.net/a.pem"
#define URL2 "https://cert.example.net/b.pem"
#define PEM "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"
#define PEM2 "-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n"
#define T0 1760000000
#define MAXB 4096

static locks_t lk;

static tpid_certcache_t *new_cc(
		unsigned int nbuckets, unsigned int nstripes, unsigned int max_entries)
{
	tpid_cache_ops_t ops;
	tpid_certcache_t *c;

	locks_init(&lk);
	ops = locks_ops(&lk);
	c = tpid_certcache_new(&ops, nbuckets, nstripes, max_entries, MAXB);
	assert_non_null(c);
	return c;
}

static void end_cc(tpid_certcache_t *c)
{
	tpid_certcache_destroy(c);
	locks_done(&lk);
}

static int lookup(tpid_certcache_t *c, const char *url, int64_t now,
		tpid_waiter_t *w, tpid_certcache_view_t *v)
{
	return tpid_certcache_lookup(c, url, now, 0, w, v, NULL, 0);
}

/* Completes url (owned by w) with pem and checks that w alone comes back. */
static void fetched(tpid_certcache_t *c, const char *url, tpid_waiter_t *w,
		const char *pem, int64_t now, int ttl)
{
	assert_ptr_equal(tpid_certcache_complete(
							 c, url, w, TPID_OK, pem, strlen(pem), now, ttl),
			w);
	assert_null(w->next);
}

static void test_new_bad_args(void **state)
{
	tpid_cache_ops_t ops;

	(void)state;
	locks_init(&lk);
	ops = locks_ops(&lk);
	assert_null(tpid_certcache_new(NULL, 1, 1, 1, 1));
	assert_null(tpid_certcache_new(&ops, 1, 1, 0, 1));
	assert_null(tpid_certcache_new(&ops, 1, 1, 1, 0));
	ops.alloc = NULL;
	assert_null(tpid_certcache_new(&ops, 1, 1, 1, 1));
	tpid_certcache_destroy(NULL);
	locks_done(&lk);
}

static void test_single_flight(void **state)
{
	tpid_certcache_t *c = new_cc(8, 4, 16);
	tpid_waiter_t w1, w2, w3, *ws[3] = {&w1, &w2, &w3};
	tpid_certcache_view_t v;
	char buf[MAXB + 1];

	(void)state;
	assert_int_equal(lookup(c, URL, T0, NULL, &v), TPID_CERTCACHE_FULL);
	assert_int_equal(tpid_certcache_count(c), 0);
	assert_int_equal(lookup(c, URL, T0, &w1, &v), TPID_CERTCACHE_OWNER);
	assert_int_equal(lookup(c, URL, T0, &w2, &v), TPID_CERTCACHE_JOINED);
	assert_int_equal(lookup(c, URL, T0 + 1, &w3, &v), TPID_CERTCACHE_JOINED);
	assert_int_equal(lookup(c, URL, T0, NULL, &v), TPID_CERTCACHE_FULL);
	assert_int_equal(tpid_certcache_count(c), 1);
	/* another owner's answer is not this fetch's */
	assert_null(tpid_certcache_complete(
			c, URL, &w2, TPID_OK, PEM, strlen(PEM), T0, 60));
	assert_null(tpid_certcache_complete(
			c, URL2, &w1, TPID_OK, PEM, strlen(PEM), T0, 60));
	assert_list(tpid_certcache_complete(
						c, URL, &w1, TPID_OK, PEM, strlen(PEM), T0 + 1, 60),
			ws, 3);
	/* bytes into the caller's buffer when they fit */
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(tpid_certcache_lookup(
							 c, URL, T0 + 2, 0, NULL, &v, buf, sizeof(buf)),
			TPID_CERTCACHE_HIT_GOOD);
	assert_int_equal(v.state, TPID_CERTCACHE_GOOD);
	assert_int_equal(v.reason, TPID_OK);
	assert_int_equal(v.len, strlen(PEM));
	assert_true(v.copied);
	assert_string_equal(buf, PEM);
	assert_true(v.generation != 0);
	assert_int_equal(v.expires, T0 + 61);
	assert_int_equal(v.created, T0);
	assert_string_equal(v.url, URL);
	assert_int_equal(
			tpid_certcache_lookup(c, URL, T0, 0, NULL, &v, buf, strlen(PEM)),
			TPID_CERTCACHE_HIT_GOOD); /* no room for the NUL */
	assert_false(v.copied);
	assert_int_equal(lookup(c, URL, T0, &w1, &v), TPID_CERTCACHE_HIT_GOOD);
	assert_false(v.copied);
	assert_int_equal(v.hits, 3);
	assert_int_equal(
			tpid_certcache_lookup(c, URL, T0, 0, NULL, NULL, buf, sizeof(buf)),
			TPID_CERTCACHE_HIT_GOOD);
	/* the URL is exact */
	assert_int_equal(lookup(c, URL "x", T0, NULL, &v), TPID_CERTCACHE_FULL);
	assert_int_equal(lookup(c, "HTTPS://cert.example.net/a.pem", T0, NULL, &v),
			TPID_CERTCACHE_FULL);
	end_cc(c);
}

static void test_bad_cached(void **state)
{
	tpid_certcache_t *c = new_cc(8, 4, 16);
	tpid_waiter_t w1, w2;
	tpid_certcache_view_t v;

	(void)state;
	assert_int_equal(lookup(c, URL, T0, &w1, &v), TPID_CERTCACHE_OWNER);
	assert_ptr_equal(tpid_certcache_complete(
							 c, URL, &w1, TPID_R_CERT_FETCH, NULL, 0, T0, 5),
			&w1);
	assert_int_equal(lookup(c, URL, T0 + 4, &w2, &v), TPID_CERTCACHE_HIT_BAD);
	assert_int_equal(v.state, TPID_CERTCACHE_BAD);
	assert_int_equal(v.reason, TPID_R_CERT_FETCH);
	assert_int_equal(v.len, 0);
	assert_false(v.copied);
	/* expired: fetched again */
	assert_int_equal(lookup(c, URL, T0 + 5, &w2, &v), TPID_CERTCACHE_OWNER);
	assert_ptr_equal(tpid_certcache_complete(c, URL, &w2, TPID_R_CERT_INVALID,
							 PEM, strlen(PEM), T0 + 5, 5),
			&w2);
	assert_int_equal(lookup(c, URL, T0 + 6, NULL, &v), TPID_CERTCACHE_HIT_BAD);
	assert_int_equal(v.reason, TPID_R_CERT_INVALID);
	assert_int_equal(v.len, 0);
	end_cc(c);
}

/* OK without usable bytes is a failure; ttl <= 0 caches nothing. */
static void test_complete_edges(void **state)
{
	static char big[MAXB + 1];
	static const struct
	{
		const char *bytes;
		size_t len;
		int ttl;
		int rc, reason;
	} cases[] = {
			{PEM, sizeof(PEM) - 1, 60, TPID_CERTCACHE_HIT_GOOD, TPID_OK},
			{PEM, 1, 60, TPID_CERTCACHE_HIT_GOOD, TPID_OK},
			{NULL, 0, 60, TPID_CERTCACHE_HIT_BAD, TPID_R_CERT_FETCH},
			{PEM, 0, 60, TPID_CERTCACHE_HIT_BAD, TPID_R_CERT_FETCH},
			{big, MAXB, 60, TPID_CERTCACHE_HIT_GOOD, TPID_OK},
			{big, MAXB + 1, 60, TPID_CERTCACHE_HIT_BAD, TPID_R_CERT_FETCH},
			{PEM, sizeof(PEM) - 1, 0, TPID_CERTCACHE_FULL, 0},
			{PEM, sizeof(PEM) - 1, -5, TPID_CERTCACHE_FULL, 0},
			{NULL, 0, 0, TPID_CERTCACHE_FULL, 0},
	};
	tpid_certcache_t *c = new_cc(4, 2, 16);
	tpid_certcache_view_t v;
	tpid_waiter_t w;
	size_t i;

	(void)state;
	memset(big, 'A', sizeof(big));
	for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		tpid_certcache_flush(c, NULL);
		assert_int_equal(lookup(c, URL, T0, &w, &v), TPID_CERTCACHE_OWNER);
		assert_ptr_equal(
				tpid_certcache_complete(c, URL, &w, TPID_OK, cases[i].bytes,
						cases[i].len, T0, cases[i].ttl),
				&w);
		if(lookup(c, URL, T0, NULL, &v) != cases[i].rc
				|| (cases[i].rc != TPID_CERTCACHE_FULL
						&& v.reason != cases[i].reason))
			fail_msg("case %zu\n", i);
	}
	end_cc(c);
}

/* An unchanged refetch keeps the generation, changed bytes get a new one,
 * other URLs never share one. */
static void test_generation(void **state)
{
	tpid_certcache_t *c = new_cc(8, 4, 16);
	tpid_certcache_view_t v;
	tpid_waiter_t w;
	uint64_t g1, g2, g3;
	char buf[MAXB];

	(void)state;
	assert_int_equal(lookup(c, URL, T0, &w, &v), TPID_CERTCACHE_OWNER);
	fetched(c, URL, &w, PEM, T0, 10);
	assert_int_equal(lookup(c, URL, T0, NULL, &v), TPID_CERTCACHE_HIT_GOOD);
	g1 = v.generation;
	assert_int_equal(lookup(c, URL2, T0, &w, &v), TPID_CERTCACHE_OWNER);
	fetched(c, URL2, &w, PEM, T0, 10);
	assert_int_equal(lookup(c, URL2, T0, NULL, &v), TPID_CERTCACHE_HIT_GOOD);
	assert_true(v.generation != g1);
	/* expired: the same entry is fetched again, its bytes kept meanwhile */
	assert_int_equal(lookup(c, URL, T0 + 10, &w, &v), TPID_CERTCACHE_OWNER);
	assert_int_equal(tpid_certcache_count(c), 2);
	fetched(c, URL, &w, PEM, T0 + 10, 10);
	assert_int_equal(
			lookup(c, URL, T0 + 11, NULL, &v), TPID_CERTCACHE_HIT_GOOD);
	assert_int_equal(v.generation, g1);
	assert_int_equal(lookup(c, URL, T0 + 20, &w, &v), TPID_CERTCACHE_OWNER);
	fetched(c, URL, &w, PEM2, T0 + 20, 10);
	assert_int_equal(tpid_certcache_lookup(
							 c, URL, T0 + 21, 0, NULL, &v, buf, sizeof(buf)),
			TPID_CERTCACHE_HIT_GOOD);
	g2 = v.generation;
	assert_true(g2 != g1 && g2 != 0);
	assert_string_equal(buf, PEM2);
	/* a failure in between: the next good answer is new again */
	assert_int_equal(lookup(c, URL, T0 + 30, &w, &v), TPID_CERTCACHE_OWNER);
	assert_non_null(tpid_certcache_complete(
			c, URL, &w, TPID_R_CERT_FETCH, NULL, 0, T0 + 30, 1));
	assert_int_equal(lookup(c, URL, T0 + 31, &w, &v), TPID_CERTCACHE_OWNER);
	fetched(c, URL, &w, PEM2, T0 + 31, 10);
	assert_int_equal(
			lookup(c, URL, T0 + 31, NULL, &v), TPID_CERTCACHE_HIT_GOOD);
	g3 = v.generation;
	assert_true(g3 != g2 && g3 != g1);
	end_cc(c);
}

static void test_expire_pending(void **state)
{
	tpid_certcache_t *c = new_cc(8, 4, 16);
	tpid_waiter_t w1, w2, w3, w4, *ws[2] = {&w1, &w2};
	tpid_certcache_view_t v;
	tpid_waiter_t *l;
	int n = -1;

	(void)state;
	memset(&v, 0, sizeof(v));
	assert_int_equal(
			tpid_certcache_lookup(c, URL, T0, T0 + 5, &w1, &v, NULL, 0),
			TPID_CERTCACHE_OWNER);
	assert_int_equal(v.state, 0); /* untouched: the view is for hits */
	assert_int_equal(
			tpid_certcache_lookup(c, URL, T0, T0 + 99, &w2, NULL, NULL, 0),
			TPID_CERTCACHE_JOINED);
	/* deadline 0: never given up */
	assert_int_equal(lookup(c, URL2, T0, &w3, NULL), TPID_CERTCACHE_OWNER);
	assert_null(tpid_certcache_expire_pending(c, T0 + 4, &n));
	assert_int_equal(n, 0);
	l = tpid_certcache_expire_pending(c, T0 + 5, &n);
	assert_int_equal(n, 1);
	assert_list(l, ws, 2);
	assert_int_equal(tpid_certcache_count(c), 1);
	/* the late answer finds nothing; the URL is free for a new fetch */
	assert_null(tpid_certcache_complete(
			c, URL, &w1, TPID_OK, PEM, strlen(PEM), T0 + 6, 60));
	assert_int_equal(lookup(c, URL, T0 + 6, NULL, &v), TPID_CERTCACHE_FULL);
	assert_int_equal(lookup(c, URL, T0 + 6, &w4, &v), TPID_CERTCACHE_OWNER);
	assert_null(tpid_certcache_expire_pending(c, INT64_MAX, NULL));
	assert_ptr_equal(tpid_certcache_complete(
							 c, URL2, &w3, TPID_OK, PEM, strlen(PEM), T0, 60),
			&w3);
	end_cc(c);
}

static void test_flush(void **state)
{
	tpid_certcache_t *c = new_cc(8, 4, 16);
	tpid_waiter_t w1, w2, w3, *ws[2] = {&w1, &w2};
	tpid_certcache_view_t v;

	(void)state;
	assert_int_equal(lookup(c, URL, T0, &w1, &v), TPID_CERTCACHE_OWNER);
	fetched(c, URL, &w1, PEM, T0, 60);
	assert_int_equal(tpid_certcache_flush(c, URL2), 0);
	assert_int_equal(tpid_certcache_flush(c, URL), 1);
	assert_int_equal(tpid_certcache_count(c), 0);
	/* flushed while PENDING: the fetch reaches its waiters, not the cache;
	 * meanwhile a new fetch may start */
	assert_int_equal(lookup(c, URL, T0, &w1, &v), TPID_CERTCACHE_OWNER);
	assert_int_equal(lookup(c, URL, T0, &w2, &v), TPID_CERTCACHE_JOINED);
	assert_int_equal(tpid_certcache_flush(c, NULL), 1);
	assert_int_equal(tpid_certcache_flush(c, NULL), 0); /* once */
	assert_int_equal(lookup(c, URL, T0, &w3, &v), TPID_CERTCACHE_OWNER);
	assert_int_equal(tpid_certcache_count(c), 2);
	assert_list(tpid_certcache_complete(
						c, URL, &w1, TPID_OK, PEM, strlen(PEM), T0, 60),
			ws, 2);
	assert_int_equal(tpid_certcache_count(c), 1);
	assert_int_equal(lookup(c, URL, T0, NULL, &v), TPID_CERTCACHE_FULL);
	fetched(c, URL, &w3, PEM2, T0, 60);
	assert_int_equal(lookup(c, URL, T0, NULL, &v), TPID_CERTCACHE_HIT_GOOD);
	end_cc(c);
}

typedef struct seen
{
	int n, pending, good, bad;
	size_t bytes;
	int stop_after;
} seen_t;

static int walk_fn(const tpid_certcache_view_t *v, void *arg)
{
	seen_t *s = arg;

	s->n++;
	s->pending += v->state == TPID_CERTCACHE_PENDING;
	s->good += v->state == TPID_CERTCACHE_GOOD;
	s->bad += v->state == TPID_CERTCACHE_BAD;
	s->bytes += v->len;
	return s->stop_after > 0 && s->n >= s->stop_after;
}

static void test_walk_purge(void **state)
{
	tpid_certcache_t *c = new_cc(8, 4, 16);
	tpid_waiter_t w1, w2, w3;
	tpid_certcache_view_t v;
	seen_t s;

	(void)state;
	assert_int_equal(lookup(c, URL, T0, &w1, &v), TPID_CERTCACHE_OWNER);
	fetched(c, URL, &w1, PEM, T0, 60);
	assert_int_equal(lookup(c, URL2, T0, &w2, &v), TPID_CERTCACHE_OWNER);
	assert_non_null(tpid_certcache_complete(
			c, URL2, &w2, TPID_R_CERT_FETCH, NULL, 0, T0, 10));
	assert_int_equal(lookup(c, URL "3", T0, &w3, &v), TPID_CERTCACHE_OWNER);
	memset(&s, 0, sizeof(s));
	assert_int_equal(tpid_certcache_walk(c, T0, walk_fn, &s), 3);
	assert_int_equal(s.good + s.bad * 10 + s.pending * 100, 111);
	assert_int_equal(s.bytes, strlen(PEM));
	memset(&s, 0, sizeof(s));
	s.stop_after = 2;
	assert_int_equal(tpid_certcache_walk(c, T0, walk_fn, &s), 2);
	/* expired entries are not listed, then purged; PENDING stays */
	memset(&s, 0, sizeof(s));
	assert_int_equal(tpid_certcache_walk(c, T0 + 10, walk_fn, &s), 2);
	assert_int_equal(tpid_certcache_purge(c, T0 + 9), 0);
	assert_int_equal(tpid_certcache_purge(c, T0 + 10), 1);
	assert_int_equal(tpid_certcache_purge(c, T0 + 1000), 1);
	assert_int_equal(tpid_certcache_count(c), 1);
	assert_ptr_equal(
			tpid_certcache_complete(c, URL "3", &w3, TPID_OK, PEM, 3, T0, 60),
			&w3);
	end_cc(c);
}

/* One bucket: the cache evicts expired, then soonest-expiring entries;
 * PENDING ones never. */
static void test_bounds(void **state)
{
	tpid_certcache_t *c = new_cc(1, 1, 2);
	tpid_waiter_t w[5];
	tpid_certcache_view_t v;

	(void)state;
	assert_int_equal(
			lookup(c, "https://a/1", T0, &w[0], &v), TPID_CERTCACHE_OWNER);
	fetched(c, "https://a/1", &w[0], PEM, T0, 100);
	assert_int_equal(
			lookup(c, "https://a/2", T0, &w[1], &v), TPID_CERTCACHE_OWNER);
	fetched(c, "https://a/2", &w[1], PEM, T0, 50);
	assert_int_equal(
			lookup(c, "https://a/3", T0, &w[2], &v), TPID_CERTCACHE_OWNER);
	assert_int_equal(tpid_certcache_count(c), 2);
	assert_int_equal(lookup(c, "https://a/2", T0, NULL, &v),
			TPID_CERTCACHE_FULL); /* the soonest went */
	assert_int_equal(
			lookup(c, "https://a/1", T0, NULL, &v), TPID_CERTCACHE_HIT_GOOD);
	/* an expired one goes before a sooner-expiring live one */
	fetched(c, "https://a/3", &w[2], PEM, T0, 10);
	assert_int_equal(lookup(c, "https://a/4", T0 + 100, &w[3], &v),
			TPID_CERTCACHE_OWNER);
	assert_int_equal(
			lookup(c, "https://a/3", T0 + 5, NULL, &v), TPID_CERTCACHE_FULL);
	/* all PENDING: no room */
	assert_int_equal(lookup(c, "https://a/1", T0 + 100, &w[0], &v),
			TPID_CERTCACHE_OWNER);
	assert_int_equal(
			lookup(c, "https://a/5", T0 + 100, &w[4], &v), TPID_CERTCACHE_FULL);
	assert_int_equal(tpid_certcache_count(c), 2);
	assert_non_null(tpid_certcache_complete(
			c, "https://a/1", &w[0], TPID_OK, PEM, 4, T0, 60));
	assert_non_null(tpid_certcache_complete(
			c, "https://a/4", &w[3], TPID_OK, PEM, 4, T0, 60));
	end_cc(c);
}

static void test_hostile_urls(void **state)
{
	tpid_certcache_t *c = new_cc(8, 4, 16);
	char url[TPID_MAX_URI + 16];
	tpid_waiter_t w;
	tpid_certcache_view_t v;

	(void)state;
	assert_int_equal(lookup(c, NULL, T0, &w, &v), TPID_CERTCACHE_FULL);
	assert_int_equal(lookup(c, "", T0, &w, &v), TPID_CERTCACHE_FULL);
	memset(url, 'a', sizeof(url));
	url[TPID_MAX_URI] = '\0';
	assert_int_equal(lookup(c, url, T0, &w, &v), TPID_CERTCACHE_FULL);
	assert_null(tpid_certcache_complete(c, url, &w, TPID_OK, PEM, 4, T0, 60));
	url[sizeof(url) - 1] = 'a'; /* no NUL within reach of the bound */
	url[TPID_MAX_URI] = 'a';
	url[TPID_MAX_URI + 8] = '\0';
	assert_int_equal(lookup(c, url, T0, &w, &v), TPID_CERTCACHE_FULL);
	assert_int_equal(tpid_certcache_count(c), 0);
	url[TPID_MAX_URI - 1] = '\0'; /* the longest that fits */
	assert_int_equal(lookup(c, url, T0, &w, &v), TPID_CERTCACHE_OWNER);
	fetched(c, url, &w, "\x01\x80\n\"", T0, 60);
	assert_int_equal(lookup(c, url, T0, NULL, &v), TPID_CERTCACHE_HIT_GOOD);
	assert_string_equal(v.url, url);
	assert_int_equal(v.len, 4);
	end_cc(c);
}

/* ---- concurrent use ------------------------------------------------------ */

#define NITER 3000
#define NKEYS 16

static int64_t cclock; /* atomic: op counter, the clock */

static void ckey(int k, char *url)
{
	snprintf(url, TPID_MAX_URI, "https://cert%d.example/k.pem", k);
}

/* The oldest fetch of this thread ends: the bytes are the URL, so that a
 * hit can tell it got its own. */
static void cthread_complete(st_thread_t *t)
{
	char url[TPID_MAX_URI];
	st_waiter_t *o = t->owned[t->first++];
	int64_t now = __atomic_load_n(&cclock, __ATOMIC_RELAXED) / 256;
	int ttl = (int)(rand_r(&t->seed) % 4) - 1; /* -1 .. 2 */

	ckey(o->key, url);
	/* may be empty: the deadline handed the waiters back already */
	st_returned(t,
			tpid_certcache_complete(t->c, url, &o->link,
					ttl % 2 ? TPID_OK : TPID_R_CERT_FETCH, url, strlen(url),
					now, ttl),
			o, 1);
}

static void cthread_check_hit(st_thread_t *t, int rc,
		const tpid_certcache_view_t *v, const char *buf, const char *url)
{
	if(rc == TPID_CERTCACHE_HIT_GOOD
			&& (!v->copied || strcmp(buf, url) != 0
					|| strcmp(v->url, url) != 0))
		t->errors++;
	if(rc == TPID_CERTCACHE_HIT_BAD && v->reason != TPID_R_CERT_FETCH)
		t->errors++;
}

/* Now and then: flush, give up late fetches, purge. */
static void cthread_chores(st_thread_t *t, int i, const char *url, int64_t now)
{
	if(t->idx == 0 && i % 97 == 0)
		tpid_certcache_flush(t->c, url);
	if(t->idx == 1 && i % 53 == 0)
		st_returned(
				t, tpid_certcache_expire_pending(t->c, now - 4, NULL), NULL, 1);
	if(t->idx == 2 && i % 61 == 0)
		tpid_certcache_purge(t->c, now);
}

static void *cthread_run(void *arg)
{
	char url[TPID_MAX_URI], buf[TPID_MAX_URI];
	st_thread_t *t = arg;
	tpid_certcache_view_t v;
	int i, rc;
	int64_t now;

	for(i = 0; i < t->niter; i++) {
		t->pool[i].key = (int)(rand_r(&t->seed) % NKEYS);
		ckey(t->pool[i].key, url);
		now = __atomic_fetch_add(&cclock, 1, __ATOMIC_RELAXED) / 256;
		rc = tpid_certcache_lookup(t->c, url, now, now + 4, &t->pool[i].link,
				&v, buf, sizeof(buf));
		st_note(t, i, rc, TPID_CERTCACHE_OWNER, TPID_CERTCACHE_JOINED,
				TPID_CERTCACHE_FULL);
		cthread_check_hit(t, rc, &v, buf, url);
		st_settle(t, 2, cthread_complete);
		cthread_chores(t, i, url, now);
	}
	st_settle(t, 0, cthread_complete);
	return NULL;
}

static void test_concurrent(void **state)
{
	tpid_certcache_t *c = new_cc(8, 4, 12); /* 12 < 16 keys: FULL happens */
	static st_thread_t th[ST_NTHREADS];
	seen_t s;

	(void)state;
	st_run(th, c, NITER, cthread_run);
	assert_true(th[0].counts[TPID_CERTCACHE_HIT_GOOD] > 0);
	assert_true(th[0].counts[TPID_CERTCACHE_HIT_BAD] > 0);
	st_check(th, TPID_CERTCACHE_OWNER, TPID_CERTCACHE_JOINED);
	/* all answered: no pending entry is left */
	memset(&s, 0, sizeof(s));
	tpid_certcache_walk(c, 0, walk_fn, &s);
	assert_int_equal(s.pending, 0);
	assert_true((int)tpid_certcache_count(c) == s.n);
	assert_true(tpid_certcache_count(c) <= 12);
	end_cc(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_new_bad_args),
			cmocka_unit_test(test_single_flight),
			cmocka_unit_test(test_bad_cached),
			cmocka_unit_test(test_complete_edges),
			cmocka_unit_test(test_generation),
			cmocka_unit_test(test_expire_pending),
			cmocka_unit_test(test_flush),
			cmocka_unit_test(test_walk_purge),
			cmocka_unit_test(test_bounds),
			cmocka_unit_test(test_hostile_urls),
			cmocka_unit_test(test_concurrent),
	};
	return cmocka_run_group_tests_name("tpid_certcache", tests, NULL, NULL);
}
