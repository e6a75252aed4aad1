/*
 * tpid_assert - the enterprise table: which hook answers for which domain.
 *
 * Loaded from a JSON file (see doc/tpid_assert_admin.xml, "enterprise_file"):
 *   {"enterprises": [
 *      {"domain": "acme.example",
 *       "api_root": "https://127.0.0.1:8443/acme",
 *       "ca_file": "/etc/kamailio/tpid/acme-ca.pem",
 *       "client_cert": "...", "client_key": "...",      (optional, mTLS)
 *       "bearer_token_file": "...",                      (optional)
 *       "connect_timeout_ms": 500, "timeout_ms": 2000,   (optional)
 *       "ttl_cap": 300,                                  (optional, seconds)
 *       "allow_private_address": true}                   (optional, default)
 *   ]}
 * Plain C (jansson), no Kamailio dependency.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_ENTERPRISE_H
#define TPID_ENTERPRISE_H

#include <stddef.h>

#define TPID_MAX_DOMAIN 128
#define TPID_MAX_PATH 512
#define TPID_MAX_TOKEN 1024

typedef struct tpid_enterprise
{
	char domain[TPID_MAX_DOMAIN]; /* lower case */
	char api_root[TPID_MAX_PATH]; /* https://..., no trailing slash */
	char ca_file[TPID_MAX_PATH];
	char client_cert[TPID_MAX_PATH]; /* "" when not used */
	char client_key[TPID_MAX_PATH];
	char bearer_token[TPID_MAX_TOKEN]; /* read from bearer_token_file */
	long connect_timeout_ms;		   /* default 500 */
	long timeout_ms;				   /* default 2000 (total) */
	int ttl_cap;					   /* seconds, 0 = module default */
	int allow_private_address; /* default 1: hooks run in private networks */
} tpid_enterprise_t;

typedef struct tpid_enterprise_set
{
	int n;
	tpid_enterprise_t *items; /* malloc()ed array of n */
} tpid_enterprise_set_t;

/* Loads and validates the whole file: every entry needs domain, an https
 * api_root and ca_file; files it names must be readable; domains unique.
 * On error returns -1, leaves *out untouched and writes a one-line reason
 * into err. */
int tpid_enterprise_load(const char *path, tpid_enterprise_set_t *out,
		char *err, size_t errsize);

/* The same for a file of another directory with the same entries: its
 * top-level key is file_key ("bars" for the avatar repositories, whose
 * file is named bar_file in messages; "ms" for the STI-AS / STI-VS,
 * ms_file); with wildcard, one entry may have the domain "*" (the
 * default). */
int tpid_enterprise_load_dir(const char *path, const char *file_key,
		int wildcard, tpid_enterprise_set_t *out, char *err, size_t errsize);

void tpid_enterprise_free(tpid_enterprise_set_t *set);

/* The enterprise for a domain (case-insensitive exact match), or NULL. */
const tpid_enterprise_t *tpid_enterprise_find(
		const tpid_enterprise_set_t *set, const char *domain, size_t len);

/* The domain of a third-party ID: host part of sip:/sips: user@host (port
 * and parameters dropped, lower-cased). tel: IDs have no domain. Returns
 * 0, or -1 if the ID is not a well-formed sip/sips URI with a user part. */
int tpid_id_domain(const char *id, size_t len, char *out, size_t outsize);

#endif
