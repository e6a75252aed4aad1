/*
 * tpid_assert unit tests - a stress harness for the single-flight caches:
 * threads look keys up with their own waiters, complete what they own a
 * little later, and every waiter a lookup kept must come back exactly
 * once. Include after cmocka.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_TEST_THREADS_H
#define TPID_TEST_THREADS_H

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tpid_table.h"

#define ST_NTHREADS 4
#define ST_NITER_MAX 4000

typedef struct st_waiter
{
	tpid_waiter_t link; /* first: the lists hand back &link */
	int kept;			/* the lookup kept it (OWNER or JOINED) */
	int returned;		/* atomic: how many times it was handed back */
	int key;
} st_waiter_t;

typedef struct st_thread
{
	void *c; /* the cache */
	int idx;
	unsigned int seed;
	int errors;
	int niter;
	st_waiter_t *pool; /* niter waiters of this thread */
	st_waiter_t *owned[ST_NITER_MAX];
	int nowned, first;
	int counts[8]; /* by lookup result */
} st_thread_t;

/* Counts every member of l as handed back. With o: l is o's fetch, so it
 * starts with o (unless empty and may_be_empty) and holds o's key only. */
static inline void st_returned(st_thread_t *t, tpid_waiter_t *l,
		const st_waiter_t *o, int may_be_empty)
{
	if(o != NULL && l != &o->link && !(l == NULL && may_be_empty))
		t->errors++;
	for(; l != NULL; l = l->next) {
		if(o != NULL && ((st_waiter_t *)l)->key != o->key)
			t->errors++;
		__atomic_add_fetch(&((st_waiter_t *)l)->returned, 1, __ATOMIC_RELAXED);
	}
}

/* Records the result rc of the lookup of pool[i]; valid results are
 * 1..last (last < 8). */
static inline void st_note(
		st_thread_t *t, int i, int rc, int owner, int joined, int last)
{
	if(rc < 1 || rc > last) {
		t->errors++;
		return;
	}
	t->counts[rc]++;
	t->pool[i].kept = rc == owner || rc == joined;
	if(rc == owner)
		t->owned[t->nowned++] = &t->pool[i];
}

/* Completes t's oldest fetches with complete() until at most keep are
 * out (answers come back a little later, so that others join). */
static inline void st_settle(
		st_thread_t *t, int keep, void (*complete)(st_thread_t *t))
{
	while(t->nowned - t->first > keep)
		complete(t);
}

/* Runs fn on ST_NTHREADS threads over cache c, niter lookups each. */
static inline void st_run(
		st_thread_t *th, void *c, int niter, void *(*fn)(void *))
{
	pthread_t tid[ST_NTHREADS];
	int i;

	assert_true(niter <= ST_NITER_MAX);
	for(i = 0; i < ST_NTHREADS; i++) {
		memset(&th[i], 0, sizeof(th[i]));
		th[i].c = c;
		th[i].idx = i;
		th[i].seed = 1234u + (unsigned int)i;
		th[i].niter = niter;
		th[i].pool = calloc((size_t)niter, sizeof(st_waiter_t));
		assert_non_null(th[i].pool);
	}
	for(i = 0; i < ST_NTHREADS; i++)
		assert_int_equal(pthread_create(&tid[i], NULL, fn, &th[i]), 0);
	for(i = 0; i < ST_NTHREADS; i++)
		assert_int_equal(pthread_join(tid[i], NULL), 0);
}

/* No thread saw an error; every kept waiter came back exactly once, no
 * other ever; the single flight was exercised. Frees the pools. */
static inline void st_check(st_thread_t *th, int owner, int joined)
{
	int i, j, kept = 0, owners = 0, joiners = 0;

	for(i = 0; i < ST_NTHREADS; i++) {
		assert_int_equal(th[i].errors, 0);
		owners += th[i].counts[owner];
		joiners += th[i].counts[joined];
		for(j = 0; j < th[i].niter; j++) {
			assert_int_equal(th[i].pool[j].returned, th[i].pool[j].kept);
			kept += th[i].pool[j].kept;
		}
		free(th[i].pool);
	}
	assert_int_equal(kept, owners + joiners);
	assert_true(owners > 0);
	assert_true(joiners > 0);
}

#endif
