/*
 * tpid_assert - the shared certificate cache of the terminating side, with
 * single-flight fetches.
 *
 * Keyed by the x5u URL (exact string). An entry is PENDING (a fetch is out
 * until a deadline; later askers join its waiter list), GOOD (the PEM bytes
 * as fetched, an expiry, a generation that changes whenever the bytes do)
 * or BAD (a failure reason until a short expiry, so that a failing x5u is
 * not hammered). At most max_entries entries of at most max_bytes each.
 * Eviction, when a new URL finds the cache full: an entry of the same
 * bucket, expired ones first, else the GOOD or BAD one that expires
 * soonest; PENDING entries are never evicted (their deadline ends them).
 * When the bucket has nothing to evict the new URL is not cached (FULL).
 *
 * Plain C: memory and locks come from the caller as for tpid_cache
 * (tpid_cache_ops_t); only shared memory is referenced from inside.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_CERTCACHE_H
#define TPID_CERTCACHE_H

#include <stddef.h>
#include <stdint.h>

#include "tpid_cache.h"
#include "tpid_passport.h"

typedef enum tpid_certcache_state
{
	TPID_CERTCACHE_PENDING = 1,
	TPID_CERTCACHE_GOOD = 2,
	TPID_CERTCACHE_BAD = 3
} tpid_certcache_state_t;

/* A copy of an entry as handed out (never a pointer into the cache). */
typedef struct tpid_certcache_view
{
	int state;
	int reason;		 /* BAD: why (e.g. TPID_R_CERT_FETCH); else TPID_OK */
	int64_t expires; /* GOOD/BAD: end of validity; PENDING: deadline */
	int64_t created;
	unsigned int hits;
	uint64_t generation; /* GOOD: equal generations, equal bytes (never 0) */
	size_t len;			 /* GOOD: number of bytes */
	int copied;			 /* the bytes were copied to the caller's buffer */
	char url[TPID_MAX_URI];
} tpid_certcache_view_t;

typedef struct tpid_certcache tpid_certcache_t;

/* nbuckets and nstripes are rounded to powers of two; max_entries >= 1;
 * max_bytes >= 1 caps the bytes of one entry. NULL on error. */
tpid_certcache_t *tpid_certcache_new(const tpid_cache_ops_t *ops,
		unsigned int nbuckets, unsigned int nstripes, unsigned int max_entries,
		size_t max_bytes);
void tpid_certcache_destroy(tpid_certcache_t *c);

typedef enum tpid_certcache_lookup
{
	TPID_CERTCACHE_HIT_GOOD = 1, /* *view filled; bytes in buf if they fit */
	TPID_CERTCACHE_HIT_BAD = 2,	 /* *view filled, view->reason says why */
	TPID_CERTCACHE_JOINED = 3,	 /* a fetch is out: w joined its waiters */
	TPID_CERTCACHE_OWNER = 4,	 /* new PENDING entry with w: fetch it */
	TPID_CERTCACHE_FULL = 5		 /* not cached and w not kept (or w NULL) */
} tpid_certcache_lookup_t;

/* Looks up url at time now. On HIT_GOOD the bytes are copied to buf (and
 * NUL-terminated) when bufsize > view->len, and view->copied says so; with
 * buf NULL only the view is filled (compare its generation with a parsed
 * copy kept per process). On a miss, with w, a PENDING entry is made (an
 * expired one is reused, keeping its bytes so that an unchanged refetch
 * keeps its generation), given up at deadline (see
 * tpid_certcache_expire_pending()); with w NULL a miss is FULL. view may
 * be NULL. A url that is NULL, empty or not shorter than TPID_MAX_URI is
 * never cached: FULL. */
int tpid_certcache_lookup(tpid_certcache_t *c, const char *url, int64_t now,
		int64_t deadline, tpid_waiter_t *w, tpid_certcache_view_t *view,
		char *buf, size_t bufsize);

/* Ends the fetch of the PENDING entry that the lookup returning OWNER made
 * with waiter owner (compared, never dereferenced) and returns its waiters
 * (detached, arrival order, owner first; NULL if there is no such entry).
 * reason TPID_OK with 1..max_bytes bytes: GOOD until now + ttl; another
 * reason (or TPID_OK with no bytes or too many: TPID_R_CERT_FETCH): BAD
 * until now + ttl. With ttl <= 0, or if the entry was flushed while
 * pending, the entry goes instead. */
tpid_waiter_t *tpid_certcache_complete(tpid_certcache_t *c, const char *url,
		const tpid_waiter_t *owner, int reason, const char *bytes, size_t len,
		int64_t now, int ttl);

/* Removes the PENDING entries whose deadline is <= now and returns all
 * their waiters (arrival order per entry; NULL if none): the caller resumes
 * them with a failure. A late complete() for them finds nothing. Returns
 * the number of entries removed in *n when n is not NULL. */
tpid_waiter_t *tpid_certcache_expire_pending(
		tpid_certcache_t *c, int64_t now, int *n);

/* Removes url's entry, or every entry with url NULL. PENDING entries are
 * marked flushed: their fetch still reaches the waiters but not the
 * cache. Returns how many. */
int tpid_certcache_flush(tpid_certcache_t *c, const char *url);

/* Calls fn (under a bucket lock: keep it short) for a copy of every entry
 * not expired at now (bytes not copied); fn returns non-zero to stop.
 * Returns how many were visited. */
int tpid_certcache_walk(tpid_certcache_t *c, int64_t now,
		int (*fn)(const tpid_certcache_view_t *v, void *arg), void *arg);

/* Drops every GOOD and BAD entry expired at now (a timer runs this).
 * Returns how many went. */
int tpid_certcache_purge(tpid_certcache_t *c, int64_t now);

/* Number of entries (all states) at this moment. */
unsigned int tpid_certcache_count(const tpid_certcache_t *c);

#endif
