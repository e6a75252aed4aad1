/*
 * tpid_assert - the replay cache of the terminating side.
 *
 * A verified token may be used by one call only: the same token seen again
 * on another Call-ID within its freshness window is a replay (a callee who
 * received it passing it on to other callees). The same token on the same
 * Call-ID passes: retransmissions, and the forks of one call that reach
 * this proxy more than once.
 *
 * A token is known by tpid_replay_key(): SHA-256 over its signing input
 * and the r half of its ES256 signature. s is left out because an ECDSA
 * signature (r, s) has a twin (r, n - s) that anyone can compute without
 * the key; a replay with the twin is still the same token. Call-IDs are
 * kept as SHA-256 too: no network text is stored.
 *
 * Bounded: at most max_entries tokens. An entry lives until the expiry the
 * caller gives (the end of the token's freshness window). When the cache
 * is full and nothing has expired, the entry that expires soonest is
 * evicted and counted: a fresh token is never refused for lack of room,
 * at the price that an evicted token could be replayed once more within
 * what is left of its window. Size the cache for the peak rate of verified
 * calls times iat_max_age.
 *
 * Plain C: memory and the lock come from the caller (tpid_cache_ops_t;
 * stripe 0 is the one lock).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_REPLAY_H
#define TPID_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "tpid_cache.h"

#define TPID_REPLAY_HASH_LEN 32

typedef struct tpid_replay tpid_replay_t;

/* max_entries in 1..2^26; ops complete (the lock is required). NULL on
 * bad arguments or allocation failure. */
tpid_replay_t *tpid_replay_new(
		const tpid_cache_ops_t *ops, unsigned int max_entries);
void tpid_replay_destroy(tpid_replay_t *r);

/* The token's key (see above). sig is the raw r || s (64 bytes for
 * ES256; with any other length the whole signature is hashed). 0 or -1. */
int tpid_replay_key(const char *signing_input, size_t silen,
		const unsigned char *sig, size_t siglen,
		unsigned char key[TPID_REPLAY_HASH_LEN]);

/* SHA-256 of a Call-ID. 0 or -1. */
int tpid_replay_callid_hash(const char *callid, size_t len,
		unsigned char out[TPID_REPLAY_HASH_LEN]);

/* Checks a verified token at time now: TPID_OK when first seen (recorded
 * until expires) or seen before with the same Call-ID; TPID_R_REPLAY when
 * seen with another Call-ID and not expired. */
int tpid_replay_check(tpid_replay_t *r,
		const unsigned char key[TPID_REPLAY_HASH_LEN],
		const unsigned char callid[TPID_REPLAY_HASH_LEN], int64_t now,
		int64_t expires);

/* Records a token learned elsewhere (another node of a cluster); an entry
 * already there is kept. 0, or -1 when expires <= now. */
int tpid_replay_insert(tpid_replay_t *r,
		const unsigned char key[TPID_REPLAY_HASH_LEN],
		const unsigned char callid[TPID_REPLAY_HASH_LEN], int64_t now,
		int64_t expires);

/* Drops every entry expired at now. Returns how many went. */
int tpid_replay_purge(tpid_replay_t *r, int64_t now);

/* Drops everything. Returns how many went. */
int tpid_replay_flush(tpid_replay_t *r);

/* Entries now, and entries evicted before their expiry since creation. */
/* A remembered token, as it travels between the instances of a cluster. */
typedef struct tpid_replay_entry
{
	unsigned char key[TPID_REPLAY_HASH_LEN];
	unsigned char cid[TPID_REPLAY_HASH_LEN];
	int64_t expires;
} tpid_replay_entry_t;

/* Copies at most max live entries into out, from heap position *pos on, and
 * moves *pos past them (start at 0; done when it returns 0). For a node that
 * joins a cluster: the table may change between calls, so an entry may be
 * missed or sent twice (inserting it again keeps the one there). */
int tpid_replay_export(tpid_replay_t *r, int64_t now, unsigned int *pos,
		tpid_replay_entry_t *out, int max);

unsigned int tpid_replay_count(tpid_replay_t *r);
uint64_t tpid_replay_evictions(tpid_replay_t *r);

#endif
