/*
 * tpid_assert - PASSporT (RFC 8225), see tpid_passport.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tpid_passport.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

/* ---- small helpers -------------------------------------------------------- */

/* 1 if s is NUL-terminated within size bytes */
static int tpid_terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

/* Copies n bytes and a NUL if they fit; never truncates. */
static int tpid_copy(char *dst, size_t dstsize, const char *src, size_t n)
{
	if(dstsize == 0 || n >= dstsize)
		return -1;
	memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

static int tpid_is_digits(const char *s, size_t n)
{
	size_t i;

	if(n == 0)
		return 0;
	for(i = 0; i < n; i++) {
		if(s[i] < '0' || s[i] > '9')
			return 0;
	}
	return 1;
}

/* ---- canonical JSON ------------------------------------------------------- */

static int tpid_json_set_str(json_t *obj, const char *key, const char *val)
{
	/* json_string() refuses invalid UTF-8; set_new() owns the value even
	 * on failure, so nothing leaks here */
	return json_object_set_new(obj, key, json_string(val));
}

/* The JWS header as a JSON object, NULL if c cannot have one. */
static json_t *tpid_passport_header_obj(const tpid_claims_t *c)
{
	json_t *h;

	if(c == NULL || !tpid_terminated(c->ppt, sizeof(c->ppt))
			|| !tpid_terminated(c->x5u, sizeof(c->x5u)) || c->x5u[0] == '\0')
		return NULL;
	h = json_object();
	if(h == NULL)
		return NULL;
	if(tpid_json_set_str(h, "alg", "ES256") < 0
			|| (c->ppt[0] != '\0' && tpid_json_set_str(h, "ppt", c->ppt) < 0)
			|| tpid_json_set_str(h, "typ", "passport") < 0
			|| tpid_json_set_str(h, "x5u", c->x5u) < 0) {
		json_decref(h);
		return NULL;
	}
	return h;
}

char *tpid_passport_header_json(const tpid_claims_t *c)
{
	json_t *h = tpid_passport_header_obj(c);
	char *s = tpid_jose_json_dump(h);

	json_decref(h);
	return s;
}

static int tpid_ident_ok(const tpid_ident_t *id)
{
	size_t n;

	if(!tpid_terminated(id->value, sizeof(id->value)))
		return 0;
	n = strlen(id->value);
	if(n == 0)
		return 0;
	return id->is_tn ? tpid_is_digits(id->value, n) : 1;
}

json_t *tpid_passport_orig_json(const tpid_ident_t *id)
{
	json_t *o;

	if(id == NULL || !tpid_ident_ok(id))
		return NULL;
	o = json_object();
	if(o != NULL
			&& tpid_json_set_str(o, id->is_tn ? "tn" : "uri", id->value) < 0) {
		json_decref(o);
		return NULL;
	}
	return o;
}

/* dest: entries grouped by kind ("tn" before "uri" in canonical order),
 * each group keeping the order of ids. */
json_t *tpid_passport_dest_json(const tpid_ident_t *ids, int n)
{
	json_t *d, *tn = NULL, *uri = NULL, **arr;
	int i;

	if(ids == NULL || n < 1)
		return NULL;
	d = json_object();
	if(d == NULL)
		return NULL;
	for(i = 0; i < n; i++) {
		if(!tpid_ident_ok(&ids[i]))
			goto err;
		arr = ids[i].is_tn ? &tn : &uri;
		if(*arr == NULL) {
			*arr = json_array();
			if(*arr == NULL
					|| json_object_set_new(d, ids[i].is_tn ? "tn" : "uri", *arr)
							   < 0)
				goto err;
		}
		if(json_array_append_new(*arr, json_string(ids[i].value)) < 0)
			goto err;
	}
	return d;
err:
	json_decref(d);
	return NULL;
}

json_t *tpid_passport_payload_obj(const tpid_claims_t *c)
{
	json_t *p, *o;

	if(c == NULL || c->ndest < 1 || c->ndest > TPID_MAX_DEST
			|| !tpid_ident_ok(&c->orig)
			|| !tpid_terminated(c->ppt, sizeof(c->ppt))
			|| !tpid_terminated(c->name, sizeof(c->name))
			|| !tpid_terminated(c->id, sizeof(c->id))
			|| !tpid_terminated(c->iss, sizeof(c->iss))
			|| !tpid_terminated(c->aid, sizeof(c->aid))
			|| !tpid_terminated(c->bar, sizeof(c->bar))
			|| !tpid_terminated(c->fmt, sizeof(c->fmt))
			|| !tpid_terminated(c->digest, sizeof(c->digest)))
		return NULL;
	p = json_object();
	if(p == NULL)
		return NULL;
	if(json_object_set_new(
			   p, "dest", tpid_passport_dest_json(c->dest, c->ndest))
					< 0
			|| json_object_set_new(p, "iat", json_integer(c->iat)) < 0
			|| json_object_set_new(p, "orig", tpid_passport_orig_json(&c->orig))
					   < 0)
		goto err;
	if(strcmp(c->ppt, TPID_PPT_AVATAR) == 0) {
		o = json_object();
		if(json_object_set_new(p, "avatar", o) < 0
				|| tpid_json_set_str(o, "aid", c->aid) < 0
				|| tpid_json_set_str(o, "bar", c->bar) < 0
				|| tpid_json_set_str(o, "fmt", c->fmt) < 0)
			goto err;
		o = json_object();
		if(json_object_set_new(p, "avatari", o) < 0
				|| tpid_json_set_str(o, "/avatar/bar", c->digest) < 0)
			goto err;
		return p;
	}
	/* rcd.nam is required by RFC 9795 for ppt=rcd, even when empty */
	if(strcmp(c->ppt, "rcd") == 0) {
		o = json_object();
		if(json_object_set_new(p, "rcd", o) < 0
				|| tpid_json_set_str(o, "nam", c->name) < 0)
			goto err;
	}
	if(c->id[0] != '\0') {
		o = json_object();
		if(json_object_set_new(p, "tpid", o) < 0
				|| json_object_set_new(o, "exp", json_integer(c->exp)) < 0
				|| tpid_json_set_str(o, "id", c->id) < 0
				|| tpid_json_set_str(o, "iss", c->iss) < 0)
			goto err;
	}
	return p;
err:
	json_decref(p);
	return NULL;
}

char *tpid_passport_payload_json(const tpid_claims_t *c)
{
	json_t *p = tpid_passport_payload_obj(c);
	char *s = tpid_jose_json_dump(p);

	json_decref(p);
	return s;
}

/* ---- signing -------------------------------------------------------------- */

/* obj in canonical JSON, base64url-encoded into out (NUL-terminated): the
 * encoded length, or -1 (no object, or it does not fit). obj is released. */
static int tpid_passport_b64u_json(json_t *obj, char *out, size_t outsize)
{
	char js[TPID_MAX_HDR_LEN];
	int n = tpid_jose_json_dumpb(obj, js, sizeof(js));

	json_decref(obj);
	if(n <= 0)
		return -1;
	return tpid_b64u_encode((const unsigned char *)js, (size_t)n, out, outsize);
}

int tpid_passport_sign(
		const tpid_claims_t *c, EVP_PKEY *key, char *out, size_t outsize)
{
	char sb[TPID_ES256_SIG_LEN * 2];
	unsigned char rs[TPID_ES256_SIG_LEN];
	int n, hn, pn;
	size_t tbslen;

	if(out != NULL && outsize > 0)
		out[0] = '\0';
	if(c == NULL || out == NULL || outsize == 0)
		return TPID_R_INTERNAL;
	if(!tpid_jose_key_is_p256(key))
		return TPID_R_SIGN_FAILED;
	if(!tpid_terminated(c->x5u, sizeof(c->x5u))
			|| !tpid_idhdr_info_ok(c->x5u, strlen(c->x5u))
			|| !tpid_terminated(c->ppt, sizeof(c->ppt)))
		return TPID_R_INTERNAL;
	/* the ppt parameter is emitted as a bare token */
	for(n = 0; c->ppt[n] != '\0'; n++) {
		if(!isalnum((unsigned char)c->ppt[n]) && c->ppt[n] != '-'
				&& c->ppt[n] != '_' && c->ppt[n] != '.')
			return TPID_R_INTERNAL;
	}
	/* header "." payload, encoded in place: out begins with the signing
	 * input */
	hn = tpid_passport_b64u_json(tpid_passport_header_obj(c), out, outsize);
	if(hn < 0 || (size_t)hn + 1 >= outsize)
		goto fail;
	out[hn] = '.';
	pn = tpid_passport_b64u_json(tpid_passport_payload_obj(c), out + hn + 1,
			outsize - (size_t)hn - 1);
	if(pn < 0)
		goto fail;
	tbslen = (size_t)hn + 1 + (size_t)pn;
	if(tpid_jose_es256_sign(key, out, tbslen, rs) < 0) {
		out[0] = '\0';
		return TPID_R_SIGN_FAILED;
	}
	if(tpid_b64u_encode(rs, sizeof(rs), sb, sizeof(sb)) < 0)
		goto fail;
	if(c->ppt[0] != '\0')
		n = snprintf(out + tbslen, outsize - tbslen,
				".%s;info=<%s>;alg=ES256;ppt=%s", sb, c->x5u, c->ppt);
	else
		n = snprintf(out + tbslen, outsize - tbslen, ".%s;info=<%s>;alg=ES256",
				sb, c->x5u);
	/* a header our own parser would refuse is no use to anyone */
	if(n < 0 || (size_t)n >= outsize - tbslen
			|| tbslen + (size_t)n > TPID_MAX_HDR_LEN)
		goto fail;
	return TPID_OK;
fail:
	out[0] = '\0';
	return TPID_R_INTERNAL;
}

/* ---- claims --------------------------------------------------------------- */

/* String member into a buffer: 0, or -1 if missing, not a string, empty
 * (unless allow_empty) or too long. */
static int tpid_get_str(json_t *obj, const char *key, char *out, size_t outsize,
		int allow_empty)
{
	json_t *v = json_object_get(obj, key);

	if(!json_is_string(v))
		return -1;
	if(!allow_empty && json_string_length(v) == 0)
		return -1;
	return tpid_copy(out, outsize, json_string_value(v), json_string_length(v));
}

static int tpid_get_int(json_t *obj, const char *key, int64_t *out)
{
	json_t *v = json_object_get(obj, key);

	/* a JSON integer only: 1.0, 1e3 and "1" are all refused */
	if(!json_is_integer(v) || json_integer_value(v) < 0)
		return -1;
	*out = (int64_t)json_integer_value(v);
	return 0;
}

static int tpid_ident_set(tpid_ident_t *id, json_t *v, int is_tn)
{
	size_t n;

	if(!json_is_string(v))
		return -1;
	n = json_string_length(v);
	if(n == 0 || (is_tn && !tpid_is_digits(json_string_value(v), n)))
		return -1;
	id->is_tn = is_tn;
	return tpid_copy(id->value, sizeof(id->value), json_string_value(v), n);
}

/* avatar {aid, bar, fmt} and avatari {"/avatar/bar"}: present and of the
 * right types here; their grammar is the caller's (tpid_avatar.h). */
static int tpid_parse_avatar(json_t *p, tpid_claims_t *c)
{
	json_t *o = json_object_get(p, "avatar");
	json_t *i = json_object_get(p, "avatari");

	if(!json_is_object(o) || !json_is_object(i) || json_object_size(i) != 1)
		return -1;
	if(tpid_get_str(o, "aid", c->aid, sizeof(c->aid), 0) < 0
			|| tpid_get_str(o, "bar", c->bar, sizeof(c->bar), 0) < 0
			|| tpid_get_str(o, "fmt", c->fmt, sizeof(c->fmt), 0) < 0
			|| tpid_get_str(i, "/avatar/bar", c->digest, sizeof(c->digest), 0)
					   < 0)
		return -1;
	return 0;
}

static int tpid_parse_claims(json_t *p, tpid_claims_t *c)
{
	json_t *o, *tn, *uri, *arr, *v;
	size_t i;
	int k;

	if(tpid_get_int(p, "iat", &c->iat) < 0)
		return -1;

	o = json_object_get(p, "orig");
	if(!json_is_object(o))
		return -1;
	tn = json_object_get(o, "tn");
	uri = json_object_get(o, "uri");
	if((tn == NULL) == (uri == NULL))
		return -1;
	if(tpid_ident_set(&c->orig, tn ? tn : uri, tn != NULL) < 0)
		return -1;

	o = json_object_get(p, "dest");
	if(!json_is_object(o))
		return -1;
	c->ndest = 0;
	for(k = 0; k < 2; k++) {
		arr = json_object_get(o, k == 0 ? "tn" : "uri");
		if(arr == NULL)
			continue;
		if(!json_is_array(arr) || json_array_size(arr) == 0)
			return -1;
		json_array_foreach(arr, i, v)
		{
			if(c->ndest >= TPID_MAX_DEST)
				return -1;
			if(tpid_ident_set(&c->dest[c->ndest], v, k == 0) < 0)
				return -1;
			c->ndest++;
		}
	}
	if(c->ndest == 0)
		return -1;

	if(strcmp(c->ppt, TPID_PPT_AVATAR) == 0)
		return tpid_parse_avatar(p, c);

	if(strcmp(c->ppt, "rcd") == 0) {
		o = json_object_get(p, "rcd");
		if(!json_is_object(o)
				|| tpid_get_str(o, "nam", c->name, sizeof(c->name), 1) < 0)
			return -1;
	}

	/* tpid is what makes a third-party token; optional for other ppts */
	o = json_object_get(p, "tpid");
	if(o == NULL && strcmp(c->ppt, "rcd") != 0)
		return 0;
	if(!json_is_object(o) || tpid_get_str(o, "id", c->id, sizeof(c->id), 0) < 0
			|| tpid_get_str(o, "iss", c->iss, sizeof(c->iss), 0) < 0
			|| tpid_get_int(o, "exp", &c->exp) < 0)
		return -1;
	return 0;
}

/* ---- parsing -------------------------------------------------------------- */

/* 1 if v is a JSON string equal to lit, to the last byte */
static int tpid_json_str_is(json_t *v, const char *lit)
{
	return json_is_string(v) && json_string_length(v) == strlen(lit)
		   && memcmp(json_string_value(v), lit, strlen(lit)) == 0;
}

/* BAD_SYNTAX checks: lengths, JSON of the JWS header and payload, base64url
 * of the signature, no "crit". Fills info, signing input and signature. */
static int tpid_passport_load(
		const tpid_idhdr_t *h, tpid_passport_t *t, json_t **hj, json_t **pj)
{
	const tpid_idhdr_span_t *sp = &h->part[2];
	size_t sigsize = sp->n / 4 * 3 + 3;
	unsigned char *sig;
	int n;

	if(h->signing_input.n >= sizeof(t->signing_input)
			|| (h->has_info
					&& tpid_copy(t->info, sizeof(t->info), h->info.s, h->info.n)
							   < 0))
		return TPID_R_BAD_SYNTAX;
	*hj = tpid_jose_json_b64u(h->part[0].s, h->part[0].n);
	*pj = tpid_jose_json_b64u(h->part[1].s, h->part[1].n);
	/* RFC 7515 4.1.11: extensions we do not understand must be refused */
	if(*hj == NULL || *pj == NULL || json_object_get(*hj, "crit") != NULL)
		return TPID_R_BAD_SYNTAX;
	sig = malloc(sigsize);
	if(sig == NULL)
		return TPID_R_INTERNAL;
	/* the length is judged by tpid_passport_verify_sig (BAD_SIGNATURE) */
	n = tpid_b64u_decode(sp->s, sp->n, sig, sigsize);
	if(n == TPID_ES256_SIG_LEN)
		memcpy(t->sig, sig, TPID_ES256_SIG_LEN);
	free(sig);
	if(n <= 0)
		return TPID_R_BAD_SYNTAX;
	t->sig_len = (size_t)n;
	memcpy(t->signing_input, h->signing_input.s, h->signing_input.n);
	t->signing_input[h->signing_input.n] = '\0';
	t->signing_input_len = h->signing_input.n;
	return TPID_OK;
}

/* BAD_PPT: parameter and JWS header must agree with the expectation */
static int tpid_passport_ppt(const tpid_idhdr_t *h, json_t *hj,
		const char *expect, tpid_passport_t *t)
{
	json_t *v = json_object_get(hj, "ppt");
	int ok;

	memcpy(t->ppt_param, h->ppt.v, sizeof(t->ppt_param));
	/* a JSON "rcd\u0000x" is not "rcd" */
	if(v != NULL
			&& (!json_is_string(v)
					|| strlen(json_string_value(v)) != json_string_length(v)
					|| tpid_copy(t->claims.ppt, sizeof(t->claims.ppt),
							   json_string_value(v), json_string_length(v))
							   < 0))
		return TPID_R_BAD_PPT;
	if(expect == NULL)
		ok = h->ppt.present == (v != NULL)
			 && (v == NULL || tpid_idhdr_val_eq(&h->ppt, t->claims.ppt));
	else if(expect[0] == '\0')
		ok = !h->ppt.present && v == NULL;
	else
		ok = v != NULL && strcmp(t->claims.ppt, expect) == 0
			 && tpid_idhdr_val_eq(&h->ppt, expect);
	return ok ? TPID_OK : TPID_R_BAD_PPT;
}

/* BAD_ALG: ES256 only, in the JWS header and in the parameter */
static int tpid_passport_alg(
		const tpid_idhdr_t *h, json_t *hj, tpid_passport_t *t)
{
	if(!tpid_json_str_is(json_object_get(hj, "alg"), "ES256"))
		return TPID_R_BAD_ALG;
	strcpy(t->hdr_alg, "ES256");
	memcpy(t->alg_param, h->alg.v, sizeof(t->alg_param));
	if(h->alg.present && !tpid_idhdr_val_eq(&h->alg, "ES256"))
		return TPID_R_BAD_ALG;
	return TPID_OK;
}

/* BAD_TYP, then X5U_MISMATCH: the certificate URL is signed, info is not */
static int tpid_passport_typ_x5u(
		const tpid_idhdr_t *h, json_t *hj, tpid_passport_t *t)
{
	if(!tpid_json_str_is(json_object_get(hj, "typ"), "passport"))
		return TPID_R_BAD_TYP;
	strcpy(t->hdr_typ, "passport");
	if(!h->has_info || !tpid_json_str_is(json_object_get(hj, "x5u"), t->info))
		return TPID_R_X5U_MISMATCH;
	strcpy(t->claims.x5u, t->info);
	return TPID_OK;
}

int tpid_passport_parse(
		const char *hdr, size_t len, const char *expect_ppt, tpid_passport_t *t)
{
	tpid_idhdr_t h;
	json_t *hj = NULL, *pj = NULL;
	int ret;

	if(t == NULL)
		return TPID_R_INTERNAL;
	memset(t, 0, sizeof(*t));
	ret = tpid_idhdr_split(hdr, len, &h);
	if(ret == TPID_OK)
		ret = tpid_passport_load(&h, t, &hj, &pj);
	if(ret == TPID_OK)
		ret = tpid_passport_ppt(&h, hj, expect_ppt, t);
	if(ret == TPID_OK)
		ret = tpid_passport_alg(&h, hj, t);
	if(ret == TPID_OK)
		ret = tpid_passport_typ_x5u(&h, hj, t);
	if(ret == TPID_OK && tpid_parse_claims(pj, &t->claims) < 0)
		ret = TPID_R_BAD_CLAIMS;
	json_decref(hj);
	json_decref(pj);
	if(ret != TPID_OK) {
		/* a failed parse must not look like usable claims */
		memset(&t->claims, 0, sizeof(t->claims));
	}
	return ret;
}

/* ---- verification --------------------------------------------------------- */


int tpid_passport_verify_sig(const tpid_passport_t *t, EVP_PKEY *pub)
{
	if(t == NULL || t->signing_input_len == 0
			|| t->signing_input_len >= sizeof(t->signing_input))
		return TPID_R_BAD_SIGNATURE;
	if(tpid_jose_es256_verify(
			   pub, t->signing_input, t->signing_input_len, t->sig, t->sig_len)
			< 0)
		return TPID_R_BAD_SIGNATURE;
	return TPID_OK;
}

int tpid_passport_check_time(
		const tpid_claims_t *c, int64_t now, int max_age, int max_future)
{
	if(c == NULL)
		return TPID_R_INTERNAL;
	if(max_age < 0)
		max_age = 0;
	if(max_future < 0)
		max_future = 0;
	/* written as differences so that hostile iat values cannot overflow;
	 * parsed iat and exp are never negative */
	if(c->iat < now && (uint64_t)now - (uint64_t)c->iat > (uint64_t)max_age)
		return TPID_R_IAT_STALE;
	if(c->iat > now && (uint64_t)c->iat - (uint64_t)now > (uint64_t)max_future)
		return TPID_R_IAT_FUTURE;
	/* no tpid claim (not a third-party token): no exp to check */
	if(c->id[0] != '\0' && c->exp <= now)
		return TPID_R_TPID_EXPIRED;
	return TPID_OK;
}

static int tpid_ident_eq(const tpid_ident_t *a, const tpid_ident_t *b)
{
	return a->is_tn == b->is_tn
		   && strncmp(a->value, b->value, sizeof(a->value)) == 0;
}

int tpid_passport_check_orig(const tpid_claims_t *c, const tpid_ident_t *expect)
{
	if(expect == NULL)
		return TPID_OK;
	if(c == NULL || !tpid_ident_eq(&c->orig, expect))
		return TPID_R_ORIG_MISMATCH;
	return TPID_OK;
}

int tpid_passport_check_dest(const tpid_claims_t *c, const tpid_ident_t *expect)
{
	int i;

	if(expect == NULL)
		return TPID_OK;
	if(c == NULL)
		return TPID_R_DEST_MISMATCH;
	for(i = 0; i < c->ndest && i < TPID_MAX_DEST; i++) {
		if(tpid_ident_eq(&c->dest[i], expect))
			return TPID_OK;
	}
	return TPID_R_DEST_MISMATCH;
}
