/*
 * tpid_assert - the enterprise decision cache, with single-flight misses.
 *
 * An entry holds its strings in one allocation sized to them (served, id,
 * domain and value, each NUL-terminated), so a decision costs what its
 * strings need, not the bounds of a view. Every stripe keeps two min-heaps
 * under its own lock: its answers by expiry and its PENDING entries by
 * deadline, so that the purge timer and the size bound touch only what goes
 * (a purge costs a lock and a look per stripe, not a walk of the cache).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tpid_cache.h"
#include "tpid_reason.h"

#include <string.h>
#include <strings.h>

#define TPID_CACHE_NOPOS UINT32_MAX

typedef struct tpid_cache_entry
{
	tpid_node_t node; /* first */
	int64_t created;
	int64_t expires;			/* DONE: the answer's end */
	int64_t deadline;			/* PENDING: given up then (0: never) */
	const tpid_waiter_t *owner; /* PENDING: names the entry to complete */
	tpid_wlist_t waiters;
	uint32_t hpos; /* index in its stripe's heap, or TPID_CACHE_NOPOS */
	uint32_t hits;
	int reason;
	unsigned char state;
	unsigned char revoked; /* evicted while PENDING: deliver, do not store */
	uint16_t id_off, dom_off, val_off; /* into s; served starts at 0 */
	char s[];
} tpid_cache_entry_t;

/* A binary min-heap of entries, keyed by tpid_cache_key(). */
typedef struct tpid_cache_heap
{
	tpid_cache_entry_t **a;
	uint32_t n, cap;
} tpid_cache_heap_t;

struct tpid_cache
{
	tpid_table_t t;			 /* first */
	int min_life;			 /* an answer with less left is stale (0: none) */
	int dying;				 /* destroy: entries are freed, heaps not kept */
	tpid_cache_heap_t *done; /* per stripe: DONE entries by expiry */
	tpid_cache_heap_t *pend; /* per stripe: PENDING entries by deadline */
};

#define TPID_CACHE_E(n) ((tpid_cache_entry_t *)(n))

/* ---- the per-stripe heaps ------------------------------------------------ */

static int64_t tpid_cache_key(const tpid_cache_entry_t *e)
{
	return e->state == TPID_CACHE_DONE ? e->expires : e->deadline;
}

static void tpid_cache_heap_set(
		tpid_cache_heap_t *h, uint32_t i, tpid_cache_entry_t *e)
{
	h->a[i] = e;
	e->hpos = i;
}

static void tpid_cache_heap_up(tpid_cache_heap_t *h, uint32_t i)
{
	tpid_cache_entry_t *e = h->a[i];
	uint32_t p;

	while(i > 0) {
		p = (i - 1) / 2;
		if(tpid_cache_key(h->a[p]) <= tpid_cache_key(e))
			break;
		tpid_cache_heap_set(h, i, h->a[p]);
		i = p;
	}
	tpid_cache_heap_set(h, i, e);
}

static void tpid_cache_heap_down(tpid_cache_heap_t *h, uint32_t i)
{
	tpid_cache_entry_t *e = h->a[i];
	uint32_t l;

	while((l = 2 * i + 1) < h->n) {
		if(l + 1 < h->n
				&& tpid_cache_key(h->a[l + 1]) < tpid_cache_key(h->a[l]))
			l++;
		if(tpid_cache_key(e) <= tpid_cache_key(h->a[l]))
			break;
		tpid_cache_heap_set(h, i, h->a[l]);
		i = l;
	}
	tpid_cache_heap_set(h, i, e);
}

/* 0, or -1 when the heap cannot grow (out of memory). */
static int tpid_cache_heap_push(
		tpid_cache_t *c, tpid_cache_heap_t *h, tpid_cache_entry_t *e)
{
	tpid_cache_entry_t **a;
	uint32_t cap;

	if(h->n == h->cap) {
		cap = h->cap ? h->cap * 2 : 16;
		a = c->t.ops.alloc(cap * sizeof(*a));
		if(a == NULL)
			return -1;
		if(h->n)
			memcpy(a, h->a, h->n * sizeof(*a));
		if(h->a)
			c->t.ops.free(h->a);
		h->a = a;
		h->cap = cap;
	}
	h->a[h->n++] = e;
	tpid_cache_heap_up(h, h->n - 1);
	return 0;
}

static void tpid_cache_heap_remove(tpid_cache_heap_t *h, tpid_cache_entry_t *e)
{
	uint32_t i = e->hpos;
	tpid_cache_entry_t *last;

	if(i >= h->n || h->a[i] != e)
		return;
	e->hpos = TPID_CACHE_NOPOS;
	last = h->a[--h->n];
	if(i == h->n)
		return;
	tpid_cache_heap_set(h, i, last);
	if(i > 0 && tpid_cache_key(h->a[(i - 1) / 2]) > tpid_cache_key(last))
		tpid_cache_heap_up(h, i);
	else
		tpid_cache_heap_down(h, i);
}

static unsigned int tpid_cache_stripe(const tpid_cache_t *c, unsigned int hash)
{
	return hash & (c->t.nstripes - 1);
}

/* The heap that holds e, if any (its stripe's lock held). */
static tpid_cache_heap_t *tpid_cache_heap_of(
		tpid_cache_t *c, const tpid_cache_entry_t *e)
{
	unsigned int s = tpid_cache_stripe(c, e->node.hash);

	if(e->hpos == TPID_CACHE_NOPOS)
		return NULL;
	return e->state == TPID_CACHE_DONE ? &c->done[s] : &c->pend[s];
}

/* ---- entries ------------------------------------------------------------- */

/* FNV-1a over "served\0id\0". */
static unsigned int tpid_cache_hash(const char *served, const char *id)
{
	return tpid_table_hash(tpid_table_hash(TPID_TABLE_HASH_INIT, served), id);
}

/* Every unlink and eviction comes here (stripe lock held, or destroy). */
static void tpid_cache_free_node(tpid_table_t *t, tpid_node_t *n)
{
	tpid_cache_t *c = (tpid_cache_t *)t;
	tpid_cache_heap_t *h;

	if(!c->dying && (h = tpid_cache_heap_of(c, TPID_CACHE_E(n))) != NULL)
		tpid_cache_heap_remove(h, TPID_CACHE_E(n));
	t->ops.free(n);
}

tpid_cache_t *tpid_cache_new(const tpid_cache_ops_t *ops, unsigned int nbuckets,
		unsigned int nstripes, unsigned int max_entries)
{
	tpid_cache_t *c;
	size_t hsize;

	c = tpid_table_new(ops, sizeof(tpid_cache_t), nbuckets, nstripes,
			max_entries, tpid_cache_free_node);
	if(c == NULL)
		return NULL;
	hsize = c->t.nstripes * sizeof(tpid_cache_heap_t);
	c->done = ops->alloc(hsize);
	c->pend = ops->alloc(hsize);
	if(c->done == NULL || c->pend == NULL) {
		tpid_cache_destroy(c);
		return NULL;
	}
	memset(c->done, 0, hsize);
	memset(c->pend, 0, hsize);
	return c;
}

void tpid_cache_set_min_life(tpid_cache_t *c, int seconds)
{
	c->min_life = seconds > 0 ? seconds : 0;
}

static void tpid_cache_free_heaps(
		const tpid_cache_ops_t *ops, tpid_cache_heap_t *hs, unsigned int n)
{
	unsigned int i;

	if(hs == NULL)
		return;
	for(i = 0; i < n; i++)
		if(hs[i].a)
			ops->free(hs[i].a);
	ops->free(hs);
}

void tpid_cache_destroy(tpid_cache_t *c)
{
	tpid_cache_ops_t ops;

	if(c == NULL)
		return;
	ops = c->t.ops;
	c->dying = 1;
	tpid_cache_free_heaps(&ops, c->done, c->t.nstripes);
	tpid_cache_free_heaps(&ops, c->pend, c->t.nstripes);
	tpid_table_destroy(&c->t);
}

static const char *tpid_cache_served(const tpid_cache_entry_t *e)
{
	return e->s;
}

static const char *tpid_cache_id(const tpid_cache_entry_t *e)
{
	return e->s + e->id_off;
}

/* A copy for the caller; every string fits the view by construction. */
static void tpid_cache_view(const tpid_cache_entry_t *e, tpid_cache_view_t *v)
{
	v->state = e->state;
	v->reason = e->reason;
	v->expires = e->expires;
	v->created = e->created;
	v->hits = e->hits;
	strcpy(v->served, e->s);
	strcpy(v->id, e->s + e->id_off);
	strcpy(v->domain, e->s + e->dom_off);
	strcpy(v->value, e->s + e->val_off);
}

static int tpid_cache_late(const tpid_cache_entry_t *e, int64_t now)
{
	return e->state == TPID_CACHE_PENDING && e->deadline > 0
		   && e->deadline <= now;
}

/* Lookups drop the expired (or stale) answers of the bucket they visit. */
static int tpid_cache_stale_node(tpid_node_t *n, void *arg)
{
	const tpid_cache_entry_t *e = TPID_CACHE_E(n);

	return e->state == TPID_CACHE_DONE && e->expires <= *(const int64_t *)arg
				   ? TPID_TABLE_DROP
				   : TPID_TABLE_NEXT;
}

/* Unlinks and frees e, found through its bucket (its stripe lock held). */
static void tpid_cache_drop(tpid_cache_t *c, tpid_cache_entry_t *e)
{
	tpid_node_t **pp = &c->t.buckets[e->node.hash & (c->t.nbuckets - 1)];

	tpid_cache_heap_t *h;

	while(*pp != NULL && *pp != &e->node)
		pp = &(*pp)->next;
	if(*pp != NULL)
		tpid_table_unlink(&c->t, pp);
	else if((h = tpid_cache_heap_of(c, e)) != NULL)
		tpid_cache_heap_remove(h, e); /* cannot be: never loop on it */
}

/* Room for one more entry in stripe s (lock held): the stripe's answer
 * that expires soonest goes. 0 when there is room, -1 otherwise. */
static int tpid_cache_room(tpid_cache_t *c, unsigned int s)
{
	if(tpid_table_count(&c->t) < c->t.max_entries)
		return 0;
	if(c->done[s].n == 0)
		return -1;
	tpid_cache_drop(c, c->done[s].a[0]);
	return 0;
}

static size_t tpid_cache_len(const char *s, size_t size)
{
	return s != NULL ? strnlen(s, size) : size;
}

/* The PENDING entry made for (served, id, domain) with w (lock held). */
static int tpid_cache_insert(tpid_cache_t *c, unsigned int b, unsigned int h,
		const char *served, const char *id, const char *domain, int64_t now,
		int64_t deadline, tpid_waiter_t *w)
{
	size_t ls = strlen(served) + 1, li = strlen(id) + 1;
	size_t ld = strlen(domain) + 1;
	unsigned int s = tpid_cache_stripe(c, h);
	tpid_cache_entry_t *e;

	if(tpid_cache_room(c, s) < 0)
		return TPID_CACHE_FULL;
	e = c->t.ops.alloc(sizeof(*e) + ls + li + ld + 1);
	if(e == NULL)
		return TPID_CACHE_FULL;
	memset(e, 0, sizeof(*e));
	e->node.hash = h;
	e->state = TPID_CACHE_PENDING;
	e->created = now;
	e->deadline = deadline;
	e->hpos = TPID_CACHE_NOPOS;
	e->id_off = (uint16_t)ls;
	e->dom_off = (uint16_t)(ls + li);
	e->val_off = (uint16_t)(ls + li + ld);
	memcpy(e->s, served, ls);
	memcpy(e->s + e->id_off, id, li);
	memcpy(e->s + e->dom_off, domain, ld);
	e->s[e->val_off] = '\0';
	if(deadline > 0 && tpid_cache_heap_push(c, &c->pend[s], e) < 0) {
		c->t.ops.free(e);
		return TPID_CACHE_FULL;
	}
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
	unsigned int h, b;
	tpid_cache_entry_t *e;
	int rc = TPID_CACHE_FULL;

	if(tpid_cache_len(served, TPID_MAX_URI) >= TPID_MAX_URI
			|| tpid_cache_len(id, TPID_MAX_URI) >= TPID_MAX_URI
			|| tpid_cache_len(domain, TPID_MAX_DOMAIN) >= TPID_MAX_DOMAIN)
		return TPID_CACHE_FULL;
	h = tpid_cache_hash(served, id);
	b = tpid_table_lock(&c->t, h);
	tpid_table_visit_bucket(&c->t, b, tpid_cache_stale_node, &gone);
	for(e = TPID_CACHE_E(c->t.buckets[b]); e; e = TPID_CACHE_E(e->node.next)) {
		if(e->node.hash == h && strcmp(tpid_cache_served(e), served) == 0
				&& strcmp(tpid_cache_id(e), id) == 0 && !e->revoked)
			break;
	}
	if(e != NULL && e->state == TPID_CACHE_DONE) {
		e->hits++;
		if(view)
			tpid_cache_view(e, view);
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

/* The PENDING entry at *pp becomes an answer: a copy sized for its value
 * replaces it (lock held). -1 (out of memory): *pp is untouched. */
static int tpid_cache_answer(tpid_cache_t *c, tpid_node_t **pp, int reason,
		const char *value, int64_t expires)
{
	tpid_cache_entry_t *e = TPID_CACHE_E(*pp), *n;
	size_t lv = value != NULL ? strnlen(value, TPID_CACHE_MAX_VALUE) : 0;
	unsigned int s = tpid_cache_stripe(c, e->node.hash);

	if(lv >= TPID_CACHE_MAX_VALUE)
		lv = 0; /* too long to keep: the answer stands without it */
	n = c->t.ops.alloc(sizeof(*n) + e->val_off + lv + 1);
	if(n == NULL)
		return -1;
	memcpy(n, e, sizeof(*n) + e->val_off);
	memcpy(n->s + n->val_off, value ? value : "", lv);
	n->s[n->val_off + lv] = '\0';
	n->state = TPID_CACHE_DONE;
	n->reason = reason;
	n->expires = expires;
	n->owner = NULL;
	tpid_wlist_init(&n->waiters);
	n->hpos = TPID_CACHE_NOPOS;
	if(tpid_cache_heap_push(c, &c->done[s], n) < 0) {
		c->t.ops.free(n);
		return -1;
	}
	if(e->hpos != TPID_CACHE_NOPOS)
		tpid_cache_heap_remove(&c->pend[s], e);
	*pp = &n->node;
	c->t.ops.free(e);
	return 0;
}

tpid_waiter_t *tpid_cache_complete(tpid_cache_t *c, const char *served,
		const char *id, const tpid_waiter_t *owner, int reason,
		const char *value, int64_t now, int ttl)
{
	tpid_node_t **pp;
	tpid_cache_entry_t *e;
	tpid_waiter_t *w = NULL;
	unsigned int h, b;

	if(tpid_cache_len(served, TPID_MAX_URI) >= TPID_MAX_URI
			|| tpid_cache_len(id, TPID_MAX_URI) >= TPID_MAX_URI)
		return NULL;
	h = tpid_cache_hash(served, id);
	b = tpid_table_lock(&c->t, h);
	for(pp = &c->t.buckets[b]; (e = TPID_CACHE_E(*pp)) != NULL;
			pp = &e->node.next) {
		if(e->node.hash != h || e->state != TPID_CACHE_PENDING
				|| e->owner != owner
				|| strcmp(tpid_cache_served(e), served) != 0
				|| strcmp(tpid_cache_id(e), id) != 0)
			continue;
		w = tpid_wlist_take(&e->waiters);
		e->owner = NULL;
		if(ttl <= 0 || e->revoked
				|| tpid_cache_answer(c, pp, reason, value, now + ttl) < 0)
			tpid_table_unlink(&c->t, pp);
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
		   && (a->served == NULL
				   || strcmp(tpid_cache_served(e), a->served) == 0)
		   && (a->id == NULL || strcmp(tpid_cache_id(e), a->id) == 0)
		   && (a->domain == NULL
				   || strcasecmp(e->s + e->dom_off, a->domain) == 0);
}

/* Removes a matching answer; a matching PENDING entry is marked. */
static int tpid_cache_evict_node(tpid_node_t *n, void *arg)
{
	tpid_cache_evict_arg_t *a = arg;
	tpid_cache_entry_t *e = TPID_CACHE_E(n);

	if(!tpid_cache_matches(e, a))
		return TPID_TABLE_NEXT;
	a->n++;
	if(e->state != TPID_CACHE_PENDING)
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

	if(e->state == TPID_CACHE_DONE && e->expires <= a->now)
		return TPID_TABLE_NEXT;
	tpid_cache_view(e, &v); /* fn runs under the bucket lock: keep it short */
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
	tpid_cache_heap_t *h;
	tpid_cache_entry_t *e;
	tpid_wlist_t l;
	unsigned int s;
	int n = 0;

	tpid_wlist_init(&l);
	for(s = 0; s < c->t.nstripes; s++) {
		tpid_table_lock(&c->t, s);
		for(h = &c->done[s]; h->n > 0 && h->a[0]->expires <= now; n++)
			tpid_cache_drop(c, h->a[0]);
		for(h = &c->pend[s];
				late != NULL && h->n > 0 && tpid_cache_late(h->a[0], now);
				n++) {
			e = h->a[0];
			tpid_wlist_splice(&l, &e->waiters);
			tpid_cache_drop(c, e);
		}
		tpid_table_unlock(&c->t, s);
	}
	if(late != NULL)
		*late = tpid_wlist_take(&l);
	return n;
}

unsigned int tpid_cache_count(const tpid_cache_t *c)
{
	return tpid_table_count(&c->t);
}
