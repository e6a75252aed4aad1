/*
 * tpid_assert - Kamailio glue: shared memory and lock sets for the plain-C
 * shared structures (decision cache, replay cache, certificate cache).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_ASSERT_SHM_H
#define TPID_ASSERT_SHM_H

#include "tpid_cache.h"

/* Fills ops with shm_malloc/shm_free and a new lock set of nlocks locks
 * (stripe i is lock i). At mod_init. 0 or -1. */
int tpid_shm_ops_new(unsigned int nlocks, tpid_cache_ops_t *ops);

/* Releases the lock set of ops (at mod_destroy). */
void tpid_shm_ops_destroy(tpid_cache_ops_t *ops);

#endif
