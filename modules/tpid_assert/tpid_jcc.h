/*
 * tpid_assert - JWT claim constraints of a signing certificate: RFC 8226
 * JWTClaimConstraints (1.3.6.1.5.5.7.1.27) and RFC 9118
 * EnhancedJWTClaimConstraints (1.3.6.1.5.5.7.1.33), read with OpenSSL's
 * ASN.1 templates and enforced on a PASSporT payload.
 *
 * Plain C (OpenSSL 3 + jansson), no Kamailio dependency.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_JCC_H
#define TPID_JCC_H

#include <stddef.h>
#include <jansson.h>
#include <openssl/x509.h>

#define TPID_JCC_OID "1.3.6.1.5.5.7.1.27"  /* RFC 8226 */
#define TPID_EJCC_OID "1.3.6.1.5.5.7.1.33" /* RFC 9118 */

#define TPID_JCC_MAX_NAMES 32  /* names in mustInclude, in mustExclude */
#define TPID_JCC_MAX_CLAIMS 32 /* claims in permittedValues */
#define TPID_JCC_MAX_VALUES 32 /* values of one permitted claim */
#define TPID_JCC_MAX_STR 256   /* bytes of a claim name or value */

typedef struct tpid_jcc tpid_jcc_t;

/* Reads the constraints of cert. Returns 0 when it has neither extension
 * (*out NULL), 1 when parsed (*out to tpid_jcc_free()), -1 when present but
 * malformed (not DER, wrong tags, an empty list, a name that is not
 * printable ASCII, a value that is not UTF-8, a claim listed twice in
 * permittedValues, a bound above exceeded, both extensions or one twice):
 * the caller treats -1 as TPID_R_CERT_INVALID. */
int tpid_jcc_from_cert(X509 *cert, tpid_jcc_t **out);

/* Enforces the constraints on a payload (a JSON object): every mustInclude
 * claim present at top level; a permittedValues claim, when present, a
 * string equal to one of its values; no mustExclude claim present.
 * TPID_OK (also for c NULL: no constraints) or TPID_R_CLAIM_CONSTRAINTS. */
int tpid_jcc_check(const tpid_jcc_t *c, const json_t *payload);

/* tpid_jcc_check() on the base64url payload of a JWS (len chars, at most
 * TPID_MAX_HDR_LEN). Input that does not decode to a JSON object fails
 * with TPID_R_CLAIM_CONSTRAINTS; c NULL passes whatever the input. */
int tpid_jcc_check_payload_b64u(
		const tpid_jcc_t *c, const char *b64u, size_t len);

/* 1 for RFC 9118 constraints, 0 for RFC 8226 ones (or c NULL). */
int tpid_jcc_is_enhanced(const tpid_jcc_t *c);

/* Frees c; NULL is allowed. */
void tpid_jcc_free(tpid_jcc_t *c);

#endif
