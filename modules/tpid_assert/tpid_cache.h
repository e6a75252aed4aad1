/*
 * tpid_assert - the enterprise decision cache, with single-flight misses.
 *
 * Keyed by (served user, third-party ID). An entry is either DONE (an
 * answer with an expiry) or PENDING (a query is out; later askers join its
 * waiter list instead of asking again, until the query's deadline). Buckets
 * are guarded by a striped set of locks (tpid_table.h); the total number of
 * entries is bounded, expired and then soonest-expiring answers are evicted
 * first.
 *
 * Plain C: memory and locks come from the caller (Kamailio shared memory and
 * gen_lock_set in the module, malloc and pthread mutexes in the tests), so
 * the logic is tested without Kamailio.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_CACHE_H
#define TPID_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "tpid_enterprise.h"
#include "tpid_passport.h"
#include "tpid_table.h"

#define TPID_CACHE_MAX_VALUE 512 /* bytes of an entry's value, NUL included */

typedef enum tpid_cache_state
{
	TPID_CACHE_PENDING = 1,
	TPID_CACHE_DONE = 2
} tpid_cache_state_t;

/* A copy of an entry as handed out (never a pointer into the cache). */
typedef struct tpid_cache_view
{
	int state;
	int reason; /* TPID_OK (authorized), TPID_R_DENIED, TPID_R_UNKNOWN_ID */
	int64_t expires;
	int64_t created;
	unsigned int hits;
	char served[TPID_MAX_URI];
	char id[TPID_MAX_URI];
	char domain[TPID_MAX_DOMAIN];
	/* what the answer carries besides its result: the enterprise's display
	 * name, or the avatar repository's representation (tpid_bar.h) */
	char value[TPID_CACHE_MAX_VALUE];
} tpid_cache_view_t;

typedef struct tpid_cache tpid_cache_t;

/* nbuckets and nstripes are rounded to powers of two; max_entries >= 1. */
tpid_cache_t *tpid_cache_new(const tpid_cache_ops_t *ops, unsigned int nbuckets,
		unsigned int nstripes, unsigned int max_entries);
void tpid_cache_destroy(tpid_cache_t *c);

/* Answers with less than seconds left are stale: a lookup drops them (so
 * that the next asker refreshes it, joined by the others) instead of
 * handing them out. Set before the cache is shared. */
void tpid_cache_set_min_life(tpid_cache_t *c, int seconds);

typedef enum tpid_cache_lookup
{
	TPID_CACHE_HIT = 1,	   /* *view filled with a DONE answer */
	TPID_CACHE_JOINED = 2, /* a query is out: w was added to its waiters */
	TPID_CACHE_OWNER = 3,  /* new PENDING entry with w: send the query */
	TPID_CACHE_FULL = 4	   /* no room: query without caching, w not kept */
} tpid_cache_lookup_t;

/* Looks up (served, id) at time now. With w == NULL a miss is just a miss
 * (returns TPID_CACHE_FULL and stores nothing). A PENDING entry made here
 * is given up at deadline (0: never): see tpid_cache_purge(). */
int tpid_cache_lookup(tpid_cache_t *c, const char *served, const char *id,
		const char *domain, int64_t now, int64_t deadline, tpid_waiter_t *w,
		tpid_cache_view_t *view);

/* Records the answer for the PENDING entry that the lookup returning
 * TPID_CACHE_OWNER created with waiter owner (only compared, never
 * dereferenced: a revoked entry and a fresh one may both be pending for one
 * key) and returns its waiters (the entry's list, detached, in arrival
 * order, owner first). With ttl > 0 the entry becomes DONE until now + ttl;
 * with ttl <= 0 (a failure, or "do not cache") it is removed. An entry
 * revoked while pending is removed, never stored. NULL if there is none. */
tpid_waiter_t *tpid_cache_complete(tpid_cache_t *c, const char *served,
		const char *id, const tpid_waiter_t *owner, int reason,
		const char *value, int64_t now, int ttl);

/* Eviction (revocation). A NULL criterion matches everything; entries
 * must match all given criteria. PENDING entries are marked revoked (their
 * answer will reach the waiters but not the cache). Returns how many. */
int tpid_cache_evict(tpid_cache_t *c, const char *served, const char *id,
		const char *domain);

/* Calls fn for a copy of every entry (DONE entries expired before now are
 * skipped). fn returns non-zero to stop. Returns how many were visited. */
int tpid_cache_walk(tpid_cache_t *c, int64_t now,
		int (*fn)(const tpid_cache_view_t *v, void *arg), void *arg);

/* Drops every answer expired at now (a timer runs this, so that buckets
 * nobody looks up do not hold the count up). With late, PENDING entries
 * whose deadline is <= now go too and *late gets all their waiters (in
 * arrival order per entry; NULL if none): the caller hands them back. A
 * late tpid_cache_complete() for such an entry then finds nothing and
 * returns NULL. Returns how many entries went. */
int tpid_cache_purge(tpid_cache_t *c, int64_t now, tpid_waiter_t **late);

/* Number of entries (PENDING and DONE) at this moment. */
unsigned int tpid_cache_count(const tpid_cache_t *c);

#endif
