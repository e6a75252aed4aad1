/*
 * tpid_assert - Kamailio glue: certificates fetched from x5u
 *
 * The terminating side's certificates that are not pinned (x5u_cert) are
 * fetched from the token's x5u by the job runner's workers, under the
 * engine's rules (https only, allowlisted, no redirects, size cap,
 * timeouts, private addresses refused unless allowed), validated against
 * the trust anchors and cached in shared memory for their HTTP lifetime
 * within bounds, never past notAfter; failures are cached briefly and
 * concurrent misses share one fetch. Each process keeps the parsed keys.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_ASSERT_X5U_H
#define TPID_ASSERT_X5U_H

#include <stdint.h>
#include <openssl/evp.h>

#include "core/parser/msg_parser.h"
#include "core/str.h"

/* Not a reason: the certificate is not cached yet, a fetch is needed. */
#define TPID_X5U_MISS 1000

/* Registers the fetch job kind and the shared cache. resumed runs on a
 * request that waited for a fetch, before its route, with TPID_OK or the
 * fetch's failure reason. At mod_init. 0 or -1. */
int tpid_x5u_mod_init(void (*resumed)(sip_msg_t *msg, int fetch_reason));

/* The key of the cached certificate for x5u, valid at iat: TPID_OK (*pub
 * borrowed until the next call in this process), CERT_INVALID, CERT_FETCH
 * (a recent fetch failed), CERT_UNAVAILABLE (fetching is off), or
 * TPID_X5U_MISS. */
int tpid_x5u_key(const char *x5u, int64_t iat, EVP_PKEY **pub);

/* Suspends msg until x5u is fetched; route or cbname runs after the
 * verification is done again. TPID_OK, or a reason (msg untouched). */
int tpid_x5u_suspend(
		sip_msg_t *msg, const char *x5u, int route, const str *cbname);

/* Starts a fetch nobody waits for (unless one is out already). */
void tpid_x5u_prefetch(const char *x5u);

#endif
