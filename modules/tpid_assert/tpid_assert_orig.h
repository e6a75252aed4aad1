/*
 * tpid_assert - Kamailio glue: the originating S-CSCF
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_ASSERT_ORIG_H
#define TPID_ASSERT_ORIG_H

#include "core/parser/msg_parser.h"
#include "core/str.h"

/* Registers the enterprise query (tpid_assert_query.h). At mod_init, after
 * tpid_dir_init(&tpid_ents, ...). 0 or -1. */
int tpid_orig_mod_init(void);

/* Originating entry point: explicit_id may be NULL (then the claim
 * header); the route (index in main_rt) or, with KEMI, cbname runs when a
 * suspended request resumes. */
int tpid_orig(sip_msg_t *msg, str *explicit_id, int route, str *cbname);

#endif
