/*
 * tpid_assert - Kamailio glue: the terminating S-CSCF
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_ASSERT_TERM_H
#define TPID_ASSERT_TERM_H

#include "core/parser/msg_parser.h"

/* Loads the tm API (RFC 9410 replies). At mod_init. 0 or -1. */
int tpid_term_init(void);

/* Terminating entry point (no network: always synchronous). */
int tpid_term(sip_msg_t *msg);

#endif
