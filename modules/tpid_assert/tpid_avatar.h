/*
 * tpid_assert - the avatar grammar: Avatar-IDs, media types and the SRI
 * digests (sha256-<base64>) that bind an avatar token to the bytes of its
 * representation.
 *
 * Plain C (OpenSSL EVP for SHA-256 and base64), no Kamailio dependency.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_AVATAR_H
#define TPID_AVATAR_H

#include <stddef.h>

#include "tpid_passport.h"

/* 1 if s[0..len) is an Avatar-ID: 1 to TPID_MAX_AID characters of
 * A-Za-z0-9 . _ ~ : - (nothing else, no byte >= 0x80), else 0. */
int tpid_avatar_id_ok(const char *s, size_t len);

/* 1 if s[0..len) is a media type "type/subtype" of RFC 6838
 * restricted-names (a letter or digit first, then up to 126 of
 * A-Za-z0-9 ! # $ & - ^ _ . +), no parameters, under TPID_MAX_FMT bytes. */
int tpid_avatar_fmt_ok(const char *s, size_t len);

/* Writes "sha256-" and the base64 (RFC 4648 section 4, with padding) of
 * the SHA-256 of data into out (at least TPID_MAX_SRI bytes). 0 or -1. */
int tpid_sri_sha256(const void *data, size_t len, char *out, size_t outsize);

/* 1 if s[0..len) is "sha256-" and the canonical base64 of 32 bytes (44
 * characters, one '=' of padding, zero trailing bits), else 0. */
int tpid_sri_ok(const char *s, size_t len);

/* 1 if sri (tpid_sri_ok) is the digest of data; the comparison takes the
 * same time wherever the digests differ. 0 otherwise. */
int tpid_sri_match(const char *sri, const void *data, size_t len);

/* The avatar claims of c keep their grammar: aid (tpid_avatar_id_ok), bar
 * (an https URL of the module's URL grammar, tpid_url_parse), fmt
 * (tpid_avatar_fmt_ok), digest (tpid_sri_ok). TPID_OK or
 * TPID_R_BAD_AVATAR. */
int tpid_avatar_check_claims(const tpid_claims_t *c);

#endif
