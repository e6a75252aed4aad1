/*
 * tpid_assert - the enterprise hook client ("Ms-style": the S-CSCF asks the enterprise, as 3GPP's Ms reference point would).
 *
 * One JSON POST to {api_root}/tpid/v1/verification per query, run on the
 * HTTPS engine (tpid_https.h: https only, verified peer, no redirects):
 * the enterprise's CA, optional client certificate, optional bearer token,
 * connect and total timeouts, a body size cap, and its address policy
 * (private addresses allowed unless the enterprise file says otherwise).
 * Plain C (jansson).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_HOOK_H
#define TPID_HOOK_H

#include <stddef.h>
#include <stdint.h>

#include "tpid_enterprise.h"
#include "tpid_https.h"
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

/* Starts one query on the engine: a POST of the request body to
 * {api_root}/tpid/v1/verification with the enterprise's CA, client
 * certificate, bearer token, timeouts and address policy; responses over
 * max_body (0: TPID_HOOK_MAX_BODY) fail. user comes back from
 * tpid_https_next(). TPID_OK or TPID_R_INTERNAL. */
int tpid_hook_add(tpid_https_t *eng, const tpid_enterprise_t *e,
		const tpid_hook_query_t *q, size_t max_body, void *user);

/* POSTs body (malloc()ed JSON, freed here whatever happens; NULL: a
 * request that could not be built) to {api_root}{path} with the service's
 * CA, client certificate, bearer token, timeouts and address policy;
 * responses over max_body (0: TPID_HOOK_MAX_BODY) fail. The avatar
 * repository's client uses it too. TPID_OK or TPID_R_INTERNAL. */
int tpid_hook_post(tpid_https_t *eng, const tpid_enterprise_t *e,
		const char *path, char *body, size_t max_body, void *user);

/* The same with a body of len bytes the caller keeps (the engine copies
 * it): the Ms client's requests, built into the caller's buffers. */
int tpid_hook_post_buf(tpid_https_t *eng, const tpid_enterprise_t *e,
		const char *path, const char *body, size_t len, size_t max_body,
		void *user);

/* The reasons a service's transport failures map to. */
typedef struct tpid_service_reasons
{
	int connect, timeout, tls, http, too_big;
} tpid_service_reasons_t;

extern const tpid_service_reasons_t tpid_hook_reasons;

/* TPID_OK when the engine got a 200 with a body within the cap, else the
 * service's reason for the failure; text gets the error object's "text"
 * of a 4xx/5xx, else curl's message (log-safe, see below). */
int tpid_hook_transport(const tpid_https_result_t *r,
		const tpid_service_reasons_t *rs, char *text, size_t textsize);

/* Free text for logs: bounded, cut on a UTF-8 boundary, control characters
 * blanked so that it cannot forge log lines. */
void tpid_hook_copy_reason(char *dst, size_t dstsize, const char *src);

/* The engine's result of a query as a reason: TPID_OK (*a filled), or
 * HOOK_CONNECT (address refused included), HOOK_TIMEOUT, HOOK_TLS,
 * HOOK_HTTP (any status but 200, redirects included), HOOK_TOO_BIG,
 * HOOK_BAD_ANSWER, INTERNAL; on a failure a->reason holds the
 * enterprise's error text or curl's, for the logs. */
int tpid_hook_result(const tpid_https_result_t *r, tpid_hook_answer_t *a);

#endif
