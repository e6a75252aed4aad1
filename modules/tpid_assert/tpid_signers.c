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

#include "tpid_ident.h"
#include "tpid_reason.h"

#define TPID_SIGNERS_MAX_DNS 253

typedef struct tpid_signers_dom
{
	char name[TPID_SIGNERS_MAX_DNS + 1]; /* lower-case */
	size_t len;
	int wildcard; /* 1: "*.name", strict subdomains only */
} tpid_signers_dom_t;

typedef struct tpid_signer
{
	tpid_url_t prefix;
	size_t pathlen; /* of prefix.path */
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

/* An enterprise domain: a DNS name of the one grammar with at least two
 * labels (so that no IP address or bare host name is a domain). */
static int tpid_signers_domain_ok(const char *d, size_t n)
{
	return tpid_dns_name_ok(d, n) && memchr(d, '.', n) != NULL;
}

/* A URL of the one URL grammar (tpid_url_parse), s/n not NUL-terminated. */
static int tpid_signers_url(const char *s, size_t n, tpid_url_t *u)
{
	return n < TPID_SIGNERS_MAX_URL ? tpid_url_parse(s, n, u) : -1;
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
	if(g->ndomains >= TPID_SIGNERS_MAX_DOMAINS || !tpid_signers_domain_ok(d, n))
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

static int tpid_signers_same_prefix(const tpid_url_t *a, const tpid_url_t *b)
{
	return tpid_url_under(a, b) && tpid_url_under(b, a);
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
	if(tpid_signers_url(spec, (size_t)(eq - spec), &g->prefix)) {
		free(g);
		return tpid_signers_fail(
				err, errsize, "x5u prefix is not an https URL");
	}
	g->pathlen = strlen(g->prefix.path);
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
	tpid_url_t u;
	const tpid_signer_t *best = NULL, *g;
	int i;

	if(s == NULL || x5u == NULL
			|| tpid_signers_url(x5u, strnlen(x5u, TPID_SIGNERS_MAX_URL), &u))
		return NULL;
	for(i = 0; i < s->n; i++) {
		g = s->v[i];
		if(tpid_url_under(&u, &g->prefix)
				&& (best == NULL || g->pathlen > best->pathlen))
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
	if(n > TPID_SIGNERS_MAX_DNS || !tpid_signers_domain_ok(iss, n))
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
