/*
 * tpid_assert - the striped, bounded hash table under the shared caches
 * (tpid_cache, tpid_certcache), and their waiter lists.
 *
 * Memory and locks come from the caller (Kamailio shared memory and
 * gen_lock_set in the module, malloc and pthread mutexes in the tests);
 * nothing inside points to per-process memory. Entries start with a
 * tpid_node_t. Plain C.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_TABLE_H
#define TPID_TABLE_H

#include <stddef.h>
#include <stdint.h>

typedef struct tpid_cache_ops
{
	void *(*alloc)(size_t size); /* zeroed or not: the cache clears */
	void (*free)(void *p);
	void (*lock)(void *ctx, unsigned int stripe);
	void (*unlock)(void *ctx, unsigned int stripe);
	void *ctx;
} tpid_cache_ops_t;

/* A suspended request waiting for an answer; the caller embeds this at the
 * start of its own struct. */
typedef struct tpid_waiter
{
	struct tpid_waiter *next;
} tpid_waiter_t;

/* A FIFO of waiters (inside a shared entry). */
typedef struct tpid_wlist
{
	tpid_waiter_t *head;
	tpid_waiter_t **tail;
} tpid_wlist_t;

/* Empties l (forgetting its members). */
void tpid_wlist_init(tpid_wlist_t *l);

/* Appends w. */
void tpid_wlist_add(tpid_wlist_t *l, tpid_waiter_t *w);

/* Detaches and returns the members (arrival order); l is empty after. */
tpid_waiter_t *tpid_wlist_take(tpid_wlist_t *l);

/* Moves the members of src to the end of dst; src is empty after. */
void tpid_wlist_splice(tpid_wlist_t *dst, tpid_wlist_t *src);

/* The first member of every entry node of a table. */
typedef struct tpid_node
{
	struct tpid_node *next;
	unsigned int hash;
} tpid_node_t;

typedef struct tpid_table tpid_table_t;

struct tpid_table
{
	tpid_cache_ops_t ops;
	void (*free_node)(tpid_table_t *t, tpid_node_t *n);
	unsigned int nbuckets; /* power of two */
	unsigned int nstripes; /* power of two, <= nbuckets */
	unsigned int max_entries;
	unsigned int count; /* atomic */
	tpid_node_t **buckets;
};

/* A new cache object of size bytes (from ops) whose first member is the
 * table, set up: nbuckets and nstripes rounded up to powers of two,
 * max_entries >= 1, free_node frees one entry. NULL on bad arguments or
 * out of memory. */
void *tpid_table_new(const tpid_cache_ops_t *ops, size_t size,
		unsigned int nbuckets, unsigned int nstripes, unsigned int max_entries,
		void (*free_node)(tpid_table_t *t, tpid_node_t *n));

/* Frees every entry, the buckets and the object around t. NULL: nothing. */
void tpid_table_destroy(tpid_table_t *t);

/* FNV-1a of s, its NUL included, continuing from h (start with
 * TPID_TABLE_HASH_INIT): "a","bc" and "ab","c" differ. */
#define TPID_TABLE_HASH_INIT 2166136261u
unsigned int tpid_table_hash(unsigned int h, const char *s);

/* Locks the stripe of hash's bucket and returns the bucket. */
unsigned int tpid_table_lock(tpid_table_t *t, unsigned int hash);
void tpid_table_unlock(tpid_table_t *t, unsigned int bucket);

/* Puts n at the head of bucket b (lock held). */
void tpid_table_link(tpid_table_t *t, unsigned int b, tpid_node_t *n);

/* Removes and frees the entry at *pp (lock held). */
void tpid_table_unlink(tpid_table_t *t, tpid_node_t **pp);

/* Makes room in a full table from bucket b (lock held): the entry for
 * which expiry() is smallest goes; expiry() < 0 means "never evict".
 * 0 when the table was not full or room was made, -1 otherwise. */
int tpid_table_room(tpid_table_t *t, unsigned int b,
		int64_t (*expiry)(const tpid_node_t *n));

/* What a visitor wants done with the entry it was shown. */
enum
{
	TPID_TABLE_NEXT = 0, /* keep it, go on */
	TPID_TABLE_DROP = 1, /* unlink and free it, go on */
	TPID_TABLE_STOP = 2	 /* keep it, end the visit */
};

/* Shows fn every entry of bucket b (lock held). 1 if fn stopped, else 0. */
int tpid_table_visit_bucket(tpid_table_t *t, unsigned int b,
		int (*fn)(tpid_node_t *n, void *arg), void *arg);

/* Shows fn every entry, its bucket's stripe locked (keep fn short). */
void tpid_table_visit(
		tpid_table_t *t, int (*fn)(tpid_node_t *n, void *arg), void *arg);

/* Number of entries at this moment. */
unsigned int tpid_table_count(const tpid_table_t *t);

#endif
