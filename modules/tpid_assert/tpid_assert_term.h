/*
 * tpid_assert - Kamailio glue: the terminating S-CSCF
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_ASSERT_TERM_H
#define TPID_ASSERT_TERM_H

#include "core/parser/msg_parser.h"
#include "core/str.h"

/* Loads the tm API (RFC 9410 replies). At mod_init. 0 or -1. */
int tpid_term_init(void);

/* Terminating entry point. With a route (index in main_rt, -1: none) or a
 * KEMI cbname, an INVITE whose certificate must first be fetched is
 * suspended (returns TPID_RET_SUSPENDED) and the verification completes,
 * then the route runs, when the certificate (or the failure) is there.
 * Without either it never suspends: the fetch is started for the calls
 * that follow and this one fails CERT_UNAVAILABLE. */
int tpid_term(sip_msg_t *msg, int route, const str *cbname);

#endif
