/*
 * tpid_assert - Kamailio glue: the terminating S-CSCF
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_ASSERT_TERM_H
#define TPID_ASSERT_TERM_H

#include "core/parser/msg_parser.h"

/* Terminating entry point (no network: always synchronous). */
int tpid_term(sip_msg_t *msg);

#endif
