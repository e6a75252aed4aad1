/*
 * tpid_assert - what the instances of a cluster tell each other (over
 * Kamailio's DMQ, tpid_assert_cluster.c): the messages and their JSON form.
 *
 * A message is one JSON object {"op": "...", ...}:
 *   {"op":"revoke_user","arg":"tel:+4971..."}     (and revoke_id,
 *       revoke_avatar, revoke_enterprise: arg is what the RPC took, already
 *       in the form the caches key)
 *   {"op":"cache_flush"} {"op":"avatar_flush"} {"op":"reload"}
 *       {"op":"reload_bars"}
 *   {"op":"replay","entries":[["<64 hex>","<64 hex>",expires],...]}
 *       tokens accepted by a terminating instance: replay key, Call-ID hash,
 *       end of the window (seconds since the epoch); at most
 *       TPID_CLUSTER_BATCH entries
 *   {"op":"sync"}  a node that joins asks the others for their replay
 *       entries
 * Everything received is hostile until checked: unknown ops, extra or
 * missing members, wrong types, over-long strings, non-hex keys are refused.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_CLUSTER_H
#define TPID_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "tpid_passport.h"
#include "tpid_replay.h"

#define TPID_CLUSTER_BATCH 64
/* the largest message: a full replay batch */
#define TPID_CLUSTER_MAX_BODY (64 + TPID_CLUSTER_BATCH * 160)

typedef enum tpid_cluster_op
{
	TPID_CL_REVOKE_USER = 1,
	TPID_CL_REVOKE_ID,
	TPID_CL_REVOKE_AVATAR,
	TPID_CL_REVOKE_ENTERPRISE,
	TPID_CL_CACHE_FLUSH,
	TPID_CL_AVATAR_FLUSH,
	TPID_CL_RELOAD,
	TPID_CL_RELOAD_BARS,
	TPID_CL_REPLAY,
	TPID_CL_SYNC
} tpid_cluster_op_t;

typedef struct tpid_cluster_msg
{
	tpid_cluster_op_t op;
	char arg[TPID_MAX_URI]; /* the revocations' subject, NUL-terminated */
	int n;					/* replay entries */
	tpid_replay_entry_t e[TPID_CLUSTER_BATCH];
} tpid_cluster_msg_t;

/* The op's name ("revoke_user", ...) or NULL. */
const char *tpid_cluster_op_name(tpid_cluster_op_t op);

/* Whether op carries an arg. */
int tpid_cluster_op_has_arg(tpid_cluster_op_t op);

/* m as JSON into out (NUL-terminated); its length, or -1 (bad message, out
 * too small). */
int tpid_cluster_encode(const tpid_cluster_msg_t *m, char *out, size_t size);

/* A received body into m: 0, or -1 when it is not exactly one of the
 * messages above. */
int tpid_cluster_decode(const char *body, size_t len, tpid_cluster_msg_t *m);

#endif
