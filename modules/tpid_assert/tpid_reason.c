/*
 * tpid_assert - reason codes: names and SIP replies
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tpid_reason.h"

#include <stddef.h>

typedef struct tpid_reason_row
{
	int reason;
	const char *name;
	int sip_code;
	const char *sip_phrase;
} tpid_reason_row_t;

/* RFC 8224 section 6.2.2 for the 4xx of the terminating side; 403 for an
 * enterprise's refusal; 500 when we are at fault. */
static const tpid_reason_row_t tpid_reasons[] = {
		{TPID_OK, "OK", 200, "OK"},
		{TPID_R_NO_CLAIM, "NO_CLAIM", 200, "OK"},
		{TPID_R_BAD_CLAIM, "BAD_CLAIM", 403, "Invalid Third-Party ID"},
		{TPID_R_NO_SERVED_USER, "NO_SERVED_USER", 403, "No Served User"},
		{TPID_R_NO_ENTERPRISE, "NO_ENTERPRISE", 403,
				"Third-Party ID Not Authorized"},
		{TPID_R_DENIED, "DENIED", 403, "Third-Party ID Not Authorized"},
		{TPID_R_UNKNOWN_ID, "UNKNOWN_ID", 403, "Third-Party ID Not Authorized"},
		{TPID_R_HOOK_CONNECT, "HOOK_CONNECT", 500, "Enterprise Unreachable"},
		{TPID_R_HOOK_TIMEOUT, "HOOK_TIMEOUT", 500, "Enterprise Timeout"},
		{TPID_R_HOOK_TLS, "HOOK_TLS", 500, "Enterprise TLS Failure"},
		{TPID_R_HOOK_HTTP, "HOOK_HTTP", 500, "Enterprise Error"},
		{TPID_R_HOOK_BAD_ANSWER, "HOOK_BAD_ANSWER", 500, "Enterprise Error"},
		{TPID_R_HOOK_TOO_BIG, "HOOK_TOO_BIG", 500, "Enterprise Error"},
		{TPID_R_SIGN_FAILED, "SIGN_FAILED", 500, "Server Internal Error"},
		{TPID_R_HOOK_BUSY, "HOOK_BUSY", 500, "Enterprise Busy"},
		{TPID_R_BAD_DEST, "BAD_DEST", 500, "Invalid Destination"},
		{TPID_R_NO_IDENTITY, "NO_IDENTITY", 428, "Use Identity Header"},
		{TPID_R_BAD_SYNTAX, "BAD_SYNTAX", 438, "Invalid Identity Header"},
		{TPID_R_BAD_PPT, "BAD_PPT", 438, "Invalid Identity Header"},
		{TPID_R_BAD_ALG, "BAD_ALG", 438, "Invalid Identity Header"},
		{TPID_R_BAD_TYP, "BAD_TYP", 438, "Invalid Identity Header"},
		{TPID_R_X5U_MISMATCH, "X5U_MISMATCH", 436, "Bad Identity Info"},
		{TPID_R_X5U_NOT_ALLOWED, "X5U_NOT_ALLOWED", 436, "Bad Identity Info"},
		{TPID_R_CERT_UNAVAILABLE, "CERT_UNAVAILABLE", 436, "Bad Identity Info"},
		{TPID_R_CERT_INVALID, "CERT_INVALID", 437, "Unsupported Credential"},
		{TPID_R_BAD_SIGNATURE, "BAD_SIGNATURE", 438, "Invalid Identity Header"},
		{TPID_R_BAD_CLAIMS, "BAD_CLAIMS", 438, "Invalid Identity Header"},
		{TPID_R_IAT_STALE, "IAT_STALE", 403, "Stale Date"},
		{TPID_R_IAT_FUTURE, "IAT_FUTURE", 403, "Stale Date"},
		{TPID_R_TPID_EXPIRED, "TPID_EXPIRED", 403, "Stale Date"},
		{TPID_R_ORIG_MISMATCH, "ORIG_MISMATCH", 438, "Invalid Identity Header"},
		{TPID_R_DEST_MISMATCH, "DEST_MISMATCH", 438, "Invalid Identity Header"},
		{TPID_R_REPLAY, "REPLAY", 438, "Invalid Identity Header"},
		{TPID_R_NO_PAI, "NO_PAI", 438, "Invalid Identity Header"},
		{TPID_R_INTERNAL, "INTERNAL", 500, "Server Internal Error"},
};

static const tpid_reason_row_t *tpid_reason_row(int reason)
{
	size_t i;

	for(i = 0; i < sizeof(tpid_reasons) / sizeof(tpid_reasons[0]); i++) {
		if(tpid_reasons[i].reason == reason)
			return &tpid_reasons[i];
	}
	return NULL;
}

const char *tpid_reason_name(int reason)
{
	const tpid_reason_row_t *r = tpid_reason_row(reason);
	return r ? r->name : "UNDEFINED";
}

int tpid_reason_sip_code(int reason)
{
	const tpid_reason_row_t *r = tpid_reason_row(reason);
	return r ? r->sip_code : 500;
}

const char *tpid_reason_sip_phrase(int reason)
{
	const tpid_reason_row_t *r = tpid_reason_row(reason);
	return r ? r->sip_phrase : "Server Internal Error";
}
