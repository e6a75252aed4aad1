/*
 * tpid_assert - Kamailio glue: statistics (kamcmd stats.get_statistics
 * tpid_assert:)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_ASSERT_STATS_H
#define TPID_ASSERT_STATS_H

#include "core/counters.h"

extern stat_var *tpid_st_queries;	   /* enterprise queries sent */
extern stat_var *tpid_st_cache_hits;   /* answered from the cache */
extern stat_var *tpid_st_cache_misses; /* not in the cache */
extern stat_var *tpid_st_coalesced;	   /* joined a query already out */
extern stat_var *tpid_st_authorized;   /* enterprise answers, by result */
extern stat_var *tpid_st_denied;
extern stat_var *tpid_st_unknown;
extern stat_var *tpid_st_signed;   /* Identity headers added */
extern stat_var *tpid_st_inflight; /* suspended INVITEs waiting (gauge) */
extern stat_var *tpid_st_verified; /* terminating: presented to the callee */
/* avatar calls */
extern stat_var *tpid_st_avatar_queries; /* BAR queries sent */
extern stat_var *tpid_st_avatar_cache_hits;
extern stat_var *tpid_st_avatar_cache_misses;
extern stat_var *tpid_st_avatar_coalesced;
extern stat_var *tpid_st_avatar_signed;	  /* avatar tokens added */
extern stat_var *tpid_st_avatar_verified; /* avatars presented */
extern stat_var *tpid_st_avatar_refused;  /* avatar tokens not verified */
extern stat_var *tpid_st_ms_requests;	  /* requests to the STI-AS / STI-VS */

/* Counts one refused or failed call, either side, by its reason. */
void tpid_stats_reason(int reason);

/* Counts one enterprise query's latency into its bucket. */
void tpid_stats_latency(double ms);

/* Counts one STI-AS / STI-VS request's latency into its bucket. */
void tpid_stats_ms_latency(double ms);

int tpid_stats_register(void);

#endif
