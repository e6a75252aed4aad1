/*
 * tpid_assert - reason codes
 *
 * Every outcome of the module has a stable name and number (documented in
 * doc/tpid_assert_admin.xml; never renumber), one SIP reply and one
 * counter: one row of the table in tpid_reason.c.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_REASON_H
#define TPID_REASON_H

#include <stddef.h>

typedef enum tpid_reason
{
	TPID_OK = 0,

	/* originating side: 1..29 */
	TPID_R_NO_CLAIM = 1,  /* no third-party ID claimed: nothing to do */
	TPID_R_BAD_CLAIM = 2, /* claimed ID malformed (not a sip/sips/tel URI) */
	TPID_R_NO_SERVED_USER = 3, /* no usable P-Asserted-Identity */
	TPID_R_NO_ENTERPRISE = 4, /* no enterprise configured for the ID's domain */
	TPID_R_DENIED = 5,		  /* enterprise answered "denied" */
	TPID_R_UNKNOWN_ID = 6,	  /* enterprise answered "unknown" */
	TPID_R_HOOK_CONNECT = 7,  /* enterprise unreachable (connect/DNS) */
	TPID_R_HOOK_TIMEOUT = 8,  /* enterprise too slow */
	TPID_R_HOOK_TLS = 9,   /* TLS failure: peer not verified, bad client cert */
	TPID_R_HOOK_HTTP = 10, /* HTTP status other than 200, redirect included */
	TPID_R_HOOK_BAD_ANSWER = 11, /* body not the documented JSON */
	TPID_R_HOOK_TOO_BIG = 12,	 /* body over the size cap */
	TPID_R_SIGN_FAILED = 13,	 /* could not sign (key missing or broken) */
	TPID_R_HOOK_BUSY = 14,		 /* too many queries in flight (max_inflight) */
	TPID_R_BAD_DEST = 15,		 /* Request-URI not a tel/sip URI with a user */

	/* terminating side: 30..59 */
	TPID_R_NO_IDENTITY = 30,	 /* no third-party Identity header */
	TPID_R_BAD_SYNTAX = 31,		 /* header / JWS / base64url / JSON malformed */
	TPID_R_BAD_PPT = 32,		 /* ppt missing or not the expected one */
	TPID_R_BAD_ALG = 33,		 /* alg other than ES256 */
	TPID_R_BAD_TYP = 34,		 /* typ other than "passport" */
	TPID_R_X5U_MISMATCH = 35,	 /* x5u claim differs from the info parameter */
	TPID_R_X5U_NOT_ALLOWED = 36, /* x5u not on the allowlist */
	TPID_R_CERT_UNAVAILABLE = 37, /* no certificate known for this x5u */
	TPID_R_CERT_INVALID = 38,	  /* certificate fails chain/validity checks */
	TPID_R_BAD_SIGNATURE = 39,	  /* ES256 signature does not verify */
	TPID_R_BAD_CLAIMS = 40,		  /* required claim missing or wrongly typed */
	TPID_R_IAT_STALE = 41,		  /* iat too old */
	TPID_R_IAT_FUTURE = 42,		  /* iat too far in the future */
	TPID_R_TPID_EXPIRED = 43,	  /* tpid.exp has passed */
	TPID_R_ORIG_MISMATCH =
			44, /* orig does not match P-Asserted-Identity/From */
	TPID_R_DEST_MISMATCH = 45, /* dest does not match Request-URI/To */
	TPID_R_REPLAY = 46,		   /* same token already seen in another call */
	TPID_R_NO_PAI = 47,		 /* no usable P-Asserted-Identity to bind orig to */
	TPID_R_BAD_TPID_ID = 48, /* tpid.id not a sip/sips/tel URI */
	TPID_R_BAD_TPID_ISS = 49, /* tpid.iss not a DNS name */
	TPID_R_ISS_MISMATCH = 50, /* host of a SIP tpid.id not under tpid.iss */
	TPID_R_ISSUER_NOT_ALLOWED = 51, /* signer may not assert tpid.iss */
	TPID_R_CLAIM_CONSTRAINTS = 52,	/* payload breaks the certificate's
									 * JWT claim constraints */
	TPID_R_CERT_FETCH = 53,			/* x5u fetch failed (or failed recently) */

	/* originating, avatar: 60..79 */
	TPID_R_AVATAR_BAD_ID = 60,	/* claimed Avatar-ID breaks its grammar */
	TPID_R_AVATAR_NO_BAR = 61,	/* no BAR for the served user's domain */
	TPID_R_AVATAR_DENIED = 62,	/* BAR answered "denied" */
	TPID_R_AVATAR_UNKNOWN = 63, /* BAR answered "unknown" */
	TPID_R_BAR_CONNECT = 64,	/* BAR unreachable (connect/DNS/address) */
	TPID_R_BAR_TIMEOUT = 65,	/* BAR too slow */
	TPID_R_BAR_TLS = 66,		/* TLS failure with the BAR */
	TPID_R_BAR_HTTP = 67,		/* HTTP status other than 200 */
	TPID_R_BAR_BAD_ANSWER = 68, /* body not the documented JSON */
	TPID_R_BAR_TOO_BIG = 69,	/* body over the size cap */
	TPID_R_BAR_BUSY = 70,		/* too many queries in flight */

	/* avatar, both sides: 80..85 */
	TPID_R_NO_AVATAR = 80,			/* nothing claimed / no avatar token */
	TPID_R_BAD_AVATAR = 81,			/* avatar claims break their grammar */
	TPID_R_AVATAR_NOT_ALLOWED = 82, /* signer may not assert avatars */

	/* the operator's STI-AS / STI-VS over Ms, both sides: 86..97 */
	TPID_R_MS_SERVICE_ERROR = 86, /* Ms serviceException (requestError) */
	TPID_R_MS_POLICY_ERROR = 87,  /* Ms policyException (requestError) */
	TPID_R_MS_NO_VALIDATION = 88, /* STI-VS: No-TN-Validation */
	TPID_R_MS_VERIFY_FAILED = 89, /* STI-VS: TN-Validation-Failed, no known
								   * reasonCode */
	TPID_R_MS_UNAVAILABLE = 90,	  /* no service configured, or no answer */
	TPID_R_MS_BUSY = 91,		  /* too many requests in flight */
	TPID_R_MS_CONNECT = 92,		  /* unreachable (connect/DNS/address) */
	TPID_R_MS_TIMEOUT = 93,		  /* too slow */
	TPID_R_MS_TLS = 94,			  /* TLS failure with the service */
	TPID_R_MS_HTTP = 95,		  /* HTTP status other than 200, no Ms error */
	TPID_R_MS_BAD_ANSWER = 96,	  /* not the documented JSON, or a token other
								 * than the one asked for / sent */
	TPID_R_MS_TOO_BIG = 97,		  /* body over the size cap */

	TPID_R_CANCELLED = 98, /* CANCELed (or answered) before the INVITE could
							* wait: tm has sent its final response */
	TPID_R_INTERNAL = 99 /* out of memory, bad state: never the peer's fault */
} tpid_reason_t;

/* One row of the reason table (tpid_reason.c). */
typedef struct tpid_reason_info
{
	int reason;				/* tpid_reason_t */
	const char *name;		/* stable upper-case name, e.g. "IAT_STALE" */
	int sip_code;			/* SIP reply when the policy is to reject */
	const char *sip_phrase; /* its reason phrase */
	const char *counter;	/* statistic tpid_assert:<counter>, NULL: none */
} tpid_reason_info_t;

/* The row of reason, NULL if there is none. */
const tpid_reason_info_t *tpid_reason_get(int reason);

/* The i-th row, from 0; NULL past the last (iteration). */
const tpid_reason_info_t *tpid_reason_at(size_t i);

/* Stable upper-case name, e.g. "IAT_STALE"; "UNDEFINED" for unknown values. */
const char *tpid_reason_name(int reason);

/* SIP reply the reason maps to when the policy is to reject. */
int tpid_reason_sip_code(int reason);
const char *tpid_reason_sip_phrase(int reason);

/* RFC 9410 cause for "Reason: STIR;cause=N": the SIP code above. */

#endif
