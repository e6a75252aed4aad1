/*
 * tpid_assert - Kamailio glue: module configuration and per-message result
 * (data only: every glue file may include it; it includes no glue file).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_ASSERT_CFG_H
#define TPID_ASSERT_CFG_H

#include <stdint.h>
#include <openssl/evp.h>

#include "core/parser/msg_parser.h"
#include "core/str.h"
#include "modules/sl/sl.h"

#include "tpid_enterprise.h"
#include "tpid_passport.h"
#include "tpid_signers.h"
#include "tpid_trust.h"

/* What to do when a check fails (documented in tpid_assert_admin.xml). */
typedef enum tpid_policy
{
	TPID_POLICY_REJECT = 0, /* reply with the SIP code, stop the call */
	TPID_POLICY_STRIP = 1,	/* drop the third-party ID, continue */
	TPID_POLICY_REASON = 2	/* continue, add Reason: STIR;cause=... */
} tpid_policy_t;

/* Return codes of the cfg functions (stable, documented). */
#define TPID_RET_SUSPENDED 0 /* waiting for the enterprise: script ends */
#define TPID_RET_ASSERTED 1	 /* signed (orig) or verified (term) */
#define TPID_RET_NONE 2		 /* nothing claimed / no token: nothing to do */
#define TPID_RET_STRIPPED 3	 /* failed, ID removed, call continues */
#define TPID_RET_REJECTED -1 /* failed, reply sent: the script should exit */
#define TPID_RET_ERROR -2	 /* bad use (e.g. not an INVITE), nothing done */

typedef struct tpid_mod_cfg
{
	str claim_header;
	str present_header;
	/* originating */
	char *sign_x5u; /* as configured; the one in force: tpid_signer_current */
	char *enterprise_file;
	int deny_policy, deny_code;
	int fail_policy, fail_code;
	int default_ttl, ttl_cap, deny_ttl;
	int hook_max_body;
	int hook_workers, max_inflight, hook_max_connections;
	int cache_size, cache_locks;
	/* terminating */
	tpid_trust_t *trust;
	tpid_signers_t *signers; /* what each signer may assert */
	int iat_max_age, iat_max_future;
	int term_policy;
	int require_identity;
	int term_orig_from;	   /* From may stand in for a missing PAI */
	int replay_cache_size; /* 0: no replay check */
	int enable_dmq;		   /* 1: a cluster on Kamailio's dmq module */
	/* certificates fetched from x5u */
	int x5u_fetch;
	char *x5u_ca_file; /* trust anchors of the repositories' TLS */
	int x5u_allow_private;
	int x5u_timeout_ms, x5u_connect_timeout_ms;
	int x5u_max_size, x5u_cache_size;
	int x5u_min_ttl, x5u_max_ttl, x5u_fail_ttl;
	/* avatar calls */
	str avatar_header;		   /* the UE's claimed Avatar-ID */
	str avatar_present_header; /* the verified avatar, towards the callee */
	char *bar_file;
	int avatar_deny_policy, avatar_deny_code;
	int avatar_fail_policy, avatar_fail_code;
	int avatar_term_policy;
	int avatar_cache_size;
	/* the operator's STI-AS / STI-VS over Ms */
	int sign_ms;   /* sign_mode "ms": the STI-AS signs */
	int verify_ms; /* verify_mode "ms": the STI-VS verifies */
	char *ms_file; /* the service: root, TLS, credentials, timeouts */
	int verstat;   /* 1: verstat on the P-Asserted-Identity (term) */
} tpid_mod_cfg_t;

extern tpid_mod_cfg_t tpid_cfg;
extern sl_api_t tpid_slb;

/* The outcome of the last tpid_assert_* call on the current message, read
 * by $tpid(key). Tied to the message id so that it never leaks into the
 * next message handled by the same process. */
typedef struct tpid_result
{
	unsigned int msg_id;
	int msg_pid;
	int ret;
	int reason;
	tpid_claims_t claims; /* what was signed / verified */
	double hook_ms;
} tpid_result_t;

extern tpid_result_t tpid_res;	 /* the third-party ID: $tpid(...) */
extern tpid_result_t tpid_avres; /* the avatar: $tpid(avatar_...) */

/* Clears a result and binds it to msg. */
void tpid_result_reset(tpid_result_t *r, sip_msg_t *msg);

/* tpid_result_reset(&tpid_res, msg). */
void tpid_result_start(sip_msg_t *msg);

#endif
