/*
 * tpid_assert - Kamailio glue: shared memory and lock sets for the plain-C
 * shared structures.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "core/dprint.h"
#include "core/locking.h"
#include "core/mem/shm_mem.h"

#include "tpid_assert_shm.h"

static void *tpid_shm_alloc(size_t size)
{
	return shm_malloc(size);
}

static void tpid_shm_free(void *p)
{
	shm_free(p);
}

static void tpid_shm_lock(void *ctx, unsigned int stripe)
{
	gen_lock_set_t *set = ctx;

	lock_set_get(set, stripe);
}

static void tpid_shm_unlock(void *ctx, unsigned int stripe)
{
	gen_lock_set_t *set = ctx;

	lock_set_release(set, stripe);
}

int tpid_shm_ops_new(unsigned int nlocks, tpid_cache_ops_t *ops)
{
	gen_lock_set_t *set = lock_set_alloc(nlocks);

	if(set == NULL || lock_set_init(set) == NULL) {
		LM_ERR("cannot create a set of %u locks\n", nlocks);
		if(set != NULL)
			lock_set_dealloc(set);
		return -1;
	}
	memset(ops, 0, sizeof(*ops));
	ops->alloc = tpid_shm_alloc;
	ops->free = tpid_shm_free;
	ops->lock = tpid_shm_lock;
	ops->unlock = tpid_shm_unlock;
	ops->ctx = set;
	return 0;
}

void tpid_shm_ops_destroy(tpid_cache_ops_t *ops)
{
	gen_lock_set_t *set = ops->ctx;

	if(set != NULL) {
		lock_set_destroy(set);
		lock_set_dealloc(set);
	}
	ops->ctx = NULL;
}
