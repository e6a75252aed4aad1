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
	tpid_node_t node; /* first */
	int flushed;	  /* flushed while PENDING: deliver, do not store */
	char *bytes;	  /* GOOD (and PENDING after GOOD): shared memory */
	const tpid_waiter_t *owner; /* PENDING: names the entry to complete */
	tpid_wlist_t waiters;
	tpid_certcache_view_t v; /* v.expires is the deadline while PENDING */
} tpid_certcache_entry_t;

struct tpid_certcache
{
	tpid_table_t t; /* first */
	size_t max_bytes;
	uint64_t generation; /* atomic: the last one given */
};

#define TPID_CC_E(n) ((tpid_certcache_entry_t *)(n))

static void tpid_certcache_free_node(tpid_table_t *t, tpid_node_t *n)
{
	if(TPID_CC_E(n)->bytes != NULL)
		t->ops.free(TPID_CC_E(n)->bytes);
	t->ops.free(n);
}

tpid_certcache_t *tpid_certcache_new(const tpid_cache_ops_t *ops,
		unsigned int nbuckets, unsigned int nstripes, unsigned int max_entries,
		size_t max_bytes)
{
	tpid_certcache_t *c = NULL;

	if(max_bytes > 0)
		c = tpid_table_new(ops, sizeof(*c), nbuckets, nstripes, max_entries,
				tpid_certcache_free_node);
	if(c != NULL)
		c->max_bytes = max_bytes;
	return c;
}

void tpid_certcache_destroy(tpid_certcache_t *c)
{
	tpid_table_destroy(c ? &c->t : NULL);
}

static int tpid_certcache_expired(const tpid_certcache_entry_t *e, int64_t now)
{
	return e->v.state != TPID_CERTCACHE_PENDING && e->v.expires <= now;
}

/* Eviction order: soonest expiry (so expired ones first); never PENDING. */
static int64_t tpid_certcache_expiry(const tpid_node_t *n)
{
	const tpid_certcache_entry_t *e = (const tpid_certcache_entry_t *)n;

	return e->v.state != TPID_CERTCACHE_PENDING ? e->v.expires : -1;
}

static int tpid_certcache_url_ok(const char *url)
{
	return url != NULL && url[0] != '\0'
		   && strnlen(url, TPID_MAX_URI) < TPID_MAX_URI;
}

/* The bucket of url, locked; *h its hash. */
static unsigned int tpid_certcache_lock(
		tpid_certcache_t *c, const char *url, unsigned int *h)
{
	*h = tpid_table_hash(TPID_TABLE_HASH_INIT, url);
	return tpid_table_lock(&c->t, *h);
}

/* The link to the entry of url in bucket b (lock held): the live one, or
 * with owner the PENDING one it owns. NULL if none. */
static tpid_node_t **tpid_certcache_find(tpid_certcache_t *c, unsigned int b,
		unsigned int h, const char *url, const tpid_waiter_t *owner)
{
	tpid_node_t **pp;
	tpid_certcache_entry_t *e;

	for(pp = &c->t.buckets[b]; (e = TPID_CC_E(*pp)) != NULL;
			pp = &e->node.next) {
		if(e->node.hash != h || strcmp(e->v.url, url) != 0)
			continue;
		if(owner == NULL ? !e->flushed
						 : e->v.state == TPID_CERTCACHE_PENDING
								   && e->owner == owner)
			return pp;
	}
	return NULL;
}

/* e becomes PENDING with owner w (its bytes, if any, kept). */
static void tpid_certcache_pend(
		tpid_certcache_entry_t *e, tpid_waiter_t *w, int64_t deadline)
{
	e->v.state = TPID_CERTCACHE_PENDING;
	e->v.expires = deadline;
	e->owner = w;
	tpid_wlist_init(&e->waiters);
	tpid_wlist_add(&e->waiters, w);
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

/* A new entry for url in bucket b (lock held); NULL if no room. */
static tpid_certcache_entry_t *tpid_certcache_insert(tpid_certcache_t *c,
		unsigned int b, unsigned int h, const char *url, int64_t now)
{
	tpid_certcache_entry_t *e;

	if(tpid_table_room(&c->t, b, tpid_certcache_expiry) < 0)
		return NULL;
	e = c->t.ops.alloc(sizeof(*e));
	if(e == NULL)
		return NULL;
	memset(e, 0, sizeof(*e));
	e->node.hash = h;
	e->v.created = now;
	strcpy(e->v.url, url); /* length checked by the caller */
	tpid_table_link(&c->t, b, &e->node);
	return e;
}

int tpid_certcache_lookup(tpid_certcache_t *c, const char *url, int64_t now,
		int64_t deadline, tpid_waiter_t *w, tpid_certcache_view_t *view,
		char *buf, size_t bufsize)
{
	tpid_certcache_entry_t *e = NULL;
	tpid_node_t **pp;
	unsigned int h, b;
	int rc = TPID_CERTCACHE_FULL;

	if(!tpid_certcache_url_ok(url))
		return TPID_CERTCACHE_FULL;
	b = tpid_certcache_lock(c, url, &h);
	if((pp = tpid_certcache_find(c, b, h, url, NULL)) != NULL)
		e = TPID_CC_E(*pp);
	if(e != NULL && e->v.state != TPID_CERTCACHE_PENDING
			&& !tpid_certcache_expired(e, now)) {
		rc = tpid_certcache_hit(e, view, buf, bufsize);
	} else if(w == NULL) {
		rc = TPID_CERTCACHE_FULL;
	} else if(e != NULL && e->v.state == TPID_CERTCACHE_PENDING) {
		tpid_wlist_add(&e->waiters, w);
		rc = TPID_CERTCACHE_JOINED;
	} else if(e != NULL
			  || (e = tpid_certcache_insert(c, b, h, url, now)) != NULL) {
		tpid_certcache_pend(e, w, deadline);
		rc = TPID_CERTCACHE_OWNER;
	}
	tpid_table_unlock(&c->t, b);
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
		copy = c->t.ops.alloc(len);
		if(copy == NULL)
			return -1;
		memcpy(copy, bytes, len);
		if(e->bytes != NULL)
			c->t.ops.free(e->bytes);
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
		c->t.ops.free(e->bytes);
	e->bytes = NULL;
	e->v.len = 0;
	e->v.generation = 0;
	e->v.state = TPID_CERTCACHE_BAD;
	e->v.reason = reason;
}

tpid_waiter_t *tpid_certcache_complete(tpid_certcache_t *c, const char *url,
		const tpid_waiter_t *owner, int reason, const char *bytes, size_t len,
		int64_t now, int ttl)
{
	tpid_certcache_entry_t *e;
	tpid_waiter_t *w = NULL;
	tpid_node_t **pp;
	unsigned int h, b;

	if(!tpid_certcache_url_ok(url) || owner == NULL)
		return NULL;
	if(reason == TPID_OK && (bytes == NULL || len == 0 || len > c->max_bytes))
		reason = TPID_R_CERT_FETCH;
	b = tpid_certcache_lock(c, url, &h);
	pp = tpid_certcache_find(c, b, h, url, owner);
	if(pp != NULL) {
		e = TPID_CC_E(*pp);
		w = tpid_wlist_take(&e->waiters);
		e->owner = NULL;
		e->v.expires = now + ttl;
		if(reason != TPID_OK)
			tpid_certcache_fail(c, e, reason);
		if(ttl <= 0 || e->flushed
				|| (reason == TPID_OK
						&& tpid_certcache_store(c, e, bytes, len) < 0))
			tpid_table_unlink(&c->t, pp);
	}
	tpid_table_unlock(&c->t, b);
	return w;
}

typedef struct tpid_certcache_sweep
{
	int64_t now;
	const char *url; /* flush: this URL, NULL every one */
	int flush;		 /* else: expire (PENDING past deadline or GOOD/BAD) */
	int pending;	 /* expire PENDING entries (else GOOD/BAD ones) */
	tpid_wlist_t late;
	int n;
} tpid_certcache_sweep_t;

static int tpid_certcache_flush_node(
		tpid_certcache_entry_t *e, tpid_certcache_sweep_t *s)
{
	if(e->flushed || (s->url != NULL && strcmp(e->v.url, s->url) != 0))
		return TPID_TABLE_NEXT;
	s->n++;
	if(e->v.state != TPID_CERTCACHE_PENDING)
		return TPID_TABLE_DROP;
	e->flushed = 1;
	return TPID_TABLE_NEXT;
}

/* A PENDING entry whose deadline has passed (deadline 0: never). */
static int tpid_certcache_late(const tpid_certcache_entry_t *e, int64_t now)
{
	return e->v.state == TPID_CERTCACHE_PENDING && e->v.expires > 0
		   && e->v.expires <= now;
}

static int tpid_certcache_sweep_node(tpid_node_t *n, void *arg)
{
	tpid_certcache_sweep_t *s = arg;
	tpid_certcache_entry_t *e = TPID_CC_E(n);

	if(s->flush)
		return tpid_certcache_flush_node(e, s);
	if(s->pending ? !tpid_certcache_late(e, s->now)
				  : !tpid_certcache_expired(e, s->now))
		return TPID_TABLE_NEXT;
	tpid_wlist_splice(&s->late, &e->waiters);
	s->n++;
	return TPID_TABLE_DROP;
}

/* Runs one sweep over the whole cache; returns how many matched. */
static int tpid_certcache_sweep(tpid_certcache_t *c, tpid_certcache_sweep_t *s)
{
	tpid_wlist_init(&s->late);
	s->n = 0;
	tpid_table_visit(&c->t, tpid_certcache_sweep_node, s);
	return s->n;
}

tpid_waiter_t *tpid_certcache_expire_pending(
		tpid_certcache_t *c, int64_t now, int *n)
{
	tpid_certcache_sweep_t s = {.now = now, .pending = 1};
	int k = tpid_certcache_sweep(c, &s);

	if(n != NULL)
		*n = k;
	return tpid_wlist_take(&s.late);
}

int tpid_certcache_flush(tpid_certcache_t *c, const char *url)
{
	tpid_certcache_sweep_t s = {.url = url, .flush = 1};

	return tpid_certcache_sweep(c, &s);
}

int tpid_certcache_purge(tpid_certcache_t *c, int64_t now)
{
	tpid_certcache_sweep_t s = {.now = now};

	return tpid_certcache_sweep(c, &s);
}

typedef struct tpid_certcache_walk_arg
{
	int64_t now;
	int (*fn)(const tpid_certcache_view_t *v, void *arg);
	void *arg;
	int n;
} tpid_certcache_walk_arg_t;

static int tpid_certcache_walk_node(tpid_node_t *n, void *arg)
{
	tpid_certcache_walk_arg_t *a = arg;
	tpid_certcache_entry_t *e = TPID_CC_E(n);
	tpid_certcache_view_t v;

	if(tpid_certcache_expired(e, a->now))
		return TPID_TABLE_NEXT;
	v = e->v;
	v.copied = 0;
	a->n++;
	return a->fn(&v, a->arg) ? TPID_TABLE_STOP : TPID_TABLE_NEXT;
}

int tpid_certcache_walk(tpid_certcache_t *c, int64_t now,
		int (*fn)(const tpid_certcache_view_t *v, void *arg), void *arg)
{
	tpid_certcache_walk_arg_t a = {now, fn, arg, 0};

	tpid_table_visit(&c->t, tpid_certcache_walk_node, &a);
	return a.n;
}

unsigned int tpid_certcache_count(const tpid_certcache_t *c)
{
	return tpid_table_count(&c->t);
}
