/*
 * tpid_assert - Kamailio glue: avatar calls (both sides)
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_ASSERT_AVATAR_H
#define TPID_ASSERT_AVATAR_H

#include "core/parser/msg_parser.h"
#include "core/str.h"

/* The avatar repositories' directory and cache, the BAR query and the
 * terminating kind. At mod_init, after tpid_term_init(). 0 or -1. */
int tpid_avatar_mod_init(void);

/* Originating: the claimed Avatar-ID (avatar_header), authorized by the
 * served user's BAR, signed as a ppt=avatar token; the route (or KEMI
 * cbname) runs when a suspended request resumes. Result in tpid_avres. */
int tpid_avatar_orig(sip_msg_t *msg, int route, const str *cbname);

/* Terminating: verifies the ppt=avatar token and presents the avatar
 * (avatar_present_header). Result in tpid_avres. */
int tpid_avatar_term(sip_msg_t *msg, int route, const str *cbname);

#endif
