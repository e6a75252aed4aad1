/*
 * tpid_assert - Kamailio glue: the trust boundary
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_ASSERT_BOUNDARY_H
#define TPID_ASSERT_BOUNDARY_H

#include "core/parser/msg_parser.h"

/* For every request that does not go through tpid_orig/tpid_term: removes
 * the presentation header, the claim header and every third-party Identity
 * header. Returns how many went, or -1. */
int tpid_strip(sip_msg_t *msg);

#endif
