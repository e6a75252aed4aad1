/*
 * tpid_assert - Kamailio glue: signing and verifying through the operator's
 * STI-AS / STI-VS over Ms (TS 24.229 Annex V.2).
 *
 * Only the ES256 work moves: the enterprise check, the claim rules, the
 * issuer binding, the replay cache, the presentation and the policies stay
 * in the module. A signature is asked for once every decision of the call
 * is in (tpid_query_init's follow step), so the INVITE is suspended once;
 * a verification suspends the INVITE like a certificate fetch does. Both
 * run on the hook workers' HTTPS engine.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_ASSERT_MS_H
#define TPID_ASSERT_MS_H

#include "core/parser/msg_parser.h"
#include "core/str.h"

#include "tpid_assert_query.h"
#include "tpid_idhdr.h"
#include "tpid_ms.h"
#include "tpid_passport.h"

#define TPID_MS_SLOTS 2		/* tokens of one call: third-party, avatar */
#define TPID_MS_MAX_KINDS 4 /* kinds of token verified (term) */

/* One token an STI-AS signs for a call (shared memory, in the call). */
typedef struct tpid_ms_slot
{
	int used;	/* 1: to be signed */
	int reason; /* TPID_OK: hdr holds the signed header */
	char origid[TPID_MS_ORIGID_LEN];
	tpid_claims_t c; /* as asked; once signed, its x5u is the STI-AS's */
	char hdr[TPID_MAX_HDR_LEN];
} tpid_ms_slot_t;

/* What the STI-VS said of one token. */
typedef struct tpid_ms_verdict
{
	int asked;	 /* 1: the token went to the STI-VS */
	int reason;	 /* TPID_OK: signature and certificate hold */
	int verstat; /* TPID_VERSTAT_* */
} tpid_ms_verdict_t;

/* Loads ms_file when signing or verifying is "ms" and registers the job
 * kinds; resumed(msg, verdicts) completes a verified request on the
 * terminating side. At mod_init. 0 or -1. */
int tpid_ms_mod_init(void (*resumed)(
		sip_msg_t *msg, const tpid_ms_verdict_t *verdicts, int n));

/* Re-reads ms_file (RPC tpid_assert.reload). 0 or -1 with err set. */
int tpid_ms_reload(char *err, size_t errsize);

/* The follow step of a call: asks the STI-AS for every used slot. Sets the
 * call's pending count and returns 1 when requests are out; 0 when none
 * are (each slot then has its reason). Any process. */
int tpid_ms_sign_start(tpid_query_call_t *call, tpid_ms_slot_t *slots, int n);

/* The slots whose signed headers tpid_signer_add_identity() adds while
 * this process carries out a call (NULL: none). */
void tpid_ms_use_slots(tpid_ms_slot_t *slots, int n);

/* In "ms" signing mode: the signed header for c's ppt, added to msg, c set
 * to the claims as signed. TPID_OK or the slot's reason. */
int tpid_ms_add_signed(sip_msg_t *msg, tpid_claims_t *c);

/* Terminating side: suspends msg until the STI-VS has answered for each
 * header hdrs[i] (tags[i] names the kind, NULL headers are skipped).
 * TPID_OK (suspended), TPID_R_CANCELLED, or a reason with msg untouched. */
int tpid_ms_verify_suspend(sip_msg_t *msg, const char *const *hdrs,
		const size_t *lens, int n, int route, const str *cbname);

#endif
