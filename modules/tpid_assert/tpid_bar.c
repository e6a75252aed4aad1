/*
 * tpid_assert - the avatar repository (BAR) client (see tpid_bar.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tpid_bar.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tpid_avatar.h"
#include "tpid_hook.h"
#include "tpid_ident.h"
#include "tpid_reason.h"

#define TPID_BAR_MAX_TTL 86400

static const tpid_service_reasons_t tpid_bar_reasons = {TPID_R_BAR_CONNECT,
		TPID_R_BAR_TIMEOUT, TPID_R_BAR_TLS, TPID_R_BAR_HTTP,
		TPID_R_BAR_TOO_BIG};

char *tpid_bar_request_json(const tpid_bar_query_t *q)
{
	json_t *root, *dest;
	char *out = NULL;
	int i;

	if(q == NULL || q->served_user == NULL || q->avatar_id == NULL
			|| q->ndest < 0 || (q->ndest > 0 && q->dest == NULL))
		return NULL;
	dest = json_array();
	for(i = 0; dest != NULL && i < q->ndest; i++) {
		if(q->dest[i] == NULL
				|| json_array_append_new(dest, json_string(q->dest[i])) < 0) {
			json_decref(dest);
			return NULL;
		}
	}
	/* json_pack steals dest; "s*" leaves out a NULL callId; a string that
	 * is not UTF-8 makes it fail */
	root = json_pack("{s:{s:s, s:s, s:o, s:s*, s:I}}",
			"avatarAuthorizationRequest", "servedUser", q->served_user,
			"avatarId", q->avatar_id, "dest", dest, "callId", q->call_id,
			"time", (json_int_t)q->time);
	if(root == NULL)
		return NULL;
	out = json_dumps(root, JSON_COMPACT);
	json_decref(root);
	return out;
}

/* A string member of at most max - 1 bytes, or NULL. */
static const char *tpid_bar_str(json_t *obj, const char *key, size_t max)
{
	json_t *v = json_object_get(obj, key);

	if(!json_is_string(v) || json_string_length(v) >= max)
		return NULL;
	return json_string_value(v);
}

int tpid_bar_parse_answer(const char *body, size_t len, tpid_bar_answer_t *a)
{
	json_t *root, *resp, *v, *rep;
	const char *s, *url = NULL, *fmt = NULL, *dig = NULL;
	tpid_url_t u;
	int result, ttl = -1, rc = TPID_R_BAR_BAD_ANSWER;

	if(a == NULL)
		return TPID_R_INTERNAL;
	if(body == NULL || len == 0)
		return TPID_R_BAR_BAD_ANSWER;
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if(root == NULL)
		return TPID_R_BAR_BAD_ANSWER;
	resp = json_object_get(root, "avatarAuthorizationResponse");
	if(!json_is_object(resp))
		goto done;
	s = tpid_bar_str(resp, "result", 16);
	if(s == NULL)
		goto done;
	if(strcmp(s, "authorized") == 0)
		result = TPID_BAR_AUTHORIZED;
	else if(strcmp(s, "denied") == 0)
		result = TPID_BAR_DENIED;
	else if(strcmp(s, "unknown") == 0)
		result = TPID_BAR_UNKNOWN;
	else
		goto done;
	v = json_object_get(resp, "ttl");
	if(v != NULL) {
		if(!json_is_integer(v) || json_integer_value(v) < 0
				|| json_integer_value(v) > TPID_BAR_MAX_TTL)
			goto done;
		ttl = (int)json_integer_value(v);
	}
	rep = json_object_get(resp, "representation");
	if(result == TPID_BAR_AUTHORIZED) {
		/* what goes into the signed token keeps the token's grammar */
		if(!json_is_object(rep)
				|| (url = tpid_bar_str(rep, "url", TPID_MAX_URI)) == NULL
				|| (fmt = tpid_bar_str(rep, "mediaType", TPID_MAX_FMT)) == NULL
				|| (dig = tpid_bar_str(rep, "digest", TPID_MAX_SRI)) == NULL
				|| tpid_url_parse(url, strlen(url), &u) < 0
				|| !tpid_avatar_fmt_ok(fmt, strlen(fmt))
				|| !tpid_sri_ok(dig, strlen(dig)))
			goto done;
	} else if(rep != NULL && !json_is_object(rep)) {
		goto done;
	}
	/* all checked: only now touch *a */
	a->result = result;
	a->ttl = ttl;
	a->url[0] = a->media_type[0] = a->digest[0] = '\0';
	if(url != NULL) {
		strcpy(a->url, url);
		strcpy(a->media_type, fmt);
		strcpy(a->digest, dig);
	}
	rc = TPID_OK;
done:
	json_decref(root);
	return rc;
}

int tpid_bar_add(tpid_https_t *eng, const tpid_enterprise_t *e,
		const tpid_bar_query_t *q, size_t max_body, void *user)
{
	if(q == NULL)
		return TPID_R_INTERNAL;
	return tpid_hook_post(
			eng, e, TPID_BAR_PATH, tpid_bar_request_json(q), max_body, user);
}

int tpid_bar_result(const tpid_https_result_t *r, tpid_bar_answer_t *a)
{
	int rc;

	if(r == NULL || a == NULL)
		return TPID_R_INTERNAL;
	memset(a, 0, sizeof(*a));
	a->http_status = r->status;
	a->elapsed_ms = r->elapsed_ms;
	rc = tpid_hook_transport(r, &tpid_bar_reasons, a->text, sizeof(a->text));
	if(rc == TPID_OK)
		rc = tpid_bar_parse_answer(r->body, r->body_len, a);
	if(rc != TPID_OK)
		return rc;
	switch(a->result) {
		case TPID_BAR_AUTHORIZED:
			return TPID_OK;
		case TPID_BAR_DENIED:
			return TPID_R_AVATAR_DENIED;
		default:
			return TPID_R_AVATAR_UNKNOWN;
	}
}
