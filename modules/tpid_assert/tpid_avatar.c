/*
 * tpid_assert - the avatar grammar (see tpid_avatar.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "tpid_avatar.h"
#include "tpid_ident.h"
#include "tpid_reason.h"

#define TPID_SRI_PREFIX "sha256-"
#define TPID_SRI_PREFIX_LEN 7
#define TPID_SRI_B64_LEN 44 /* base64 of 32 bytes, one '=' */

static int tpid_av_alnum(unsigned char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
		   || (c >= '0' && c <= '9');
}

int tpid_avatar_id_ok(const char *s, size_t len)
{
	size_t i;

	if(s == NULL || len == 0 || len > TPID_MAX_AID)
		return 0;
	for(i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if(!tpid_av_alnum(c) && c != '.' && c != '_' && c != '~' && c != ':'
				&& c != '-')
			return 0;
	}
	return 1;
}

/* RFC 6838 restricted-name: a letter or digit, then at most 126 of
 * restricted-name-chars. */
static int tpid_av_restricted_name(const char *s, size_t len)
{
	size_t i;

	if(len == 0 || len > 127 || !tpid_av_alnum((unsigned char)s[0]))
		return 0;
	for(i = 1; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if(!tpid_av_alnum(c) && strchr("!#$&-^_.+", c) == NULL)
			return 0;
	}
	return 1;
}

int tpid_avatar_fmt_ok(const char *s, size_t len)
{
	const char *slash;

	if(s == NULL || len == 0 || len >= TPID_MAX_FMT
			|| memchr(s, '\0', len) != NULL)
		return 0;
	slash = memchr(s, '/', len);
	if(slash == NULL)
		return 0;
	return tpid_av_restricted_name(s, (size_t)(slash - s))
		   && tpid_av_restricted_name(slash + 1, len - (size_t)(slash - s) - 1);
}

int tpid_sri_sha256(const void *data, size_t len, char *out, size_t outsize)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	if(out == NULL || outsize < TPID_SRI_PREFIX_LEN + TPID_SRI_B64_LEN + 1
			|| (data == NULL && len > 0))
		return -1;
	if(EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) != 1
			|| mdlen != 32)
		return -1;
	memcpy(out, TPID_SRI_PREFIX, TPID_SRI_PREFIX_LEN);
	/* EVP_EncodeBlock writes standard base64 with padding and a NUL */
	if(EVP_EncodeBlock((unsigned char *)out + TPID_SRI_PREFIX_LEN, md, 32)
			!= TPID_SRI_B64_LEN)
		return -1;
	return 0;
}

/* The 32 bytes of a well-formed SRI, or -1. */
static int tpid_sri_decode(const char *s, size_t len, unsigned char md[32])
{
	unsigned char buf[TPID_SRI_B64_LEN];
	char again[TPID_SRI_B64_LEN + 1];
	size_t i;

	if(s == NULL || len != TPID_SRI_PREFIX_LEN + TPID_SRI_B64_LEN
			|| memcmp(s, TPID_SRI_PREFIX, TPID_SRI_PREFIX_LEN) != 0)
		return -1;
	s += TPID_SRI_PREFIX_LEN;
	for(i = 0; i < TPID_SRI_B64_LEN - 1; i++) {
		unsigned char c = (unsigned char)s[i];
		if(!tpid_av_alnum(c) && c != '+' && c != '/')
			return -1;
	}
	if(s[TPID_SRI_B64_LEN - 1] != '=')
		return -1;
	/* 33 bytes decoded (the padding counts as a zero byte) */
	if(EVP_DecodeBlock(buf, (const unsigned char *)s, TPID_SRI_B64_LEN) != 33)
		return -1;
	/* canonical: encoding the 32 bytes again gives the same text (no
	 * stray bits in the last character) */
	if(EVP_EncodeBlock((unsigned char *)again, buf, 32) != TPID_SRI_B64_LEN
			|| memcmp(again, s, TPID_SRI_B64_LEN) != 0)
		return -1;
	memcpy(md, buf, 32);
	return 0;
}

int tpid_sri_ok(const char *s, size_t len)
{
	unsigned char md[32];

	return tpid_sri_decode(s, len, md) == 0;
}

int tpid_sri_match(const char *sri, const void *data, size_t len)
{
	unsigned char want[32], got[EVP_MAX_MD_SIZE];
	unsigned int glen = 0;

	if(sri == NULL || tpid_sri_decode(sri, strlen(sri), want) < 0
			|| (data == NULL && len > 0))
		return 0;
	if(EVP_Digest(data, len, got, &glen, EVP_sha256(), NULL) != 1 || glen != 32)
		return 0;
	return CRYPTO_memcmp(want, got, 32) == 0;
}

int tpid_avatar_check_claims(const tpid_claims_t *c)
{
	tpid_url_t u;

	if(c == NULL || !tpid_avatar_id_ok(c->aid, strnlen(c->aid, sizeof(c->aid)))
			|| tpid_url_parse(c->bar, strnlen(c->bar, sizeof(c->bar)), &u) < 0
			|| !tpid_avatar_fmt_ok(c->fmt, strnlen(c->fmt, sizeof(c->fmt)))
			|| !tpid_sri_ok(c->digest, strnlen(c->digest, sizeof(c->digest))))
		return TPID_R_BAD_AVATAR;
	return TPID_OK;
}
