/*
 * tpid_assert - Kamailio glue: the replay cache in shared memory
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <time.h>

#include "core/counters.h"
#include "core/dprint.h"
#include "core/parser/parse_hname2.h"
#include "core/timer.h"

#include "tpid_assert_cfg.h"
#include "tpid_assert_cluster.h"
#include "tpid_assert_replay.h"
#include "tpid_assert_shm.h"
#include "tpid_reason.h"
#include "tpid_replay.h"

static tpid_replay_t *tpid_rp = NULL;
static tpid_cache_ops_t tpid_rp_ops;

static counter_val_t tpid_rp_stat_entries(counter_handle_t h, void *p)
{
	return tpid_rp ? (counter_val_t)tpid_replay_count(tpid_rp) : 0;
}

static counter_val_t tpid_rp_stat_evictions(counter_handle_t h, void *p)
{
	return tpid_rp ? (counter_val_t)tpid_replay_evictions(tpid_rp) : 0;
}

/* Timer: expired tokens leave even when no call comes to push them out,
 * so that replay_entries tells the truth. */
static void tpid_rp_timer(unsigned int ticks, void *param)
{
	tpid_replay_purge(tpid_rp, (int64_t)time(NULL));
}

int tpid_replay_mod_init(void)
{
	if(tpid_cfg.replay_cache_size == 0)
		return 0;
	if(tpid_shm_ops_new(1, &tpid_rp_ops) < 0)
		return -1;
	tpid_rp = tpid_replay_new(
			&tpid_rp_ops, (unsigned int)tpid_cfg.replay_cache_size);
	if(tpid_rp == NULL) {
		LM_ERR("cannot create the replay cache (%d entries)\n",
				tpid_cfg.replay_cache_size);
		return -1;
	}
	if(counter_register(NULL, "tpid_assert", "replay_entries", CNT_F_NO_RESET,
			   tpid_rp_stat_entries, NULL,
			   "tokens remembered by the replay cache",
			   0) < 0
			|| counter_register(NULL, "tpid_assert", "replay_evictions",
					   CNT_F_NO_RESET, tpid_rp_stat_evictions, NULL,
					   "tokens evicted from the full replay cache before "
					   "their window ended",
					   0)
					   < 0) {
		LM_ERR("cannot register the replay counters\n");
		return -1;
	}
	if(register_timer(tpid_rp_timer, NULL, 5) < 0) {
		LM_ERR("cannot register the replay cache timer\n");
		return -1;
	}
	return 0;
}

int tpid_replay_msg(sip_msg_t *msg, const tpid_passport_t *t, int64_t now)
{
	unsigned char key[TPID_REPLAY_HASH_LEN], cid[TPID_REPLAY_HASH_LEN];
	int64_t exp;
	int rc;

	if(tpid_rp == NULL)
		return TPID_OK;
	if(msg->callid == NULL
			&& (parse_headers(msg, HDR_CALLID_F, 0) < 0 || msg->callid == NULL))
		return TPID_R_INTERNAL;
	if(tpid_replay_key(t->signing_input, t->signing_input_len, t->sig,
			   t->sig_len,
			   key) < 0
			|| tpid_replay_callid_hash(
					   msg->callid->body.s, msg->callid->body.len, cid)
					   < 0)
		return TPID_R_INTERNAL;
	/* Fresh until iat + iat_max_age: the window the time check allows. */
	exp = t->claims.iat + tpid_cfg.iat_max_age + 1;
	rc = tpid_replay_check(tpid_rp, key, cid, now, exp);
	if(rc == TPID_OK)
		tpid_cluster_share_replay(key, cid, exp);
	return rc;
}

void tpid_replay_learn(
		const unsigned char *key, const unsigned char *cid, int64_t expires)
{
	if(tpid_rp != NULL)
		tpid_replay_insert(tpid_rp, key, cid, (int64_t)time(NULL), expires);
}

int tpid_replay_export_live(
		unsigned int *pos, tpid_replay_entry_t *out, int max)
{
	return tpid_rp ? tpid_replay_export(
				   tpid_rp, (int64_t)time(NULL), pos, out, max)
				   : 0;
}


int tpid_replay_flush_all(void)
{
	return tpid_rp ? tpid_replay_flush(tpid_rp) : 0;
}

void tpid_replay_mod_destroy(void)
{
	tpid_replay_destroy(tpid_rp);
	tpid_rp = NULL;
	tpid_shm_ops_destroy(&tpid_rp_ops);
}
