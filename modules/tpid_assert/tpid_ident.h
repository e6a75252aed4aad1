/*
 * tpid_assert - the one identity grammar: sip/sips (RFC 3261), tel
 * (RFC 3966), name-addr, DNS names, https URLs, and the terminating claim
 * rules. Every identity the module reads or writes goes through here.
 *
 * Refused everywhere in a URI: blanks, controls, '"', '\'', '<', '>',
 * bytes >= 0x80, NUL (the length is authoritative) and anything of
 * TPID_MAX_URI bytes or more (refused, never truncated). The single quote
 * is a legal RFC 3261 mark but is refused too: an identity ends up inside
 * headers, logs and scripts where a quote could end a string.
 *
 * Plain C, no Kamailio dependency.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_IDENT_H
#define TPID_IDENT_H

#include <stddef.h>

#include "tpid_passport.h"

#define TPID_URI_SIP 1
#define TPID_URI_SIPS 2
#define TPID_URI_TEL 3

#define TPID_MAX_HOST 256		/* a DNS name is at most 253 bytes */
#define TPID_MAX_NUMBER 64		/* phone digits kept */
#define TPID_URL_MAX 1024		/* whole https URL, bytes */
#define TPID_NAME_ADDR_MAX 4096 /* whole name-addr text, bytes */

/* A parsed sip, sips or tel URI. */
typedef struct tpid_uri
{
	int scheme;					  /* TPID_URI_SIP, _SIPS, _TEL */
	char user[TPID_MAX_URI];	  /* sip user, %-escapes normalised; "" none */
	char host[TPID_MAX_HOST];	  /* lower case; IPv6 as "[inet_ntop form]" */
	int port;					  /* 0 when absent */
	int is_phone;				  /* tel:, or sip/sips with user=phone */
	int global;					  /* number began with '+' */
	char number[TPID_MAX_NUMBER]; /* digits (local: hex upper, '*', '#'),
									 separators -.() dropped, no '+' */
	char phone_context[TPID_MAX_HOST]; /* local numbers: lower-cased domain
										  or "+digits"; "" for global */
} tpid_uri_t;

/* Parses one bare sip/sips/tel URI of exactly len bytes. sip/sips: userinfo
 * of unreserved, escaped and user-unreserved chars (no password), host an
 * RFC 1123 name (labels 1-63, no empty label or trailing dot, no hyphen at
 * a label's ends, at most 253 bytes, TLD not all digits), IPv4 or [IPv6];
 * port 1-65535; parameters pname[=pvalue] of RFC 3261 paramchars; no
 * ?headers. With user=phone the user must be a telephone-subscriber.
 * tel: global "+digits" or local digits with a phone-context (a domain
 * or "+digits"); other parameters by the grammar. 0 or -1. */
int tpid_uri_parse(const char *s, size_t len, tpid_uri_t *out);

/* The URI of one name-addr ("quoted \"name\"" <uri>;p, token name <uri>,
 * <uri>) or addr-spec (uri;header-params: the URI ends at the first ';',
 * as RFC 3261 section 20 says) into out, after tpid_uri_parse accepted it.
 * UTF-8 is allowed in a quoted display name; one value only (no ','
 * outside quotes). 0 or -1. */
int tpid_uri_name_addr(const char *s, size_t len, char *out, size_t outsize);

/* The same, as the place of that URI in s: offset *off, *n bytes (inside
 * the <> of a name-addr; an addr-spec's up to its first ';'). 0 or -1. */
int tpid_uri_name_addr_at(const char *s, size_t len, size_t *off, size_t *n);

/* Canonical text of a URI, for comparisons, cache keys and revocation:
 *   tel:+<number>                       global number
 *   tel:<number>;phone-context=<ctx>    local number
 *   sip[s]:[<user>@]<host>[:<port>][;user=phone]
 * scheme and host lower case; the user keeps its case (userinfo is case
 * sensitive) with escapes of unreserved chars decoded and hex upper case;
 * with user=phone the user is the number in the tel forms above (other
 * number parameters dropped); every other parameter dropped. Two spellings
 * of the same identity give the same text. 0 or -1 (out too small). */
int tpid_uri_canon(const tpid_uri_t *u, char *out, size_t outsize);

/* The PASSporT orig/dest form (RFC 8224 section 8.3): a global telephone
 * number (tel:, or sip with user=phone) becomes a tn of its digits; all
 * else, local numbers with their phone-context included, becomes a uri
 * holding the canonical text. 0 or -1. */
int tpid_uri_ident(const tpid_uri_t *u, tpid_ident_t *out);

/* A name-addr (text starting with '"' or holding '<') or else one bare
 * URI (its parameters are the URI's), parsed. 0 or -1. */
int tpid_uri_from_text(const char *s, size_t len, tpid_uri_t *out);

/* Canonical text (tpid_uri_canon) of a name-addr or bare URI given as
 * text: what a claimed ID or a revoke_id argument is matched by. 0/-1. */
int tpid_uri_canon_text(const char *s, size_t len, char *out, size_t outsize);

/* An orig/dest identity as text: "tel:+<tn>" for a tn, else its uri. The
 * key the cache keeps a served user under. 0 or -1 (out too small). */
int tpid_ident_text(const tpid_ident_t *id, char *out, size_t outsize);

/* tpid_ident_text of a name-addr or bare URI given as text: a served
 * user as the cache knows it (revoke_user). 0 or -1. */
int tpid_uri_ident_text(const char *s, size_t len, char *out, size_t outsize);

/* 1 if s/len is a DNS name as described at tpid_uri_parse, else 0. */
int tpid_dns_name_ok(const char *s, size_t len);

/* 1 if host equals domain or is a subdomain of it (case-insensitive, on a
 * label boundary: "evilacme.example" is not under "acme.example"). */
int tpid_dns_under(const char *host, const char *domain);

/* An https URL (x5u/info, sign_x5u, api_root). */
typedef struct tpid_url
{
	char host[TPID_MAX_HOST]; /* lower case */
	int port;				  /* 0 when absent */
	char path[TPID_URL_MAX];  /* "" or starting with '/' */
} tpid_url_t;

/* Parses an https:// URL (scheme case-insensitive): host a DNS name or an
 * IP literal, optional port, no userinfo, query or fragment, path of
 * RFC 3986 pchars and '/', no "." or ".." segment (escaped or not), under
 * TPID_URL_MAX bytes. 0 or -1. */
int tpid_url_parse(const char *s, size_t len, tpid_url_t *out);

/* 1 if the parsed URL x is under the parsed prefix: the same host, the
 * same port (443 when absent), and the prefix's path a prefix of x's
 * ("https://cert.example.net/" does not take in
 * "https://cert.example.net.evil/"). */
int tpid_url_under(const tpid_url_t *x, const tpid_url_t *prefix);

/* The terminating claim rules: tpid.id a sip/sips/tel URI of the grammar
 * (BAD_TPID_ID), tpid.iss a DNS name (BAD_TPID_ISS), the host of a SIP
 * tpid.id equal to iss or under it (ISS_MISMATCH). TPID_OK otherwise. */
int tpid_claim_rules(const char *id, const char *iss);

#endif
