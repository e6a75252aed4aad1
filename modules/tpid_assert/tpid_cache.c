/*
 * tpid_assert - the enterprise decision cache, with single-flight misses.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tpid_cache.h"
#include "tpid_reason.h"

#include <string.h>
#include <strings.h>

typedef struct tpid_cache_entry
{
	struct tpid_cache_entry *next;
	unsigned int hash;
	int revoked;	  /* evicted while PENDING: deliver, do not store */
	int64_t deadline; /* PENDING: given up then (0: never) */
	const tpid_waiter_t *owner; /* PENDING: names the entry to complete */
	tpid_waiter_t *waiters;
	tpid_waiter_t **waiters_tail;
	tpid_cache_view_t v;
} tpid_cache_entry_t;

struct tpid_cache
{
	tpid_cache_ops_t ops;
	unsigned int nbuckets; /* power of two */
	unsigned int nstripes; /* power of two, <= nbuckets */
	unsigned int max_entries;
	unsigned int count; /* atomic */
	tpid_cache_entry_t **buckets;
};

unsigned int tpid_cache_pow2(unsigned int n)
{
	unsigned int p = 1;

	while(p < n && p < (1u << 30))
		p <<= 1;
	return p;
}

unsigned int tpid_cache_fnv(unsigned int h, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	do
		h = (h ^ *p) * 16777619u;
	while(*p++ != '\0');
	return h;
}

/* FNV-1a over "served\0id\0". */
static unsigned int tpid_cache_hash(const char *served, const char *id)
{
	return tpid_cache_fnv(tpid_cache_fnv(TPID_CACHE_FNV_INIT, served), id);
}

tpid_cache_t *tpid_cache_new(const tpid_cache_ops_t *ops, unsigned int nbuckets,
		unsigned int nstripes, unsigned int max_entries)
{
	tpid_cache_t *c;

	if(ops == NULL || ops->alloc == NULL || ops->free == NULL
			|| max_entries == 0)
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
	c->buckets = ops->alloc(c->nbuckets * sizeof(*c->buckets));
	if(c->buckets == NULL) {
		ops->free(c);
		return NULL;
	}
	memset(c->buckets, 0, c->nbuckets * sizeof(*c->buckets));
	return c;
}

void tpid_cache_destroy(tpid_cache_t *c)
{
	tpid_cache_entry_t *e, *n;
	unsigned int i;

	if(c == NULL)
		return;
	for(i = 0; i < c->nbuckets; i++) {
		for(e = c->buckets[i]; e; e = n) {
			n = e->next;
			c->ops.free(e);
		}
	}
	c->ops.free(c->buckets);
	c->ops.free(c);
}

static void tpid_cache_lock(tpid_cache_t *c, unsigned int b)
{
	if(c->ops.lock)
		c->ops.lock(c->ops.ctx, b & (c->nstripes - 1));
}

static void tpid_cache_unlock(tpid_cache_t *c, unsigned int b)
{
	if(c->ops.unlock)
		c->ops.unlock(c->ops.ctx, b & (c->nstripes - 1));
}

static void tpid_cache_unlink(
		tpid_cache_t *c, tpid_cache_entry_t **pp, tpid_cache_entry_t *e)
{
	*pp = e->next;
	__atomic_sub_fetch(&c->count, 1, __ATOMIC_RELAXED);
	c->ops.free(e);
}

static int tpid_cache_late(const tpid_cache_entry_t *e, int64_t now)
{
	return e->v.state == TPID_CACHE_PENDING && e->deadline > 0
		   && e->deadline <= now;
}

/* Drops expired answers of one bucket (lock held); with late, also the
 * PENDING entries past their deadline, their waiters appended at *late. */
static void tpid_cache_purge_bucket(
		tpid_cache_t *c, unsigned int b, int64_t now, tpid_waiter_t ***late)
{
	tpid_cache_entry_t **pp = &c->buckets[b], *e;

	while((e = *pp) != NULL) {
		if(late != NULL && tpid_cache_late(e, now)) {
			**late = e->waiters;
			if(e->waiters != NULL)
				*late = e->waiters_tail;
			tpid_cache_unlink(c, pp, e);
		} else if(e->v.state == TPID_CACHE_DONE && e->v.expires <= now) {
			tpid_cache_unlink(c, pp, e);
		} else {
			pp = &e->next;
		}
	}
}

/* Makes room in a full cache from this bucket (lock held): the answer that
 * expires soonest goes. Returns 0 if room was made. */
static int tpid_cache_evict_one(tpid_cache_t *c, unsigned int b)
{
	tpid_cache_entry_t **pp, **victim = NULL;

	for(pp = &c->buckets[b]; *pp; pp = &(*pp)->next) {
		if((*pp)->v.state == TPID_CACHE_DONE
				&& (victim == NULL || (*pp)->v.expires < (*victim)->v.expires))
			victim = pp;
	}
	if(victim == NULL)
		return -1;
	tpid_cache_unlink(c, victim, *victim);
	return 0;
}

static int tpid_cache_fits(const char *s, size_t size)
{
	return s != NULL && strlen(s) < size;
}

int tpid_cache_lookup(tpid_cache_t *c, const char *served, const char *id,
		const char *domain, int64_t now, int64_t deadline, tpid_waiter_t *w,
		tpid_cache_view_t *view)
{
	unsigned int h, b;
	tpid_cache_entry_t *e;
	int rc;

	if(!tpid_cache_fits(served, TPID_MAX_URI)
			|| !tpid_cache_fits(id, TPID_MAX_URI)
			|| !tpid_cache_fits(domain, TPID_MAX_DOMAIN))
		return TPID_CACHE_FULL;
	h = tpid_cache_hash(served, id);
	b = h & (c->nbuckets - 1);
	tpid_cache_lock(c, b);
	tpid_cache_purge_bucket(c, b, now, NULL);
	for(e = c->buckets[b]; e; e = e->next) {
		if(e->hash != h || strcmp(e->v.served, served) != 0
				|| strcmp(e->v.id, id) != 0 || e->revoked)
			continue;
		if(e->v.state == TPID_CACHE_DONE) {
			e->v.hits++;
			if(view)
				*view = e->v;
			tpid_cache_unlock(c, b);
			return TPID_CACHE_HIT;
		}
		if(w == NULL)
			break;
		w->next = NULL;
		*e->waiters_tail = w;
		e->waiters_tail = &w->next;
		tpid_cache_unlock(c, b);
		return TPID_CACHE_JOINED;
	}
	rc = TPID_CACHE_FULL;
	if(w == NULL)
		goto done;
	if(__atomic_load_n(&c->count, __ATOMIC_RELAXED) >= c->max_entries
			&& tpid_cache_evict_one(c, b) < 0)
		goto done;
	e = c->ops.alloc(sizeof(*e));
	if(e == NULL)
		goto done;
	memset(e, 0, sizeof(*e));
	e->hash = h;
	e->v.state = TPID_CACHE_PENDING;
	e->v.created = now;
	e->deadline = deadline;
	strcpy(e->v.served, served);
	strcpy(e->v.id, id);
	strcpy(e->v.domain, domain);
	w->next = NULL;
	e->owner = w;
	e->waiters = w;
	e->waiters_tail = &w->next;
	e->next = c->buckets[b];
	c->buckets[b] = e;
	__atomic_add_fetch(&c->count, 1, __ATOMIC_RELAXED);
	rc = TPID_CACHE_OWNER;
done:
	tpid_cache_unlock(c, b);
	return rc;
}

tpid_waiter_t *tpid_cache_complete(tpid_cache_t *c, const char *served,
		const char *id, const tpid_waiter_t *owner, int reason,
		const char *name, int64_t now, int ttl)
{
	tpid_cache_entry_t **pp, *e;
	tpid_waiter_t *w = NULL;
	unsigned int h, b;

	if(!tpid_cache_fits(served, TPID_MAX_URI)
			|| !tpid_cache_fits(id, TPID_MAX_URI))
		return NULL;
	h = tpid_cache_hash(served, id);
	b = h & (c->nbuckets - 1);
	tpid_cache_lock(c, b);
	for(pp = &c->buckets[b]; (e = *pp) != NULL; pp = &e->next) {
		if(e->hash != h || e->v.state != TPID_CACHE_PENDING || e->owner != owner
				|| strcmp(e->v.served, served) != 0 || strcmp(e->v.id, id) != 0)
			continue;
		w = e->waiters;
		e->owner = NULL;
		e->waiters = NULL;
		e->waiters_tail = &e->waiters;
		if(ttl <= 0 || e->revoked) {
			tpid_cache_unlink(c, pp, e);
		} else {
			e->v.state = TPID_CACHE_DONE;
			e->v.reason = reason;
			e->v.expires = now + ttl;
			if(name == NULL || strlen(name) >= sizeof(e->v.name))
				e->v.name[0] = '\0';
			else
				strcpy(e->v.name, name);
		}
		break;
	}
	tpid_cache_unlock(c, b);
	return w;
}

static int tpid_cache_matches(const tpid_cache_entry_t *e, const char *served,
		const char *id, const char *domain)
{
	return (served == NULL || strcmp(e->v.served, served) == 0)
		   && (id == NULL || strcmp(e->v.id, id) == 0)
		   && (domain == NULL || strcasecmp(e->v.domain, domain) == 0);
}

int tpid_cache_evict(
		tpid_cache_t *c, const char *served, const char *id, const char *domain)
{
	tpid_cache_entry_t **pp, *e;
	unsigned int b;
	int n = 0;

	for(b = 0; b < c->nbuckets; b++) {
		tpid_cache_lock(c, b);
		pp = &c->buckets[b];
		while((e = *pp) != NULL) {
			if(!tpid_cache_matches(e, served, id, domain) || e->revoked) {
				pp = &e->next;
				continue;
			}
			n++;
			if(e->v.state == TPID_CACHE_PENDING) {
				e->revoked = 1;
				pp = &e->next;
			} else {
				tpid_cache_unlink(c, pp, e);
			}
		}
		tpid_cache_unlock(c, b);
	}
	return n;
}

int tpid_cache_walk(tpid_cache_t *c, int64_t now,
		int (*fn)(const tpid_cache_view_t *v, void *arg), void *arg)
{
	tpid_cache_entry_t *e;
	tpid_cache_view_t v;
	unsigned int b;
	int n = 0, stop = 0;

	for(b = 0; b < c->nbuckets && !stop; b++) {
		tpid_cache_lock(c, b);
		for(e = c->buckets[b]; e && !stop; e = e->next) {
			if(e->v.state == TPID_CACHE_DONE && e->v.expires <= now)
				continue;
			v = e->v; /* fn runs under the bucket lock: keep it short */
			n++;
			stop = fn(&v, arg);
		}
		tpid_cache_unlock(c, b);
	}
	return n;
}

int tpid_cache_purge(tpid_cache_t *c, int64_t now, tpid_waiter_t **late)
{
	unsigned int b, before = tpid_cache_count(c);
	tpid_waiter_t **tail = late;

	if(late != NULL)
		*late = NULL;
	for(b = 0; b < c->nbuckets; b++) {
		tpid_cache_lock(c, b);
		tpid_cache_purge_bucket(c, b, now, late != NULL ? &tail : NULL);
		tpid_cache_unlock(c, b);
	}
	return (int)(before - tpid_cache_count(c));
}

unsigned int tpid_cache_count(const tpid_cache_t *c)
{
	return __atomic_load_n(&c->count, __ATOMIC_RELAXED);
}
