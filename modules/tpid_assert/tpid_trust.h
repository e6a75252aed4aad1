/*
 * tpid_assert - trust store for the terminating side: which certificate
 * stands behind which x5u URL, and whether it chains to a trust anchor.
 *
 * In this release certificates are configured locally (x5u -> PEM file);
 * fetching x5u over HTTPS plugs in behind the same lookup. Plain C
 * (OpenSSL 3), no Kamailio dependency.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_TRUST_H
#define TPID_TRUST_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>

#define TPID_TRUST_MAX_CERTS 64
#define TPID_TRUST_MAX_ALLOW 32

typedef struct tpid_trust tpid_trust_t;

tpid_trust_t *tpid_trust_new(void);
void tpid_trust_free(tpid_trust_t *t);

/* Trust anchors (PEM bundle); load them before adding certificates.
 * Returns 0 or -1 with a reason in err. */
int tpid_trust_load_ca(
		tpid_trust_t *t, const char *ca_file, char *err, size_t errsize);

/* Maps an x5u URL to a PEM certificate file (leaf first, optional
 * intermediates after it). Returns 0 or -1 with a reason in err. */
int tpid_trust_add_cert(tpid_trust_t *t, const char *x5u, const char *pem_file,
		char *err, size_t errsize);

/* Adds an allowed x5u prefix. With no prefix configured every x5u that
 * has a certificate is allowed. Returns 0 or -1. */
int tpid_trust_allow(tpid_trust_t *t, const char *prefix);

/* TPID_OK or TPID_R_X5U_NOT_ALLOWED. */
int tpid_trust_check_allowed(const tpid_trust_t *t, const char *x5u);

/* The public key to verify tokens that name x5u, valid at time now:
 * TPID_OK (and *pub borrowed from the store, do not free), or
 * TPID_R_CERT_UNAVAILABLE (no certificate for this x5u) or
 * TPID_R_CERT_INVALID (does not chain to an anchor, expired, not yet valid,
 * not an EC P-256 key). */
int tpid_trust_get_key(
		const tpid_trust_t *t, const char *x5u, int64_t now, EVP_PKEY **pub);

/* Number of certificates mapped. */
int tpid_trust_count(const tpid_trust_t *t);

#endif
