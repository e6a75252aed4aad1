/*
 * tpid_assert - Kamailio glue: the replay cache in shared memory
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_ASSERT_REPLAY_H
#define TPID_ASSERT_REPLAY_H

#include <stdint.h>

#include "core/parser/msg_parser.h"

#include "tpid_passport.h"
#include "tpid_replay.h"

/* Creates the cache (replay_cache_size entries; 0: no replay check) and
 * its counters. At mod_init. 0 or -1. */
int tpid_replay_mod_init(void);

/* Releases the replay cache and its lock (module destroy). */
void tpid_replay_mod_destroy(void);

/* The replay check of a verified token t carried by msg: TPID_OK or
 * TPID_R_REPLAY. The token is remembered until the end of its freshness
 * window (iat + iat_max_age). */
int tpid_replay_msg(sip_msg_t *msg, const tpid_passport_t *t, int64_t now);

/* Entries dropped by flush (RPC). */
int tpid_replay_flush_all(void);

/* A token another instance of the cluster accepted (no-op without a replay
 * cache). */
void tpid_replay_learn(
		const unsigned char *key, const unsigned char *cid, int64_t expires);

/* tpid_replay_export() on this instance's cache (0 without one). */
int tpid_replay_export_live(
		unsigned int *pos, tpid_replay_entry_t *out, int max);

#endif
