/*
 * tpid_assert - the enterprise hook client ("Ms-style", DESIGN section 4).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tpid_hook.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

#include "tpid_reason.h"

#define TPID_HOOK_PATH "/tpid/v1/verification"
#define TPID_HOOK_MAX_TTL 86400

static int tpid_hook_inited = 0;

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

/* reason is free text for logs: bounded, cut on a UTF-8 boundary, control
 * characters blanked so that it cannot forge log lines. */
static void tpid_hook_copy_reason(char *dst, size_t dstsize, const char *src)
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
		const char *body, size_t len, tpid_hook_answer_t *a)
{
	json_t *root, *t;

	if(len == 0)
		return;
	root = json_loadb(body, len, 0, NULL);
	if(root == NULL)
		return;
	t = json_object_get(json_object_get(root, "error"), "text");
	if(json_is_string(t))
		tpid_hook_copy_reason(
				a->reason, sizeof(a->reason), json_string_value(t));
	json_decref(root);
}

/* ---- client ------------------------------------------------------------ */

int tpid_hook_global_init(void)
{
	if(tpid_hook_inited)
		return 0;
	if(curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
		return -1;
	tpid_hook_inited = 1;
	return 0;
}

void tpid_hook_global_cleanup(void)
{
	if(!tpid_hook_inited)
		return;
	curl_global_cleanup();
	tpid_hook_inited = 0;
}

/* A response body being received, bounded by max_body. */
typedef struct tpid_hook_resp
{
	char *buf; /* max_body + 1 */
	size_t len;
	size_t max_body;
	int too_big;
} tpid_hook_resp_t;

static size_t tpid_hook_write(char *ptr, size_t size, size_t nmemb, void *ud)
{
	tpid_hook_resp_t *r = ud;
	size_t n = size * nmemb;

	if(n > r->max_body - r->len) {
		r->too_big = 1;
		return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
	}
	memcpy(r->buf + r->len, ptr, n);
	r->len += n;
	return n;
}

/* curl's verdict to our reasons. RECV/SEND errors before any HTTP status
 * are counted as TLS failures: a server refusing our client certificate
 * (TLS 1.3 sends that alert after the client thinks the handshake is done)
 * shows up exactly so. After a status line they are a broken connection. */
static int tpid_hook_map_curl(CURLcode cc, long status, int too_big)
{
	switch(cc) {
		case CURLE_OK:
			return TPID_OK;
		case CURLE_WRITE_ERROR:
			return too_big ? TPID_R_HOOK_TOO_BIG : TPID_R_INTERNAL;
		case CURLE_FILESIZE_EXCEEDED:
			return TPID_R_HOOK_TOO_BIG;
		case CURLE_OPERATION_TIMEDOUT:
			return TPID_R_HOOK_TIMEOUT;
		case CURLE_COULDNT_CONNECT:
		case CURLE_COULDNT_RESOLVE_HOST:
		case CURLE_COULDNT_RESOLVE_PROXY:
		case CURLE_GOT_NOTHING:
		case CURLE_URL_MALFORMAT:
			return TPID_R_HOOK_CONNECT;
		case CURLE_SSL_CONNECT_ERROR:
		case CURLE_PEER_FAILED_VERIFICATION:
		case CURLE_SSL_CERTPROBLEM:
		case CURLE_SSL_CIPHER:
		case CURLE_SSL_CACERT_BADFILE:
		case CURLE_SSL_ENGINE_NOTFOUND:
		case CURLE_SSL_ENGINE_SETFAILED:
		case CURLE_SSL_ENGINE_INITFAILED:
		case CURLE_SSL_SHUTDOWN_FAILED:
		case CURLE_SSL_CRL_BADFILE:
		case CURLE_SSL_ISSUER_ERROR:
		case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
		case CURLE_SSL_INVALIDCERTSTATUS:
		case CURLE_SSL_CLIENTCERT:
		case CURLE_USE_SSL_FAILED:
			return TPID_R_HOOK_TLS;
		case CURLE_RECV_ERROR:
		case CURLE_SEND_ERROR:
			return status == 0 ? TPID_R_HOOK_TLS : TPID_R_HOOK_CONNECT;
		case CURLE_UNSUPPORTED_PROTOCOL:
		case CURLE_WEIRD_SERVER_REPLY:
		case CURLE_HTTP2:
		case CURLE_HTTP2_STREAM:
		case CURLE_HTTP3:
		case CURLE_PARTIAL_FILE:
		case CURLE_TOO_MANY_REDIRECTS:
		case CURLE_BAD_CONTENT_ENCODING:
			return TPID_R_HOOK_HTTP;
		case CURLE_OUT_OF_MEMORY:
		case CURLE_FAILED_INIT:
		case CURLE_BAD_FUNCTION_ARGUMENT:
		case CURLE_UNKNOWN_OPTION:
		case CURLE_NOT_BUILT_IN:
			return TPID_R_INTERNAL;
		default:
			return TPID_R_HOOK_CONNECT;
	}
}

#define TPID_SETOPT(h, opt, val)                      \
	do {                                              \
		if(curl_easy_setopt(h, opt, val) != CURLE_OK) \
			return -1;                                \
	} while(0)

/* The request headers; NULL on failure. */
static struct curl_slist *tpid_hook_headers(const tpid_enterprise_t *e)
{
	char auth[TPID_MAX_TOKEN + sizeof("Authorization: Bearer ")];
	const char *fixed[] = {"Content-Type: application/json",
			"Accept: application/json",
			"Expect:", /* no 100-continue round trip */
			NULL};
	struct curl_slist *hdrs = NULL, *tmp;
	int i;

	for(i = 0; fixed[i]; i++) {
		tmp = curl_slist_append(hdrs, fixed[i]);
		if(tmp == NULL)
			goto error;
		hdrs = tmp;
	}
	if(e->bearer_token[0] != '\0') {
		if(snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
				   e->bearer_token)
				>= (int)sizeof(auth))
			goto error;
		tmp = curl_slist_append(hdrs, auth);
		if(tmp == NULL)
			goto error;
		hdrs = tmp;
	}
	return hdrs;
error:
	curl_slist_free_all(hdrs);
	return NULL;
}

/* Every option on every request: a reused handle may have served another
 * configuration generation of the same enterprise. 0 or -1. */
static int tpid_hook_setopts(CURL *h, const tpid_enterprise_t *e,
		const char *url, const char *body, struct curl_slist *hdrs,
		tpid_hook_resp_t *resp, char *errbuf)
{
	TPID_SETOPT(h, CURLOPT_URL, url);
	TPID_SETOPT(h, CURLOPT_PROTOCOLS_STR, "https");
	TPID_SETOPT(h, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	TPID_SETOPT(h, CURLOPT_FOLLOWLOCATION, 0L);
	/* an environment proxy must not sit between us and the enterprise */
	TPID_SETOPT(h, CURLOPT_PROXY, "");
	TPID_SETOPT(h, CURLOPT_SSL_VERIFYPEER, 1L);
	TPID_SETOPT(h, CURLOPT_SSL_VERIFYHOST, 2L);
	TPID_SETOPT(h, CURLOPT_CAINFO, e->ca_file);
	/* only the enterprise's CA: no system store next to it */
	TPID_SETOPT(h, CURLOPT_CAPATH, NULL);
	TPID_SETOPT(h, CURLOPT_SSLCERT,
			e->client_cert[0] != '\0' ? e->client_cert : NULL);
	TPID_SETOPT(
			h, CURLOPT_SSLKEY, e->client_key[0] != '\0' ? e->client_key : NULL);
	TPID_SETOPT(h, CURLOPT_CONNECTTIMEOUT_MS, e->connect_timeout_ms);
	TPID_SETOPT(h, CURLOPT_TIMEOUT_MS, e->timeout_ms);
	TPID_SETOPT(h, CURLOPT_NOSIGNAL, 1L);
	TPID_SETOPT(h, CURLOPT_POST, 1L);
	TPID_SETOPT(h, CURLOPT_POSTFIELDS, body);
	TPID_SETOPT(h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	TPID_SETOPT(h, CURLOPT_HTTPHEADER, hdrs);
	TPID_SETOPT(h, CURLOPT_USERAGENT, "tpid_assert");
	TPID_SETOPT(h, CURLOPT_WRITEFUNCTION, tpid_hook_write);
	TPID_SETOPT(h, CURLOPT_WRITEDATA, resp);
	TPID_SETOPT(h, CURLOPT_MAXFILESIZE, (long)resp->max_body);
	TPID_SETOPT(h, CURLOPT_ERRORBUFFER, errbuf);
	return 0;
}

/* The verdict on a finished transfer: reason, and *a filled on TPID_OK. */
static int tpid_hook_verdict(
		CURL *h, CURLcode cc, tpid_hook_resp_t *resp, tpid_hook_answer_t *a)
{
	curl_off_t total_us = 0;
	long status = 0;
	int rc;

	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	if(curl_easy_getinfo(h, CURLINFO_TOTAL_TIME_T, &total_us) == CURLE_OK)
		a->elapsed_ms = (double)total_us / 1000.0;
	a->http_status = status;
	rc = tpid_hook_map_curl(cc, status, resp->too_big);
	/* a big error page is an HTTP failure first, not a size problem */
	if(rc == TPID_R_HOOK_TOO_BIG && status != 0 && status != 200)
		rc = TPID_R_HOOK_HTTP;
	if(rc != TPID_OK)
		return rc;
	if(status != 200) {
		tpid_hook_error_text(resp->buf, resp->len, a);
		return TPID_R_HOOK_HTTP;
	}
	return tpid_hook_parse_answer(resp->buf, resp->len, a);
}

static int tpid_hook_url(const tpid_enterprise_t *e, char *url, size_t size)
{
	return snprintf(url, size, "%s%s", e->api_root, TPID_HOOK_PATH) >= (int)size
				   ? -1
				   : 0;
}

/* ---- asynchronous engine (curl multi) ----------------------------------- */

/* One transfer in flight: owns its handle, body, headers and buffer. The
 * multi handle keeps the connections, so a fresh easy handle per request
 * still reuses them. */
typedef struct tpid_hook_xfer
{
	CURL *h;
	struct curl_slist *hdrs;
	char *body;
	tpid_hook_resp_t resp;
	void *user;
	char errbuf[CURL_ERROR_SIZE];
	struct tpid_hook_xfer *next;
} tpid_hook_xfer_t;

struct tpid_hook_multi
{
	CURLM *m;
	size_t max_body;
	int running;
	tpid_hook_xfer_t *xfers; /* all in flight */
};

static void tpid_hook_xfer_free(tpid_hook_xfer_t *x)
{
	if(x == NULL)
		return;
	if(x->h != NULL)
		curl_easy_cleanup(x->h);
	curl_slist_free_all(x->hdrs);
	free(x->body);
	free(x->resp.buf);
	free(x);
}

tpid_hook_multi_t *tpid_hook_multi_new(size_t max_body, long max_conns)
{
	tpid_hook_multi_t *m = calloc(1, sizeof(*m));

	if(m == NULL)
		return NULL;
	m->m = curl_multi_init();
	if(m->m == NULL) {
		free(m);
		return NULL;
	}
	m->max_body = max_body ? max_body : TPID_HOOK_MAX_BODY;
	if(max_conns > 0)
		curl_multi_setopt(m->m, CURLMOPT_MAXCONNECTS, max_conns);
	return m;
}

void tpid_hook_multi_free(tpid_hook_multi_t *m)
{
	tpid_hook_xfer_t *x, *n;

	if(m == NULL)
		return;
	for(x = m->xfers; x; x = n) {
		n = x->next;
		curl_multi_remove_handle(m->m, x->h);
		tpid_hook_xfer_free(x);
	}
	curl_multi_cleanup(m->m);
	free(m);
}

int tpid_hook_multi_add(tpid_hook_multi_t *m, const tpid_enterprise_t *e,
		const tpid_hook_query_t *q, void *user)
{
	char url[TPID_MAX_PATH + sizeof(TPID_HOOK_PATH)];
	tpid_hook_xfer_t *x;

	if(m == NULL || e == NULL || q == NULL)
		return TPID_R_INTERNAL;
	if(tpid_hook_url(e, url, sizeof(url)) < 0)
		return TPID_R_INTERNAL;
	x = calloc(1, sizeof(*x));
	if(x == NULL)
		return TPID_R_INTERNAL;
	x->user = user;
	x->resp.max_body = m->max_body;
	x->resp.buf = malloc(m->max_body + 1);
	x->body = tpid_hook_request_json(q);
	x->hdrs = tpid_hook_headers(e);
	x->h = curl_easy_init();
	if(x->resp.buf == NULL || x->body == NULL || x->hdrs == NULL || x->h == NULL
			|| tpid_hook_setopts(
					   x->h, e, url, x->body, x->hdrs, &x->resp, x->errbuf)
					   < 0
			|| curl_easy_setopt(x->h, CURLOPT_PRIVATE, x) != CURLE_OK
			|| curl_multi_add_handle(m->m, x->h) != CURLM_OK) {
		tpid_hook_xfer_free(x);
		return TPID_R_INTERNAL;
	}
	x->next = m->xfers;
	m->xfers = x;
	m->running++;
	return TPID_OK;
}

int tpid_hook_multi_wait(
		tpid_hook_multi_t *m, int extra_fd, int timeout_ms, int *extra_ready)
{
	struct curl_waitfd wfd;
	int still = 0;

	if(extra_ready)
		*extra_ready = 0;
	memset(&wfd, 0, sizeof(wfd));
	wfd.fd = extra_fd;
	wfd.events = CURL_WAIT_POLLIN;
	if(curl_multi_poll(m->m, extra_fd >= 0 ? &wfd : NULL, extra_fd >= 0 ? 1 : 0,
			   timeout_ms, NULL)
			!= CURLM_OK)
		return -1;
	if(extra_ready && extra_fd >= 0)
		*extra_ready = (wfd.revents & CURL_WAIT_POLLIN) != 0;
	if(curl_multi_perform(m->m, &still) != CURLM_OK)
		return -1;
	return 0;
}

int tpid_hook_multi_next(
		tpid_hook_multi_t *m, void **user, int *rc, tpid_hook_answer_t *a)
{
	tpid_hook_xfer_t *x = NULL, **pp;
	CURLMsg *msg;
	int left;

	while((msg = curl_multi_info_read(m->m, &left)) != NULL) {
		if(msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&x);
		if(x == NULL)
			continue;
		memset(a, 0, sizeof(*a));
		*rc = tpid_hook_verdict(x->h, msg->data.result, &x->resp, a);
		/* curl's own words, for the operator's log line */
		if(*rc != TPID_OK && a->reason[0] == '\0')
			tpid_hook_copy_reason(a->reason, sizeof(a->reason), x->errbuf);
		*user = x->user;
		curl_multi_remove_handle(m->m, x->h);
		for(pp = &m->xfers; *pp; pp = &(*pp)->next) {
			if(*pp == x) {
				*pp = x->next;
				break;
			}
		}
		m->running--;
		tpid_hook_xfer_free(x);
		return 1;
	}
	return 0;
}

int tpid_hook_multi_running(const tpid_hook_multi_t *m)
{
	return m ? m->running : 0;
}
