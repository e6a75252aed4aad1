/*
 * tpid_assert - issuer binding: which signer may assert which enterprise.
 *
 * The operator lists, per signer, the enterprise domains it may speak for.
 * A signer is named by an x5u URL prefix; the longest matching prefix wins
 * and a signer not listed may assert nothing (default deny).
 *
 * Plain C, no Kamailio dependency.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_SIGNERS_H
#define TPID_SIGNERS_H

#include <stddef.h>

#define TPID_SIGNERS_MAX 64			/* signers in one list */
#define TPID_SIGNERS_MAX_DOMAINS 32 /* domains of one signer */
#define TPID_SIGNERS_MAX_SPEC 4096	/* bytes of one spec string */
#define TPID_SIGNERS_MAX_URL 256	/* bytes of a prefix or an x5u */

typedef struct tpid_signers tpid_signers_t;

/* An empty list (it allows nothing), NULL when out of memory. */
tpid_signers_t *tpid_signers_new(void);

/* Frees the list; NULL is allowed. */
void tpid_signers_free(tpid_signers_t *s);

/* Adds one signer from a module parameter value:
 *   <x5u-prefix>=<domain>[,<domain>...]
 * The prefix is an https URL with a host (a DNS name, an IPv4 address or
 * a bracketed IPv6 address), an optional port and an optional path; no
 * userinfo, query, fragment, dot segment, blank or control. A domain is a
 * DNS name (matches itself, without case), "*.<dns-name>" (matches strict
 * subdomains only) or the keyword "avatar" (the signer may assert avatar
 * tokens). The path is a plain byte prefix: end it with '/' to bind a
 * directory. Returns 0, or -1 with a reason in err (the list unchanged). */
int tpid_signers_add(
		tpid_signers_t *s, const char *spec, char *err, size_t errsize);

/* TPID_OK if the signer whose prefix matches x5u best may assert the
 * enterprise iss (a DNS name); TPID_R_ISSUER_NOT_ALLOWED otherwise (no
 * signer matches, iss not listed or malformed, x5u malformed, NULLs). The
 * host of x5u must equal the prefix's host (no case), its port the
 * prefix's port (443 when absent). */
int tpid_signers_check(
		const tpid_signers_t *s, const char *x5u, const char *iss);

/* 1 if the signer whose prefix matches x5u best lists "avatar", else 0. */
int tpid_signers_may_avatar(const tpid_signers_t *s, const char *x5u);

/* Number of signers listed. */
int tpid_signers_count(const tpid_signers_t *s);

#endif
