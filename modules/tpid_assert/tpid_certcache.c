/*
 * tpid_assert - the shared certificate cache, with single-flight fetches.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tpid_certcache.h"
#include "tpid_reason.h"

#include <string.h>

typedef struct tpid_certcache_entry
{
	struct tpid_certcache_entry *next;
	unsigned int hash;
	int flushed; /* flushed while PENDING: deliver, do not store */
	char *bytes; /* GOOD (and PENDING after GOOD): shared memory */
	const tpid_waiter_t *owner; /* PENDING: names the entry to complete */
	tpid_waiter_t *waiters;
	tpid_waiter_t **waiters_tail;
	tpid_certcache_view_t v; /* v.expires is the deadline while PENDING */
} tpid_certcache_entry_t;

struct tpid_certcache
{
	tpid_cache_ops_t ops;
	unsigned int nbuckets; /* power of two */
	unsigned int nstripes; /* power of two, <= nbuckets */
	unsigned int max_entries;
	size_t max_bytes;
	unsigned int count;	 /* atomic */
	uint64_t generation; /* atomic: last one given */
	tpid_certcache_entry_t **buckets;
};

tpid_certcache_t *tpid_certcache_new(const tpid_cache_ops_t *ops,
		unsigned int nbuckets, unsigned int nstripes, unsigned int max_entries,
		size_t max_bytes)
{
	tpid_certcache_t *c;

	if(ops == NULL || ops->alloc == NULL || ops->free == NULL
			|| max_entries == 0 || max_bytes == 0)
		return NULL;
	c = ops->alloc(sizeof(*c));
	if(c == NULL)
		return NULL;
	memset(c, 0, sizeof(*c));
	c->ops = *ops;
	c->nbuckets = tpid_cache_pow2(nbuckets ? nbuckets : 1);
	c->nstripes = tpid_cache_pow2(nstripes ? nstripes : 1);
	if(c->nstripes > c->nbuckets)
		c->nstripes = c->nbuckets;
	c->max_entries = max_entries;
	c->max_bytes = max_bytes;
	c->buckets = ops->alloc(c->nbuckets * sizeof(*c->buckets));
	if(c->buckets == NULL) {
		ops->free(c);
		return NULL;
	}
	memset(c->buckets, 0, c->nbuckets * sizeof(*c->buckets));
	return c;
}

static void tpid_certcache_free_entry(
		tpid_certcache_t *c, tpid_certcache_entry_t *e)
{
	if(e->bytes != NULL)
		c->ops.free(e->bytes);
	c->ops.free(e);
}

void tpid_certcache_destroy(tpid_certcache_t *c)
{
	tpid_certcache_entry_t *e, *n;
	unsigned int i;

	if(c == NULL)
		return;
	for(i = 0; i < c->nbuckets; i++) {
		for(e = c->buckets[i]; e; e = n) {
			n = e->next;
			tpid_certcache_free_entry(c, e);
		}
	}
	c->ops.free(c->buckets);
	c->ops.free(c);
}

static void tpid_certcache_lock(tpid_certcache_t *c, unsigned int b)
{
	if(c->ops.lock)
		c->ops.lock(c->ops.ctx, b & (c->nstripes - 1));
}

static void tpid_certcache_unlock(tpid_certcache_t *c, unsigned int b)
{
	if(c->ops.unlock)
		c->ops.unlock(c->ops.ctx, b & (c->nstripes - 1));
}

static void tpid_certcache_unlink(tpid_certcache_t *c,
		tpid_certcache_entry_t **pp, tpid_certcache_entry_t *e)
{
	*pp = e->next;
	__atomic_sub_fetch(&c->count, 1, __ATOMIC_RELAXED);
	tpid_certcache_free_entry(c, e);
}

static int tpid_certcache_expired(const tpid_certcache_entry_t *e, int64_t now)
{
	return e->v.state != TPID_CERTCACHE_PENDING && e->v.expires <= now;
}

/* Makes room from bucket b (lock held): expired first, else the entry that
 * expires soonest; never a PENDING one. 0 if room was made. */
static int tpid_certcache_evict_one(
		tpid_certcache_t *c, unsigned int b, int64_t now)
{
	tpid_certcache_entry_t **pp, **victim = NULL;

	for(pp = &c->buckets[b]; *pp; pp = &(*pp)->next) {
		if((*pp)->v.state == TPID_CERTCACHE_PENDING)
			continue;
		if(tpid_certcache_expired(*pp, now) || victim == NULL
				|| (*pp)->v.expires < (*victim)->v.expires)
			victim = pp;
		if(tpid_certcache_expired(*victim, now))
			break;
	}
	if(victim == NULL)
		return -1;
	tpid_certcache_unlink(c, victim, *victim);
	return 0;
}

static int tpid_certcache_url_ok(const char *url)
{
	return url != NULL && url[0] != '\0'
		   && strnlen(url, TPID_MAX_URI) < TPID_MAX_URI;
}

/* The live (not flushed) entry of url in bucket b, NULL if none. */
static tpid_certcache_entry_t *tpid_certcache_find(
		tpid_certcache_t *c, unsigned int b, unsigned int h, const char *url)
{
	tpid_certcache_entry_t *e;

	for(e = c->buckets[b]; e; e = e->next) {
		if(e->hash == h && !e->flushed && strcmp(e->v.url, url) == 0)
			return e;
	}
	return NULL;
}

static void tpid_certcache_add_waiter(
		tpid_certcache_entry_t *e, tpid_waiter_t *w)
{
	w->next = NULL;
	*e->waiters_tail = w;
	e->waiters_tail = &w->next;
}

/* e becomes PENDING with owner w (its bytes, if any, kept). */
static void tpid_certcache_pend(
		tpid_certcache_entry_t *e, tpid_waiter_t *w, int64_t deadline)
{
	e->v.state = TPID_CERTCACHE_PENDING;
	e->v.expires = deadline;
	e->owner = w;
	e->waiters = NULL;
	e->waiters_tail = &e->waiters;
	tpid_certcache_add_waiter(e, w);
}

/* A hit: the view, and the bytes if buf can hold them. */
static int tpid_certcache_hit(tpid_certcache_entry_t *e,
		tpid_certcache_view_t *view, char *buf, size_t bufsize)
{
	e->v.hits++;
	if(view != NULL) {
		*view = e->v;
		view->copied = 0;
		if(e->v.state == TPID_CERTCACHE_GOOD && buf != NULL
				&& bufsize > e->v.len) {
			memcpy(buf, e->bytes, e->v.len);
			buf[e->v.len] = '\0';
			view->copied = 1;
		}
	}
	return e->v.state == TPID_CERTCACHE_GOOD ? TPID_CERTCACHE_HIT_GOOD
											 : TPID_CERTCACHE_HIT_BAD;
}

/* A new PENDING entry for url in bucket b (lock held); NULL if no room. */
static tpid_certcache_entry_t *tpid_certcache_insert(tpid_certcache_t *c,
		unsigned int b, unsigned int h, const char *url, int64_t now)
{
	tpid_certcache_entry_t *e;

	if(__atomic_load_n(&c->count, __ATOMIC_RELAXED) >= c->max_entries
			&& tpid_certcache_evict_one(c, b, now) < 0)
		return NULL;
	e = c->ops.alloc(sizeof(*e));
	if(e == NULL)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->hash = h;
	e->v.created = now;
	strcpy(e->v.url, url); /* length checked by the caller */
	e->next = c->buckets[b];
	c->buckets[b] = e;
	__atomic_add_fetch(&c->count, 1, __ATOMIC_RELAXED);
	return e;
}

int tpid_certcache_lookup(tpid_certcache_t *c, const char *url, int64_t now,
		int64_t deadline, tpid_waiter_t *w, tpid_certcache_view_t *view,
		char *buf, size_t bufsize)
{
	tpid_certcache_entry_t *e;
	unsigned int h, b;
	int rc = TPID_CERTCACHE_FULL;

	if(!tpid_certcache_url_ok(url))
		return TPID_CERTCACHE_FULL;
	h = tpid_cache_fnv(TPID_CACHE_FNV_INIT, url);
	b = h & (c->nbuckets - 1);
	tpid_certcache_lock(c, b);
	e = tpid_certcache_find(c, b, h, url);
	if(e != NULL && e->v.state != TPID_CERTCACHE_PENDING
			&& !tpid_certcache_expired(e, now)) {
		rc = tpid_certcache_hit(e, view, buf, bufsize);
	} else if(w == NULL) {
		rc = TPID_CERTCACHE_FULL;
	} else if(e != NULL && e->v.state == TPID_CERTCACHE_PENDING) {
		tpid_certcache_add_waiter(e, w);
		rc = TPID_CERTCACHE_JOINED;
	} else if(e != NULL
			  || (e = tpid_certcache_insert(c, b, h, url, now)) != NULL) {
		tpid_certcache_pend(e, w, deadline);
		rc = TPID_CERTCACHE_OWNER;
	}
	tpid_certcache_unlock(c, b);
	return rc;
}

/* e (PENDING) becomes GOOD with bytes; a new generation only if they
 * differ from the ones it had. 0, or -1 when out of memory. */
static int tpid_certcache_store(tpid_certcache_t *c, tpid_certcache_entry_t *e,
		const char *bytes, size_t len)
{
	char *copy;

	if(e->bytes == NULL || e->v.len != len
			|| memcmp(e->bytes, bytes, len) != 0) {
		copy = c->ops.alloc(len);
		if(copy == NULL)
			return -1;
		memcpy(copy, bytes, len);
		if(e->bytes != NULL)
			c->ops.free(e->bytes);
		e->bytes = copy;
		e->v.len = len;
		e->v.generation =
				__atomic_add_fetch(&c->generation, 1, __ATOMIC_RELAXED);
	}
	e->v.state = TPID_CERTCACHE_GOOD;
	e->v.reason = TPID_OK;
	return 0;
}

/* e (PENDING) becomes BAD with reason; its old bytes go. */
static void tpid_certcache_fail(
		tpid_certcache_t *c, tpid_certcache_entry_t *e, int reason)
{
	if(e->bytes != NULL)
		c->ops.free(e->bytes);
	e->bytes = NULL;
	e->v.len = 0;
	e->v.generation = 0;
	e->v.state = TPID_CERTCACHE_BAD;
	e->v.reason = reason;
}

/* The PENDING entry of url owned by owner, as a link (lock held). */
static tpid_certcache_entry_t **tpid_certcache_find_pending(tpid_certcache_t *c,
		unsigned int b, unsigned int h, const char *url,
		const tpid_waiter_t *owner)
{
	tpid_certcache_entry_t **pp;

	for(pp = &c->buckets[b]; *pp; pp = &(*pp)->next) {
		if((*pp)->hash == h && (*pp)->v.state == TPID_CERTCACHE_PENDING
				&& (*pp)->owner == owner && strcmp((*pp)->v.url, url) == 0)
			return pp;
	}
	return NULL;
}

tpid_waiter_t *tpid_certcache_complete(tpid_certcache_t *c, const char *url,
		const tpid_waiter_t *owner, int reason, const char *bytes, size_t len,
		int64_t now, int ttl)
{
	tpid_certcache_entry_t **pp, *e;
	tpid_waiter_t *w = NULL;
	unsigned int h, b;

	if(!tpid_certcache_url_ok(url))
		return NULL;
	if(reason == TPID_OK && (bytes == NULL || len == 0 || len > c->max_bytes))
		reason = TPID_R_CERT_FETCH;
	h = tpid_cache_fnv(TPID_CACHE_FNV_INIT, url);
	b = h & (c->nbuckets - 1);
	tpid_certcache_lock(c, b);
	pp = tpid_certcache_find_pending(c, b, h, url, owner);
	if(pp != NULL) {
		e = *pp;
		w = e->waiters;
		e->owner = NULL;
		e->waiters = NULL;
		e->waiters_tail = &e->waiters;
		e->v.expires = now + ttl;
		if(reason != TPID_OK)
			tpid_certcache_fail(c, e, reason);
		if(ttl <= 0 || e->flushed
				|| (reason == TPID_OK
						&& tpid_certcache_store(c, e, bytes, len) < 0))
			tpid_certcache_unlink(c, pp, e);
	}
	tpid_certcache_unlock(c, b);
	return w;
}

/* Appends the waiters of e at **tail (the end of a list being built). */
static void tpid_certcache_hand_back(
		tpid_certcache_entry_t *e, tpid_waiter_t ***tail)
{
	**tail = e->waiters;
	if(e->waiters != NULL)
		*tail = e->waiters_tail;
}

tpid_waiter_t *tpid_certcache_expire_pending(
		tpid_certcache_t *c, int64_t now, int *n)
{
	tpid_certcache_entry_t **pp, *e;
	tpid_waiter_t *late = NULL, **tail = &late;
	unsigned int b;
	int k = 0;

	for(b = 0; b < c->nbuckets; b++) {
		tpid_certcache_lock(c, b);
		pp = &c->buckets[b];
		while((e = *pp) != NULL) {
			if(e->v.state == TPID_CERTCACHE_PENDING && e->v.expires > 0
					&& e->v.expires <= now) {
				tpid_certcache_hand_back(e, &tail);
				tpid_certcache_unlink(c, pp, e);
				k++;
			} else {
				pp = &e->next;
			}
		}
		tpid_certcache_unlock(c, b);
	}
	if(n != NULL)
		*n = k;
	return late;
}

/* Bucket b (lock held): with flush, removes url's entry (every entry with
 * url NULL), marking PENDING ones flushed; else removes the GOOD and BAD
 * entries expired at now. Returns how many matched. */
static int tpid_certcache_sweep(tpid_certcache_t *c, unsigned int b,
		const char *url, int64_t now, int flush)
{
	tpid_certcache_entry_t **pp = &c->buckets[b], *e;
	int n = 0;

	while((e = *pp) != NULL) {
		int hit = flush ? !e->flushed
								  && (url == NULL || strcmp(e->v.url, url) == 0)
						: tpid_certcache_expired(e, now);
		if(hit)
			n++;
		if(hit && e->v.state == TPID_CERTCACHE_PENDING) {
			e->flushed = 1;
			pp = &e->next;
		} else if(hit) {
			tpid_certcache_unlink(c, pp, e);
		} else {
			pp = &e->next;
		}
	}
	return n;
}

/* Runs the sweep over every bucket. */
static int tpid_certcache_sweep_all(
		tpid_certcache_t *c, const char *url, int64_t now, int flush)
{
	unsigned int b;
	int n = 0;

	for(b = 0; b < c->nbuckets; b++) {
		tpid_certcache_lock(c, b);
		n += tpid_certcache_sweep(c, b, url, now, flush);
		tpid_certcache_unlock(c, b);
	}
	return n;
}

int tpid_certcache_flush(tpid_certcache_t *c, const char *url)
{
	return tpid_certcache_sweep_all(c, url, 0, 1);
}

int tpid_certcache_purge(tpid_certcache_t *c, int64_t now)
{
	return tpid_certcache_sweep_all(c, NULL, now, 0);
}

int tpid_certcache_walk(tpid_certcache_t *c, int64_t now,
		int (*fn)(const tpid_certcache_view_t *v, void *arg), void *arg)
{
	tpid_certcache_entry_t *e;
	tpid_certcache_view_t v;
	unsigned int b;
	int n = 0, stop = 0;

	for(b = 0; b < c->nbuckets && !stop; b++) {
		tpid_certcache_lock(c, b);
		for(e = c->buckets[b]; e && !stop; e = e->next) {
			if(tpid_certcache_expired(e, now))
				continue;
			v = e->v;
			v.copied = 0;
			n++;
			stop = fn(&v, arg);
		}
		tpid_certcache_unlock(c, b);
	}
	return n;
}

unsigned int tpid_certcache_count(const tpid_certcache_t *c)
{
	return __atomic_load_n(&c->count, __ATOMIC_RELAXED);
}
