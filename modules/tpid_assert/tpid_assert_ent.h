/*
 * tpid_assert - Kamailio glue: the shared enterprise table and the shared
 * decision cache (both in shared memory, read by every process).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_ASSERT_ENT_H
#define TPID_ASSERT_ENT_H

#include <stddef.h>

#include "tpid_cache.h"
#include "tpid_enterprise.h"

/* The decision cache (shared memory). */
extern tpid_cache_t *tpid_cache;

/* Creates the table and the cache (sized by tpid_cfg). At mod_init. */
int tpid_ent_mod_init(void);

/* The enterprise for domain, copied out of the shared table. 0 or -1. */
int tpid_ent_get(const char *domain, tpid_enterprise_t *out);

/* Loads path and, if valid, replaces the shared table; entries of domains
 * that went away or changed are evicted from the cache. 0 or -1 (old table
 * kept) with the reason in err. */
int tpid_ent_reload(const char *path, char *err, size_t errsize);

/* Calls fn for a copy of every enterprise. Returns how many. */
int tpid_ent_walk(void (*fn)(const tpid_enterprise_t *e, void *arg), void *arg);

/* Incremented by every successful reload. */
int tpid_ent_version(void);

#endif
