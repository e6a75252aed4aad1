/*
 * tpid_assert - the replay cache of the terminating side.
 *
 * Entries sit in one preallocated array: a hash table (chains of indexes)
 * finds a token, a binary min-heap on the expiry finds what goes first
 * (expired entries, or the soonest-expiring one when full). One lock: a
 * check is a hash and a few comparisons.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include <openssl/evp.h>

#include "tpid_jose.h"
#include "tpid_reason.h"
#include "tpid_replay.h"

#define TPID_RP_NONE UINT32_MAX

typedef struct tpid_rp_entry
{
	unsigned char key[TPID_REPLAY_HASH_LEN];
	unsigned char cid[TPID_REPLAY_HASH_LEN];
	int64_t expires;
	uint32_t next; /* bucket chain, or free list */
	uint32_t heap; /* position in the heap */
} tpid_rp_entry_t;

struct tpid_replay
{
	tpid_cache_ops_t ops;
	uint32_t max, count, nbuckets, free_head;
	uint64_t evictions;
	uint32_t *buckets;
	uint32_t *heap; /* entry indexes, soonest expiry first */
	tpid_rp_entry_t *e;
};

static void *tpid_rp_zalloc(const tpid_cache_ops_t *ops, size_t n)
{
	void *p = ops->alloc(n);

	if(p)
		memset(p, 0, n);
	return p;
}

tpid_replay_t *tpid_replay_new(
		const tpid_cache_ops_t *ops, unsigned int max_entries)
{
	tpid_replay_t *r;
	uint32_t i, nb = 1;

	if(ops == NULL || ops->alloc == NULL || ops->free == NULL
			|| ops->lock == NULL || ops->unlock == NULL || max_entries < 1
			|| max_entries > (1u << 26))
		return NULL;
	while(nb < max_entries)
		nb <<= 1;
	r = tpid_rp_zalloc(ops, sizeof(*r));
	if(r == NULL)
		return NULL;
	r->ops = *ops;
	r->max = max_entries;
	r->nbuckets = nb;
	r->buckets = tpid_rp_zalloc(ops, nb * sizeof(uint32_t));
	r->heap = tpid_rp_zalloc(ops, max_entries * sizeof(uint32_t));
	r->e = tpid_rp_zalloc(ops, max_entries * sizeof(tpid_rp_entry_t));
	if(r->buckets == NULL || r->heap == NULL || r->e == NULL) {
		tpid_replay_destroy(r);
		return NULL;
	}
	for(i = 0; i < nb; i++)
		r->buckets[i] = TPID_RP_NONE;
	for(i = 0; i < max_entries; i++)
		r->e[i].next = i + 1 < max_entries ? i + 1 : TPID_RP_NONE;
	r->free_head = 0;
	return r;
}

void tpid_replay_destroy(tpid_replay_t *r)
{
	if(r == NULL)
		return;
	if(r->buckets)
		r->ops.free(r->buckets);
	if(r->heap)
		r->ops.free(r->heap);
	if(r->e)
		r->ops.free(r->e);
	r->ops.free(r);
}

int tpid_replay_key(const char *signing_input, size_t silen,
		const unsigned char *sig, size_t siglen,
		unsigned char key[TPID_REPLAY_HASH_LEN])
{
	/* ES256 r || s: only r (see the header). */
	if(siglen == 64)
		siglen = 32;
	return tpid_jose_sha256(signing_input, silen, sig, siglen, key);
}

int tpid_replay_callid_hash(
		const char *callid, size_t len, unsigned char out[TPID_REPLAY_HASH_LEN])
{
	return tpid_jose_sha256(callid, len, NULL, 0, out);
}

static uint32_t tpid_rp_bucket(const tpid_replay_t *r, const unsigned char *key)
{
	uint32_t h;

	memcpy(&h, key, sizeof(h)); /* already a uniform hash */
	return h & (r->nbuckets - 1);
}

static void tpid_rp_heap_set(tpid_replay_t *r, uint32_t pos, uint32_t idx)
{
	r->heap[pos] = idx;
	r->e[idx].heap = pos;
}

static void tpid_rp_sift(tpid_replay_t *r, uint32_t pos)
{
	uint32_t idx = r->heap[pos], parent, child;
	int64_t x = r->e[idx].expires;

	while(pos > 0) {
		parent = (pos - 1) / 2;
		if(r->e[r->heap[parent]].expires <= x)
			break;
		tpid_rp_heap_set(r, pos, r->heap[parent]);
		pos = parent;
	}
	for(;;) {
		child = 2 * pos + 1;
		if(child >= r->count)
			break;
		if(child + 1 < r->count
				&& r->e[r->heap[child + 1]].expires
						   < r->e[r->heap[child]].expires)
			child++;
		if(r->e[r->heap[child]].expires >= x)
			break;
		tpid_rp_heap_set(r, pos, r->heap[child]);
		pos = child;
	}
	tpid_rp_heap_set(r, pos, idx);
}

static uint32_t *tpid_rp_find(tpid_replay_t *r, const unsigned char *key)
{
	uint32_t *link = &r->buckets[tpid_rp_bucket(r, key)];

	while(*link != TPID_RP_NONE
			&& memcmp(r->e[*link].key, key, TPID_REPLAY_HASH_LEN) != 0)
		link = &r->e[*link].next;
	return link;
}

/* Removes the entry at the top of the heap. */
static void tpid_rp_pop(tpid_replay_t *r)
{
	uint32_t idx = r->heap[0];
	uint32_t *link = tpid_rp_find(r, r->e[idx].key);

	*link = r->e[idx].next;
	r->e[idx].next = r->free_head;
	r->free_head = idx;
	r->count--;
	if(r->count > 0) {
		tpid_rp_heap_set(r, 0, r->heap[r->count]);
		tpid_rp_sift(r, 0);
	}
}

static int tpid_rp_purge(tpid_replay_t *r, int64_t now)
{
	int n = 0;

	while(r->count > 0 && r->e[r->heap[0]].expires <= now) {
		tpid_rp_pop(r);
		n++;
	}
	return n;
}

static void tpid_rp_add(tpid_replay_t *r, uint32_t *link,
		const unsigned char *key, const unsigned char *cid, int64_t expires)
{
	uint32_t idx;

	if(r->count == r->max) {
		tpid_rp_pop(r);
		r->evictions++;
		/* The chain may have changed under link. */
		link = tpid_rp_find(r, key);
	}
	idx = r->free_head;
	r->free_head = r->e[idx].next;
	memcpy(r->e[idx].key, key, TPID_REPLAY_HASH_LEN);
	memcpy(r->e[idx].cid, cid, TPID_REPLAY_HASH_LEN);
	r->e[idx].expires = expires;
	r->e[idx].next = TPID_RP_NONE;
	*link = idx;
	r->heap[r->count] = idx;
	r->e[idx].heap = r->count;
	r->count++;
	tpid_rp_sift(r, r->count - 1);
}

/* With refuse, a known key on another Call-ID is a replay; without, the
 * entry there is simply kept. */
static int tpid_rp_record(tpid_replay_t *r, const unsigned char *key,
		const unsigned char *cid, int64_t now, int64_t expires, int refuse)
{
	uint32_t *link;
	int rc = TPID_OK;

	r->ops.lock(r->ops.ctx, 0);
	tpid_rp_purge(r, now);
	link = tpid_rp_find(r, key);
	if(*link != TPID_RP_NONE) {
		if(refuse && memcmp(r->e[*link].cid, cid, TPID_REPLAY_HASH_LEN) != 0)
			rc = TPID_R_REPLAY;
	} else if(expires > now) {
		tpid_rp_add(r, link, key, cid, expires);
	}
	r->ops.unlock(r->ops.ctx, 0);
	return rc;
}

int tpid_replay_check(tpid_replay_t *r,
		const unsigned char key[TPID_REPLAY_HASH_LEN],
		const unsigned char callid[TPID_REPLAY_HASH_LEN], int64_t now,
		int64_t expires)
{
	return tpid_rp_record(r, key, callid, now, expires, 1);
}

int tpid_replay_insert(tpid_replay_t *r,
		const unsigned char key[TPID_REPLAY_HASH_LEN],
		const unsigned char callid[TPID_REPLAY_HASH_LEN], int64_t now,
		int64_t expires)
{
	if(expires <= now)
		return -1;
	tpid_rp_record(r, key, callid, now, expires, 0);
	return 0;
}

int tpid_replay_purge(tpid_replay_t *r, int64_t now)
{
	int n;

	r->ops.lock(r->ops.ctx, 0);
	n = tpid_rp_purge(r, now);
	r->ops.unlock(r->ops.ctx, 0);
	return n;
}

int tpid_replay_flush(tpid_replay_t *r)
{
	int n = 0;

	r->ops.lock(r->ops.ctx, 0);
	while(r->count > 0) {
		tpid_rp_pop(r);
		n++;
	}
	r->ops.unlock(r->ops.ctx, 0);
	return n;
}

unsigned int tpid_replay_count(tpid_replay_t *r)
{
	unsigned int n;

	r->ops.lock(r->ops.ctx, 0);
	n = r->count;
	r->ops.unlock(r->ops.ctx, 0);
	return n;
}

uint64_t tpid_replay_evictions(tpid_replay_t *r)
{
	uint64_t n;

	r->ops.lock(r->ops.ctx, 0);
	n = r->evictions;
	r->ops.unlock(r->ops.ctx, 0);
	return n;
}

int tpid_replay_export(tpid_replay_t *r, int64_t now, unsigned int *pos,
		tpid_replay_entry_t *out, int max)
{
	const tpid_rp_entry_t *e;
	int n = 0;

	r->ops.lock(r->ops.ctx, 0);
	for(; *pos < r->count && n < max; (*pos)++) {
		e = &r->e[r->heap[*pos]];
		if(e->expires <= now)
			continue;
		memcpy(out[n].key, e->key, TPID_REPLAY_HASH_LEN);
		memcpy(out[n].cid, e->cid, TPID_REPLAY_HASH_LEN);
		out[n].expires = e->expires;
		n++;
	}
	r->ops.unlock(r->ops.ctx, 0);
	return n;
}
