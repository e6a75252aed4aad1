/*
 * tpid_assert - the enterprise hook client ("Ms-style": the S-CSCF asks the enterprise, as 3GPP's Ms reference point would).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tpid_hook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tpid_reason.h"

#define TPID_HOOK_PATH "/tpid/v1/verification"
#define TPID_HOOK_MAX_TTL 86400

/* ---- request body ------------------------------------------------------ */

static int tpid_hook_set_str(json_t *obj, const char *key, const char *val)
{
	json_t *s;

	if(val == NULL)
		return -1;
	s = json_string(val); /* NULL for invalid UTF-8 */
	if(s == NULL)
		return -1;
	return json_object_set_new(obj, key, s);
}

char *tpid_hook_request_json(const tpid_hook_query_t *q)
{
	json_t *root = NULL, *req, *dest;
	char *out = NULL;
	int i;

	if(q == NULL || q->ndest < 0 || (q->ndest > 0 && q->dest == NULL))
		return NULL;
	root = json_object();
	req = json_object();
	dest = json_array();
	if(root == NULL || req == NULL || dest == NULL) {
		json_decref(req);
		json_decref(dest);
		goto done;
	}
	if(json_object_set_new(root, "tpidVerificationRequest", req) < 0) {
		json_decref(dest);
		goto done;
	}
	if(tpid_hook_set_str(req, "servedUser", q->served_user) < 0
			|| tpid_hook_set_str(req, "tpid", q->tpid) < 0) {
		json_decref(dest);
		goto done;
	}
	if(json_object_set_new(req, "dest", dest) < 0)
		goto done;
	for(i = 0; i < q->ndest; i++) {
		json_t *s = q->dest[i] ? json_string(q->dest[i]) : NULL;
		if(s == NULL || json_array_append_new(dest, s) < 0)
			goto done;
	}
	if(q->call_id != NULL && tpid_hook_set_str(req, "callId", q->call_id) < 0)
		goto done;
	if(json_object_set_new(req, "time", json_integer((json_int_t)q->time)) < 0)
		goto done;
	out = json_dumps(root, JSON_COMPACT);
done:
	json_decref(root);
	return out;
}

/* ---- response body ----------------------------------------------------- */

void tpid_hook_copy_reason(char *dst, size_t dstsize, const char *src)
{
	size_t n = strlen(src), i;

	if(n >= dstsize) {
		n = dstsize - 1;
		while(n > 0 && ((unsigned char)src[n] & 0xc0) == 0x80)
			n--;
	}
	for(i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)src[i];
		dst[i] = (ch < 0x20 || ch == 0x7f) ? ' ' : (char)ch;
	}
	dst[n] = '\0';
}

int tpid_hook_parse_answer(const char *body, size_t len, tpid_hook_answer_t *a)
{
	json_error_t jerr;
	json_t *root, *resp, *v;
	const char *s;
	size_t i, slen;
	int result, ttl = -1;
	int rc = TPID_R_HOOK_BAD_ANSWER;

	if(a == NULL)
		return TPID_R_INTERNAL;
	if(body == NULL || len == 0)
		return TPID_R_HOOK_BAD_ANSWER;
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
	if(root == NULL)
		return TPID_R_HOOK_BAD_ANSWER;
	resp = json_object_get(root, "tpidVerificationResponse");
	if(!json_is_object(resp))
		goto done;

	v = json_object_get(resp, "result");
	if(!json_is_string(v))
		goto done;
	s = json_string_value(v);
	if(strcmp(s, "authorized") == 0)
		result = TPID_HOOK_AUTHORIZED;
	else if(strcmp(s, "denied") == 0)
		result = TPID_HOOK_DENIED;
	else if(strcmp(s, "unknown") == 0)
		result = TPID_HOOK_UNKNOWN;
	else
		goto done;

	/* displayName ends up in a signed token and in SIP headers: no silent
	 * truncation, no control characters (CR/LF would split a header). */
	v = json_object_get(resp, "displayName");
	if(v != NULL) {
		if(!json_is_string(v))
			goto done;
		slen = json_string_length(v);
		if(slen >= TPID_MAX_NAME)
			goto done;
		s = json_string_value(v);
		for(i = 0; i < slen; i++) {
			unsigned char ch = (unsigned char)s[i];
			if(ch < 0x20 || ch == 0x7f)
				goto done;
		}
	}

	v = json_object_get(resp, "ttl");
	if(v != NULL) {
		json_int_t t;
		if(!json_is_integer(v))
			goto done;
		t = json_integer_value(v);
		if(t < 0 || t > TPID_HOOK_MAX_TTL)
			goto done;
		ttl = (int)t;
	}

	if(json_object_get(resp, "reason") != NULL
			&& !json_is_string(json_object_get(resp, "reason")))
		goto done;

	/* all checked: only now touch *a */
	a->result = result;
	a->ttl = ttl;
	a->display_name[0] = '\0';
	v = json_object_get(resp, "displayName");
	if(v != NULL)
		memcpy(a->display_name, json_string_value(v),
				json_string_length(v) + 1);
	a->reason[0] = '\0';
	v = json_object_get(resp, "reason");
	if(v != NULL)
		tpid_hook_copy_reason(
				a->reason, sizeof(a->reason), json_string_value(v));
	rc = TPID_OK;
done:
	json_decref(root);
	return rc;
}

/* Best effort: the "text" of a 4xx/5xx error object, for the logs. */
static void tpid_hook_error_text(
		const char *body, size_t len, char *text, size_t textsize)
{
	json_t *root, *t;

	if(len == 0)
		return;
	root = json_loadb(body, len, 0, NULL);
	if(root == NULL)
		return;
	t = json_object_get(json_object_get(root, "error"), "text");
	if(json_is_string(t))
		tpid_hook_copy_reason(text, textsize, json_string_value(t));
	json_decref(root);
}

/* ---- the job on the HTTPS engine ------------------------------------------- */

/* The request headers: content negotiation and the bearer token. Returns
 * how many lines, or -1 if the token does not fit. */
static int tpid_hook_headers(
		const tpid_enterprise_t *e, char *auth, size_t authsize, const char **h)
{
	int n = 0;

	h[n++] = "Content-Type: application/json";
	h[n++] = "Accept: application/json";
	if(e->bearer_token[0] != '\0') {
		if(snprintf(auth, authsize, "Authorization: Bearer %s", e->bearer_token)
				>= (int)authsize)
			return -1;
		h[n++] = auth;
	}
	return n;
}

int tpid_hook_post_buf(tpid_https_t *eng, const tpid_enterprise_t *e,
		const char *path, const char *body, size_t len, size_t max_body,
		void *user)
{
	char url[TPID_MAX_PATH + 64];
	char auth[TPID_MAX_TOKEN + sizeof("Authorization: Bearer ")];
	const char *hdrs[3];
	tpid_https_req_t r;
	int n;

	if(eng == NULL || e == NULL || path == NULL || body == NULL)
		return TPID_R_INTERNAL;
	if(snprintf(url, sizeof(url), "%s%s", e->api_root, path) >= (int)sizeof(url)
			|| (n = tpid_hook_headers(e, auth, sizeof(auth), hdrs)) < 0)
		return TPID_R_INTERNAL;
	memset(&r, 0, sizeof(r));
	r.url = url;
	r.method = TPID_HTTPS_POST;
	r.body = body;
	r.body_len = len;
	r.headers = hdrs;
	r.nheaders = n;
	r.ca_file = e->ca_file;
	r.client_cert = e->client_cert;
	r.client_key = e->client_key;
	r.connect_timeout_ms = e->connect_timeout_ms;
	r.timeout_ms = e->timeout_ms;
	r.max_body = max_body ? max_body : TPID_HOOK_MAX_BODY;
	r.allow_private = e->allow_private_address;
	return tpid_https_add(eng, &r, user) == 0 ? TPID_OK : TPID_R_INTERNAL;
}

int tpid_hook_post(tpid_https_t *eng, const tpid_enterprise_t *e,
		const char *path, char *body, size_t max_body, void *user)
{
	int rc = tpid_hook_post_buf(
			eng, e, path, body, body ? strlen(body) : 0, max_body, user);

	free(body);
	return rc;
}

int tpid_hook_add(tpid_https_t *eng, const tpid_enterprise_t *e,
		const tpid_hook_query_t *q, size_t max_body, void *user)
{
	if(q == NULL)
		return TPID_R_INTERNAL;
	return tpid_hook_post(
			eng, e, TPID_HOOK_PATH, tpid_hook_request_json(q), max_body, user);
}

const tpid_service_reasons_t tpid_hook_reasons = {TPID_R_HOOK_CONNECT,
		TPID_R_HOOK_TIMEOUT, TPID_R_HOOK_TLS, TPID_R_HOOK_HTTP,
		TPID_R_HOOK_TOO_BIG};

int tpid_hook_transport(const tpid_https_result_t *r,
		const tpid_service_reasons_t *rs, char *text, size_t textsize)
{
	int rc;

	switch(r->cls) {
		case TPID_HTTPS_OK:
			return TPID_OK;
		case TPID_HTTPS_TIMEOUT:
			rc = rs->timeout;
			break;
		case TPID_HTTPS_TLS:
			rc = rs->tls;
			break;
		case TPID_HTTPS_HTTP:
			rc = rs->http;
			if(r->body != NULL)
				tpid_hook_error_text(r->body, r->body_len, text, textsize);
			break;
		case TPID_HTTPS_TOO_BIG:
			rc = rs->too_big;
			break;
		case TPID_HTTPS_CONNECT:
		case TPID_HTTPS_ADDRESS: /* refused before connecting */
			rc = rs->connect;
			break;
		default:
			rc = TPID_R_INTERNAL;
	}
	/* curl's own words, for the operator's log line */
	if(text[0] == '\0')
		tpid_hook_copy_reason(text, textsize,
				r->cls == TPID_HTTPS_ADDRESS ? "address refused by policy"
											 : r->error);
	return rc;
}

int tpid_hook_result(const tpid_https_result_t *r, tpid_hook_answer_t *a)
{
	int rc;

	if(r == NULL || a == NULL)
		return TPID_R_INTERNAL;
	memset(a, 0, sizeof(*a));
	a->http_status = r->status;
	a->elapsed_ms = r->elapsed_ms;
	rc = tpid_hook_transport(
			r, &tpid_hook_reasons, a->reason, sizeof(a->reason));
	if(rc == TPID_OK)
		rc = tpid_hook_parse_answer(r->body, r->body_len, a);
	return rc;
}
