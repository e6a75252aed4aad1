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

/* One counter per failure reason, named after it in lower case. */
static stat_var *tpid_st_bad_claim, *tpid_st_no_served_user,
		*tpid_st_call_denied, *tpid_st_call_unknown, *tpid_st_no_enterprise,
		*tpid_st_hook_connect, *tpid_st_hook_timeout, *tpid_st_hook_tls,
		*tpid_st_hook_http, *tpid_st_hook_bad_answer, *tpid_st_hook_too_big,
		*tpid_st_hook_busy, *tpid_st_bad_dest, *tpid_st_sign_failed,
		*tpid_st_no_identity, *tpid_st_bad_syntax, *tpid_st_bad_ppt,
		*tpid_st_bad_alg, *tpid_st_bad_typ, *tpid_st_x5u_mismatch,
		*tpid_st_x5u_not_allowed, *tpid_st_cert_unavailable,
		*tpid_st_cert_invalid, *tpid_st_bad_signature, *tpid_st_bad_claims,
		*tpid_st_iat_stale, *tpid_st_iat_future, *tpid_st_tpid_expired,
		*tpid_st_orig_mismatch, *tpid_st_dest_mismatch, *tpid_st_replay,
		*tpid_st_internal;

/* Hook latency buckets: upper bounds in ms, the last one open. */
static stat_var *tpid_st_lat[7];
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
	{"bad_claim",           0,             &tpid_st_bad_claim},
	{"no_served_user",      0,             &tpid_st_no_served_user},
	{"no_enterprise",       0,             &tpid_st_no_enterprise},
	{"denied",              0,             &tpid_st_call_denied},
	{"unknown_id",          0,             &tpid_st_call_unknown},
	{"hook_connect",        0,             &tpid_st_hook_connect},
	{"hook_timeout",        0,             &tpid_st_hook_timeout},
	{"hook_tls",            0,             &tpid_st_hook_tls},
	{"hook_http",           0,             &tpid_st_hook_http},
	{"hook_bad_answer",     0,             &tpid_st_hook_bad_answer},
	{"hook_too_big",        0,             &tpid_st_hook_too_big},
	{"hook_busy",           0,             &tpid_st_hook_busy},
	{"bad_dest",            0,             &tpid_st_bad_dest},
	{"sign_failed",         0,             &tpid_st_sign_failed},
	{"no_identity",         0,             &tpid_st_no_identity},
	{"bad_syntax",          0,             &tpid_st_bad_syntax},
	{"bad_ppt",             0,             &tpid_st_bad_ppt},
	{"bad_alg",             0,             &tpid_st_bad_alg},
	{"bad_typ",             0,             &tpid_st_bad_typ},
	{"x5u_mismatch",        0,             &tpid_st_x5u_mismatch},
	{"x5u_not_allowed",     0,             &tpid_st_x5u_not_allowed},
	{"cert_unavailable",    0,             &tpid_st_cert_unavailable},
	{"cert_invalid",        0,             &tpid_st_cert_invalid},
	{"bad_signature",       0,             &tpid_st_bad_signature},
	{"bad_claims",          0,             &tpid_st_bad_claims},
	{"iat_stale",           0,             &tpid_st_iat_stale},
	{"iat_future",          0,             &tpid_st_iat_future},
	{"tpid_expired",        0,             &tpid_st_tpid_expired},
	{"orig_mismatch",       0,             &tpid_st_orig_mismatch},
	{"dest_mismatch",       0,             &tpid_st_dest_mismatch},
	{"replay",              0,             &tpid_st_replay},
	{"internal",            0,             &tpid_st_internal},
	{"hook_latency_le_10ms",   0,          &tpid_st_lat[0]},
	{"hook_latency_le_50ms",   0,          &tpid_st_lat[1]},
	{"hook_latency_le_100ms",  0,          &tpid_st_lat[2]},
	{"hook_latency_le_250ms",  0,          &tpid_st_lat[3]},
	{"hook_latency_le_500ms",  0,          &tpid_st_lat[4]},
	{"hook_latency_le_1000ms", 0,          &tpid_st_lat[5]},
	{"hook_latency_gt_1000ms", 0,          &tpid_st_lat[6]},
	{0, 0, 0}
};
/* clang-format on */

int tpid_stats_register(void)
{
	if(register_module_stats("tpid_assert", tpid_stats) != 0) {
		LM_ERR("cannot register statistics\n");
		return -1;
	}
	return 0;
}

void tpid_stats_latency(double ms)
{
	int i;

	for(i = 0; i < 6 && ms > tpid_lat_bounds[i]; i++)
		;
	update_stat(tpid_st_lat[i], 1);
}

void tpid_stats_reason(int reason)
{
	stat_var *v = NULL;

	switch(reason) {
		case TPID_R_BAD_CLAIM:
			v = tpid_st_bad_claim;
			break;
		case TPID_R_NO_SERVED_USER:
			v = tpid_st_no_served_user;
			break;
		case TPID_R_NO_ENTERPRISE:
			v = tpid_st_no_enterprise;
			break;
		case TPID_R_DENIED:
			v = tpid_st_call_denied;
			break;
		case TPID_R_UNKNOWN_ID:
			v = tpid_st_call_unknown;
			break;
		case TPID_R_HOOK_CONNECT:
			v = tpid_st_hook_connect;
			break;
		case TPID_R_HOOK_TIMEOUT:
			v = tpid_st_hook_timeout;
			break;
		case TPID_R_HOOK_TLS:
			v = tpid_st_hook_tls;
			break;
		case TPID_R_HOOK_HTTP:
			v = tpid_st_hook_http;
			break;
		case TPID_R_HOOK_BAD_ANSWER:
			v = tpid_st_hook_bad_answer;
			break;
		case TPID_R_HOOK_TOO_BIG:
			v = tpid_st_hook_too_big;
			break;
		case TPID_R_HOOK_BUSY:
			v = tpid_st_hook_busy;
			break;
		case TPID_R_BAD_DEST:
			v = tpid_st_bad_dest;
			break;
		case TPID_R_SIGN_FAILED:
			v = tpid_st_sign_failed;
			break;
		case TPID_R_NO_IDENTITY:
			v = tpid_st_no_identity;
			break;
		case TPID_R_BAD_SYNTAX:
			v = tpid_st_bad_syntax;
			break;
		case TPID_R_BAD_PPT:
			v = tpid_st_bad_ppt;
			break;
		case TPID_R_BAD_ALG:
			v = tpid_st_bad_alg;
			break;
		case TPID_R_BAD_TYP:
			v = tpid_st_bad_typ;
			break;
		case TPID_R_X5U_MISMATCH:
			v = tpid_st_x5u_mismatch;
			break;
		case TPID_R_X5U_NOT_ALLOWED:
			v = tpid_st_x5u_not_allowed;
			break;
		case TPID_R_CERT_UNAVAILABLE:
			v = tpid_st_cert_unavailable;
			break;
		case TPID_R_CERT_INVALID:
			v = tpid_st_cert_invalid;
			break;
		case TPID_R_BAD_SIGNATURE:
			v = tpid_st_bad_signature;
			break;
		case TPID_R_BAD_CLAIMS:
			v = tpid_st_bad_claims;
			break;
		case TPID_R_IAT_STALE:
			v = tpid_st_iat_stale;
			break;
		case TPID_R_IAT_FUTURE:
			v = tpid_st_iat_future;
			break;
		case TPID_R_TPID_EXPIRED:
			v = tpid_st_tpid_expired;
			break;
		case TPID_R_ORIG_MISMATCH:
			v = tpid_st_orig_mismatch;
			break;
		case TPID_R_DEST_MISMATCH:
			v = tpid_st_dest_mismatch;
			break;
		case TPID_R_REPLAY:
			v = tpid_st_replay;
			break;
		case TPID_R_INTERNAL:
			v = tpid_st_internal;
			break;
		default:
			break;
	}
	if(v != NULL)
		update_stat(v, 1);
}
