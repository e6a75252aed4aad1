/*
 * tpid_assert - the enterprise hook client ("Ms-style", DESIGN section 4).
 *
 * One JSON POST to {api_root}/tpid/v1/verification per query over HTTPS:
 * peer and host verified against the enterprise's CA, optional client
 * certificate, optional bearer token, connect and total timeouts, a body
 * size cap, no redirects, https only. Plain C (libcurl + jansson).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_HOOK_H
#define TPID_HOOK_H

#include <stddef.h>
#include <stdint.h>

#include "tpid_enterprise.h"
#include "tpid_passport.h"

#define TPID_HOOK_MAX_BODY 16384 /* default response size cap */

typedef enum tpid_hook_result
{
	TPID_HOOK_AUTHORIZED = 1,
	TPID_HOOK_DENIED = 2,
	TPID_HOOK_UNKNOWN = 3
} tpid_hook_result_t;

typedef struct tpid_hook_query
{
	const char *served_user; /* e.g. "tel:+4961519876543" */
	const char *tpid;		 /* e.g. "sip:e102938@acme.example" */
	const char *const *dest; /* ndest URIs */
	int ndest;
	const char *call_id;
	int64_t time;
} tpid_hook_query_t;

typedef struct tpid_hook_answer
{
	int result; /* tpid_hook_result_t */
	char display_name[TPID_MAX_NAME];
	int ttl; /* seconds; 0 = do not cache; -1 = absent (operator default) */
	char reason[128]; /* free text from the enterprise */
	long http_status;
	double elapsed_ms;
} tpid_hook_answer_t;

/* The request body (tpidVerificationRequest); malloc()ed, or NULL. */
char *tpid_hook_request_json(const tpid_hook_query_t *q);

/* Parses a 200 body. TPID_OK, or TPID_R_HOOK_BAD_ANSWER for anything but a
 * tpidVerificationResponse object with a valid "result" string (and, when
 * present, a string displayName, a non-negative integer ttl, a string
 * reason). */
int tpid_hook_parse_answer(const char *body, size_t len, tpid_hook_answer_t *a);

/* Process-wide init/cleanup (curl_global_init); call once per process. */
int tpid_hook_global_init(void);
void tpid_hook_global_cleanup(void);

/* ---- asynchronous engine ------------------------------------------------
 * libcurl's multi interface: many queries in flight in one process, the
 * connections of each enterprise reused across queries. Used by the hook
 * worker processes; one engine per process. */
typedef struct tpid_hook_multi tpid_hook_multi_t;

/* max_conns bounds the connection cache (0: curl's default). */
tpid_hook_multi_t *tpid_hook_multi_new(size_t max_body, long max_conns);

/* Aborts what is in flight (their user pointers are not reported). */
void tpid_hook_multi_free(tpid_hook_multi_t *m);

/* Starts a query; user comes back with its result. TPID_OK or INTERNAL. */
int tpid_hook_multi_add(tpid_hook_multi_t *m, const tpid_enterprise_t *e,
		const tpid_hook_query_t *q, void *user);

/* Waits up to timeout_ms for network activity or for extra_fd (-1: none) to
 * become readable, then drives the transfers. 0 or -1. */
int tpid_hook_multi_wait(
		tpid_hook_multi_t *m, int extra_fd, int timeout_ms, int *extra_ready);

/* A finished query: returns 1 with *user, *rc and *a, or 0 when none is
 * finished. *rc is TPID_OK (*a filled) or the failure: HOOK_CONNECT,
 * HOOK_TIMEOUT, HOOK_TLS, HOOK_HTTP (any status but 200, redirects
 * included), HOOK_TOO_BIG, HOOK_BAD_ANSWER, INTERNAL; on a failure
 * a->reason holds the enterprise's error text or curl's, for the logs. */
int tpid_hook_multi_next(
		tpid_hook_multi_t *m, void **user, int *rc, tpid_hook_answer_t *a);

/* Queries in flight. */
int tpid_hook_multi_running(const tpid_hook_multi_t *m);

#endif
