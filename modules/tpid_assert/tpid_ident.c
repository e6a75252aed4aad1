/*
 * tpid_assert - the one identity grammar (see tpid_ident.h).
 *
 * Whitelists, not blacklists: every byte of a URI must be allowed by the
 * grammar of the part it is in. IP literals go through inet_pton/inet_ntop
 * so that one address has one spelling.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tpid_ident.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* RFC 3261 mark without the quote (see tpid_ident.h) */
#define TPID_MARK "-_.!~*()"
/* user-unreserved */
#define TPID_USER_SET TPID_MARK "&=+$,;?/"
/* paramchar: param-unreserved / unreserved (RFC 3261 and RFC 3966) */
#define TPID_PARAM_SET TPID_MARK "[]/:&+$"
/* RFC 3986 pchar without '@' and '\'' (no userinfo look-alikes) */
#define TPID_PCHAR_SET "-._~!$&()*+,;=:"
#define TPID_LWS " \t"

typedef struct tpid_span
{
	const char *p;
	size_t n;
} tpid_span_t;

static int tpid_in(const char *set, char c)
{
	return c != '\0' && strchr(set, c) != NULL;
}

static int tpid_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		   || (c >= '0' && c <= '9');
}

static int tpid_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int tpid_hexval(char c)
{
	if(tpid_digit(c))
		return c - '0';
	if(c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if(c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static char tpid_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* The byte an escape at s[i] stands for, -1 if s[i] starts none. */
static int tpid_escape_at(const char *s, size_t n, size_t i)
{
	if(s[i] != '%' || i + 2 >= n || tpid_hexval(s[i + 1]) < 0
			|| tpid_hexval(s[i + 2]) < 0)
		return -1;
	return tpid_hexval(s[i + 1]) * 16 + tpid_hexval(s[i + 2]);
}

/* 1 if s/n is not empty and made of alnum, chars of set and escapes. */
static int tpid_span_ok(const char *s, size_t n, const char *set)
{
	size_t i;

	if(n == 0)
		return 0;
	for(i = 0; i < n; i++) {
		if(tpid_alnum(s[i]) || tpid_in(set, s[i]))
			continue;
		if(tpid_escape_at(s, n, i) < 0)
			return 0;
		i += 2;
	}
	return 1;
}

/* Case-insensitive compare of s/n, escapes decoded, with a literal. */
static int tpid_ieq(const char *s, size_t n, const char *lit)
{
	size_t i;
	int c;

	for(i = 0; i < n; i++, lit++) {
		c = tpid_escape_at(s, n, i);
		if(c >= 0)
			i += 2;
		else
			c = (unsigned char)s[i];
		if(*lit == '\0' || tpid_lower((char)c) != *lit)
			return 0;
	}
	return *lit == '\0';
}

/* No byte a URI may never hold; NUL included (len is authoritative). */
static int tpid_text_ok(const char *s, size_t len, size_t max)
{
	size_t i;

	if(s == NULL || len == 0 || len >= max)
		return 0;
	for(i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if(c <= 0x20 || c >= 0x7f || tpid_in("\"'<>\\", (char)c))
			return 0;
	}
	return 1;
}

/* Splits *rest at the next sep: head into *head, rest after sep (or
 * empty). 1 if sep was found. */
static int tpid_cut(tpid_span_t *rest, char sep, tpid_span_t *head)
{
	const char *q = memchr(rest->p, sep, rest->n);

	head->p = rest->p;
	head->n = q ? (size_t)(q - rest->p) : rest->n;
	rest->p += head->n + (q ? 1 : 0);
	rest->n -= head->n + (q ? 1 : 0);
	return q != NULL;
}

/* ---- DNS names and hosts -------------------------------------------- */

static int tpid_label_ok(const char *s, size_t n)
{
	size_t i;

	if(n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
		return 0;
	for(i = 0; i < n; i++) {
		if(!tpid_alnum(s[i]) && s[i] != '-')
			return 0;
	}
	return 1;
}

int tpid_dns_name_ok(const char *s, size_t len)
{
	tpid_span_t rest, lab = {NULL, 0};
	size_t i;
	int more = 1;

	if(s == NULL || len == 0 || len > 253)
		return 0;
	rest.p = s;
	rest.n = len;
	while(more) {
		more = tpid_cut(&rest, '.', &lab);
		if(!tpid_label_ok(lab.p, lab.n))
			return 0;
	}
	for(i = 0; i < lab.n; i++) {
		if(!tpid_digit(lab.p[i]))
			return 1;
	}
	return 0;
}

int tpid_dns_under(const char *host, const char *domain)
{
	size_t hl, dl;

	if(host == NULL || domain == NULL || *domain == '\0' || *domain == '.')
		return 0;
	hl = strlen(host);
	dl = strlen(domain);
	if(hl == dl)
		return strcasecmp(host, domain) == 0;
	return hl > dl && host[hl - dl - 1] == '.'
		   && strcasecmp(host + hl - dl, domain) == 0;
}

/* An IP literal through inet_pton, written back by inet_ntop. */
static int tpid_ip_host(const char *s, size_t n, char *out, size_t outsize)
{
	char buf[INET6_ADDRSTRLEN + 2];
	unsigned char addr[16];
	int v6 = (n >= 2 && s[0] == '[' && s[n - 1] == ']');

	if(v6) {
		s++;
		n -= 2;
	}
	if(n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if(inet_pton(v6 ? AF_INET6 : AF_INET, buf, addr) != 1)
		return -1;
	if(!v6)
		return snprintf(out, outsize, "%s", buf) < (int)outsize ? 0 : -1;
	if(inet_ntop(AF_INET6, addr, buf, sizeof(buf)) == NULL)
		return -1;
	return snprintf(out, outsize, "[%s]", buf) < (int)outsize ? 0 : -1;
}

/* A DNS name, lower-cased into out. 0 or -1. */
static int tpid_dns_copy(const char *s, size_t n, char *out, size_t outsize)
{
	size_t i;

	if(!tpid_dns_name_ok(s, n) || n >= outsize)
		return -1;
	for(i = 0; i < n; i++)
		out[i] = tpid_lower(s[i]);
	out[n] = '\0';
	return 0;
}

/* host (DNS name, IPv4, [IPv6]) into out, one spelling each. 0 or -1. */
static int tpid_host(const char *s, size_t n, char *out, size_t outsize)
{
	if(tpid_dns_copy(s, n, out, outsize) == 0)
		return 0;
	return tpid_ip_host(s, n, out, outsize);
}

static int tpid_port(const char *s, size_t n, int *port)
{
	size_t i;
	int v = 0;

	if(n == 0 || n > 5)
		return -1;
	for(i = 0; i < n; i++) {
		if(!tpid_digit(s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	if(v < 1 || v > 65535)
		return -1;
	*port = v;
	return 0;
}

/* hostport: host [":" port]. */
static int tpid_hostport(
		const char *s, size_t n, char *host, size_t hostsize, int *port)
{
	const char *end = s + n, *hend;

	*port = 0;
	if(n > 0 && s[0] == '[') {
		hend = memchr(s, ']', n);
		if(hend == NULL)
			return -1;
		hend++;
	} else {
		hend = memchr(s, ':', n);
		if(hend == NULL)
			hend = end;
	}
	if(tpid_host(s, (size_t)(hend - s), host, hostsize) < 0)
		return -1;
	if(hend == end)
		return 0;
	if(*hend != ':')
		return -1;
	return tpid_port(hend + 1, (size_t)(end - hend - 1), port);
}

/* ---- telephone numbers (RFC 3966) ----------------------------------- */

/* phone digits into out: separators dropped; local numbers also take
 * hex digits (upper-cased), '*' and '#'. At least one digit. 0 or -1. */
static int tpid_digits(
		const char *s, size_t n, int local, char *out, size_t outsize)
{
	size_t i, k = 0;
	char c;

	for(i = 0; i < n; i++) {
		c = s[i];
		if(tpid_in("-.()", c))
			continue;
		if(local && c >= 'a' && c <= 'f')
			c = (char)(c - 'a' + 'A');
		if(!tpid_digit(c) && !(local && tpid_in("ABCDEF*#", c)))
			return -1;
		if(k + 1 >= outsize)
			return -1;
		out[k++] = c;
	}
	if(k == 0)
		return -1;
	out[k] = '\0';
	return 0;
}

/* phone-context descriptor: a domain name or global-number-digits. */
static int tpid_context(const tpid_span_t *v, tpid_uri_t *u)
{
	char *ctx = u->phone_context;

	if(u->phone_context[0] != '\0' || v->n == 0)
		return -1; /* twice, or empty */
	if(v->p[0] == '+') {
		ctx[0] = '+';
		return tpid_digits(
				v->p + 1, v->n - 1, 0, ctx + 1, sizeof(u->phone_context) - 1);
	}
	return tpid_dns_copy(v->p, v->n, ctx, sizeof(u->phone_context));
}

/* One ";name[=value]" of a tel URI; has_val 0 when there is no '='. */
static int tpid_tel_param(const tpid_span_t *name, const tpid_span_t *val,
		int has_val, tpid_uri_t *u)
{
	char tmp[TPID_MAX_NUMBER];
	size_t i;

	if(name->n == 0)
		return -1;
	for(i = 0; i < name->n; i++) {
		if(!tpid_alnum(name->p[i]) && name->p[i] != '-')
			return -1;
	}
	if(has_val && !tpid_span_ok(val->p, val->n, TPID_PARAM_SET))
		return -1;
	if(tpid_ieq(name->p, name->n, "phone-context"))
		return has_val ? tpid_context(val, u) : -1;
	if(tpid_ieq(name->p, name->n, "ext"))
		return has_val ? tpid_digits(val->p, val->n, 0, tmp, sizeof(tmp)) : -1;
	return 0;
}

/* A telephone-subscriber (tel: body, or the user of user=phone). */
static int tpid_tel_sub(const char *s, size_t n, tpid_uri_t *u)
{
	tpid_span_t rest = {s, n}, num, par, name;
	int more, has_val;

	more = tpid_cut(&rest, ';', &num);
	u->global = (num.n > 0 && num.p[0] == '+');
	if(tpid_digits(num.p + u->global, num.n - (size_t)u->global, !u->global,
			   u->number, sizeof(u->number))
			< 0)
		return -1;
	while(more) {
		more = tpid_cut(&rest, ';', &par);
		has_val = tpid_cut(&par, '=', &name);
		if(tpid_tel_param(&name, &par, has_val, u) < 0)
			return -1;
	}
	/* a global number has no context; a local one needs it */
	if(u->global == (u->phone_context[0] != '\0'))
		return -1;
	u->is_phone = 1;
	return 0;
}

/* ---- sip / sips (RFC 3261) ------------------------------------------ */

/* Normalises escapes: unreserved chars decoded, hex upper case. */
static int tpid_unescape_user(const char *s, size_t n, char *out, size_t size)
{
	size_t i, k = 0;
	int c;

	for(i = 0; i < n; i++) {
		if(k + 4 > size)
			return -1;
		c = tpid_escape_at(s, n, i);
		if(c < 0) {
			out[k++] = s[i];
			continue;
		}
		i += 2;
		if(tpid_alnum((char)c) || tpid_in("-._~", (char)c))
			out[k++] = (char)c;
		else
			k += (size_t)snprintf(out + k, size - k, "%%%02X", c);
	}
	out[k] = '\0';
	return 0;
}

/* uri-parameters; *user_phone set when user=phone is among them. */
static int tpid_sip_params(tpid_span_t rest, int *user_phone)
{
	tpid_span_t par, name;
	int has_val, seen = 0, more = 1;

	while(more) {
		more = tpid_cut(&rest, ';', &par);
		has_val = tpid_cut(&par, '=', &name);
		if(!tpid_span_ok(name.p, name.n, TPID_PARAM_SET)
				|| (has_val && !tpid_span_ok(par.p, par.n, TPID_PARAM_SET)))
			return -1;
		if(tpid_ieq(name.p, name.n, "user")) {
			if(seen++)
				return -1;
			*user_phone = has_val && tpid_ieq(par.p, par.n, "phone");
		}
	}
	return 0;
}

static int tpid_sip_parse(const char *s, size_t n, tpid_uri_t *u)
{
	tpid_span_t rest = {s, n}, user = {NULL, 0}, hp;
	int user_phone = 0, has_params;

	if(memchr(s, '@', n) != NULL) {
		tpid_cut(&rest, '@', &user);
		if(memchr(user.p, ':', user.n) != NULL
				|| !tpid_span_ok(user.p, user.n, TPID_USER_SET)
				|| tpid_unescape_user(user.p, user.n, u->user, sizeof(u->user))
						   < 0)
			return -1;
	}
	has_params = tpid_cut(&rest, ';', &hp);
	if(tpid_hostport(hp.p, hp.n, u->host, sizeof(u->host), &u->port) < 0)
		return -1;
	if(has_params && tpid_sip_params(rest, &user_phone) < 0)
		return -1;
	if(user_phone)
		return user.n > 0 ? tpid_tel_sub(user.p, user.n, u) : -1;
	return 0;
}

/* scheme ":" -> TPID_URI_*, and the length of "scheme:"; 0 if none. */
static int tpid_scheme(const char *s, size_t len, size_t *skip)
{
	static const struct
	{
		const char *name;
		int id;
	} tab[] = {{"sip:", TPID_URI_SIP}, {"sips:", TPID_URI_SIPS},
			{"tel:", TPID_URI_TEL}};
	size_t i, n;

	for(i = 0; i < sizeof(tab) / sizeof(tab[0]); i++) {
		n = strlen(tab[i].name);
		if(len > n && strncasecmp(s, tab[i].name, n) == 0) {
			*skip = n;
			return tab[i].id;
		}
	}
	return 0;
}

int tpid_uri_parse(const char *s, size_t len, tpid_uri_t *out)
{
	size_t skip = 0;
	int rc;

	if(out == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	if(!tpid_text_ok(s, len, TPID_MAX_URI))
		return -1;
	out->scheme = tpid_scheme(s, len, &skip);
	if(out->scheme == TPID_URI_TEL)
		rc = tpid_tel_sub(s + skip, len - skip, out);
	else if(out->scheme != 0)
		rc = tpid_sip_parse(s + skip, len - skip, out);
	else
		rc = -1;
	if(rc < 0)
		memset(out, 0, sizeof(*out));
	return rc;
}

/* ---- canonical text and the PASSporT form --------------------------- */

/* "+number" or "number;phone-context=ctx" */
static int tpid_phone_text(const tpid_uri_t *u, char *out, size_t outsize)
{
	int n;

	if(u->global)
		n = snprintf(out, outsize, "+%s", u->number);
	else
		n = snprintf(out, outsize, "%s;phone-context=%s", u->number,
				u->phone_context);
	return n >= 0 && (size_t)n < outsize ? 0 : -1;
}

int tpid_uri_canon(const tpid_uri_t *u, char *out, size_t outsize)
{
	char user[TPID_MAX_URI], port[16] = "";
	int n;

	if(u == NULL || out == NULL || u->scheme < TPID_URI_SIP
			|| u->scheme > TPID_URI_TEL)
		return -1;
	if(u->is_phone && tpid_phone_text(u, user, sizeof(user)) < 0)
		return -1;
	if(u->scheme == TPID_URI_TEL) {
		n = snprintf(out, outsize, "tel:%s", user);
		return n >= 0 && (size_t)n < outsize ? 0 : -1;
	}
	if(!u->is_phone)
		snprintf(user, sizeof(user), "%s", u->user);
	if(u->port > 0)
		snprintf(port, sizeof(port), ":%d", u->port);
	n = snprintf(out, outsize, "%s:%s%s%s%s%s",
			u->scheme == TPID_URI_SIPS ? "sips" : "sip", user,
			user[0] ? "@" : "", u->host, port,
			u->is_phone ? ";user=phone" : "");
	return n >= 0 && (size_t)n < outsize ? 0 : -1;
}

int tpid_uri_ident(const tpid_uri_t *u, tpid_ident_t *out)
{
	if(u == NULL || out == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	if(u->is_phone && u->global) {
		out->is_tn = 1;
		return snprintf(out->value, sizeof(out->value), "%s", u->number)
							   < (int)sizeof(out->value)
					   ? 0
					   : -1;
	}
	if(tpid_uri_canon(u, out->value, sizeof(out->value)) < 0) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	return 0;
}

int tpid_ident_text(const tpid_ident_t *id, char *out, size_t outsize)
{
	int n;

	if(id == NULL || out == NULL || id->value[0] == '\0')
		return -1;
	n = snprintf(out, outsize, "%s%s", id->is_tn ? "tel:+" : "", id->value);
	return n >= 0 && (size_t)n < outsize ? 0 : -1;
}

/* ---- name-addr ------------------------------------------------------ */

/* Past a quoted-string starting at p; NULL if it does not end. */
static const char *tpid_skip_quoted(const char *p, const char *end)
{
	unsigned char c;

	for(p++; p < end; p++) {
		c = (unsigned char)*p;
		if(c == '"')
			return p + 1;
		if(c == '\\') {
			if(++p == end || *p == '\r' || *p == '\n'
					|| (unsigned char)*p >= 0x80)
				return NULL;
		} else if((c < 0x20 && c != '\t') || c == 0x7f) {
			return NULL;
		}
	}
	return NULL;
}

static const char *tpid_skip_lws(const char *p, const char *end)
{
	while(p < end && tpid_in(TPID_LWS, *p))
		p++;
	return p;
}

/* What may follow the URI: nothing, or ";params" without '<', '>', ','
 * or controls outside quoted strings. */
static int tpid_tail_ok(const char *p, const char *end)
{
	unsigned char c;

	p = tpid_skip_lws(p, end);
	if(p < end && *p != ';')
		return 0;
	while(p < end) {
		c = (unsigned char)*p;
		if(c == '"') {
			p = tpid_skip_quoted(p, end);
			if(p == NULL)
				return 0;
			continue;
		}
		if((c < 0x20 && c != '\t') || c >= 0x7f || tpid_in("<>,", (char)c))
			return 0;
		p++;
	}
	return 1;
}

/* The URI inside a name-addr or addr-spec. 0 or -1. */
static int tpid_name_addr_span(const char *s, size_t len, tpid_span_t *uri)
{
	const char *p = s, *end = s + len, *gt;

	if(s == NULL || len == 0 || len > TPID_NAME_ADDR_MAX
			|| memchr(s, '\0', len) != NULL)
		return -1;
	p = tpid_skip_lws(p, end);
	while(end > p && tpid_in(TPID_LWS, end[-1]))
		end--;
	if(p < end && *p == '"') {
		p = tpid_skip_quoted(p, end);
		if(p == NULL)
			return -1;
		p = tpid_skip_lws(p, end);
		if(p == end || *p != '<')
			return -1;
	} else {
		/* token display name: token chars and LWS */
		while(p < end && (tpid_alnum(*p) || tpid_in("-.!%*_+`'~ \t", *p)))
			p++;
		if(p == end || *p != '<')
			p = tpid_skip_lws(s, end); /* addr-spec */
	}
	if(p < end && *p == '<') {
		gt = memchr(p + 1, '>', (size_t)(end - p - 1));
		if(gt == NULL)
			return -1;
		uri->p = p + 1;
		uri->n = (size_t)(gt - p - 1);
		return tpid_tail_ok(gt + 1, end) ? 0 : -1;
	}
	uri->p = p;
	gt = memchr(p, ';', (size_t)(end - p));
	uri->n = gt ? (size_t)(gt - p) : (size_t)(end - p);
	return tpid_tail_ok(p + uri->n, end) ? 0 : -1;
}

int tpid_uri_name_addr(const char *s, size_t len, char *out, size_t outsize)
{
	tpid_span_t uri;
	tpid_uri_t u;

	if(out == NULL || outsize == 0 || tpid_name_addr_span(s, len, &uri) < 0
			|| tpid_uri_parse(uri.p, uri.n, &u) < 0 || uri.n >= outsize)
		return -1;
	memcpy(out, uri.p, uri.n);
	out[uri.n] = '\0';
	return 0;
}

int tpid_uri_name_addr_at(const char *s, size_t len, size_t *off, size_t *n)
{
	tpid_span_t uri;
	tpid_uri_t u;

	if(off == NULL || n == NULL || tpid_name_addr_span(s, len, &uri) < 0
			|| tpid_uri_parse(uri.p, uri.n, &u) < 0)
		return -1;
	*off = (size_t)(uri.p - s);
	*n = uri.n;
	return 0;
}

int tpid_uri_from_text(const char *s, size_t len, tpid_uri_t *out)
{
	tpid_span_t uri;
	const char *p, *end;

	if(out == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	if(s == NULL || len == 0 || len > TPID_NAME_ADDR_MAX)
		return -1;
	end = s + len;
	p = tpid_skip_lws(s, end);
	while(end > p && tpid_in(TPID_LWS, end[-1]))
		end--;
	if(p < end && (*p == '"' || memchr(p, '<', (size_t)(end - p)) != NULL)) {
		if(tpid_name_addr_span(s, len, &uri) < 0)
			return -1;
		return tpid_uri_parse(uri.p, uri.n, out);
	}
	return tpid_uri_parse(p, (size_t)(end - p), out);
}

int tpid_uri_canon_text(const char *s, size_t len, char *out, size_t outsize)
{
	tpid_uri_t u;

	if(tpid_uri_from_text(s, len, &u) < 0)
		return -1;
	return tpid_uri_canon(&u, out, outsize);
}

int tpid_uri_ident_text(const char *s, size_t len, char *out, size_t outsize)
{
	tpid_uri_t u;
	tpid_ident_t id;

	if(tpid_uri_from_text(s, len, &u) < 0 || tpid_uri_ident(&u, &id) < 0)
		return -1;
	return tpid_ident_text(&id, out, outsize);
}

/* ---- https URLs ----------------------------------------------------- */

/* "." or ".." spelled with '.' or %2E */
static int tpid_dot_segment(const char *s, size_t n)
{
	size_t i, dots = 0;

	for(i = 0; i < n; i++, dots++) {
		if(s[i] == '.')
			continue;
		if(tpid_escape_at(s, n, i) != '.')
			return 0;
		i += 2;
	}
	return dots == 1 || dots == 2;
}

/* 1 if the segment holds an escape that a server may decode into a NUL,
 * '/' or '\\' and so leave a prefix it was compared against */
static int tpid_sneaky_escape(const char *s, size_t n)
{
	size_t i;
	int c;

	for(i = 0; i < n; i++) {
		c = tpid_escape_at(s, n, i);
		if(c == 0 || c == '/' || c == '\\')
			return 1;
	}
	return 0;
}

static int tpid_path_ok(tpid_span_t rest)
{
	tpid_span_t seg;

	if(rest.n == 0)
		return 1;
	if(rest.p[0] != '/')
		return 0;
	rest.p++;
	rest.n--;
	while(rest.n > 0) {
		tpid_cut(&rest, '/', &seg);
		if(seg.n > 0
				&& (!tpid_span_ok(seg.p, seg.n, TPID_PCHAR_SET)
						|| tpid_dot_segment(seg.p, seg.n)
						|| tpid_sneaky_escape(seg.p, seg.n)))
			return 0;
	}
	return 1;
}

int tpid_url_parse(const char *s, size_t len, tpid_url_t *out)
{
	tpid_span_t path, auth;
	const char *slash;

	if(out == NULL)
		return -1;
	memset(out, 0, sizeof(*out));
	if(!tpid_text_ok(s, len, TPID_URL_MAX) || len <= 8
			|| strncasecmp(s, "https://", 8) != 0 || memchr(s, '@', len) != NULL
			|| memchr(s, '?', len) != NULL || memchr(s, '#', len) != NULL)
		return -1;
	auth.p = s + 8;
	slash = memchr(auth.p, '/', len - 8);
	auth.n = slash ? (size_t)(slash - auth.p) : len - 8;
	path.p = auth.p + auth.n;
	path.n = len - 8 - auth.n;
	if(tpid_hostport(auth.p, auth.n, out->host, sizeof(out->host), &out->port)
					< 0
			|| !tpid_path_ok(path)) {
		memset(out, 0, sizeof(*out));
		return -1;
	}
	memcpy(out->path, path.p, path.n);
	out->path[path.n] = '\0';
	return 0;
}

int tpid_url_under(const tpid_url_t *x, const tpid_url_t *prefix)
{
	return strcmp(x->host, prefix->host) == 0
		   && (x->port ? x->port : 443) == (prefix->port ? prefix->port : 443)
		   && strncmp(x->path, prefix->path, strlen(prefix->path)) == 0;
}

/* ---- terminating claim rules ---------------------------------------- */

int tpid_claim_rules(const char *id, const char *iss)
{
	tpid_uri_t u;

	if(id == NULL || tpid_uri_parse(id, strlen(id), &u) < 0)
		return TPID_R_BAD_TPID_ID;
	if(iss == NULL || !tpid_dns_name_ok(iss, strlen(iss)))
		return TPID_R_BAD_TPID_ISS;
	if(u.scheme != TPID_URI_TEL && !tpid_dns_under(u.host, iss))
		return TPID_R_ISS_MISMATCH;
	return TPID_OK;
}
