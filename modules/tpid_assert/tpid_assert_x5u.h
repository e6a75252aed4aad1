/*
 * tpid_assert - Kamailio glue: certificates fetched from x5u
 *
 * The terminating side's certificates that are not pinned (x5u_cert) are
 * fetched from the token's x5u by the job runner's workers, under the
 * engine's rules (https only, no redirects, size cap, timeouts, private
 * addresses refused unless allowed), only for x5u URLs on the allowlist;
 * a fetched chain must parse as PEM and validate against the trust anchors
 * before it is cached in shared memory for its HTTP lifetime within
 * bounds, never past notAfter. Failures are cached briefly; concurrent
 * misses share one fetch. Each process keeps the parsed certificates.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_ASSERT_X5U_H
#define TPID_ASSERT_X5U_H

#include <stdint.h>

#include "core/parser/msg_parser.h"
#include "core/rpc.h"
#include "core/str.h"

#include "tpid_trust.h"

/* Not reasons: the certificate is not cached yet, a fetch is needed
 * (MISS); it became available while suspending, verify again (RETRY). */
#define TPID_X5U_MISS 1000
#define TPID_X5U_RETRY 1001

/* Registers the fetch job kind, the shared cache and its timer, when
 * fetching is on. resumed runs on a request that waited for a fetch,
 * before its route, with the tag it was suspended with and TPID_OK or the
 * fetch's failure reason. At mod_init. 0 or -1. */
int tpid_x5u_mod_init(
		void (*resumed)(sip_msg_t *msg, int tag, int fetch_reason));

/* The cached certificate for x5u (borrowed: valid until the next call in
 * this process): TPID_OK, CERT_FETCH / CERT_INVALID (a recent fetch
 * failed; the failure is cached), CERT_UNAVAILABLE (fetching is off), or
 * TPID_X5U_MISS. */
int tpid_x5u_cert(const char *x5u, tpid_cert_t **cert);

/* Suspends msg until x5u is fetched, and then next (NULL: none) too, so
 * that a request with two tokens is suspended once; route or cbname runs
 * after the verification is done again (tag says which). TPID_OK,
 * TPID_X5U_RETRY (msg not suspended: they are there now), or a reason (msg
 * untouched; CERT_UNAVAILABLE when max_inflight INVITEs wait already). */
int tpid_x5u_suspend(sip_msg_t *msg, const char *x5u, const char *next,
		int route, const str *cbname, int tag);

/* Starts a fetch nobody waits for (unless one is out already). */
void tpid_x5u_prefetch(const char *x5u);

/* RPC: tpid_assert.x5u_list and tpid_assert.x5u_flush [url]. */
void tpid_x5u_rpc_list(rpc_t *rpc, void *ctx);
void tpid_x5u_rpc_flush(rpc_t *rpc, void *ctx);

/* Releases the certificate cache, its locks and this process's parsed
 * certificates (module destroy). */
void tpid_x5u_mod_destroy(void);

#endif
