/*
 * tpid_assert - reason codes: the reason table (name, SIP reply, counter)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tpid_reason.h"

#include <stddef.h>

/* The one table: adding a reason is adding its row here (and its number in
 * tpid_reason.h). RFC 8224 section 6.2.2 for the 4xx of the terminating
 * side; 403 for an enterprise's refusal; 500 when we are at fault. The
 * counter is the statistic tpid_assert:<counter>; NULL counts nothing. */
/* clang-format off */
static const tpid_reason_info_t tpid_reasons[] = {
	{TPID_OK,                   "OK",                200, "OK",                             NULL},
	{TPID_R_NO_CLAIM,           "NO_CLAIM",          200, "OK",                             NULL},
	{TPID_R_BAD_CLAIM,          "BAD_CLAIM",         403, "Invalid Third-Party ID",         "bad_claim"},
	{TPID_R_NO_SERVED_USER,     "NO_SERVED_USER",    403, "No Served User",                 "no_served_user"},
	{TPID_R_NO_ENTERPRISE,      "NO_ENTERPRISE",     403, "Third-Party ID Not Authorized",  "no_enterprise"},
	{TPID_R_DENIED,             "DENIED",            403, "Third-Party ID Not Authorized",  "denied"},
	{TPID_R_UNKNOWN_ID,         "UNKNOWN_ID",        403, "Third-Party ID Not Authorized",  "unknown_id"},
	{TPID_R_HOOK_CONNECT,       "HOOK_CONNECT",      500, "Enterprise Unreachable",         "hook_connect"},
	{TPID_R_HOOK_TIMEOUT,       "HOOK_TIMEOUT",      500, "Enterprise Timeout",             "hook_timeout"},
	{TPID_R_HOOK_TLS,           "HOOK_TLS",          500, "Enterprise TLS Failure",         "hook_tls"},
	{TPID_R_HOOK_HTTP,          "HOOK_HTTP",         500, "Enterprise Error",               "hook_http"},
	{TPID_R_HOOK_BAD_ANSWER,    "HOOK_BAD_ANSWER",   500, "Enterprise Error",               "hook_bad_answer"},
	{TPID_R_HOOK_TOO_BIG,       "HOOK_TOO_BIG",      500, "Enterprise Error",               "hook_too_big"},
	{TPID_R_SIGN_FAILED,        "SIGN_FAILED",       500, "Server Internal Error",          "sign_failed"},
	{TPID_R_HOOK_BUSY,          "HOOK_BUSY",         500, "Enterprise Busy",                "hook_busy"},
	{TPID_R_BAD_DEST,           "BAD_DEST",          500, "Invalid Destination",            "bad_dest"},
	{TPID_R_NO_IDENTITY,        "NO_IDENTITY",       428, "Use Identity Header",            "no_identity"},
	{TPID_R_BAD_SYNTAX,         "BAD_SYNTAX",        438, "Invalid Identity Header",        "bad_syntax"},
	{TPID_R_BAD_PPT,            "BAD_PPT",           438, "Invalid Identity Header",        "bad_ppt"},
	{TPID_R_BAD_ALG,            "BAD_ALG",           438, "Invalid Identity Header",        "bad_alg"},
	{TPID_R_BAD_TYP,            "BAD_TYP",           438, "Invalid Identity Header",        "bad_typ"},
	{TPID_R_X5U_MISMATCH,       "X5U_MISMATCH",      436, "Bad Identity Info",              "x5u_mismatch"},
	{TPID_R_X5U_NOT_ALLOWED,    "X5U_NOT_ALLOWED",   436, "Bad Identity Info",              "x5u_not_allowed"},
	{TPID_R_CERT_UNAVAILABLE,   "CERT_UNAVAILABLE",  436, "Bad Identity Info",              "cert_unavailable"},
	{TPID_R_CERT_INVALID,       "CERT_INVALID",      437, "Unsupported Credential",         "cert_invalid"},
	{TPID_R_BAD_SIGNATURE,      "BAD_SIGNATURE",     438, "Invalid Identity Header",        "bad_signature"},
	{TPID_R_BAD_CLAIMS,         "BAD_CLAIMS",        438, "Invalid Identity Header",        "bad_claims"},
	{TPID_R_IAT_STALE,          "IAT_STALE",         403, "Stale Date",                     "iat_stale"},
	{TPID_R_IAT_FUTURE,         "IAT_FUTURE",        403, "Stale Date",                     "iat_future"},
	{TPID_R_TPID_EXPIRED,       "TPID_EXPIRED",      403, "Stale Date",                     "tpid_expired"},
	{TPID_R_ORIG_MISMATCH,      "ORIG_MISMATCH",     438, "Invalid Identity Header",        "orig_mismatch"},
	{TPID_R_DEST_MISMATCH,      "DEST_MISMATCH",     438, "Invalid Identity Header",        "dest_mismatch"},
	{TPID_R_REPLAY,             "REPLAY",            438, "Invalid Identity Header",        "replay"},
	{TPID_R_NO_PAI,             "NO_PAI",            438, "Invalid Identity Header",        "no_pai"},
	{TPID_R_BAD_TPID_ID,        "BAD_TPID_ID",       438, "Invalid Identity Header",        "bad_tpid_id"},
	{TPID_R_BAD_TPID_ISS,       "BAD_TPID_ISS",      438, "Invalid Identity Header",        "bad_tpid_iss"},
	{TPID_R_ISS_MISMATCH,       "ISS_MISMATCH",      438, "Invalid Identity Header",        "iss_mismatch"},
	{TPID_R_ISSUER_NOT_ALLOWED, "ISSUER_NOT_ALLOWED", 437, "Unsupported Credential",      "issuer_not_allowed"},
	{TPID_R_CLAIM_CONSTRAINTS,  "CLAIM_CONSTRAINTS", 438, "Invalid Identity Header",        "claim_constraints"},
	{TPID_R_CERT_FETCH,         "CERT_FETCH",        436, "Bad Identity Info",              "cert_fetch"},
	{TPID_R_AVATAR_BAD_ID,      "AVATAR_BAD_ID",     403, "Invalid Avatar-ID",              "avatar_bad_id"},
	{TPID_R_AVATAR_NO_BAR,      "AVATAR_NO_BAR",     403, "Avatar-ID Not Authorized",       "avatar_no_bar"},
	{TPID_R_AVATAR_DENIED,      "AVATAR_DENIED",     403, "Avatar-ID Not Authorized",       "avatar_denied"},
	{TPID_R_AVATAR_UNKNOWN,     "AVATAR_UNKNOWN",    403, "Avatar-ID Not Authorized",       "avatar_unknown"},
	{TPID_R_BAR_CONNECT,        "BAR_CONNECT",       500, "Avatar Repository Unreachable",  "bar_connect"},
	{TPID_R_BAR_TIMEOUT,        "BAR_TIMEOUT",       500, "Avatar Repository Timeout",      "bar_timeout"},
	{TPID_R_BAR_TLS,            "BAR_TLS",           500, "Avatar Repository TLS Failure",  "bar_tls"},
	{TPID_R_BAR_HTTP,           "BAR_HTTP",          500, "Avatar Repository Error",        "bar_http"},
	{TPID_R_BAR_BAD_ANSWER,     "BAR_BAD_ANSWER",    500, "Avatar Repository Error",        "bar_bad_answer"},
	{TPID_R_BAR_TOO_BIG,        "BAR_TOO_BIG",       500, "Avatar Repository Error",        "bar_too_big"},
	{TPID_R_BAR_BUSY,           "BAR_BUSY",          500, "Avatar Repository Busy",         "bar_busy"},
	{TPID_R_NO_AVATAR,          "NO_AVATAR",         200, "OK",                             NULL},
	{TPID_R_BAD_AVATAR,         "BAD_AVATAR",        438, "Invalid Identity Header",        "bad_avatar"},
	{TPID_R_AVATAR_NOT_ALLOWED, "AVATAR_NOT_ALLOWED", 437, "Unsupported Credential",      "avatar_not_allowed"},
	{TPID_R_MS_SERVICE_ERROR,   "MS_SERVICE_ERROR",  500, "Identity Service Error",         "ms_service_error"},
	{TPID_R_MS_POLICY_ERROR,    "MS_POLICY_ERROR",   500, "Identity Service Refused",       "ms_policy_error"},
	{TPID_R_MS_NO_VALIDATION,   "MS_NO_VALIDATION",  438, "Invalid Identity Header",        "ms_no_validation"},
	{TPID_R_MS_VERIFY_FAILED,   "MS_VERIFY_FAILED",  438, "Invalid Identity Header",        "ms_verify_failed"},
	{TPID_R_MS_UNAVAILABLE,     "MS_UNAVAILABLE",    500, "Identity Service Unavailable",   "ms_unavailable"},
	{TPID_R_MS_BUSY,            "MS_BUSY",           500, "Identity Service Busy",          "ms_busy"},
	{TPID_R_MS_CONNECT,         "MS_CONNECT",        500, "Identity Service Unreachable",   "ms_connect"},
	{TPID_R_MS_TIMEOUT,         "MS_TIMEOUT",        500, "Identity Service Timeout",       "ms_timeout"},
	{TPID_R_MS_TLS,             "MS_TLS",            500, "Identity Service TLS Failure",   "ms_tls"},
	{TPID_R_MS_HTTP,            "MS_HTTP",           500, "Identity Service Error",         "ms_http"},
	{TPID_R_MS_BAD_ANSWER,      "MS_BAD_ANSWER",     500, "Identity Service Error",         "ms_bad_answer"},
	{TPID_R_MS_TOO_BIG,         "MS_TOO_BIG",        500, "Identity Service Error",         "ms_too_big"},
	{TPID_R_CANCELLED,          "CANCELLED",         487, "Request Terminated",             "cancelled"},
	{TPID_R_INTERNAL,           "INTERNAL",          500, "Server Internal Error",          "internal"},
};
/* clang-format on */
#define TPID_NREASONS (sizeof(tpid_reasons) / sizeof(tpid_reasons[0]))

const tpid_reason_info_t *tpid_reason_get(int reason)
{
	size_t i;

	for(i = 0; i < TPID_NREASONS; i++) {
		if(tpid_reasons[i].reason == reason)
			return &tpid_reasons[i];
	}
	return NULL;
}

const tpid_reason_info_t *tpid_reason_at(size_t i)
{
	return i < TPID_NREASONS ? &tpid_reasons[i] : NULL;
}

const char *tpid_reason_name(int reason)
{
	const tpid_reason_info_t *r = tpid_reason_get(reason);
	return r ? r->name : "UNDEFINED";
}

int tpid_reason_sip_code(int reason)
{
	const tpid_reason_info_t *r = tpid_reason_get(reason);
	return r ? r->sip_code : 500;
}

const char *tpid_reason_sip_phrase(int reason)
{
	const tpid_reason_info_t *r = tpid_reason_get(reason);
	return r ? r->sip_phrase : "Server Internal Error";
}
