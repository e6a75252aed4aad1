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
	tpid_node_t node; /* first */
	int revoked;	  /* evicted while PENDING: deliver, do not store */
	int64_t deadline; /* PENDING: given up then (0: never) */
	const tpid_waiter_t *owner; /* PENDING: names the entry to complete */
	tpid_wlist_t waiters;
	tpid_cache_view_t v;
} tpid_cache_entry_t;

struct tpid_cache
{
	tpid_table_t t; /* first */
	int min_life;	/* an answer with less left is stale (0: none) */
};

#define TPID_CACHE_E(n) ((tpid_cache_entry_t *)(n))

/* FNV-1a over "served\0id\0". */
static unsigned int tpid_cache_hash(const char *served, const char *id)
{
	return tpid_table_hash(tpid_table_hash(TPID_TABLE_HASH_INIT, served), id);
}

static void tpid_cache_free_node(tpid_table_t *t, tpid_node_t *n)
{
	t->ops.free(n);
}

tpid_cache_t *tpid_cache_new(const tpid_cache_ops_t *ops, unsigned int nbuckets,
		unsigned int nstripes, unsigned int max_entries)
{
	return tpid_table_new(ops, sizeof(tpid_cache_t), nbuckets, nstripes,
			max_entries, tpid_cache_free_node);
}

void tpid_cache_set_min_life(tpid_cache_t *c, int seconds)
{
	c->min_life = seconds > 0 ? seconds : 0;
}

void tpid_cache_destroy(tpid_cache_t *c)
{
	tpid_table_destroy(c ? &c->t : NULL);
}

static int tpid_cache_late(const tpid_cache_entry_t *e, int64_t now)
{
	return e->v.state == TPID_CACHE_PENDING && e->deadline > 0
		   && e->deadline <= now;
}

typedef struct tpid_cache_purge_arg
{
	int64_t now;
	tpid_wlist_t *late; /* NULL: PENDING entries stay */
} tpid_cache_purge_arg_t;

/* Drops an expired answer; with late, also a PENDING entry past its
 * deadline, its waiters appended to late. */
static int tpid_cache_purge_node(tpid_node_t *n, void *arg)
{
	tpid_cache_purge_arg_t *a = arg;
	tpid_cache_entry_t *e = TPID_CACHE_E(n);

	if(a->late != NULL && tpid_cache_late(e, a->now)) {
		tpid_wlist_splice(a->late, &e->waiters);
		return TPID_TABLE_DROP;
	}
	return e->v.state == TPID_CACHE_DONE && e->v.expires <= a->now
				   ? TPID_TABLE_DROP
				   : TPID_TABLE_NEXT;
}

/* Eviction order: the answer that expires soonest; never a PENDING one. */
static int64_t tpid_cache_expiry(const tpid_node_t *n)
{
	const tpid_cache_entry_t *e = (const tpid_cache_entry_t *)n;

	return e->v.state == TPID_CACHE_DONE ? e->v.expires : -1;
}

static int tpid_cache_fits(const char *s, size_t size)
{
	return s != NULL && strlen(s) < size;
}

/* The PENDING entry made for (served, id, domain) with w (lock held). */
static int tpid_cache_insert(tpid_cache_t *c, unsigned int b, unsigned int h,
		const char *served, const char *id, const char *domain, int64_t now,
		int64_t deadline, tpid_waiter_t *w)
{
	tpid_cache_entry_t *e;

	if(tpid_table_room(&c->t, b, tpid_cache_expiry) < 0)
		return TPID_CACHE_FULL;
	e = c->t.ops.alloc(sizeof(*e));
	if(e == NULL)
		return TPID_CACHE_FULL;
	memset(e, 0, sizeof(*e));
	e->node.hash = h;
	e->v.state = TPID_CACHE_PENDING;
	e->v.created = now;
	e->deadline = deadline;
	strcpy(e->v.served, served);
	strcpy(e->v.id, id);
	strcpy(e->v.domain, domain);
	e->owner = w;
	tpid_wlist_init(&e->waiters);
	tpid_wlist_add(&e->waiters, w);
	tpid_table_link(&c->t, b, &e->node);
	return TPID_CACHE_OWNER;
}

int tpid_cache_lookup(tpid_cache_t *c, const char *served, const char *id,
		const char *domain, int64_t now, int64_t deadline, tpid_waiter_t *w,
		tpid_cache_view_t *view)
{
	/* answers expiring at or before this go: expired ones, and stale ones
	 * (under min_life left), which the query after this refreshes */
	int64_t gone = now + (c->min_life > 0 ? c->min_life - 1 : 0);
	tpid_cache_purge_arg_t purge = {gone, NULL};
	unsigned int h, b;
	tpid_cache_entry_t *e;
	int rc = TPID_CACHE_FULL;

	if(!tpid_cache_fits(served, TPID_MAX_URI)
			|| !tpid_cache_fits(id, TPID_MAX_URI)
			|| !tpid_cache_fits(domain, TPID_MAX_DOMAIN))
		return TPID_CACHE_FULL;
	h = tpid_cache_hash(served, id);
	b = tpid_table_lock(&c->t, h);
	tpid_table_visit_bucket(&c->t, b, tpid_cache_purge_node, &purge);
	for(e = TPID_CACHE_E(c->t.buckets[b]); e; e = TPID_CACHE_E(e->node.next)) {
		if(e->node.hash == h && strcmp(e->v.served, served) == 0
				&& strcmp(e->v.id, id) == 0 && !e->revoked)
			break;
	}
	if(e != NULL && e->v.state == TPID_CACHE_DONE) {
		e->v.hits++;
		if(view)
			*view = e->v;
		rc = TPID_CACHE_HIT;
	} else if(w == NULL) {
		rc = TPID_CACHE_FULL;
	} else if(e != NULL) {
		tpid_wlist_add(&e->waiters, w);
		rc = TPID_CACHE_JOINED;
	} else {
		rc = tpid_cache_insert(c, b, h, served, id, domain, now, deadline, w);
	}
	tpid_table_unlock(&c->t, b);
	return rc;
}

tpid_waiter_t *tpid_cache_complete(tpid_cache_t *c, const char *served,
		const char *id, const tpid_waiter_t *owner, int reason,
		const char *value, int64_t now, int ttl)
{
	tpid_node_t **pp;
	tpid_cache_entry_t *e;
	tpid_waiter_t *w = NULL;
	unsigned int h, b;

	if(!tpid_cache_fits(served, TPID_MAX_URI)
			|| !tpid_cache_fits(id, TPID_MAX_URI))
		return NULL;
	h = tpid_cache_hash(served, id);
	b = tpid_table_lock(&c->t, h);
	for(pp = &c->t.buckets[b]; (e = TPID_CACHE_E(*pp)) != NULL;
			pp = &e->node.next) {
		if(e->node.hash != h || e->v.state != TPID_CACHE_PENDING
				|| e->owner != owner || strcmp(e->v.served, served) != 0
				|| strcmp(e->v.id, id) != 0)
			continue;
		w = tpid_wlist_take(&e->waiters);
		e->owner = NULL;
		if(ttl <= 0 || e->revoked) {
			tpid_table_unlink(&c->t, pp);
		} else {
			e->v.state = TPID_CACHE_DONE;
			e->v.reason = reason;
			e->v.expires = now + ttl;
			if(value == NULL || strlen(value) >= sizeof(e->v.value))
				e->v.value[0] = '\0';
			else
				strcpy(e->v.value, value);
		}
		break;
	}
	tpid_table_unlock(&c->t, b);
	return w;
}

typedef struct tpid_cache_evict_arg
{
	const char *served, *id, *domain;
	int n;
} tpid_cache_evict_arg_t;

static int tpid_cache_matches(
		const tpid_cache_entry_t *e, const tpid_cache_evict_arg_t *a)
{
	return !e->revoked
		   && (a->served == NULL || strcmp(e->v.served, a->served) == 0)
		   && (a->id == NULL || strcmp(e->v.id, a->id) == 0)
		   && (a->domain == NULL || strcasecmp(e->v.domain, a->domain) == 0);
}

/* Removes a matching answer; a matching PENDING entry is marked. */
static int tpid_cache_evict_node(tpid_node_t *n, void *arg)
{
	tpid_cache_evict_arg_t *a = arg;
	tpid_cache_entry_t *e = TPID_CACHE_E(n);

	if(!tpid_cache_matches(e, a))
		return TPID_TABLE_NEXT;
	a->n++;
	if(e->v.state != TPID_CACHE_PENDING)
		return TPID_TABLE_DROP;
	e->revoked = 1;
	return TPID_TABLE_NEXT;
}

int tpid_cache_evict(
		tpid_cache_t *c, const char *served, const char *id, const char *domain)
{
	tpid_cache_evict_arg_t a = {served, id, domain, 0};

	tpid_table_visit(&c->t, tpid_cache_evict_node, &a);
	return a.n;
}

typedef struct tpid_cache_walk_arg
{
	int64_t now;
	int (*fn)(const tpid_cache_view_t *v, void *arg);
	void *arg;
	int n;
} tpid_cache_walk_arg_t;

static int tpid_cache_walk_node(tpid_node_t *n, void *arg)
{
	tpid_cache_walk_arg_t *a = arg;
	tpid_cache_entry_t *e = TPID_CACHE_E(n);
	tpid_cache_view_t v;

	if(e->v.state == TPID_CACHE_DONE && e->v.expires <= a->now)
		return TPID_TABLE_NEXT;
	v = e->v; /* fn runs under the bucket lock: keep it short */
	a->n++;
	return a->fn(&v, a->arg) ? TPID_TABLE_STOP : TPID_TABLE_NEXT;
}

int tpid_cache_walk(tpid_cache_t *c, int64_t now,
		int (*fn)(const tpid_cache_view_t *v, void *arg), void *arg)
{
	tpid_cache_walk_arg_t a = {now, fn, arg, 0};

	tpid_table_visit(&c->t, tpid_cache_walk_node, &a);
	return a.n;
}

int tpid_cache_purge(tpid_cache_t *c, int64_t now, tpid_waiter_t **late)
{
	unsigned int before = tpid_cache_count(c);
	tpid_wlist_t l;
	tpid_cache_purge_arg_t a = {now, late != NULL ? &l : NULL};

	tpid_wlist_init(&l);
	tpid_table_visit(&c->t, tpid_cache_purge_node, &a);
	if(late != NULL)
		*late = tpid_wlist_take(&l);
	return (int)(before - tpid_cache_count(c));
}

unsigned int tpid_cache_count(const tpid_cache_t *c)
{
	return tpid_table_count(&c->t);
}
