/*
 * tpid_assert - Kamailio glue: statistics
 *
 * Kamailio counters are per process and summed when read: updating one
 * costs no lock on the SIP path.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "core/counters.h"
#include "core/dprint.h"
#include "core/mem/mem.h"

#include "tpid_assert_stats.h"
#include "tpid_reason.h"

stat_var *tpid_st_queries = NULL;
stat_var *tpid_st_cache_hits = NULL;
stat_var *tpid_st_cache_misses = NULL;
stat_var *tpid_st_coalesced = NULL;
stat_var *tpid_st_authorized = NULL;
stat_var *tpid_st_denied = NULL;
stat_var *tpid_st_unknown = NULL;
stat_var *tpid_st_signed = NULL;
stat_var *tpid_st_inflight = NULL;
stat_var *tpid_st_verified = NULL;
stat_var *tpid_st_avatar_queries = NULL;
stat_var *tpid_st_avatar_cache_hits = NULL;
stat_var *tpid_st_avatar_cache_misses = NULL;
stat_var *tpid_st_avatar_coalesced = NULL;
stat_var *tpid_st_avatar_signed = NULL;
stat_var *tpid_st_avatar_verified = NULL;
stat_var *tpid_st_avatar_refused = NULL;

/* One counter per reason that has one in the reason table, by reason
 * number: built from the table at registration. */
static stat_var **tpid_st_reason = NULL;
static int tpid_st_reason_max = -1;

/* Hook latency buckets: upper bounds in ms, the last one open. */
static stat_var *tpid_st_lat[7];
/* The same buckets for the STI-AS / STI-VS requests. */
static stat_var *tpid_st_ms_lat[7];
stat_var *tpid_st_ms_requests = NULL;
static const double tpid_lat_bounds[6] = {10, 50, 100, 250, 500, 1000};

/* clang-format off */
static stat_export_t tpid_stats[] = {
	{"queries",             0,             &tpid_st_queries},
	{"cache_hits",          0,             &tpid_st_cache_hits},
	{"cache_misses",        0,             &tpid_st_cache_misses},
	{"coalesced",           0,             &tpid_st_coalesced},
	{"answers_authorized",  0,             &tpid_st_authorized},
	{"answers_denied",      0,             &tpid_st_denied},
	{"answers_unknown",     0,             &tpid_st_unknown},
	{"signed",              0,             &tpid_st_signed},
	{"inflight",            STAT_NO_RESET, &tpid_st_inflight},
	{"verified",            0,             &tpid_st_verified},
	{"avatar_queries",      0,             &tpid_st_avatar_queries},
	{"avatar_cache_hits",   0,             &tpid_st_avatar_cache_hits},
	{"avatar_cache_misses", 0,             &tpid_st_avatar_cache_misses},
	{"avatar_coalesced",    0,             &tpid_st_avatar_coalesced},
	{"avatar_signed",       0,             &tpid_st_avatar_signed},
	{"avatar_verified",     0,             &tpid_st_avatar_verified},
	{"avatar_refused",      0,             &tpid_st_avatar_refused},
	{"hook_latency_le_10ms",   0,          &tpid_st_lat[0]},
	{"hook_latency_le_50ms",   0,          &tpid_st_lat[1]},
	{"hook_latency_le_100ms",  0,          &tpid_st_lat[2]},
	{"hook_latency_le_250ms",  0,          &tpid_st_lat[3]},
	{"hook_latency_le_500ms",  0,          &tpid_st_lat[4]},
	{"hook_latency_le_1000ms", 0,          &tpid_st_lat[5]},
	{"hook_latency_gt_1000ms", 0,          &tpid_st_lat[6]},
	{"ms_requests",            0,          &tpid_st_ms_requests},
	{"ms_latency_le_10ms",     0,          &tpid_st_ms_lat[0]},
	{"ms_latency_le_50ms",     0,          &tpid_st_ms_lat[1]},
	{"ms_latency_le_100ms",    0,          &tpid_st_ms_lat[2]},
	{"ms_latency_le_250ms",    0,          &tpid_st_ms_lat[3]},
	{"ms_latency_le_500ms",    0,          &tpid_st_ms_lat[4]},
	{"ms_latency_le_1000ms",   0,          &tpid_st_ms_lat[5]},
	{"ms_latency_gt_1000ms",   0,          &tpid_st_ms_lat[6]},
	{0, 0, 0}
};
/* clang-format on */

/* Registers tpid_assert:<counter> for every row of the reason table that
 * names one; tpid_st_reason[reason] gets its handle. */
static int tpid_stats_register_reasons(void)
{
	const tpid_reason_info_t *r;
	stat_export_t *ex;
	size_t i, n = 0;
	int max = 0, rc;

	for(i = 0; (r = tpid_reason_at(i)) != NULL; i++) {
		n += r->counter != NULL;
		max = r->reason > max ? r->reason : max;
	}
	tpid_st_reason = pkg_mallocxz((max + 1) * sizeof(*tpid_st_reason));
	ex = pkg_mallocxz((n + 1) * sizeof(*ex));
	if(tpid_st_reason == NULL || ex == NULL) {
		PKG_MEM_ERROR;
		if(ex != NULL)
			pkg_free(ex);
		return -1;
	}
	for(i = 0, n = 0; (r = tpid_reason_at(i)) != NULL; i++) {
		if(r->counter == NULL || r->reason < 0)
			continue;
		/* a literal of the table: lives as long as the module */
		ex[n].name = (char *)r->counter;
		ex[n].stat_pointer = &tpid_st_reason[r->reason];
		n++;
	}
	tpid_st_reason_max = max;
	rc = register_module_stats("tpid_assert", ex);
	pkg_free(ex);
	return rc;
}

int tpid_stats_register(void)
{
	if(register_module_stats("tpid_assert", tpid_stats) != 0
			|| tpid_stats_register_reasons() != 0) {
		LM_ERR("cannot register statistics\n");
		return -1;
	}
	return 0;
}

static int tpid_stats_bucket(double ms)
{
	int i;

	for(i = 0; i < 6 && ms > tpid_lat_bounds[i]; i++)
		;
	return i;
}

void tpid_stats_latency(double ms)
{
	update_stat(tpid_st_lat[tpid_stats_bucket(ms)], 1);
}

void tpid_stats_ms_latency(double ms)
{
	update_stat(tpid_st_ms_lat[tpid_stats_bucket(ms)], 1);
}

void tpid_stats_reason(int reason)
{
	if(reason >= 0 && reason <= tpid_st_reason_max
			&& tpid_st_reason[reason] != NULL)
		update_stat(tpid_st_reason[reason], 1);
}
