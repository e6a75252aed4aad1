/*
 * tpid_assert - the avatar repository (BAR) client: may this served user
 * use this Avatar-ID, and which representation stands behind it.
 *
 * POST {api_root}/bar/v1/authorization
 *   {"avatarAuthorizationRequest":{"servedUser":..,"avatarId":..,
 *    "dest":[..],"callId":..,"time":N}}
 * 200 {"avatarAuthorizationResponse":{"result":"authorized"|"denied"|
 *    "unknown","ttl":N,"representation":{"url":..,"mediaType":..,
 *    "digest":"sha256-.."}}}
 *
 * The same HTTPS engine and per-service configuration (tpid_enterprise_t)
 * as the enterprise hook. Plain C (jansson), no Kamailio dependency.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_BAR_H
#define TPID_BAR_H

#include <stddef.h>
#include <stdint.h>

#include "tpid_enterprise.h"
#include "tpid_https.h"
#include "tpid_passport.h"

#define TPID_BAR_PATH "/bar/v1/authorization"

typedef enum tpid_bar_result
{
	TPID_BAR_AUTHORIZED = 1,
	TPID_BAR_DENIED = 2,
	TPID_BAR_UNKNOWN = 3
} tpid_bar_result_t;

typedef struct tpid_bar_query
{
	const char *served_user; /* e.g. "tel:+4961519876543" */
	const char *avatar_id;	 /* e.g. "alice-01" */
	const char *const *dest; /* ndest URIs */
	int ndest;
	const char *call_id; /* may be NULL */
	int64_t time;
} tpid_bar_query_t;

typedef struct tpid_bar_answer
{
	int result;				/* tpid_bar_result_t */
	int ttl;				/* seconds; 0 do not cache; -1 absent */
	char url[TPID_MAX_URI]; /* the representation (authorized) */
	char media_type[TPID_MAX_FMT];
	char digest[TPID_MAX_SRI];
	long http_status;
	double elapsed_ms;
	char text[128]; /* the BAR's error text or curl's, for the log */
} tpid_bar_answer_t;

/* The request body; malloc()ed, or NULL. */
char *tpid_bar_request_json(const tpid_bar_query_t *q);

/* Parses a 200 body. TPID_OK, or TPID_R_BAR_BAD_ANSWER for anything but an
 * avatarAuthorizationResponse with a valid result, an optional ttl
 * (integer 0..86400) and, for "authorized" only and then required, a
 * representation whose url (https, the module's URL grammar), mediaType
 * (a media type) and digest (sha256-<base64> of 32 bytes) keep their
 * grammar. *a is only written on success. */
int tpid_bar_parse_answer(const char *body, size_t len, tpid_bar_answer_t *a);

/* Starts one query on the engine (see tpid_hook_post). TPID_OK or
 * TPID_R_INTERNAL. */
int tpid_bar_add(tpid_https_t *eng, const tpid_enterprise_t *e,
		const tpid_bar_query_t *q, size_t max_body, void *user);

/* The engine's result as a reason: TPID_OK (authorized), AVATAR_DENIED,
 * AVATAR_UNKNOWN (*a filled), or BAR_CONNECT, BAR_TIMEOUT, BAR_TLS,
 * BAR_HTTP, BAR_TOO_BIG, BAR_BAD_ANSWER, INTERNAL (a->text says why). */
int tpid_bar_result(const tpid_https_result_t *r, tpid_bar_answer_t *a);

#endif
