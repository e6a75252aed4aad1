/*
 * tpid_assert - the striped, bounded hash table under the shared caches
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tpid_table.h"

#include <string.h>

void tpid_wlist_init(tpid_wlist_t *l)
{
	l->head = NULL;
	l->tail = &l->head;
}

void tpid_wlist_add(tpid_wlist_t *l, tpid_waiter_t *w)
{
	w->next = NULL;
	*l->tail = w;
	l->tail = &w->next;
}

tpid_waiter_t *tpid_wlist_take(tpid_wlist_t *l)
{
	tpid_waiter_t *w = l->head;

	tpid_wlist_init(l);
	return w;
}

void tpid_wlist_splice(tpid_wlist_t *dst, tpid_wlist_t *src)
{
	if(src->head == NULL)
		return;
	*dst->tail = src->head;
	dst->tail = src->tail;
	tpid_wlist_init(src);
}

static unsigned int tpid_table_pow2(unsigned int n)
{
	unsigned int p = 1;

	while(p < n && p < (1u << 30))
		p <<= 1;
	return p;
}

void *tpid_table_new(const tpid_cache_ops_t *ops, size_t size,
		unsigned int nbuckets, unsigned int nstripes, unsigned int max_entries,
		void (*free_node)(tpid_table_t *t, tpid_node_t *n))
{
	tpid_table_t *t;

	if(ops == NULL || ops->alloc == NULL || ops->free == NULL
			|| max_entries == 0 || free_node == NULL || size < sizeof(*t))
		return NULL;
	t = ops->alloc(size);
	if(t == NULL)
		return NULL;
	memset(t, 0, size);
	t->ops = *ops;
	t->free_node = free_node;
	t->nbuckets = tpid_table_pow2(nbuckets ? nbuckets : 1);
	t->nstripes = tpid_table_pow2(nstripes ? nstripes : 1);
	if(t->nstripes > t->nbuckets)
		t->nstripes = t->nbuckets;
	t->max_entries = max_entries;
	t->buckets = ops->alloc(t->nbuckets * sizeof(*t->buckets));
	if(t->buckets == NULL) {
		ops->free(t);
		return NULL;
	}
	memset(t->buckets, 0, t->nbuckets * sizeof(*t->buckets));
	return t;
}

void tpid_table_destroy(tpid_table_t *t)
{
	tpid_node_t *n, *next;
	unsigned int i;

	if(t == NULL)
		return;
	for(i = 0; i < t->nbuckets; i++) {
		for(n = t->buckets[i]; n; n = next) {
			next = n->next;
			t->free_node(t, n);
		}
	}
	t->ops.free(t->buckets);
	t->ops.free(t);
}

unsigned int tpid_table_hash(unsigned int h, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	do
		h = (h ^ *p) * 16777619u;
	while(*p++ != '\0');
	return h;
}

unsigned int tpid_table_lock(tpid_table_t *t, unsigned int hash)
{
	unsigned int b = hash & (t->nbuckets - 1);

	if(t->ops.lock)
		t->ops.lock(t->ops.ctx, b & (t->nstripes - 1));
	return b;
}

void tpid_table_unlock(tpid_table_t *t, unsigned int bucket)
{
	if(t->ops.unlock)
		t->ops.unlock(t->ops.ctx, bucket & (t->nstripes - 1));
}

void tpid_table_link(tpid_table_t *t, unsigned int b, tpid_node_t *n)
{
	n->next = t->buckets[b];
	t->buckets[b] = n;
	__atomic_add_fetch(&t->count, 1, __ATOMIC_RELAXED);
}

void tpid_table_unlink(tpid_table_t *t, tpid_node_t **pp)
{
	tpid_node_t *n = *pp;

	*pp = n->next;
	__atomic_sub_fetch(&t->count, 1, __ATOMIC_RELAXED);
	t->free_node(t, n);
}

int tpid_table_room(tpid_table_t *t, unsigned int b,
		int64_t (*expiry)(const tpid_node_t *n))
{
	tpid_node_t **pp, **victim = NULL;
	int64_t e, best = 0;

	if(tpid_table_count(t) < t->max_entries)
		return 0;
	for(pp = &t->buckets[b]; *pp; pp = &(*pp)->next) {
		e = expiry(*pp);
		if(e >= 0 && (victim == NULL || e < best)) {
			victim = pp;
			best = e;
		}
	}
	if(victim == NULL)
		return -1;
	tpid_table_unlink(t, victim);
	return 0;
}

int tpid_table_visit_bucket(tpid_table_t *t, unsigned int b,
		int (*fn)(tpid_node_t *n, void *arg), void *arg)
{
	tpid_node_t **pp = &t->buckets[b];
	int what;

	while(*pp != NULL) {
		what = fn(*pp, arg);
		if(what == TPID_TABLE_STOP)
			return 1;
		if(what == TPID_TABLE_DROP)
			tpid_table_unlink(t, pp);
		else
			pp = &(*pp)->next;
	}
	return 0;
}

void tpid_table_visit(
		tpid_table_t *t, int (*fn)(tpid_node_t *n, void *arg), void *arg)
{
	unsigned int b;
	int stop = 0;

	for(b = 0; b < t->nbuckets && !stop; b++) {
		tpid_table_lock(t, b);
		stop = tpid_table_visit_bucket(t, b, fn, arg);
		tpid_table_unlock(t, b);
	}
}

unsigned int tpid_table_count(const tpid_table_t *t)
{
	return __atomic_load_n(&t->count, __ATOMIC_RELAXED);
}
