/*
 * tpid_assert - Kamailio glue: avatar calls (both sides)
 *
 * The originating side decides the avatar in the same call as the
 * third-party ID (tpid_assert_orig.c): this file reads the claim, names the
 * BAR and carries the outcome out. The terminating side verifies the
 * avatar token as a kind of the verification pipeline (tpid_assert_term.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_ASSERT_AVATAR_H
#define TPID_ASSERT_AVATAR_H

#include "core/parser/msg_parser.h"
#include "core/str.h"

#include "tpid_assert_query.h"
#include "tpid_enterprise.h"
#include "tpid_passport.h"

/* The avatar repositories' directory and cache, the BAR query and the
 * terminating kind. At mod_init, after tpid_term_init() and
 * tpid_query_init(). 0 or -1. */
int tpid_avatar_mod_init(void);

/* The BAR question's role (tpid_assert_query.h). */
tpid_query_role_t *tpid_avatar_role(void);

/* Removes the avatar tokens and presentations the UE sent. 0 or -1. */
int tpid_avatar_strip(sip_msg_t *msg);

/* Reads and removes the claimed Avatar-ID (avatar_header) and decides what
 * can be decided now into p: nothing claimed (NONE), decided (DONE: a bad
 * Avatar-ID, users != TPID_OK, no BAR, a cached decision), or the BAR to
 * ask in *bar (ASK). 0, or -1 when msg cannot be edited. */
int tpid_avatar_prepare(sip_msg_t *msg, const tpid_ident_t *served_id,
		const tpid_ident_t *dest_id, const char *served, int users,
		tpid_query_part_t *p, tpid_enterprise_t *bar);

/* The avatar claims an authorized outcome o signs, issued at iat: the
 * prepared claims with what the BAR named. TPID_OK or BAR_BAD_ANSWER. */
int tpid_avatar_claims(const tpid_claims_t *claims,
		const tpid_query_outcome_t *o, int64_t iat, tpid_claims_t *c);

/* Carries an outcome out (tpid_avres): signs the ppt=avatar token, or
 * applies avatar_deny_policy / avatar_fail_policy. Returns the result. */
int tpid_avatar_apply(sip_msg_t *msg, const tpid_claims_t *claims,
		const tpid_query_outcome_t *o);

/* Terminating: the avatar's kind of token (tpid_assert_term.h). */
struct tpid_term_kind *tpid_avatar_kind(void);

#endif
