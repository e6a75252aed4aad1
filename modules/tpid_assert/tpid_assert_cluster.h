/*
 * tpid_assert - Kamailio glue: a cluster of instances on Kamailio's DMQ
 * (see tpid_assert_cluster.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_ASSERT_CLUSTER_H
#define TPID_ASSERT_CLUSTER_H

#include <stddef.h>
#include <stdint.h>

#include "tpid_cluster.h"

/* With enable_dmq: binds DMQ (loaded before this module) and registers. */
int tpid_cluster_mod_init(void);

/* Does op (arg: the canonical form the caches key, or NULL) here: the
 * number of decisions evicted, 0 for a reload, or -1 with err. */
int tpid_cluster_act(
		tpid_cluster_op_t op, const char *arg, char *err, size_t errsize);

/* tpid_cluster_act, then the same on every other instance (when it
 * succeeded here and DMQ is on). */
int tpid_cluster_do(
		tpid_cluster_op_t op, const char *arg, char *err, size_t errsize);

/* Tells the other instances (nothing without DMQ). */
void tpid_cluster_share(tpid_cluster_op_t op, const char *arg);
void tpid_cluster_share_replay(
		const unsigned char *key, const unsigned char *cid, int64_t expires);

#endif
