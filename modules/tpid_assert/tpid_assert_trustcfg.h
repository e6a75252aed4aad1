/*
 * tpid_assert - Kamailio glue: the terminating side's trust configuration
 *
 * Trust anchors (ca_file), pinned certificates (x5u_cert), the x5u
 * allowlist (x5u_allow) and what each signer may assert (x5u_signer), read
 * at mod_init into tpid_cfg.trust and tpid_cfg.signers (process memory,
 * inherited by every child).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_ASSERT_TRUSTCFG_H
#define TPID_ASSERT_TRUSTCFG_H

#include "core/sr_module.h"

/* Module parameter setters (USE_FUNC_PARAM): each call adds one value. */
int tpid_trustcfg_param_ca_file(modparam_t type, void *val);
int tpid_trustcfg_param_crl_file(modparam_t type, void *val);
int tpid_trustcfg_param_cert(modparam_t type, void *val);
int tpid_trustcfg_param_allow(modparam_t type, void *val);
int tpid_trustcfg_param_signer(modparam_t type, void *val);

/* Builds the trust store and the signer list. At mod_init. 0 or -1. */
int tpid_trustcfg_init(void);

/* Releases them (mod_destroy). */
void tpid_trustcfg_destroy(void);

#endif
