/*
 * tpid_assert - Kamailio glue: the signing key and its x5u, reloadable
 *
 * The key's PEM text and the x5u live in shared memory under a version
 * number; each process keeps its parsed copy and re-reads it when the
 * version moved (one integer load per signature). A reload therefore never
 * stops a call: what signs next uses the new pair, whole.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_ASSERT_SIGNER_H
#define TPID_ASSERT_SIGNER_H

#include <stddef.h>
#include <openssl/evp.h>

#include "core/parser/msg_parser.h"

#include "tpid_passport.h"

/* Creates the shared state. 0 or -1. */
int tpid_signer_mod_init(void);

/* Loads key_file (EC P-256, not encrypted), checks it against cert_file
 * (the certificate published at x5u) when one is given, and publishes the
 * pair. Nothing changes on failure. 0, or -1 with the reason in err. */
int tpid_signer_load(const char *key_file, const char *x5u,
		const char *cert_file, char *err, size_t errsize);

/* The key and x5u to sign with now (this process's copy, refreshed after
 * a reload), or NULL when no key is loaded. */
EVP_PKEY *tpid_signer_current(const char **x5u);

/* What is published: version (0 = none), x5u, key and certificate files. */
int tpid_signer_info(char *x5u, size_t xsize, char *key_file, size_t ksize,
		char *cert_file, size_t csize);

/* Signs c (its x5u set to the one in force) into an Identity header
 * added to msg. TPID_OK, SIGN_FAILED (no key) or INTERNAL. */
int tpid_signer_add_identity(sip_msg_t *msg, tpid_claims_t *c);

void tpid_signer_destroy(void);

#endif
