/*
 * tpid_assert - the Ms client (STI-AS / STI-VS) and verstat, see tpid_ms.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tpid_ms.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/rand.h>

#include "tpid_hook.h"
#include "tpid_ident.h"
#include "tpid_reason.h"

/* ---- the service ---------------------------------------------------------- */

int tpid_ms_load(
		const char *path, tpid_enterprise_t *svc, char *err, size_t errsize)
{
	tpid_enterprise_set_t set;
	int rc = -1;

	memset(&set, 0, sizeof(set));
	if(svc == NULL
			|| tpid_enterprise_load_dir(path, "ms", 1, &set, err, errsize) < 0)
		return -1;
	if(set.n == 1 && strcmp(set.items[0].domain, "*") == 0) {
		*svc = set.items[0];
		rc = 0;
	} else if(err != NULL && errsize > 0) {
		snprintf(err, errsize,
				"ms_file %s: exactly one service, with the domain \"*\"", path);
	}
	tpid_enterprise_free(&set);
	return rc;
}

int tpid_ms_add(tpid_https_t *eng, const tpid_enterprise_t *svc,
		const char *path, const char *body, size_t len, size_t max_body,
		void *user)
{
	return tpid_hook_post_buf(eng, svc, path, body, len, max_body, user);
}

static const tpid_service_reasons_t tpid_ms_reasons = {TPID_R_MS_CONNECT,
		TPID_R_MS_TIMEOUT, TPID_R_MS_TLS, TPID_R_MS_HTTP, TPID_R_MS_TOO_BIG};

/* ---- small helpers -------------------------------------------------------- */

static int tpid_ms_ppt_ok(const char *ppt)
{
	return strcmp(ppt, "rcd") == 0 || strcmp(ppt, TPID_PPT_AVATAR) == 0;
}

/* 8-4-4-4-12 lower-case hex digits */
static int tpid_ms_origid_ok(const char *s)
{
	size_t i;

	if(s == NULL || strlen(s) != TPID_MS_ORIGID_LEN - 1)
		return 0;
	for(i = 0; i < TPID_MS_ORIGID_LEN - 1; i++) {
		if(i == 8 || i == 13 || i == 18 || i == 23) {
			if(s[i] != '-')
				return 0;
		} else if(!((s[i] >= '0' && s[i] <= '9')
						  || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return 1;
}

int tpid_ms_origid(char *out, size_t outsize)
{
	unsigned char b[16];

	if(out == NULL || outsize < TPID_MS_ORIGID_LEN)
		return -1;
	out[0] = '\0';
	if(RAND_bytes(b, sizeof(b)) != 1)
		return -1;
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* RFC 4122 variant */
	snprintf(out, outsize,
			"%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x"
			"%02x",
			b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10],
			b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

/* A one-member object {key: val}, val stolen; NULL if val is NULL. */
static json_t *tpid_ms_wrap(const char *key, json_t *val)
{
	json_t *o;

	if(val == NULL)
		return NULL;
	o = json_object();
	if(o == NULL || json_object_set_new(o, key, val) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* Serialises root (released here) into out: its length or -1. */
static int tpid_ms_dump(json_t *root, char *out, size_t outsize)
{
	int n = tpid_jose_json_dumpb(root, out, outsize);

	json_decref(root);
	return n;
}

/* ---- requests ------------------------------------------------------------- */

int tpid_ms_sign_request(
		const tpid_claims_t *c, const char *origid, char *out, size_t outsize)
{
	json_t *p;

	if(out == NULL || outsize == 0)
		return -1;
	out[0] = '\0';
	if(c == NULL || memchr(c->ppt, '\0', sizeof(c->ppt)) == NULL
			|| !tpid_ms_ppt_ok(c->ppt) || !tpid_ms_origid_ok(origid))
		return -1;
	p = tpid_passport_payload_obj(c);
	if(p == NULL || json_object_set_new(p, "origid", json_string(origid)) < 0
			|| json_object_set_new(p, "ppt", json_string(c->ppt)) < 0) {
		json_decref(p);
		return -1;
	}
	return tpid_ms_dump(tpid_ms_wrap("signingRequest", p), out, outsize);
}

int tpid_ms_verify_request(const char *hdr, size_t len,
		const tpid_ident_t *from, const tpid_ident_t *to, int nto, int64_t now,
		char *out, size_t outsize)
{
	json_t *r, *root;

	if(out == NULL || outsize == 0)
		return -1;
	out[0] = '\0';
	if(hdr == NULL || len == 0 || len > TPID_MAX_HDR_LEN
			|| memchr(hdr, '\0', len) != NULL || nto < 1 || nto > TPID_MAX_DEST
			|| now < 0)
		return -1;
	r = json_object();
	root = tpid_ms_wrap("verificationRequest", r);
	if(root == NULL)
		return -1;
	/* json_stringn() refuses invalid UTF-8; set_new() owns NULL too */
	if(json_object_set_new(r, "from", tpid_passport_orig_json(from)) < 0
			|| json_object_set_new(r, "identityHeader", json_stringn(hdr, len))
					   < 0
			|| json_object_set_new(r, "time", json_integer((json_int_t)now)) < 0
			|| json_object_set_new(r, "to", tpid_passport_dest_json(to, nto))
					   < 0) {
		json_decref(root);
		return -1;
	}
	return tpid_ms_dump(root, out, outsize);
}

/* ---- answers: transport and Ms error objects ---------------------------- */

/* "messageId: text" with %1..%9 replaced by the variables (strings), for
 * the logs. */
static void tpid_ms_exception_text(
		json_t *exc, const char *id, char *text, size_t textsize)
{
	char buf[TPID_MS_MAX_TEXT * 2];
	json_t *vars = json_object_get(exc, "variables"), *v;
	const char *t = json_string_value(json_object_get(exc, "text"));
	size_t n = 0, k;
	int m;

	m = snprintf(buf, sizeof(buf), "%s: ", id);
	if(m > 0)
		n = (size_t)m < sizeof(buf) ? (size_t)m : sizeof(buf) - 1;
	for(; t != NULL && *t != '\0' && n + 1 < sizeof(buf); t++) {
		v = NULL;
		if(t[0] == '%' && t[1] >= '1' && t[1] <= '9')
			v = json_array_get(vars, (size_t)(t[1] - '1'));
		if(!json_is_string(v)) {
			buf[n++] = *t;
			continue;
		}
		for(k = 0; k < json_string_length(v) && n + 1 < sizeof(buf); k++)
			buf[n++] = json_string_value(v)[k];
		t++;
	}
	buf[n] = '\0';
	tpid_hook_copy_reason(text, textsize, buf);
}

/* An Ms error object: MS_SERVICE_ERROR / MS_POLICY_ERROR with its text;
 * TPID_OK when root is none (or not a well-formed one). */
static int tpid_ms_request_error(json_t *root, char *text, size_t textsize)
{
	static const struct
	{
		const char *key;
		int reason;
	} kinds[] = {{"serviceException", TPID_R_MS_SERVICE_ERROR},
			{"policyException", TPID_R_MS_POLICY_ERROR}};
	json_t *re = json_object_get(root, "requestError"), *exc, *id;
	size_t i;

	if(!json_is_object(re) || json_object_size(re) != 1)
		return TPID_OK;
	for(i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		exc = json_object_get(re, kinds[i].key);
		id = json_object_get(exc, "messageId");
		if(!json_is_object(exc) || !json_is_string(id))
			continue;
		tpid_ms_exception_text(exc, json_string_value(id), text, textsize);
		return kinds[i].reason;
	}
	return TPID_OK;
}

/* The answer's JSON object in *root (a new reference) and TPID_OK, or the
 * reason it is not one: a transport failure, an Ms error object (whatever
 * the status), MS_HTTP, MS_BAD_ANSWER. text gets the explanation. */
static int tpid_ms_answer(
		const tpid_https_result_t *r, json_t **root, char *text, size_t ts)
{
	json_t *j = NULL;
	int rc;

	*root = NULL;
	if((r->cls == TPID_HTTPS_OK || r->cls == TPID_HTTPS_HTTP) && r->body != NULL
			&& r->body_len > 0) {
		j = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, NULL);
		rc = tpid_ms_request_error(j, text, ts);
		if(rc != TPID_OK) {
			json_decref(j);
			return rc;
		}
	}
	rc = tpid_hook_transport(r, &tpid_ms_reasons, text, ts);
	if(rc == TPID_OK && !json_is_object(j)) {
		tpid_hook_copy_reason(text, ts, "not a JSON object");
		rc = TPID_R_MS_BAD_ANSWER;
	}
	if(rc != TPID_OK) {
		json_decref(j);
		return rc;
	}
	*root = j;
	return TPID_OK;
}

/* A bad answer, with why. */
static int tpid_ms_bad(char *text, size_t ts, const char *why)
{
	tpid_hook_copy_reason(text, ts, why);
	return TPID_R_MS_BAD_ANSWER;
}

/* The payload of a split header as JSON (a new reference) or NULL. */
static json_t *tpid_ms_hdr_payload(const char *hdr, size_t len)
{
	tpid_idhdr_t h;

	if(tpid_idhdr_split(hdr, len, &h) != TPID_OK)
		return NULL;
	return tpid_jose_json_b64u(h.part[1].s, h.part[1].n);
}

/* ---- signing answers ---------------------------------------------------- */

/* 1 if s is all printable ASCII (what goes into a SIP header as is) */
static int tpid_ms_printable(const char *s, size_t n)
{
	size_t i;

	for(i = 0; i < n; i++) {
		if((unsigned char)s[i] < 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0;
	}
	return 1;
}

/* The payload of the signed header s holds exactly the claims asked for,
 * and origid at most (equal). */
static int tpid_ms_same_claims(const char *s, size_t n,
		const tpid_claims_t *asked, const char *origid, char *text, size_t ts)
{
	json_t *got = tpid_ms_hdr_payload(s, n), *want, *v;
	int rc = TPID_OK;

	want = tpid_passport_payload_obj(asked);
	if(got == NULL || want == NULL) {
		json_decref(got);
		json_decref(want);
		return got == NULL ? tpid_ms_bad(text, ts, "payload unreadable")
						   : TPID_R_INTERNAL;
	}
	v = json_object_get(got, "origid");
	if(v != NULL) {
		if(!json_is_string(v) || strcmp(json_string_value(v), origid) != 0
				|| json_string_length(v) != strlen(origid))
			rc = tpid_ms_bad(text, ts, "origid not the one asked for");
		json_object_del(got, "origid");
	}
	if(rc == TPID_OK && !json_equal(got, want))
		rc = tpid_ms_bad(text, ts, "claims not the ones asked for");
	json_decref(got);
	json_decref(want);
	return rc;
}

/* The header the STI-AS returned is the token asked for; *t parsed. */
static int tpid_ms_check_signed(const char *s, size_t n,
		const tpid_claims_t *asked, const char *origid, tpid_passport_t *t,
		char *text, size_t ts)
{
	char why[96];
	tpid_url_t url;
	int rc;

	rc = tpid_passport_parse(s, n, asked->ppt, t);
	if(rc != TPID_OK) {
		snprintf(why, sizeof(why), "identityHeader refused: %s",
				tpid_reason_name(rc));
		return tpid_ms_bad(text, ts, why);
	}
	if(t->alg_param[0] == '\0')
		return tpid_ms_bad(text, ts, "identityHeader without alg");
	if(tpid_url_parse(t->info, strlen(t->info), &url) < 0)
		return tpid_ms_bad(text, ts, "x5u not an https URL");
	if(t->sig_len != TPID_ES256_SIG_LEN)
		return tpid_ms_bad(text, ts, "signature not 64 bytes");
	return tpid_ms_same_claims(s, n, asked, origid, text, ts);
}

int tpid_ms_sign_result(const tpid_https_result_t *res,
		const tpid_claims_t *asked, const char *origid, char *hdr,
		size_t hdrsize, tpid_claims_t *signed_c, char *text, size_t textsize)
{
	char tbuf[TPID_MS_MAX_TEXT];
	tpid_passport_t t;
	json_t *root = NULL, *ih;
	const char *s;
	size_t n;
	int rc;

	tbuf[0] = '\0';
	if(hdr != NULL && hdrsize > 0)
		hdr[0] = '\0';
	if(res == NULL || asked == NULL || hdr == NULL || hdrsize == 0
			|| memchr(asked->ppt, '\0', sizeof(asked->ppt)) == NULL
			|| !tpid_ms_ppt_ok(asked->ppt) || !tpid_ms_origid_ok(origid)) {
		rc = TPID_R_INTERNAL;
		goto done;
	}
	rc = tpid_ms_answer(res, &root, tbuf, sizeof(tbuf));
	if(rc != TPID_OK)
		goto done;
	ih = json_object_get(
			json_object_get(root, "signingResponse"), "identityHeader");
	if(!json_is_string(ih)) {
		rc = tpid_ms_bad(
				tbuf, sizeof(tbuf), "no signingResponse.identityHeader string");
		goto done;
	}
	s = json_string_value(ih);
	n = json_string_length(ih);
	if(n == 0 || n > TPID_MAX_HDR_LEN || n >= hdrsize) {
		rc = tpid_ms_bad(
				tbuf, sizeof(tbuf), "identityHeader empty or too long");
		goto done;
	}
	if(!tpid_ms_printable(s, n)) {
		rc = tpid_ms_bad(tbuf, sizeof(tbuf),
				"identityHeader holds a control or non-ASCII byte");
		goto done;
	}
	rc = tpid_ms_check_signed(s, n, asked, origid, &t, tbuf, sizeof(tbuf));
	if(rc != TPID_OK)
		goto done;
	/* all checked: asked is not read again (signed_c may be asked) */
	memcpy(hdr, s, n + 1);
	if(signed_c != NULL)
		*signed_c = t.claims;
done:
	json_decref(root);
	if(text != NULL && textsize > 0)
		tpid_hook_copy_reason(text, textsize, tbuf);
	return rc;
}

/* ---- verification answers ------------------------------------------------- */

static const char *const tpid_verstat_tokens[] = {NULL, "TN-Validation-Passed",
		"TN-Validation-Failed", "No-TN-Validation"};

const char *tpid_ms_verstat_name(int verstat)
{
	if(verstat < TPID_VERSTAT_PASSED || verstat > TPID_VERSTAT_NO_TN)
		return "none";
	return tpid_verstat_tokens[verstat];
}

/* The TPID_VERSTAT_* of a verstatValue, NONE if it is no known token. */
static int tpid_ms_verstat_of(json_t *v)
{
	int i;

	for(i = TPID_VERSTAT_PASSED; json_is_string(v) && i <= TPID_VERSTAT_NO_TN;
			i++) {
		if(json_string_length(v) == strlen(tpid_verstat_tokens[i])
				&& strcmp(json_string_value(v), tpid_verstat_tokens[i]) == 0)
			return i;
	}
	return TPID_VERSTAT_NONE;
}

/* TN-Validation-Failed: RFC 8224's codes as the module's own reasons. */
static int tpid_ms_failed_reason(int code)
{
	switch(code) {
		case 436:
			return TPID_R_CERT_FETCH;
		case 437:
			return TPID_R_CERT_INVALID;
		case 438:
			return TPID_R_BAD_SIGNATURE;
		case 403:
			return TPID_R_IAT_STALE;
		default:
			return TPID_R_MS_VERIFY_FAILED;
	}
}

/* Reads a verificationResponse into out; TPID_OK or MS_BAD_ANSWER. */
static int tpid_ms_read_verification(
		json_t *resp, json_t **x5u, json_t **payload, tpid_ms_verification_t *o)
{
	const size_t ts = sizeof(o->reason_text);
	json_t *v;
	json_int_t code;
	int verstat;

	if(!json_is_object(resp))
		return tpid_ms_bad(o->reason_text, ts, "no verificationResponse");
	verstat = tpid_ms_verstat_of(json_object_get(resp, "verstatValue"));
	if(verstat == TPID_VERSTAT_NONE)
		return tpid_ms_bad(o->reason_text, ts, "no known verstatValue");
	v = json_object_get(resp, "reasonCode");
	if(v != NULL) {
		code = json_integer_value(v);
		if(!json_is_integer(v) || code < 100 || code > 699)
			return tpid_ms_bad(o->reason_text, ts, "reasonCode not 100..699");
		o->reason_code = (int)code;
	}
	v = json_object_get(resp, "reasonText");
	if(v != NULL && !json_is_string(v))
		return tpid_ms_bad(o->reason_text, ts, "reasonText not a string");
	if(v != NULL)
		tpid_hook_copy_reason(o->reason_text, ts, json_string_value(v));
	*x5u = json_object_get(resp, "x5u");
	if(*x5u != NULL
			&& (!json_is_string(*x5u) || json_string_length(*x5u) == 0
					|| json_string_length(*x5u) >= TPID_MAX_URI))
		return tpid_ms_bad(o->reason_text, ts, "x5u not a URL string");
	*payload = json_object_get(resp, "payload");
	if(*payload != NULL && !json_is_object(*payload))
		return tpid_ms_bad(o->reason_text, ts, "payload not an object");
	o->verstat = verstat;
	return TPID_OK;
}

/* A pass: it vouches for the token sent (x5u and payload its own). */
static int tpid_ms_passed(const char *hdr, size_t len, json_t *x5u,
		json_t *payload, tpid_ms_verification_t *o)
{
	const size_t ts = sizeof(o->reason_text);
	tpid_passport_t t;
	json_t *mine;
	int rc, same;

	if(x5u == NULL || payload == NULL)
		return tpid_ms_bad(
				o->reason_text, ts, "a pass without x5u and payload");
	rc = tpid_passport_parse(hdr, len, NULL, &t);
	if(rc != TPID_OK)
		return rc;
	if(json_string_length(x5u) != strlen(t.claims.x5u)
			|| strcmp(json_string_value(x5u), t.claims.x5u) != 0)
		return tpid_ms_bad(o->reason_text, ts, "x5u not the token's");
	mine = tpid_ms_hdr_payload(hdr, len);
	same = mine != NULL && json_equal(mine, payload);
	json_decref(mine);
	if(!same)
		return tpid_ms_bad(o->reason_text, ts, "payload not the token's");
	memcpy(o->x5u, t.claims.x5u, sizeof(o->x5u));
	o->claims = t.claims;
	return TPID_OK;
}

int tpid_ms_verify_result(const tpid_https_result_t *res, const char *hdr,
		size_t len, tpid_ms_verification_t *out)
{
	json_t *root = NULL, *x5u = NULL, *payload = NULL;
	int rc;

	if(out == NULL)
		return TPID_R_INTERNAL;
	memset(out, 0, sizeof(*out));
	if(res == NULL || hdr == NULL)
		return TPID_R_INTERNAL;
	out->http_status = res->status;
	out->elapsed_ms = res->elapsed_ms;
	rc = tpid_ms_answer(res, &root, out->reason_text, sizeof(out->reason_text));
	if(rc == TPID_OK)
		rc = tpid_ms_read_verification(
				json_object_get(root, "verificationResponse"), &x5u, &payload,
				out);
	if(rc == TPID_OK) {
		if(out->verstat == TPID_VERSTAT_NO_TN)
			rc = TPID_R_MS_NO_VALIDATION;
		else if(out->verstat == TPID_VERSTAT_FAILED)
			rc = tpid_ms_failed_reason(out->reason_code);
		else
			rc = tpid_ms_passed(hdr, len, x5u, payload, out);
	}
	json_decref(root);
	return rc;
}

/* ---- verstat ------------------------------------------------------------- */

/* A bounded writer: once something does not fit, nothing more is. */
typedef struct tpid_ms_buf
{
	char *p;
	size_t size, n;
	int over;
} tpid_ms_buf_t;

static void tpid_ms_put(tpid_ms_buf_t *b, const char *s, size_t n)
{
	if(b->over || n >= b->size - b->n) {
		b->over = 1;
		return;
	}
	memcpy(b->p + b->n, s, n);
	b->n += n;
	b->p[b->n] = '\0';
}

/* The end of the ';' segment starting at s (quoted strings skipped). */
static const char *tpid_ms_seg_end(const char *s, const char *end)
{
	int q = 0;

	for(s++; s < end; s++) {
		if(q && *s == '\\' && s + 1 < end)
			s++;
		else if(*s == '"')
			q = !q;
		else if(!q && *s == ';')
			break;
	}
	return s;
}

/* The parameter name of a segment ";name[=value]": *n bytes at the result. */
static const char *tpid_ms_seg_name(const char *s, const char *end, size_t *n)
{
	const char *b;

	for(s++; s < end && (*s == ' ' || *s == '\t'); s++)
		;
	for(b = s; s < end && *s != '=' && *s != ' ' && *s != '\t'; s++)
		;
	*n = (size_t)(s - b);
	return b;
}

static int tpid_ms_name_is(const char *s, size_t n, const char *name)
{
	return n == strlen(name) && strncasecmp(s, name, n) == 0;
}

/* RFC 3966: isub, ext and phone-context come first; other parameters in
 * lexicographical order. 1 if verstat goes before the parameter named s. */
static int tpid_ms_goes_before(const char *s, size_t n)
{
	size_t k = n < 7 ? n : 7;
	int c;

	if(tpid_ms_name_is(s, n, "isub") || tpid_ms_name_is(s, n, "ext")
			|| tpid_ms_name_is(s, n, "phone-context"))
		return 0;
	c = strncasecmp(s, "verstat", k);
	return c < 0 ? 0 : (c > 0 || n > 7);
}

/* Copies s[0..n) (anything before the first ';' as is, then ';'
 * parameters) without verstat parameters; with ins, inserts it where
 * tpid_ms_goes_before() says (or at the end). */
static void tpid_ms_params(
		tpid_ms_buf_t *b, const char *s, size_t n, const char *ins)
{
	const char *end = s + n, *p = memchr(s, ';', n), *e, *name;
	size_t nl;

	if(p == NULL)
		p = end;
	tpid_ms_put(b, s, (size_t)(p - s));
	for(; p < end; p = e) {
		e = tpid_ms_seg_end(p, end);
		name = tpid_ms_seg_name(p, e, &nl);
		if(tpid_ms_name_is(name, nl, "verstat"))
			continue;
		if(ins != NULL && tpid_ms_goes_before(name, nl)) {
			tpid_ms_put(b, ins, strlen(ins));
			ins = NULL;
		}
		tpid_ms_put(b, p, (size_t)(e - p));
	}
	if(ins != NULL)
		tpid_ms_put(b, ins, strlen(ins));
}

int tpid_ms_verstat_uri(
		const char *uri, size_t len, int verstat, char *out, size_t outsize)
{
	tpid_ms_buf_t b = {out, outsize, 0, 0};
	char ins[48];
	tpid_uri_t u;
	const char *end, *num, *at, *semi;

	if(out == NULL || outsize == 0)
		return -1;
	out[0] = '\0';
	if(verstat < TPID_VERSTAT_PASSED || verstat > TPID_VERSTAT_NO_TN
			|| uri == NULL || tpid_uri_parse(uri, len, &u) < 0 || !u.is_phone)
		return -1;
	snprintf(ins, sizeof(ins), ";verstat=%s", tpid_verstat_tokens[verstat]);
	end = uri + len;
	num = uri + (u.scheme == TPID_URI_SIPS ? 5 : 4); /* after "scheme:" */
	/* the telephone-subscriber: a tel URI's body, a SIP URI's user */
	at = u.scheme == TPID_URI_TEL ? end : memchr(num, '@', (size_t)(end - num));
	if(at == NULL)
		return -1;
	semi = memchr(num, ';', (size_t)(at - num));
	if(semi == NULL)
		semi = at;
	tpid_ms_put(&b, uri, (size_t)(semi - uri));
	tpid_ms_params(&b, semi, (size_t)(at - semi), ins);
	/* a SIP URI's host and its own parameters, without any verstat */
	if(at < end)
		tpid_ms_params(&b, at, (size_t)(end - at), NULL);
	if(b.over) {
		out[0] = '\0';
		return -1;
	}
	return (int)b.n;
}

int tpid_ms_verstat_pai(
		const char *pai, size_t len, int verstat, char *out, size_t outsize)
{
	tpid_ms_buf_t b = {out, outsize, 0, 0};
	char uri[TPID_MAX_URI + 64];
	size_t off, n, rest;
	int m, angled;

	if(out == NULL || outsize == 0)
		return -1;
	out[0] = '\0';
	if(tpid_uri_name_addr_at(pai, len, &off, &n) < 0)
		return -1;
	m = tpid_ms_verstat_uri(pai + off, n, verstat, uri, sizeof(uri));
	if(m < 0)
		return -1;
	angled = off > 0 && pai[off - 1] == '<';
	tpid_ms_put(&b, pai, off);
	if(!angled)
		tpid_ms_put(&b, "<", 1);
	tpid_ms_put(&b, uri, (size_t)m);
	tpid_ms_put(&b, ">", 1);
	rest = off + n + (size_t)angled; /* past the '>' */
	tpid_ms_params(&b, pai + rest, len - rest, NULL);
	if(b.over) {
		out[0] = '\0';
		return -1;
	}
	return (int)b.n;
}
