/*
 * tpid_assert - Identity header tokenizer, see tpid_idhdr.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tpid_idhdr.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "tpid_jose.h"
#include "tpid_passport.h"

typedef struct tpid_idhdr_cur
{
	const char *p;
	const char *end;
} tpid_idhdr_cur_t;

static int tpid_is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* RFC 3261 token characters */
static int tpid_is_token_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '.' || c == '!'
		   || c == '%' || c == '*' || c == '_' || c == '+' || c == '`'
		   || c == '\'' || c == '~';
}

/* gen-value = token / host: a host adds ':' and '[' ']' (IPv6) */
static int tpid_is_value_char(char c)
{
	return tpid_is_token_char(c) || c == ':' || c == '[' || c == ']';
}

static void tpid_idhdr_skip_lws(tpid_idhdr_cur_t *c)
{
	while(c->p < c->end && tpid_is_lws(*c->p))
		c->p++;
}

/* Advances over chars accepted by ok; returns how many. */
static size_t tpid_idhdr_take(tpid_idhdr_cur_t *c, int (*ok)(char))
{
	const char *b = c->p;

	while(c->p < c->end && ok(*c->p))
		c->p++;
	return (size_t)(c->p - b);
}

/* compact JWS: b64u "." b64u "." b64u, each part non-empty */
static int tpid_idhdr_jws(tpid_idhdr_cur_t *c, tpid_idhdr_t *h)
{
	const char *b = c->p;
	int i;

	for(i = 0; i < 3; i++) {
		h->part[i].s = c->p;
		h->part[i].n = tpid_b64u_span(c->p, (size_t)(c->end - c->p));
		c->p += h->part[i].n;
		if(h->part[i].n == 0)
			return -1;
		if(i < 2 && (c->p == c->end || *c->p++ != '.'))
			return -1;
	}
	h->jws.s = b;
	h->jws.n = (size_t)(c->p - b);
	h->signing_input.s = b;
	h->signing_input.n = (size_t)(h->part[2].s - 1 - b);
	return 0;
}

/* Length of the UTF8-NONASCII sequence at p (RFC 3261), 0 if malformed. */
static size_t tpid_idhdr_utf8(const char *p, const char *end)
{
	unsigned char b = (unsigned char)*p;
	size_t n, i;

	if(b >= 0xc0 && b <= 0xdf)
		n = 2;
	else if(b >= 0xe0 && b <= 0xef)
		n = 3;
	else if(b >= 0xf0 && b <= 0xf7)
		n = 4;
	else
		return 0;
	if((size_t)(end - p) < n)
		return 0;
	for(i = 1; i < n; i++) {
		if(((unsigned char)p[i] & 0xc0) != 0x80)
			return 0;
	}
	return n;
}

/* quoted-string after its opening quote: qdtext / quoted-pair, then '"'.
 * qdtext: WSP, visible ASCII but '"' and '\', UTF8-NONASCII; quoted-pair:
 * '\' and any ASCII but CR/LF (NUL is refused for the whole header). */
static int tpid_idhdr_quoted(tpid_idhdr_cur_t *c, tpid_idhdr_param_t *pr)
{
	unsigned char ch;
	size_t n;

	pr->value.s = c->p;
	while(c->p < c->end && *c->p != '"') {
		ch = (unsigned char)*c->p;
		if(ch == '\\') {
			if(++c->p == c->end || *c->p == '\r' || *c->p == '\n'
					|| (unsigned char)*c->p >= 0x80)
				return -1;
			n = 1;
		} else if(ch >= 0x80) {
			n = tpid_idhdr_utf8(c->p, c->end);
		} else {
			n = (ch >= 0x20 && ch != 0x7f) || ch == '\t';
		}
		if(n == 0)
			return -1;
		c->p += n;
	}
	if(c->p == c->end)
		return -1;
	pr->value.n = (size_t)(c->p++ - pr->value.s);
	pr->quoted = 1;
	return 0;
}

int tpid_idhdr_info_ok(const char *s, size_t n)
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

/* "<" absoluteURI ">" */
static int tpid_idhdr_angled(tpid_idhdr_cur_t *c, tpid_idhdr_param_t *pr)
{
	const char *gt = memchr(c->p, '>', (size_t)(c->end - c->p));

	if(gt == NULL || !tpid_idhdr_info_ok(c->p, (size_t)(gt - c->p)))
		return -1;
	pr->value.s = c->p;
	pr->value.n = (size_t)(gt - c->p);
	pr->angled = 1;
	c->p = gt + 1;
	return 0;
}

static int tpid_idhdr_value(tpid_idhdr_cur_t *c, tpid_idhdr_param_t *pr)
{
	pr->has_value = 1;
	if(c->p < c->end && *c->p == '"') {
		c->p++;
		return tpid_idhdr_quoted(c, pr);
	}
	if(c->p < c->end && *c->p == '<') {
		c->p++;
		return tpid_idhdr_angled(c, pr);
	}
	pr->value.s = c->p;
	pr->value.n = tpid_idhdr_take(c, tpid_is_value_char);
	return pr->value.n > 0 ? 0 : -1;
}

static int tpid_idhdr_name_is(const tpid_idhdr_param_t *pr, const char *name)
{
	return pr->name.n == strlen(name)
		   && strncasecmp(pr->name.s, name, pr->name.n) == 0;
}

/* The value of alg or ppt, quoted-pairs resolved; -1 if it does not fit. */
static int tpid_idhdr_unquote(const tpid_idhdr_param_t *pr, tpid_idhdr_val_t *v)
{
	size_t i, o = 0;

	for(i = 0; i < pr->value.n; i++) {
		if(pr->quoted && pr->value.s[i] == '\\')
			i++; /* the tokenizer saw to it that a char follows */
		if(o + 1 >= sizeof(v->v))
			return -1;
		v->v[o++] = pr->value.s[i];
	}
	v->v[o] = '\0';
	v->quoted = pr->quoted;
	v->present = 1;
	return 0;
}

/* info, alg and ppt: once each, with a value; <> is info's alone */
static int tpid_idhdr_known(tpid_idhdr_t *h, const tpid_idhdr_param_t *pr)
{
	tpid_idhdr_val_t *v = NULL;

	if(tpid_idhdr_name_is(pr, "info")) {
		if(h->has_info || !pr->angled)
			return -1;
		h->has_info = 1;
		h->info = pr->value;
		return 0;
	}
	if(pr->angled)
		return -1;
	if(tpid_idhdr_name_is(pr, "alg"))
		v = &h->alg;
	else if(tpid_idhdr_name_is(pr, "ppt"))
		v = &h->ppt;
	if(v == NULL)
		return 0;
	if(v->present || !pr->has_value)
		return -1;
	return tpid_idhdr_unquote(pr, v);
}

/* SEMI generic-param, the cursor on the ';' */
static int tpid_idhdr_param(tpid_idhdr_cur_t *c, tpid_idhdr_t *h)
{
	tpid_idhdr_param_t *pr;

	if(*c->p != ';' || h->nparams >= TPID_IDHDR_MAX_PARAMS)
		return -1;
	c->p++;
	pr = &h->param[h->nparams++];
	tpid_idhdr_skip_lws(c);
	pr->name.s = c->p;
	pr->name.n = tpid_idhdr_take(c, tpid_is_token_char);
	if(pr->name.n == 0)
		return -1;
	tpid_idhdr_skip_lws(c);
	if(c->p < c->end && *c->p == '=') {
		c->p++;
		tpid_idhdr_skip_lws(c);
		if(tpid_idhdr_value(c, pr) < 0)
			return -1;
	}
	return tpid_idhdr_known(h, pr);
}

int tpid_idhdr_split(const char *hdr, size_t len, tpid_idhdr_t *out)
{
	tpid_idhdr_cur_t c;

	if(out == NULL)
		return TPID_R_BAD_SYNTAX;
	memset(out, 0, sizeof(*out));
	if(hdr == NULL || len == 0 || len > TPID_MAX_HDR_LEN
			|| memchr(hdr, '\0', len) != NULL)
		return TPID_R_BAD_SYNTAX;
	c.p = hdr;
	c.end = hdr + len;
	tpid_idhdr_skip_lws(&c);
	if(tpid_idhdr_jws(&c, out) < 0)
		goto bad;
	for(;;) {
		tpid_idhdr_skip_lws(&c);
		if(c.p == c.end)
			return TPID_OK;
		if(tpid_idhdr_param(&c, out) < 0)
			goto bad;
	}
bad:
	memset(out, 0, sizeof(*out));
	return TPID_R_BAD_SYNTAX;
}

int tpid_idhdr_val_eq(const tpid_idhdr_val_t *v, const char *want)
{
	if(v == NULL || want == NULL || !v->present)
		return 0;
	return v->quoted ? strcmp(v->v, want) == 0 : strcasecmp(v->v, want) == 0;
}

int tpid_idhdr_jws_ppt(const tpid_idhdr_t *h, char *out, size_t outsize)
{
	json_t *j, *v;
	int ret = -1;

	if(h == NULL || out == NULL || outsize == 0)
		return -1;
	out[0] = '\0';
	j = tpid_jose_json_b64u(h->part[0].s, h->part[0].n);
	v = json_object_get(j, "ppt");
	/* "rcd\u0000x" is not "rcd" */
	if(json_is_string(v) && json_string_length(v) < outsize
			&& strlen(json_string_value(v)) == json_string_length(v)) {
		memcpy(out, json_string_value(v), json_string_length(v) + 1);
		ret = 0;
	}
	json_decref(j);
	return ret;
}

/* 0 when the JWS header cannot say "ppt": ppt, so that no JSON parse is
 * needed to tell (1: it may, parse it). A header that does not decode, or
 * holds a NUL, fails tpid_idhdr_jws_ppt() too. Without a backslash in the
 * text no member name or string is escaped: a "ppt" string equal to ppt
 * then appears in it as ppt between quotes. */
static int tpid_idhdr_may_say(const tpid_idhdr_t *h, const char *ppt)
{
	unsigned char buf[512];
	char lit[TPID_MAX_PPT + 2];
	size_t k = strlen(ppt), i;
	int n;

	if(h->part[0].n / 4 * 3 + 3 > sizeof(buf) || k + 2 > sizeof(lit))
		return 1;
	for(i = 0; i < k; i++) {
		/* a ppt that JSON must escape: parse */
		if((unsigned char)ppt[i] < 0x20 || ppt[i] == '"' || ppt[i] == '\\')
			return 1;
	}
	n = tpid_b64u_decode(h->part[0].s, h->part[0].n, buf, sizeof(buf));
	if(n <= 0 || memchr(buf, '\0', (size_t)n) != NULL)
		return 0;
	if(memchr(buf, '\\', (size_t)n) != NULL)
		return 1;
	lit[0] = '"';
	memcpy(lit + 1, ppt, k);
	lit[k + 1] = '"';
	for(i = 0; i + k + 2 <= (size_t)n; i++) {
		if(buf[i] == '"' && memcmp(buf + i, lit, k + 2) == 0)
			return 1;
	}
	return 0;
}

int tpid_idhdr_is_ours(const char *hdr, size_t len, const char *ppt)
{
	tpid_idhdr_t h;
	char got[TPID_MAX_PPT];

	if(ppt == NULL || tpid_idhdr_split(hdr, len, &h) != TPID_OK)
		return 1;
	if(h.ppt.present && tpid_idhdr_val_eq(&h.ppt, ppt))
		return 1;
	/* The parameter and the JWS header each count: a token whose signed
	 * header says ppt while its parameter says otherwise is ours too (it
	 * then fails BAD_PPT instead of slipping past as someone else's). */
	return tpid_idhdr_may_say(&h, ppt)
		   && tpid_idhdr_jws_ppt(&h, got, sizeof(got)) == 0
		   && strcmp(got, ppt) == 0;
}
