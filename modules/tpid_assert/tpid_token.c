/*
 * tpid_assert - PASSporT (RFC 8225) token core, see tpid_token.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tpid_token.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

/* jansson flags for everything we emit: canonical per RFC 8225 section 9
 * (sorted keys, no whitespace); '/' and UTF-8 stay unescaped. */
#define TPID_JSON_DUMP_FLAGS (JSON_COMPACT | JSON_SORT_KEYS)

/* ES256 raw signature: r and s, 32 bytes each */
#define TPID_ES256_SIG_LEN 64
#define TPID_ES256_COORD_LEN 32

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

static int tpid_is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* 1 if the key is EC on P-256; signing and verification refuse anything
 * else so that a wrong key cannot produce a token "ES256" in name only. */
static int tpid_key_is_p256(EVP_PKEY *key)
{
	char group[64];
	size_t glen = 0;

	if(key == NULL || !EVP_PKEY_is_a(key, "EC"))
		return 0;
	if(EVP_PKEY_get_group_name(key, group, sizeof(group), &glen) != 1)
		return 0;
	return strcmp(group, SN_X9_62_prime256v1) == 0
		   || strcmp(group, "P-256") == 0;
}

/* ---- base64url ------------------------------------------------------------ */

static const char tpid_b64u_alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

static int tpid_b64u_val(unsigned char c)
{
	if(c >= 'A' && c <= 'Z')
		return c - 'A';
	if(c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if(c >= '0' && c <= '9')
		return c - '0' + 52;
	if(c == '-')
		return 62;
	if(c == '_')
		return 63;
	return -1;
}

int tpid_b64u_encode(
		const unsigned char *in, size_t len, char *out, size_t outsize)
{
	size_t need, i, o = 0;
	unsigned long v;

	if(out == NULL || (in == NULL && len > 0) || len > (size_t)INT_MAX / 2)
		return -1;
	need = (len / 3) * 4 + (len % 3 ? len % 3 + 1 : 0);
	if(need >= outsize)
		return -1;
	for(i = 0; i + 2 < len; i += 3) {
		v = ((unsigned long)in[i] << 16) | ((unsigned long)in[i + 1] << 8)
			| in[i + 2];
		out[o++] = tpid_b64u_alphabet[(v >> 18) & 63];
		out[o++] = tpid_b64u_alphabet[(v >> 12) & 63];
		out[o++] = tpid_b64u_alphabet[(v >> 6) & 63];
		out[o++] = tpid_b64u_alphabet[v & 63];
	}
	if(len - i == 1) {
		v = (unsigned long)in[i] << 16;
		out[o++] = tpid_b64u_alphabet[(v >> 18) & 63];
		out[o++] = tpid_b64u_alphabet[(v >> 12) & 63];
	} else if(len - i == 2) {
		v = ((unsigned long)in[i] << 16) | ((unsigned long)in[i + 1] << 8);
		out[o++] = tpid_b64u_alphabet[(v >> 18) & 63];
		out[o++] = tpid_b64u_alphabet[(v >> 12) & 63];
		out[o++] = tpid_b64u_alphabet[(v >> 6) & 63];
	}
	out[o] = '\0';
	return (int)o;
}

int tpid_b64u_decode(
		const char *in, size_t len, unsigned char *out, size_t outsize)
{
	size_t need, i, o = 0, rem;
	int a, b, c, d;

	if((in == NULL && len > 0) || len > (size_t)INT_MAX)
		return -1;
	rem = len % 4;
	if(rem == 1)
		return -1;
	need = (len / 4) * 3 + (rem ? rem - 1 : 0);
	if(need > outsize || (out == NULL && need > 0))
		return -1;
	for(i = 0; i + 3 < len; i += 4) {
		a = tpid_b64u_val((unsigned char)in[i]);
		b = tpid_b64u_val((unsigned char)in[i + 1]);
		c = tpid_b64u_val((unsigned char)in[i + 2]);
		d = tpid_b64u_val((unsigned char)in[i + 3]);
		if(a < 0 || b < 0 || c < 0 || d < 0)
			return -1;
		out[o++] = (unsigned char)((a << 2) | (b >> 4));
		out[o++] = (unsigned char)(((b & 15) << 4) | (c >> 2));
		out[o++] = (unsigned char)(((c & 3) << 6) | d);
	}
	if(rem >= 2) {
		a = tpid_b64u_val((unsigned char)in[i]);
		b = tpid_b64u_val((unsigned char)in[i + 1]);
		if(a < 0 || b < 0)
			return -1;
		out[o++] = (unsigned char)((a << 2) | (b >> 4));
		if(rem == 2) {
			/* the 4 low bits of the last char carry no data: must be 0 */
			if(b & 15)
				return -1;
		} else {
			c = tpid_b64u_val((unsigned char)in[i + 2]);
			if(c < 0 || (c & 3))
				return -1;
			out[o++] = (unsigned char)(((b & 15) << 4) | (c >> 2));
		}
	}
	return (int)o;
}

/* ---- canonical JSON ------------------------------------------------------- */

static int tpid_json_set_str(json_t *obj, const char *key, const char *val)
{
	/* json_string() refuses invalid UTF-8; set_new() owns the value even
	 * on failure, so nothing leaks here */
	return json_object_set_new(obj, key, json_string(val));
}

char *tpid_token_header_json(const tpid_claims_t *c)
{
	json_t *h;
	char *s = NULL;

	if(c == NULL || !tpid_terminated(c->ppt, sizeof(c->ppt))
			|| !tpid_terminated(c->x5u, sizeof(c->x5u)) || c->x5u[0] == '\0')
		return NULL;
	h = json_object();
	if(h == NULL)
		return NULL;
	if(tpid_json_set_str(h, "alg", "ES256") < 0
			|| (c->ppt[0] != '\0' && tpid_json_set_str(h, "ppt", c->ppt) < 0)
			|| tpid_json_set_str(h, "typ", "passport") < 0
			|| tpid_json_set_str(h, "x5u", c->x5u) < 0)
		goto done;
	s = json_dumps(h, TPID_JSON_DUMP_FLAGS);
done:
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

/* dest: entries grouped by kind ("tn" before "uri" in canonical order),
 * each group keeping the order of c->dest. */
static json_t *tpid_dest_json(const tpid_claims_t *c)
{
	json_t *d, *tn = NULL, *uri = NULL, **arr;
	int i;

	d = json_object();
	if(d == NULL)
		return NULL;
	for(i = 0; i < c->ndest; i++) {
		if(!tpid_ident_ok(&c->dest[i]))
			goto err;
		arr = c->dest[i].is_tn ? &tn : &uri;
		if(*arr == NULL) {
			*arr = json_array();
			if(*arr == NULL
					|| json_object_set_new(
							   d, c->dest[i].is_tn ? "tn" : "uri", *arr)
							   < 0)
				goto err;
		}
		if(json_array_append_new(*arr, json_string(c->dest[i].value)) < 0)
			goto err;
	}
	return d;
err:
	json_decref(d);
	return NULL;
}

char *tpid_token_payload_json(const tpid_claims_t *c)
{
	json_t *p, *o;
	char *s = NULL;

	if(c == NULL || c->ndest < 1 || c->ndest > TPID_MAX_DEST
			|| !tpid_ident_ok(&c->orig)
			|| !tpid_terminated(c->ppt, sizeof(c->ppt))
			|| !tpid_terminated(c->name, sizeof(c->name))
			|| !tpid_terminated(c->id, sizeof(c->id))
			|| !tpid_terminated(c->iss, sizeof(c->iss)))
		return NULL;
	p = json_object();
	if(p == NULL)
		return NULL;
	if(json_object_set_new(p, "dest", tpid_dest_json(c)) < 0
			|| json_object_set_new(p, "iat", json_integer(c->iat)) < 0)
		goto done;
	o = json_object();
	if(json_object_set_new(p, "orig", o) < 0
			|| tpid_json_set_str(o, c->orig.is_tn ? "tn" : "uri", c->orig.value)
					   < 0)
		goto done;
	/* rcd.nam is required by RFC 9795 for ppt=rcd, even when empty */
	if(strcmp(c->ppt, "rcd") == 0) {
		o = json_object();
		if(json_object_set_new(p, "rcd", o) < 0
				|| tpid_json_set_str(o, "nam", c->name) < 0)
			goto done;
	}
	if(c->id[0] != '\0') {
		o = json_object();
		if(json_object_set_new(p, "tpid", o) < 0
				|| json_object_set_new(o, "exp", json_integer(c->exp)) < 0
				|| tpid_json_set_str(o, "id", c->id) < 0
				|| tpid_json_set_str(o, "iss", c->iss) < 0)
			goto done;
	}
	s = json_dumps(p, TPID_JSON_DUMP_FLAGS);
done:
	json_decref(p);
	return s;
}

/* ---- signing -------------------------------------------------------------- */

/* b64u of a whole buffer into a fresh malloc()ed string */
static char *tpid_b64u_dup(const unsigned char *in, size_t len)
{
	size_t size;
	char *out;

	if(len > (size_t)INT_MAX / 2)
		return NULL;
	size = (len + 2) / 3 * 4 + 1;
	out = malloc(size);
	if(out == NULL)
		return NULL;
	if(tpid_b64u_encode(in, len, out, size) < 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* info is written inside <>: refuse anything that would break out of it
 * or out of the header */
static int tpid_info_uri_ok(const char *s, size_t n)
{
	size_t i;

	if(n == 0)
		return 0;
	for(i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if(ch <= 0x20 || ch >= 0x7f || ch == '<' || ch == '>' || ch == '"')
			return 0;
	}
	return 1;
}

/* ECDSA over SHA-256, DER converted to the JWS r||s form */
static int tpid_es256_sign(EVP_PKEY *key, const char *tbs, size_t tbslen,
		unsigned char rs[TPID_ES256_SIG_LEN])
{
	EVP_MD_CTX *md = NULL;
	ECDSA_SIG *es = NULL;
	unsigned char der[128];
	const unsigned char *p = der;
	const BIGNUM *r, *s;
	size_t derlen = sizeof(der);
	int ret = -1;

	md = EVP_MD_CTX_new();
	if(md == NULL)
		goto done;
	if(EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, key) != 1)
		goto done;
	if(EVP_DigestSign(md, NULL, &derlen, (const unsigned char *)tbs, tbslen)
					!= 1
			|| derlen > sizeof(der))
		goto done;
	derlen = sizeof(der);
	if(EVP_DigestSign(md, der, &derlen, (const unsigned char *)tbs, tbslen)
			!= 1)
		goto done;
	es = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
	if(es == NULL)
		goto done;
	ECDSA_SIG_get0(es, &r, &s);
	if(BN_bn2binpad(r, rs, TPID_ES256_COORD_LEN) != TPID_ES256_COORD_LEN
			|| BN_bn2binpad(s, rs + TPID_ES256_COORD_LEN, TPID_ES256_COORD_LEN)
					   != TPID_ES256_COORD_LEN)
		goto done;
	ret = 0;
done:
	ECDSA_SIG_free(es);
	EVP_MD_CTX_free(md);
	return ret;
}

int tpid_token_sign(
		const tpid_claims_t *c, EVP_PKEY *key, char *out, size_t outsize)
{
	char *hj = NULL, *pj = NULL, *hb = NULL, *pb = NULL, *tbs = NULL;
	char sb[TPID_ES256_SIG_LEN * 2];
	unsigned char rs[TPID_ES256_SIG_LEN];
	size_t tbslen;
	int n, ret = TPID_R_INTERNAL;

	if(out != NULL && outsize > 0)
		out[0] = '\0';
	if(c == NULL || out == NULL || outsize == 0)
		return TPID_R_INTERNAL;
	if(!tpid_key_is_p256(key))
		return TPID_R_SIGN_FAILED;
	if(!tpid_terminated(c->x5u, sizeof(c->x5u))
			|| !tpid_info_uri_ok(c->x5u, strlen(c->x5u))
			|| !tpid_terminated(c->ppt, sizeof(c->ppt)))
		return TPID_R_INTERNAL;
	/* the ppt parameter is emitted as a bare token */
	for(n = 0; c->ppt[n] != '\0'; n++) {
		if(!isalnum((unsigned char)c->ppt[n]) && c->ppt[n] != '-'
				&& c->ppt[n] != '_' && c->ppt[n] != '.')
			return TPID_R_INTERNAL;
	}
	hj = tpid_token_header_json(c);
	pj = tpid_token_payload_json(c);
	if(hj == NULL || pj == NULL)
		goto done;
	hb = tpid_b64u_dup((const unsigned char *)hj, strlen(hj));
	pb = tpid_b64u_dup((const unsigned char *)pj, strlen(pj));
	if(hb == NULL || pb == NULL)
		goto done;
	tbslen = strlen(hb) + 1 + strlen(pb);
	tbs = malloc(tbslen + 1);
	if(tbs == NULL)
		goto done;
	snprintf(tbs, tbslen + 1, "%s.%s", hb, pb);
	if(tpid_es256_sign(key, tbs, tbslen, rs) < 0) {
		ret = TPID_R_SIGN_FAILED;
		goto done;
	}
	if(tpid_b64u_encode(rs, sizeof(rs), sb, sizeof(sb)) < 0)
		goto done;
	if(c->ppt[0] != '\0')
		n = snprintf(out, outsize, "%s.%s;info=<%s>;alg=ES256;ppt=%s", tbs, sb,
				c->x5u, c->ppt);
	else
		n = snprintf(
				out, outsize, "%s.%s;info=<%s>;alg=ES256", tbs, sb, c->x5u);
	/* a header our own parser would refuse is no use to anyone */
	if(n < 0 || (size_t)n >= outsize || n > TPID_MAX_HDR_LEN) {
		out[0] = '\0';
		goto done;
	}
	ret = TPID_OK;
done:
	free(hj);
	free(pj);
	free(hb);
	free(pb);
	free(tbs);
	return ret;
}

/* ---- Identity header splitting -------------------------------------------- */

typedef struct tpid_span
{
	const char *s;
	size_t n;
	int present;
	int quoted; /* value was a quoted-string; s/n is its inside */
	int angled; /* value was <...>; s/n is its inside */
} tpid_span_t;

typedef struct tpid_hdr_parts
{
	tpid_span_t part[3]; /* JWS header, payload, signature (b64u) */
	const char *jws;	 /* header "." payload, the signing input */
	size_t jws_len;
	tpid_span_t info, alg, ppt;
} tpid_hdr_parts_t;

/* RFC 3261 token characters */
static int tpid_is_token_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '!'
		   || c == '%' || c == '*' || c == '_' || c == '+' || c == '`'
		   || c == '\'' || c == '~';
}

static int tpid_ieq(const char *s, size_t n, const char *lit)
{
	size_t i;

	if(strlen(lit) != n)
		return 0;
	for(i = 0; i < n; i++) {
		if(tolower((unsigned char)s[i]) != lit[i])
			return 0;
	}
	return 1;
}

/* Splits "jws;param=value;..." into its pieces without copying. Only
 * checks syntax; returns 0 or -1. */
static int tpid_split(const char *hdr, size_t len, tpid_hdr_parts_t *hp)
{
	const char *p, *end, *q, *name;
	size_t nlen;
	int dots = 0, i;
	const char *dot[2] = {NULL, NULL};
	tpid_span_t *dst, val;

	memset(hp, 0, sizeof(*hp));
	if(hdr == NULL || len == 0 || len > TPID_MAX_HDR_LEN)
		return -1;
	if(memchr(hdr, '\0', len) != NULL)
		return -1;
	p = hdr;
	end = hdr + len;
	while(p < end && tpid_is_lws(*p))
		p++;
	while(end > p && tpid_is_lws(end[-1]))
		end--;

	/* compact JWS: b64u "." b64u "." b64u */
	q = p;
	while(q < end && *q != ';' && !tpid_is_lws(*q)) {
		if(*q == '.') {
			if(dots == 2)
				return -1;
			dot[dots++] = q;
		} else if(tpid_b64u_val((unsigned char)*q) < 0) {
			return -1;
		}
		q++;
	}
	if(dots != 2)
		return -1;
	hp->part[0].s = p;
	hp->part[0].n = (size_t)(dot[0] - p);
	hp->part[1].s = dot[0] + 1;
	hp->part[1].n = (size_t)(dot[1] - dot[0] - 1);
	hp->part[2].s = dot[1] + 1;
	hp->part[2].n = (size_t)(q - dot[1] - 1);
	for(i = 0; i < 3; i++) {
		if(hp->part[i].n == 0)
			return -1;
		hp->part[i].present = 1;
	}
	hp->jws = p;
	hp->jws_len = (size_t)(dot[1] - p);

	/* parameters: *( SEMI generic-param ) with LWS around ';' and '=' */
	p = q;
	for(;;) {
		while(p < end && tpid_is_lws(*p))
			p++;
		if(p == end)
			break;
		if(*p != ';')
			return -1;
		p++;
		while(p < end && tpid_is_lws(*p))
			p++;
		name = p;
		while(p < end && tpid_is_token_char(*p))
			p++;
		nlen = (size_t)(p - name);
		if(nlen == 0)
			return -1;
		while(p < end && tpid_is_lws(*p))
			p++;
		memset(&val, 0, sizeof(val));
		if(p < end && *p == '=') {
			p++;
			while(p < end && tpid_is_lws(*p))
				p++;
			if(p < end && *p == '<') {
				/* ident-info-uri = LAQUOT absoluteURI RAQUOT */
				q = ++p;
				while(p < end && *p != '>')
					p++;
				if(p == end || !tpid_info_uri_ok(q, (size_t)(p - q)))
					return -1;
				val.s = q;
				val.n = (size_t)(p - q);
				val.angled = 1;
				p++;
			} else if(p < end && *p == '"') {
				q = ++p;
				while(p < end && *p != '"') {
					if((unsigned char)*p < 0x20 || *p == 0x7f)
						return -1;
					if(*p == '\\') {
						p++;
						if(p == end || (unsigned char)*p < 0x20)
							return -1;
					}
					p++;
				}
				if(p == end)
					return -1;
				val.s = q;
				val.n = (size_t)(p - q);
				val.quoted = 1;
				p++;
			} else {
				/* token, or host (IPv6 reference) for unknown params */
				q = p;
				while(p < end
						&& (tpid_is_token_char(*p) || *p == ':' || *p == '['
								|| *p == ']'))
					p++;
				if(p == q)
					return -1;
				val.s = q;
				val.n = (size_t)(p - q);
			}
			val.present = 1;
		}
		dst = NULL;
		if(tpid_ieq(name, nlen, "info"))
			dst = &hp->info;
		else if(tpid_ieq(name, nlen, "alg"))
			dst = &hp->alg;
		else if(tpid_ieq(name, nlen, "ppt"))
			dst = &hp->ppt;
		if(dst == NULL)
			continue; /* unknown parameters are ignored */
		/* a known parameter twice, without a value, or info not in <> */
		if(dst->present || !val.present)
			return -1;
		if((dst == &hp->info) != val.angled)
			return -1;
		*dst = val;
	}
	return 0;
}

/* Copies a parameter value, resolving quoted-pairs; -1 if it does not
 * fit. */
static int tpid_span_copy(const tpid_span_t *v, char *out, size_t outsize)
{
	size_t i, o = 0;

	if(!v->quoted)
		return tpid_copy(out, outsize, v->s, v->n);
	for(i = 0; i < v->n; i++) {
		if(v->s[i] == '\\' && i + 1 < v->n)
			i++;
		if(o + 1 >= outsize)
			return -1;
		out[o++] = v->s[i];
	}
	if(outsize == 0)
		return -1;
	out[o] = '\0';
	return 0;
}

/* Decodes a b64u part holding JSON into an object. NULL on any failure. */
static json_t *tpid_part_json(const tpid_span_t *part)
{
	unsigned char *buf;
	size_t size = part->n / 4 * 3 + 3;
	json_t *j;
	json_error_t err;
	int n;

	buf = malloc(size);
	if(buf == NULL)
		return NULL;
	n = tpid_b64u_decode(part->s, part->n, buf, size);
	if(n <= 0 || memchr(buf, '\0', (size_t)n) != NULL) {
		free(buf);
		return NULL;
	}
	j = json_loadb((const char *)buf, (size_t)n, JSON_REJECT_DUPLICATES, &err);
	free(buf);
	if(j != NULL && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* The value of the ";ppt=" parameter (quotes removed) by a plain scan that
 * steps over <...> and "..." (an info URL may contain ";ppt="), without
 * decoding the token: "" when there is none. */
static void tpid_peek_ppt_param(
		const char *hdr, size_t len, char *out, size_t outsize)
{
	size_t i, b, e;
	char close = 0;

	if(hdr == NULL || len > TPID_MAX_HDR_LEN)
		return;
	for(i = 0; i + 4 < len; i++) {
		if(close) {
			if(hdr[i] == close)
				close = 0;
			continue;
		}
		if(hdr[i] == '<' || hdr[i] == '"') {
			close = hdr[i] == '<' ? '>' : '"';
			continue;
		}
		if(hdr[i] != ';')
			continue;
		b = i + 1;
		while(b < len && tpid_is_lws(hdr[b]))
			b++;
		if(b + 3 >= len || strncasecmp(hdr + b, "ppt", 3) != 0)
			continue;
		b += 3;
		while(b < len && tpid_is_lws(hdr[b]))
			b++;
		if(b >= len || hdr[b] != '=')
			continue;
		b++;
		while(b < len && tpid_is_lws(hdr[b]))
			b++;
		if(b < len && hdr[b] == '"')
			b++;
		e = b;
		while(e < len && hdr[e] != ';' && hdr[e] != '"' && !tpid_is_lws(hdr[e]))
			e++;
		if(e > b && e - b < outsize) {
			memcpy(out, hdr + b, e - b);
			out[e - b] = '\0';
		}
		return;
	}
}

void tpid_token_peek_ppt(const char *hdr, size_t len, char *out, size_t outsize)
{
	tpid_hdr_parts_t hp;
	json_t *h, *v;

	if(out == NULL || outsize == 0)
		return;
	out[0] = '\0';
	/* The parameter decides, whole token valid or not: a broken token that
	 * names our ppt is ours to refuse, not someone else's to pass on. Only
	 * without it is the JWS header decoded. */
	tpid_peek_ppt_param(hdr, len, out, outsize);
	if(out[0] != '\0' || tpid_split(hdr, len, &hp) < 0 || hp.ppt.present)
		return;
	h = tpid_part_json(&hp.part[0]);
	if(h == NULL)
		return;
	v = json_object_get(h, "ppt");
	if(json_is_string(v)
			&& tpid_copy(out, outsize, json_string_value(v),
					   json_string_length(v))
					   < 0)
		out[0] = '\0';
	json_decref(h);
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

int tpid_token_parse(
		const char *hdr, size_t len, const char *expect_ppt, tpid_token_t *t)
{
	tpid_hdr_parts_t hp;
	json_t *h = NULL, *p = NULL, *v;
	unsigned char *sig = NULL;
	size_t sigsize;
	char buf[TPID_MAX_PPT];
	int n, ret;

	if(t == NULL)
		return TPID_R_INTERNAL;
	memset(t, 0, sizeof(*t));

	/* BAD_SYNTAX: structure, base64url, JSON, lengths */
	if(tpid_split(hdr, len, &hp) < 0)
		return TPID_R_BAD_SYNTAX;
	if(hp.jws_len >= sizeof(t->signing_input))
		return TPID_R_BAD_SYNTAX;
	if(hp.info.present
			&& tpid_copy(t->info, sizeof(t->info), hp.info.s, hp.info.n) < 0)
		return TPID_R_BAD_SYNTAX;
	ret = TPID_R_BAD_SYNTAX;
	h = tpid_part_json(&hp.part[0]);
	if(h == NULL)
		goto done;
	p = tpid_part_json(&hp.part[1]);
	if(p == NULL)
		goto done;
	/* the sig length is judged by tpid_token_verify_sig (BAD_SIGNATURE) */
	sigsize = hp.part[2].n / 4 * 3 + 3;
	sig = malloc(sigsize);
	if(sig == NULL) {
		ret = TPID_R_INTERNAL;
		goto done;
	}
	n = tpid_b64u_decode(hp.part[2].s, hp.part[2].n, sig, sigsize);
	if(n <= 0)
		goto done;
	t->sig_len = (size_t)n;
	if(n == TPID_ES256_SIG_LEN)
		memcpy(t->sig, sig, TPID_ES256_SIG_LEN);
	/* RFC 7515 4.1.11: extensions we do not understand must be refused */
	if(json_object_get(h, "crit") != NULL)
		goto done;
	memcpy(t->signing_input, hp.jws, hp.jws_len);
	t->signing_input[hp.jws_len] = '\0';
	t->signing_input_len = hp.jws_len;

	/* BAD_PPT: parameter and header must agree with the expectation */
	ret = TPID_R_BAD_PPT;
	if(hp.ppt.present) {
		if(tpid_span_copy(&hp.ppt, buf, sizeof(buf)) < 0)
			goto done;
		strcpy(t->ppt_param, buf);
	}
	v = json_object_get(h, "ppt");
	if(v != NULL) {
		if(!json_is_string(v)
				|| tpid_copy(t->claims.ppt, sizeof(t->claims.ppt),
						   json_string_value(v), json_string_length(v))
						   < 0)
			goto done;
	}
	if(expect_ppt != NULL) {
		if(expect_ppt[0] == '\0') {
			if(hp.ppt.present || v != NULL)
				goto done;
		} else if(!hp.ppt.present || v == NULL
				  || strcmp(t->ppt_param, expect_ppt) != 0
				  || strcmp(t->claims.ppt, expect_ppt) != 0) {
			goto done;
		}
	} else if(hp.ppt.present != (v != NULL)
			  || strcmp(t->ppt_param, t->claims.ppt) != 0) {
		goto done;
	}

	/* BAD_ALG: ES256 only, in the JWS header and in the parameter */
	ret = TPID_R_BAD_ALG;
	v = json_object_get(h, "alg");
	if(!json_is_string(v) || strcmp(json_string_value(v), "ES256") != 0
			|| json_string_length(v) != 5)
		goto done;
	strcpy(t->hdr_alg, "ES256");
	if(hp.alg.present) {
		if(tpid_span_copy(&hp.alg, t->alg_param, sizeof(t->alg_param)) < 0
				|| strcmp(t->alg_param, "ES256") != 0)
			goto done;
	}

	/* BAD_TYP */
	ret = TPID_R_BAD_TYP;
	v = json_object_get(h, "typ");
	if(!json_is_string(v) || strcmp(json_string_value(v), "passport") != 0
			|| json_string_length(v) != 8)
		goto done;
	strcpy(t->hdr_typ, "passport");

	/* X5U_MISMATCH: the certificate URL is signed, info is not */
	ret = TPID_R_X5U_MISMATCH;
	v = json_object_get(h, "x5u");
	if(!hp.info.present || !json_is_string(v)
			|| json_string_length(v) != strlen(t->info)
			|| strcmp(json_string_value(v), t->info) != 0)
		goto done;
	strcpy(t->claims.x5u, t->info);

	/* BAD_CLAIMS */
	ret = TPID_R_BAD_CLAIMS;
	if(tpid_parse_claims(p, &t->claims) < 0)
		goto done;
	ret = TPID_OK;
done:
	free(sig);
	json_decref(h);
	json_decref(p);
	if(ret != TPID_OK) {
		/* a failed parse must not look like usable claims */
		memset(&t->claims, 0, sizeof(t->claims));
	}
	return ret;
}

/* ---- verification --------------------------------------------------------- */

int tpid_token_verify_sig(const tpid_token_t *t, EVP_PKEY *pub)
{
	EVP_MD_CTX *md = NULL;
	ECDSA_SIG *es = NULL;
	BIGNUM *r = NULL, *s = NULL;
	unsigned char *der = NULL;
	int derlen, ret = TPID_R_BAD_SIGNATURE;

	/* the JWS form only: a DER signature is 70-72 bytes and refused */
	if(t == NULL || t->sig_len != TPID_ES256_SIG_LEN
			|| t->signing_input_len == 0
			|| t->signing_input_len >= sizeof(t->signing_input))
		return TPID_R_BAD_SIGNATURE;
	if(!tpid_key_is_p256(pub))
		return TPID_R_BAD_SIGNATURE;
	r = BN_bin2bn(t->sig, TPID_ES256_COORD_LEN, NULL);
	s = BN_bin2bn(t->sig + TPID_ES256_COORD_LEN, TPID_ES256_COORD_LEN, NULL);
	es = ECDSA_SIG_new();
	if(r == NULL || s == NULL || es == NULL)
		goto done;
	if(ECDSA_SIG_set0(es, r, s) != 1)
		goto done;
	r = s = NULL; /* owned by es now */
	derlen = i2d_ECDSA_SIG(es, &der);
	if(derlen <= 0)
		goto done;
	md = EVP_MD_CTX_new();
	if(md == NULL)
		goto done;
	if(EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub) != 1)
		goto done;
	if(EVP_DigestVerify(md, der, (size_t)derlen,
			   (const unsigned char *)t->signing_input, t->signing_input_len)
			== 1)
		ret = TPID_OK;
done:
	EVP_MD_CTX_free(md);
	OPENSSL_free(der);
	ECDSA_SIG_free(es);
	BN_free(r);
	BN_free(s);
	return ret;
}

int tpid_token_check_time(
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

int tpid_token_check_orig(const tpid_claims_t *c, const tpid_ident_t *expect)
{
	if(expect == NULL)
		return TPID_OK;
	if(c == NULL || !tpid_ident_eq(&c->orig, expect))
		return TPID_R_ORIG_MISMATCH;
	return TPID_OK;
}

int tpid_token_check_dest(const tpid_claims_t *c, const tpid_ident_t *expect)
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

/* ---- identities ----------------------------------------------------------- */

/* '+'? then digits and visual separators, at least one digit: the digits
 * go to out. 1 if s/n is such a number. */
static int tpid_phone_digits(const char *s, size_t n, char *out, size_t outsize)
{
	size_t i = 0, o = 0;

	if(n > 0 && s[0] == '+')
		i = 1;
	for(; i < n; i++) {
		if(s[i] >= '0' && s[i] <= '9') {
			if(o + 1 >= outsize)
				return 0;
			out[o++] = s[i];
		} else if(s[i] != '-' && s[i] != '.' && s[i] != '(' && s[i] != ')') {
			return 0;
		}
	}
	if(o == 0)
		return 0;
	out[o] = '\0';
	return 1;
}

/* RFC 3261 user: unreserved / escaped / user-unreserved */
static int tpid_sip_user_ok(const char *s, size_t n)
{
	size_t i;

	if(n == 0)
		return 0;
	for(i = 0; i < n; i++) {
		if(isalnum((unsigned char)s[i]) || strchr("-_.!~*'()&=+$,;?/", s[i]))
			continue;
		if(s[i] == '%' && i + 2 < n && isxdigit((unsigned char)s[i + 1])
				&& isxdigit((unsigned char)s[i + 2])) {
			i += 2;
			continue;
		}
		return 0;
	}
	return 1;
}

static int tpid_scheme(const char **p, const char *end, const char *scheme)
{
	size_t n = strlen(scheme);

	if((size_t)(end - *p) < n || !tpid_ieq(*p, n, scheme))
		return 0;
	*p += n;
	return 1;
}

int tpid_ident_from_uri(const char *uri, size_t len, tpid_ident_t *out)
{
	const char *p, *end, *q, *at, *host, *hend;
	const char *scheme;
	size_t ulen, hlen, slen, i;
	char *v;

	if(out == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	if(uri == NULL || len == 0 || len > TPID_MAX_HDR_LEN
			|| memchr(uri, '\0', len) != NULL)
		return -1;
	p = uri;
	end = uri + len;
	while(p < end && tpid_is_lws(*p))
		p++;
	while(end > p && tpid_is_lws(end[-1]))
		end--;

	/* name-addr: [display-name] "<" URI ">" [params]; the display name
	 * may be a quoted string that itself holds '<' */
	if(p < end && *p == '"') {
		p++;
		while(p < end && *p != '"') {
			if(*p == '\\' && ++p == end)
				return -1;
			p++;
		}
		if(p == end)
			return -1;
		p++;
		while(p < end && tpid_is_lws(*p))
			p++;
		if(p == end || *p != '<')
			return -1;
	}
	q = memchr(p, '<', (size_t)(end - p));
	if(q != NULL) {
		for(at = p; at < q; at++) {
			if((unsigned char)*at < 0x20 || *at == '"' || *at == '>')
				return -1;
		}
		p = q + 1;
		q = memchr(p, '>', (size_t)(end - p));
		if(q == NULL)
			return -1;
		end = q;
	}

	if(tpid_scheme(&p, end, "tel:")) {
		q = memchr(p, ';', (size_t)(end - p));
		if(!tpid_phone_digits(p, (size_t)((q ? q : end) - p), out->value,
				   sizeof(out->value)))
			goto fail;
		out->is_tn = 1;
		return 0;
	}
	if(tpid_scheme(&p, end, "sip:"))
		scheme = "sip:";
	else if(tpid_scheme(&p, end, "sips:"))
		scheme = "sips:";
	else
		return -1;

	at = memchr(p, '@', (size_t)(end - p));
	if(at == NULL || at == p)
		return -1;
	ulen = (size_t)(at - p);
	/* user params (";npdi") may follow a number; a password may not */
	q = memchr(p, ';', ulen);
	if(tpid_phone_digits(
			   p, (size_t)((q ? q : at) - p), out->value, sizeof(out->value))) {
		out->is_tn = 1;
		return 0;
	}
	memset(out, 0, sizeof(*out));
	if(!tpid_sip_user_ok(p, ulen))
		return -1;

	host = at + 1;
	hend = host;
	if(hend < end && *hend == '[') {
		hend++;
		while(hend < end && *hend != ']') {
			if(!isxdigit((unsigned char)*hend) && *hend != ':' && *hend != '.')
				return -1;
			hend++;
		}
		if(hend == end || hend - host < 3)
			return -1;
		hend++;
	} else {
		while(hend < end
				&& (isalnum((unsigned char)*hend) || *hend == '-'
						|| *hend == '.'))
			hend++;
	}
	hlen = (size_t)(hend - host);
	if(hlen == 0)
		return -1;
	q = hend;
	if(q < end && *q == ':') {
		/* port: dropped, but must be one */
		q++;
		for(i = 0; q < end && *q >= '0' && *q <= '9'; q++, i++)
			;
		if(i == 0 || i > 5)
			return -1;
	}
	if(q < end && *q != ';' && *q != '?')
		return -1;

	slen = strlen(scheme);
	if(slen + ulen + 1 + hlen >= sizeof(out->value))
		return -1;
	v = out->value;
	memcpy(v, scheme, slen);
	memcpy(v + slen, p, ulen);
	v[slen + ulen] = '@';
	for(i = 0; i < hlen; i++)
		v[slen + ulen + 1 + i] = (char)tolower((unsigned char)host[i]);
	v[slen + ulen + 1 + hlen] = '\0';
	out->is_tn = 0;
	return 0;
fail:
	memset(out, 0, sizeof(*out));
	return -1;
}
