/*
 * tpid_assert - Kamailio glue: a directory of the services the originating
 * side asks (the enterprises' hooks, the avatar repositories), each with
 * its decision cache; both in shared memory, read by every process.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_ASSERT_DIR_H
#define TPID_ASSERT_DIR_H

#include <stddef.h>

#include "tpid_cache.h"
#include "tpid_enterprise.h"

/* Seconds a cached decision must still have to be used (a token signed
 * from it expires with it). */
#define TPID_DIR_MIN_LIFE 3

/* Up to this many cached decisions are freed at exit, more are left to the
 * shared memory (see tpid_dir_destroy()). */
#define TPID_DIR_FREE_MAX 10000

typedef struct tpid_dir_shared tpid_dir_shared_t;

typedef struct tpid_dir
{
	const char *what;	  /* for messages: "enterprise", "avatar repository" */
	const char *file_key; /* top-level key of its file */
	int wildcard;		  /* 1: a "*" entry answers for unlisted domains */
	tpid_cache_t *cache;  /* its decisions (shared memory) */
	tpid_cache_ops_t ops; /* the cache's allocator and lock set */
	tpid_dir_shared_t *sh;
} tpid_dir_t;

/* The enterprises (enterprise_file) and the avatar repositories
 * (bar_file). */
extern tpid_dir_t tpid_ents;
extern tpid_dir_t tpid_bars;

/* Creates d's table and a cache of cache_size entries (cache_locks
 * stripes, a power of two). At mod_init. 0 or -1. */
int tpid_dir_init(tpid_dir_t *d, int cache_size, int cache_locks);

/* At exit (module destroy): releases the cache (unless it holds more than
 * TPID_DIR_FREE_MAX entries), its locks and the table. */
void tpid_dir_destroy(tpid_dir_t *d);

/* The entry for domain (no case), else the "*" entry of a wildcard
 * directory, copied out of the shared table. 0 or -1. */
int tpid_dir_get(tpid_dir_t *d, const char *domain, tpid_enterprise_t *out);

/* Loads path and, if valid, replaces the shared table; decisions of
 * domains that went away or changed are evicted from the cache. 0 or -1
 * (old table kept) with the reason in err. */
int tpid_dir_reload(tpid_dir_t *d, const char *path, char *err, size_t errsize);

/* Calls fn for a copy of every entry. Returns how many. */
int tpid_dir_walk(tpid_dir_t *d,
		void (*fn)(const tpid_enterprise_t *e, void *arg), void *arg);

/* Incremented by every successful reload. */
int tpid_dir_version(const tpid_dir_t *d);

#endif
