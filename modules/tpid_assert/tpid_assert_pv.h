/*
 * tpid_assert - Kamailio glue: the $tpid(key) pseudo-variable
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_ASSERT_PV_H
#define TPID_ASSERT_PV_H

#include "core/pvar.h"

/* Resolves a key name at start-up (an unknown key stops Kamailio). */
int pv_parse_tpid_name(pv_spec_p sp, str *in);

/* The value of the last tpid_assert_* call on this message: keys on the
 * third-party ID read tpid_res, "avatar_*" keys tpid_avres. */
int pv_get_tpid(sip_msg_t *msg, pv_param_t *param, pv_value_t *res);

#endif
