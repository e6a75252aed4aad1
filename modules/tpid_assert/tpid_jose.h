/*
 * tpid_assert - JOSE basics (RFC 7515/7518): base64url, canonical JSON,
 * ES256 with raw r||s signatures, the P-256 key check.
 *
 * Plain C (OpenSSL 3 EVP + jansson), no Kamailio dependency.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_JOSE_H
#define TPID_JOSE_H

#include <stddef.h>
#include <jansson.h>
#include <openssl/evp.h>

/* ES256 raw signature: r and s, 32 bytes each */
#define TPID_ES256_SIG_LEN 64

/* ---- base64url without padding ---------------------------------------- */

/* 1 if c is in the base64url alphabet. */
int tpid_b64u_is_char(char c);

/* How many of the first n chars of s are in the base64url alphabet. */
size_t tpid_b64u_span(const char *s, size_t n);

/* Encodes len bytes; writes a NUL-terminated string. Returns the encoded
 * length, or -1 if out is too small. */
int tpid_b64u_encode(
		const unsigned char *in, size_t len, char *out, size_t outsize);

/* Encodes len bytes into a malloc()ed string (free() it), NULL on failure. */
char *tpid_b64u_dup(const unsigned char *in, size_t len);

/* Decodes len chars of unpadded base64url (padding, '+', '/', whitespace
 * and non-canonical trailing bits are refused). Returns the decoded
 * length, or -1. */
int tpid_b64u_decode(
		const char *in, size_t len, unsigned char *out, size_t outsize);

/* ---- JSON ---------------------------------------------------------------- */

/* Canonical serialisation (RFC 8225 section 9): keys sorted at every level,
 * no whitespace, UTF-8 and '/' unescaped. malloc()ed (free() it) or NULL. */
char *tpid_jose_json_dump(const json_t *j);

/* The same serialisation into out (NUL-terminated): its length, or -1 if
 * it does not fit in outsize bytes (out then holds ""). */
int tpid_jose_json_dumpb(const json_t *j, char *out, size_t outsize);

/* Decodes len chars of base64url holding a JSON object (no NUL inside, no
 * duplicate keys). A new reference (json_decref() it) or NULL. */
json_t *tpid_jose_json_b64u(const char *in, size_t len);

/* ---- ES256 --------------------------------------------------------------- */

/* 1 if key is an EC key on P-256; ES256 signs and verifies with no other,
 * so that a wrong key cannot produce a token "ES256" in name only. */
int tpid_jose_key_is_p256(EVP_PKEY *key);

/* ECDSA P-256 / SHA-256 over tbs, written as raw r||s. 0, or -1 (key not
 * P-256, no private part, OpenSSL failure). */
int tpid_jose_es256_sign(EVP_PKEY *key, const char *tbs, size_t tbslen,
		unsigned char rs[TPID_ES256_SIG_LEN]);

/* Verifies a raw r||s signature over tbs with a P-256 public key. Anything
 * but siglen == 64 (a DER signature is 70-72 bytes) is refused. 0 when the
 * signature verifies, -1 otherwise. */
int tpid_jose_es256_verify(EVP_PKEY *pub, const char *tbs, size_t tbslen,
		const unsigned char *sig, size_t siglen);

/* SHA-256 of a then b (blen 0: a only), with the digest fetched once per
 * thread. 0, or -1. */
int tpid_jose_sha256(const void *a, size_t alen, const void *b, size_t blen,
		unsigned char out[32]);

/* Sign and verify keep an OpenSSL context per key and thread (and a
 * reference to the key); this releases the calling thread's. */
void tpid_jose_release(void);

#endif
