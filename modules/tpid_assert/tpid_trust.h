/*
 * tpid_assert - trust store for the terminating side: which certificate
 * stands behind which x5u URL, and whether it chains to a trust anchor.
 *
 * Certificates are pinned (x5u -> PEM file) or fetched from x5u by the
 * caller; both go through one validation, tpid_trust_validate(). Plain C
 * (OpenSSL 3), no Kamailio dependency.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_TRUST_H
#define TPID_TRUST_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "tpid_jcc.h"

#define TPID_TRUST_MAX_CERTS 64
#define TPID_TRUST_MAX_ALLOW 32
/* A certificate chain as PEM: at most this many bytes and certificates. */
#define TPID_TRUST_MAX_PEM 65536
#define TPID_TRUST_MAX_CHAIN 8

typedef struct tpid_trust tpid_trust_t;

/* A certificate chain as the verifier uses it, pinned or fetched: the
 * claim constraints of its leaf read once, and the window in which its
 * last validation holds (validity depends on time only through the
 * notBefore/notAfter of the certificates, so a chain valid at one time is
 * valid at any time within all their validity periods). */
typedef struct tpid_cert
{
	STACK_OF(X509) * chain;	   /* leaf first, then its intermediates */
	tpid_jcc_t *jcc;		   /* NULL: the leaf has no claim constraints */
	int jcc_bad;			   /* constraints present but malformed */
	int64_t ok_from, ok_until; /* validated for [ok_from, ok_until] */
	int ok;					   /* the window is set */
} tpid_cert_t;

/* Takes chain over (freed on failure). NULL on allocation failure. */
tpid_cert_t *tpid_cert_new(STACK_OF(X509) * chain);
void tpid_cert_free(tpid_cert_t *c);

tpid_trust_t *tpid_trust_new(void);
void tpid_trust_free(tpid_trust_t *t);

/* Trust anchors (PEM bundle); load them before adding certificates.
 * Returns 0 or -1 with a reason in err. */
int tpid_trust_load_ca(
		tpid_trust_t *t, const char *ca_file, char *err, size_t errsize);

/* Certificate revocation lists (PEM, CRLs only); once loaded every chain
 * is checked against them (X509_V_FLAG_CRL_CHECK: the leaf's issuer must
 * have a CRL loaded). Returns 0 or -1 with a reason in err. */
int tpid_trust_load_crl(
		tpid_trust_t *t, const char *crl_file, char *err, size_t errsize);

/* Maps an x5u URL to a PEM certificate file (leaf first, optional
 * intermediates after it; the grammar of tpid_trust_parse_pem(), at most
 * TPID_TRUST_MAX_CHAIN certificates). The chain is validated per call, so
 * anchors and CRLs may be loaded after it. Returns 0 or -1 with a reason
 * in err. */
int tpid_trust_add_cert(tpid_trust_t *t, const char *x5u, const char *pem_file,
		char *err, size_t errsize);

/* Adds an allowed x5u prefix, an https URL of the one URL grammar
 * (tpid_url_parse). With no prefix configured every x5u that has a pinned
 * certificate is allowed (and none is fetched). Returns 0 or -1. */
int tpid_trust_allow(tpid_trust_t *t, const char *prefix);

/* Number of allowed prefixes. */
int tpid_trust_allow_count(const tpid_trust_t *t);

/* TPID_OK or TPID_R_X5U_NOT_ALLOWED: x5u must parse as an https URL of
 * the grammar and be under a prefix: the same host and port (443 when
 * absent), the prefix's path a prefix of its path
 * ("https://cert.example.net/" does not allow
 * "https://cert.example.net.evil/..."). */
int tpid_trust_check_allowed(const tpid_trust_t *t, const char *x5u);

/* The public key of the pinned certificate for x5u, validated by
 * tpid_trust_validate() at time at (the token's iat): TPID_OK (and *pub
 * borrowed from the store, do not free), TPID_R_CERT_UNAVAILABLE (no
 * certificate pinned for this x5u) or TPID_R_CERT_INVALID. */
int tpid_trust_get_key(
		const tpid_trust_t *t, const char *x5u, int64_t at, EVP_PKEY **pub);

/* Parses len bytes (not NUL-terminated; embedded NULs refused) that must be
 * nothing but one to max_certs PEM "CERTIFICATE" blocks (no headers, no
 * other block types, no DER) with only whitespace around them, at most
 * TPID_TRUST_MAX_PEM bytes. TPID_OK and *out a new stack (leaf first, the
 * caller frees it with sk_X509_pop_free(*out, X509_free)), or
 * TPID_R_CERT_INVALID and *out NULL. */
int tpid_trust_parse_pem(
		const char *buf, size_t len, int max_certs, STACK_OF(X509) * *out);

/* Validates chain (leaf first, then intermediates; nothing else is taken as
 * an intermediate) at time at against the anchors, with OpenSSL's strict
 * checks (X509_V_FLAG_X509_STRICT: intermediates are CAs, validity of every
 * certificate at at) and the CRLs if loaded; the leaf must carry keyUsage
 * digitalSignature, must not be a CA and must hold an EC P-256 key.
 * TPID_OK and *pub_out the leaf's key (borrowed from the chain: valid while
 * it lives), or TPID_R_CERT_INVALID. pub_out may be NULL. */
int tpid_trust_validate(const tpid_trust_t *t, STACK_OF(X509) * chain,
		int64_t at, EVP_PKEY **pub_out);

/* notAfter of the chain's leaf as Unix time in *out (to bound a cache
 * lifetime). 0, or -1 (no leaf, unreadable time). */
int tpid_trust_not_after(STACK_OF(X509) * chain, int64_t *out);

/* c validated at time at, as tpid_trust_validate() does, but only when at
 * lies outside the window of its last successful validation (with CRLs
 * loaded, every call validates: a CRL's own validity is not remembered).
 * A leaf whose claim constraints are malformed is CERT_INVALID. TPID_OK
 * and *pub (borrowed from c) or TPID_R_CERT_INVALID. */
int tpid_trust_check_cert(
		const tpid_trust_t *t, tpid_cert_t *c, int64_t at, EVP_PKEY **pub);

/* The pinned certificate for x5u, or NULL. Valid while t lives. */
tpid_cert_t *tpid_trust_pinned(const tpid_trust_t *t, const char *x5u);

/* Number of certificates mapped. */
int tpid_trust_count(const tpid_trust_t *t);

#endif
