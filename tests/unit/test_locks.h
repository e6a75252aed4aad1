/*
 * tpid_assert unit tests - the memory and locks the caches take from their
 * caller (tpid_cache_ops_t): malloc and error-checking pthread mutexes; and
 * a check of their waiter lists.
 * Include after cmocka.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_TEST_LOCKS_H
#define TPID_TEST_LOCKS_H

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "tpid_cache.h"

/* ---- injected memory and locks ------------------------------------------ */

#define NLOCKS 16

/* Error-checking mutexes: a stripe locked twice or unlocked by a thread
 * that does not hold it is counted, not a deadlock. */
typedef struct locks
{
	pthread_mutex_t mu[NLOCKS];
	unsigned int max_stripe;
	int errors; /* atomic */
	long taken; /* atomic */
} locks_t;

static inline void *t_alloc(size_t size)
{
	return malloc(size);
}

static inline void t_free(void *p)
{
	free(p);
}

static inline void t_lock(void *ctx, unsigned int stripe)
{
	locks_t *l = ctx;

	if(stripe >= NLOCKS || pthread_mutex_lock(&l->mu[stripe]) != 0) {
		__atomic_add_fetch(&l->errors, 1, __ATOMIC_RELAXED);
		return;
	}
	if(stripe > __atomic_load_n(&l->max_stripe, __ATOMIC_RELAXED))
		__atomic_store_n(&l->max_stripe, stripe, __ATOMIC_RELAXED);
	__atomic_add_fetch(&l->taken, 1, __ATOMIC_RELAXED);
}

static inline void t_unlock(void *ctx, unsigned int stripe)
{
	locks_t *l = ctx;

	if(stripe >= NLOCKS || pthread_mutex_unlock(&l->mu[stripe]) != 0)
		__atomic_add_fetch(&l->errors, 1, __ATOMIC_RELAXED);
}

static inline void locks_init(locks_t *l)
{
	pthread_mutexattr_t a;
	int i;

	memset(l, 0, sizeof(*l));
	assert_int_equal(pthread_mutexattr_init(&a), 0);
	assert_int_equal(
			pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK), 0);
	for(i = 0; i < NLOCKS; i++)
		assert_int_equal(pthread_mutex_init(&l->mu[i], &a), 0);
	pthread_mutexattr_destroy(&a);
}

/* Every stripe must be free again: trylock succeeds. */
static inline void locks_done(locks_t *l)
{
	int i;

	assert_int_equal(l->errors, 0);
	for(i = 0; i < NLOCKS; i++) {
		assert_int_equal(pthread_mutex_trylock(&l->mu[i]), 0);
		pthread_mutex_unlock(&l->mu[i]);
		pthread_mutex_destroy(&l->mu[i]);
	}
}

/* ops over l */
static inline tpid_cache_ops_t locks_ops(locks_t *l)
{
	tpid_cache_ops_t ops;

	ops.alloc = t_alloc;
	ops.free = t_free;
	ops.lock = t_lock;
	ops.unlock = t_unlock;
	ops.ctx = l;
	return ops;
}

/* The waiter list l must be exactly ws[0..n-1], in order. */
static inline void assert_list(tpid_waiter_t *l, tpid_waiter_t **ws, int n)
{
	int i;

	for(i = 0; i < n; i++) {
		assert_ptr_equal(l, ws[i]);
		l = l->next;
	}
	assert_null(l);
}

#endif
