/*
 * tpid_assert - issuer binding: which signer may assert which enterprise.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tpid_signers.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tpid_reason.h"

#define TPID_SIGNERS_MAX_DNS 253
#define TPID_SIGNERS_MAX_LABEL 63

/* An https URL taken apart: host lower-cased, port a number, path as is. */
typedef struct tpid_signers_url
{
	char host[TPID_SIGNERS_MAX_URL];
	long port;
	char path[TPID_SIGNERS_MAX_URL];
	size_t pathlen;
} tpid_signers_url_t;

typedef struct tpid_signers_dom
{
	char name[TPID_SIGNERS_MAX_DNS + 1]; /* lower-case */
	size_t len;
	int wildcard; /* 1: "*.name", strict subdomains only */
} tpid_signers_dom_t;

typedef struct tpid_signer
{
	tpid_signers_url_t prefix;
	int avatar;
	int ndomains;
	tpid_signers_dom_t domains[TPID_SIGNERS_MAX_DOMAINS];
} tpid_signer_t;

struct tpid_signers
{
	int n;
	tpid_signer_t *v[TPID_SIGNERS_MAX];
};

tpid_signers_t *tpid_signers_new(void)
{
	return calloc(1, sizeof(tpid_signers_t));
}

void tpid_signers_free(tpid_signers_t *s)
{
	int i;

	if(s == NULL)
		return;
	for(i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s);
}

int tpid_signers_count(const tpid_signers_t *s)
{
	return s ? s->n : 0;
}

/* ---- grammar ------------------------------------------------------------ */

/* ASCII only, whatever the locale says */
static int tpid_signers_ldh(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
		   || (c >= '0' && c <= '9') || c == '-';
}

/* 1 if s/n is a DNS name: labels of 1..63 letters, digits and hyphens, no
 * hyphen at either end, joined by single dots, at most 253 bytes. With
 * strict (an enterprise domain) it also needs two labels and a last label
 * that is not all digits, so that an IPv4 address is no domain. */
static int tpid_signers_dns_ok(const char *s, size_t n, int strict)
{
	size_t i, start = 0, labels = 0;
	int digits = 1;

	if(n == 0 || n > TPID_SIGNERS_MAX_DNS)
		return 0;
	for(i = 0; i <= n; i++) {
		if(i < n && s[i] != '.') {
			if(!tpid_signers_ldh((unsigned char)s[i]))
				return 0;
			digits = digits && isdigit((unsigned char)s[i]);
			continue;
		}
		if(i == start || i - start > TPID_SIGNERS_MAX_LABEL || s[start] == '-'
				|| s[i - 1] == '-')
			return 0;
		labels++;
		if(i < n)
			digits = 1;
		start = i + 1;
	}
	return !strict || (labels >= 2 && !digits);
}

/* 1 if the path segment s/n is "." or ".." (also as %2e). */
static int tpid_signers_dot_segment(const char *s, size_t n)
{
	size_t i, dots = 0;

	for(i = 0; i < n; dots++) {
		if(s[i] == '.')
			i++;
		else if(n - i >= 3 && s[i] == '%' && s[i + 1] == '2'
				&& (s[i + 2] == 'e' || s[i + 2] == 'E'))
			i += 3;
		else
			return 0;
	}
	return dots == 1 || dots == 2;
}

/* 1 if the escape at p (n bytes left) is '%' and two hex digits, and not
 * a NUL, '/' or backslash in disguise (a server may decode them and leave
 * the prefix). */
static int tpid_signers_escape_ok(const char *p, size_t n)
{
	char hex[3];

	if(n < 3 || !isxdigit((unsigned char)p[1])
			|| !isxdigit((unsigned char)p[2]))
		return 0;
	hex[0] = (char)tolower((unsigned char)p[1]);
	hex[1] = (char)tolower((unsigned char)p[2]);
	hex[2] = '\0';
	return strcmp(hex, "00") && strcmp(hex, "2f") && strcmp(hex, "5c");
}

/* 1 if the path may be compared as bytes: printable ASCII, no backslash,
 * query, fragment or quote; '%' only in a harmless escape; no dot segment
 * (a fetcher would resolve it out of the prefix). */
static int tpid_signers_path_ok(const char *p, size_t n)
{
	size_t i, seg = 0;

	for(i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if(c <= 0x20 || c >= 0x7f || strchr("\\?#\"<>", c) != NULL)
			return 0;
		if(c == '%' && !tpid_signers_escape_ok(p + i, n - i))
			return 0;
		if(c == '/') {
			if(i > seg && tpid_signers_dot_segment(p + seg, i - seg))
				return 0;
			seg = i + 1;
		}
	}
	return !(n > seg && tpid_signers_dot_segment(p + seg, n - seg));
}

/* 1 if h/n is a bracketed IPv6 literal: "[" hex digits, ':' and '.' "]". */
static int tpid_signers_ipv6_ok(const char *h, size_t n)
{
	size_t i;

	if(n < 4 || h[0] != '[' || h[n - 1] != ']')
		return 0;
	for(i = 1; i + 1 < n; i++) {
		if(!isxdigit((unsigned char)h[i]) && h[i] != ':' && h[i] != '.')
			return 0;
	}
	return 1;
}

/* Port digits p/n into *port (1..65535). 0 or -1. */
static int tpid_signers_port(const char *p, size_t n, long *port)
{
	size_t i;
	long v = 0;

	if(n == 0 || n > 5)
		return -1;
	for(i = 0; i < n; i++) {
		if(!isdigit((unsigned char)p[i]))
			return -1;
		v = v * 10 + (p[i] - '0');
	}
	if(v < 1 || v > 65535)
		return -1;
	*port = v;
	return 0;
}

/* Takes an https URL apart (see tpid_signers_add). 0 or -1. */
static int tpid_signers_url_parse(
		const char *s, size_t n, tpid_signers_url_t *u)
{
	const char *a, *end = s + n, *slash, *colon;
	size_t hlen, i;

	if(n >= TPID_SIGNERS_MAX_URL || n < 9 || strncasecmp(s, "https://", 8))
		return -1;
	a = s + 8;
	slash = memchr(a, '/', (size_t)(end - a));
	if(slash == NULL)
		slash = end;
	colon = (a < slash && *a == '[') ? memchr(a, ']', (size_t)(slash - a)) : a;
	if(colon == NULL)
		return -1;
	colon = memchr(colon, ':', (size_t)(slash - colon));
	u->port = 443;
	if(colon != NULL
			&& tpid_signers_port(
					colon + 1, (size_t)(slash - colon - 1), &u->port))
		return -1;
	hlen = (size_t)((colon ? colon : slash) - a);
	if(!tpid_signers_dns_ok(a, hlen, 0) && !tpid_signers_ipv6_ok(a, hlen))
		return -1;
	for(i = 0; i < hlen; i++)
		u->host[i] = (char)tolower((unsigned char)a[i]);
	u->host[hlen] = '\0';
	u->pathlen = (size_t)(end - slash);
	if(!tpid_signers_path_ok(slash, u->pathlen))
		return -1;
	memcpy(u->path, slash, u->pathlen);
	u->path[u->pathlen] = '\0';
	return 0;
}

/* ---- building ----------------------------------------------------------- */

/* Parses one domain item d/n into signer g. 0 or -1. */
static int tpid_signers_add_domain(tpid_signer_t *g, const char *d, size_t n)
{
	tpid_signers_dom_t *dom;
	int i, wild = n > 2 && d[0] == '*' && d[1] == '.';

	if(n == 6 && memcmp(d, "avatar", 6) == 0) {
		if(g->avatar)
			return -1;
		g->avatar = 1;
		return 0;
	}
	if(wild) {
		d += 2;
		n -= 2;
	}
	if(g->ndomains >= TPID_SIGNERS_MAX_DOMAINS || !tpid_signers_dns_ok(d, n, 1))
		return -1;
	dom = &g->domains[g->ndomains];
	for(i = 0; i < (int)n; i++)
		dom->name[i] = (char)tolower((unsigned char)d[i]);
	dom->name[n] = '\0';
	dom->len = n;
	dom->wildcard = wild;
	for(i = 0; i < g->ndomains; i++) {
		if(g->domains[i].wildcard == wild
				&& !strcmp(g->domains[i].name, dom->name))
			return -1;
	}
	g->ndomains++;
	return 0;
}

/* Parses the comma-separated domain list d/n into g. 0 or -1. */
static int tpid_signers_add_domains(tpid_signer_t *g, const char *d, size_t n)
{
	const char *end = d + n, *comma;

	for(;;) {
		comma = memchr(d, ',', (size_t)(end - d));
		if(tpid_signers_add_domain(g, d, (size_t)((comma ? comma : end) - d)))
			return -1;
		if(comma == NULL)
			return 0;
		d = comma + 1;
	}
}

static int tpid_signers_same_prefix(
		const tpid_signers_url_t *a, const tpid_signers_url_t *b)
{
	return a->port == b->port && !strcmp(a->host, b->host)
		   && !strcmp(a->path, b->path);
}

static int tpid_signers_fail(char *err, size_t errsize, const char *why)
{
	if(err != NULL && errsize > 0)
		snprintf(err, errsize, "signer: %s", why);
	return -1;
}

int tpid_signers_add(
		tpid_signers_t *s, const char *spec, char *err, size_t errsize)
{
	tpid_signer_t *g;
	const char *eq;
	size_t n;
	int i;

	if(s == NULL || spec == NULL)
		return tpid_signers_fail(err, errsize, "no list or no spec");
	n = strnlen(spec, TPID_SIGNERS_MAX_SPEC + 1);
	if(n > TPID_SIGNERS_MAX_SPEC)
		return tpid_signers_fail(err, errsize, "spec too long");
	if(s->n >= TPID_SIGNERS_MAX)
		return tpid_signers_fail(err, errsize, "too many signers");
	eq = memchr(spec, '=', n);
	if(eq == NULL)
		return tpid_signers_fail(
				err, errsize, "expected <x5u-prefix>=<domains>");
	g = calloc(1, sizeof(*g));
	if(g == NULL)
		return tpid_signers_fail(err, errsize, "out of memory");
	if(tpid_signers_url_parse(spec, (size_t)(eq - spec), &g->prefix)) {
		free(g);
		return tpid_signers_fail(
				err, errsize, "x5u prefix is not an https URL");
	}
	if(tpid_signers_add_domains(g, eq + 1, n - (size_t)(eq + 1 - spec))) {
		free(g);
		return tpid_signers_fail(err, errsize,
				"bad domain list (DNS names, *.<name>, avatar; no blanks, "
				"no duplicates, at most 32)");
	}
	for(i = 0; i < s->n; i++) {
		if(tpid_signers_same_prefix(&s->v[i]->prefix, &g->prefix)) {
			free(g);
			return tpid_signers_fail(err, errsize, "x5u prefix listed twice");
		}
	}
	s->v[s->n++] = g;
	return 0;
}

/* ---- lookups ------------------------------------------------------------ */

/* The signer whose prefix matches x5u with the longest path, or NULL. */
static const tpid_signer_t *tpid_signers_find(
		const tpid_signers_t *s, const char *x5u)
{
	tpid_signers_url_t u;
	const tpid_signer_t *best = NULL, *g;
	size_t n;
	int i;

	if(s == NULL || x5u == NULL)
		return NULL;
	n = strnlen(x5u, TPID_SIGNERS_MAX_URL);
	if(tpid_signers_url_parse(x5u, n, &u))
		return NULL;
	for(i = 0; i < s->n; i++) {
		g = s->v[i];
		if(g->prefix.port != u.port || strcmp(g->prefix.host, u.host)
				|| strncmp(u.path, g->prefix.path, g->prefix.pathlen))
			continue;
		if(best == NULL || g->prefix.pathlen > best->prefix.pathlen)
			best = g;
	}
	return best;
}

/* 1 if the lower-cased iss/n is dom or (wildcard) a strict subdomain. */
static int tpid_signers_dom_match(
		const tpid_signers_dom_t *dom, const char *iss, size_t n)
{
	if(!dom->wildcard)
		return n == dom->len && !memcmp(iss, dom->name, n);
	return n > dom->len + 1 && iss[n - dom->len - 1] == '.'
		   && !memcmp(iss + n - dom->len, dom->name, dom->len);
}

int tpid_signers_check(
		const tpid_signers_t *s, const char *x5u, const char *iss)
{
	const tpid_signer_t *g = tpid_signers_find(s, x5u);
	char low[TPID_SIGNERS_MAX_DNS + 1];
	size_t n, i;
	int d;

	if(g == NULL || iss == NULL)
		return TPID_R_ISSUER_NOT_ALLOWED;
	n = strnlen(iss, TPID_SIGNERS_MAX_DNS + 1);
	if(!tpid_signers_dns_ok(iss, n, 1))
		return TPID_R_ISSUER_NOT_ALLOWED;
	for(i = 0; i < n; i++)
		low[i] = (char)tolower((unsigned char)iss[i]);
	for(d = 0; d < g->ndomains; d++) {
		if(tpid_signers_dom_match(&g->domains[d], low, n))
			return TPID_OK;
	}
	return TPID_R_ISSUER_NOT_ALLOWED;
}

int tpid_signers_may_avatar(const tpid_signers_t *s, const char *x5u)
{
	const tpid_signer_t *g = tpid_signers_find(s, x5u);

	return g != NULL && g->avatar;
}
