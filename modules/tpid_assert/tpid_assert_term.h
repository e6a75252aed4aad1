/*
 * tpid_assert - Kamailio glue: the terminating S-CSCF
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_ASSERT_TERM_H
#define TPID_ASSERT_TERM_H

#include "core/counters.h"
#include "core/parser/msg_parser.h"
#include "core/str.h"

#include "tpid_assert_cfg.h"
#include "tpid_assert_ms.h"
#include "tpid_passport.h"

/* A kind of token the terminating side verifies (the third-party ID, the
 * avatar): every check of tpid_assert_term() applies to each, in the same
 * order; a kind adds its claim rules, its presentation, its result and
 * policy. */
typedef struct tpid_term_kind
{
	const char *what; /* for the log, e.g. "third-party Identity" */
	const char *ppt;  /* the Identity headers it verifies */
	tpid_result_t *res;
	const int *policy;	/* a tpid_policy_t */
	int no_token;		/* the reason when there is no such token */
	const int *require; /* no token is a failure when *require; or NULL */
	const str *present_header; /* removed from the network, then added */
	const str *claim_header;   /* removed from the network */
	/* Who may assert what, after the signature and claim constraints. */
	int (*check)(const tpid_passport_t *t);
	/* Adds the presentation of verified claims. TPID_OK or a reason. */
	int (*present)(sip_msg_t *msg, const tpid_claims_t *c);
	stat_var **verified;
	stat_var **refused; /* tokens of this kind not verified, or NULL */
	int tag;			/* set by tpid_term_register() */
} tpid_term_kind_t;

/* Registers another kind, verified after those before it (at mod_init,
 * after tpid_term_init()). 0 or -1. */
int tpid_term_register(tpid_term_kind_t *k);

/* Loads the tm API (RFC 9410 replies). At mod_init. 0 or -1. */
int tpid_term_init(void);

/* Terminating entry point: verifies every kind of token (third-party ID,
 * avatar), each with its own result. With a route (index in main_rt, -1:
 * none) or a KEMI cbname, an INVITE whose certificate must first be
 * fetched is suspended (returns TPID_RET_SUSPENDED) and the verification
 * completes, then the route runs, when the certificate (or the failure) is
 * there. Without either it never suspends: the fetch is started for the
 * calls that follow and this one fails CERT_UNAVAILABLE. Returns -1 when
 * either kind was rejected, else the third-party result. */
int tpid_term(sip_msg_t *msg, int route, const str *cbname);

/* verify_mode "ms": a request resumed with the STI-VS's verdicts (one per
 * kind, by tag) is verified again and concluded. */
void tpid_term_ms_resumed(sip_msg_t *msg, const tpid_ms_verdict_t *v, int n);

#endif
