/*
 * tpid_assert - JOSE basics, see tpid_jose.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tpid_jose.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/objects.h>

/* jansson flags for everything we emit: canonical per RFC 8225 section 9
 * (sorted keys, no whitespace); '/' and UTF-8 stay unescaped. */
#define TPID_JSON_DUMP_FLAGS (JSON_COMPACT | JSON_SORT_KEYS)

#define TPID_ES256_COORD_LEN 32

/* ---- base64url ------------------------------------------------------------ */

static const char tpid_b64u_alphabet[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/* 1 + the value of each byte of the alphabet, 0 for every other byte: a
 * lookup, as decoding and the Identity tokenizer run over whole tokens. */
/* clang-format off */
static const unsigned char tpid_b64u_vals[256] = {
		['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6,
		['G'] = 7, ['H'] = 8, ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12,
		['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16, ['Q'] = 17, ['R'] = 18,
		['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22, ['W'] = 23, ['X'] = 24,
		['Y'] = 25, ['Z'] = 26, ['a'] = 27, ['b'] = 28, ['c'] = 29, ['d'] = 30,
		['e'] = 31, ['f'] = 32, ['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36,
		['k'] = 37, ['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
		['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47, ['v'] = 48,
		['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52, ['0'] = 53, ['1'] = 54,
		['2'] = 55, ['3'] = 56, ['4'] = 57, ['5'] = 58, ['6'] = 59, ['7'] = 60,
		['8'] = 61, ['9'] = 62, ['-'] = 63, ['_'] = 64};
/* clang-format on */

static inline int tpid_b64u_val(unsigned char c)
{
	return (int)tpid_b64u_vals[c] - 1;
}

int tpid_b64u_encode(
		const unsigned char *in, size_t len, char *out, size_t outsize)
{
	size_t need, i, o = 0;
	unsigned long v;

	if(out == NULL || (in == NULL && len > 0) || len > (size_t)INT_MAX / 2)
		return -1;
	need = (len / 3) * 4 + (len % 3 ? len % 3 + 1 : 0);
	if(need >= outsize)
		return -1;
	for(i = 0; i + 2 < len; i += 3) {
		v = ((unsigned long)in[i] << 16) | ((unsigned long)in[i + 1] << 8)
			| in[i + 2];
		out[o++] = tpid_b64u_alphabet[(v >> 18) & 63];
		out[o++] = tpid_b64u_alphabet[(v >> 12) & 63];
		out[o++] = tpid_b64u_alphabet[(v >> 6) & 63];
		out[o++] = tpid_b64u_alphabet[v & 63];
	}
	if(len - i == 1) {
		v = (unsigned long)in[i] << 16;
		out[o++] = tpid_b64u_alphabet[(v >> 18) & 63];
		out[o++] = tpid_b64u_alphabet[(v >> 12) & 63];
	} else if(len - i == 2) {
		v = ((unsigned long)in[i] << 16) | ((unsigned long)in[i + 1] << 8);
		out[o++] = tpid_b64u_alphabet[(v >> 18) & 63];
		out[o++] = tpid_b64u_alphabet[(v >> 12) & 63];
		out[o++] = tpid_b64u_alphabet[(v >> 6) & 63];
	}
	out[o] = '\0';
	return (int)o;
}

int tpid_b64u_decode(
		const char *in, size_t len, unsigned char *out, size_t outsize)
{
	size_t need, i, o = 0, rem;
	int a, b, c, d;

	if((in == NULL && len > 0) || len > (size_t)INT_MAX)
		return -1;
	rem = len % 4;
	if(rem == 1)
		return -1;
	need = (len / 4) * 3 + (rem ? rem - 1 : 0);
	if(need > outsize || (out == NULL && need > 0))
		return -1;
	for(i = 0; i + 3 < len; i += 4) {
		a = tpid_b64u_val((unsigned char)in[i]);
		b = tpid_b64u_val((unsigned char)in[i + 1]);
		c = tpid_b64u_val((unsigned char)in[i + 2]);
		d = tpid_b64u_val((unsigned char)in[i + 3]);
		if(a < 0 || b < 0 || c < 0 || d < 0)
			return -1;
		out[o++] = (unsigned char)((a << 2) | (b >> 4));
		out[o++] = (unsigned char)(((b & 15) << 4) | (c >> 2));
		out[o++] = (unsigned char)(((c & 3) << 6) | d);
	}
	if(rem >= 2) {
		a = tpid_b64u_val((unsigned char)in[i]);
		b = tpid_b64u_val((unsigned char)in[i + 1]);
		if(a < 0 || b < 0)
			return -1;
		out[o++] = (unsigned char)((a << 2) | (b >> 4));
		if(rem == 2) {
			/* the 4 low bits of the last char carry no data: must be 0 */
			if(b & 15)
				return -1;
		} else {
			c = tpid_b64u_val((unsigned char)in[i + 2]);
			if(c < 0 || (c & 3))
				return -1;
			out[o++] = (unsigned char)(((b & 15) << 4) | (c >> 2));
		}
	}
	return (int)o;
}

int tpid_b64u_is_char(char c)
{
	return tpid_b64u_val((unsigned char)c) >= 0;
}

size_t tpid_b64u_span(const char *s, size_t n)
{
	size_t i;

	for(i = 0; i < n && tpid_b64u_val((unsigned char)s[i]) >= 0; i++)
		;
	return i;
}

char *tpid_b64u_dup(const unsigned char *in, size_t len)
{
	size_t size;
	char *out;

	if(len > (size_t)INT_MAX / 2)
		return NULL;
	size = (len + 2) / 3 * 4 + 1;
	out = malloc(size);
	if(out == NULL)
		return NULL;
	if(tpid_b64u_encode(in, len, out, size) < 0) {
		free(out);
		return NULL;
	}
	return out;
}

/* ---- JSON ----------------------------------------------------------------- */

char *tpid_jose_json_dump(const json_t *j)
{
	return j ? json_dumps(j, TPID_JSON_DUMP_FLAGS) : NULL;
}

int tpid_jose_json_dumpb(const json_t *j, char *out, size_t outsize)
{
	size_t n;

	if(out == NULL || outsize == 0)
		return -1;
	out[0] = '\0';
	if(j == NULL || outsize > (size_t)INT_MAX)
		return -1;
	n = json_dumpb(j, out, outsize - 1, TPID_JSON_DUMP_FLAGS);
	if(n == 0 || n >= outsize) {
		out[0] = '\0';
		return -1;
	}
	out[n] = '\0';
	return (int)n;
}

json_t *tpid_jose_json_b64u(const char *in, size_t len)
{
	unsigned char *buf;
	size_t size = len / 4 * 3 + 3;
	json_t *j;
	json_error_t err;
	int n;

	if(in == NULL || len > (size_t)INT_MAX)
		return NULL;
	buf = malloc(size);
	if(buf == NULL)
		return NULL;
	n = tpid_b64u_decode(in, len, buf, size);
	if(n <= 0 || memchr(buf, '\0', (size_t)n) != NULL) {
		free(buf);
		return NULL;
	}
	j = json_loadb((const char *)buf, (size_t)n, JSON_REJECT_DUPLICATES, &err);
	free(buf);
	if(j != NULL && !json_is_object(j)) {
		json_decref(j);
		return NULL;
	}
	return j;
}

/* ---- ES256 ---------------------------------------------------------------- */

static int tpid_es256_key_known(EVP_PKEY *key);

int tpid_jose_key_is_p256(EVP_PKEY *key)
{
	char group[64];
	size_t glen = 0;

	/* a key with a context here was checked when the context was set up,
	 * and the context's reference keeps it what it was */
	if(key != NULL && tpid_es256_key_known(key))
		return 1;
	if(key == NULL || !EVP_PKEY_is_a(key, "EC"))
		return 0;
	if(EVP_PKEY_get_group_name(key, group, sizeof(group), &glen) != 1)
		return 0;
	return strcmp(group, SN_X9_62_prime256v1) == 0
		   || strcmp(group, "P-256") == 0;
}

/* Per-thread contexts, set up once per key: OpenSSL 3 fetches the
 * algorithms and builds a key context on every EVP_DigestSignInit(), which
 * costs a call about as much as the hashing and DER work together. A slot
 * holds a reference to its key, so the key's address cannot be reused by
 * another key while the slot matches on it. */
#define TPID_ES256_SLOTS 8

typedef struct tpid_es256_slot
{
	EVP_PKEY *key;
	EVP_PKEY_CTX *ctx;
} tpid_es256_slot_t;

static _Thread_local tpid_es256_slot_t tpid_sign_slot;
static _Thread_local tpid_es256_slot_t tpid_verify_slots[TPID_ES256_SLOTS];
static _Thread_local unsigned tpid_verify_next;
static _Thread_local EVP_MD *tpid_sha256_md;

static int tpid_es256_key_known(EVP_PKEY *key)
{
	unsigned i;

	if(tpid_sign_slot.key == key)
		return 1;
	for(i = 0; i < TPID_ES256_SLOTS; i++) {
		if(tpid_verify_slots[i].key == key)
			return 1;
	}
	return 0;
}

static void tpid_es256_slot_clear(tpid_es256_slot_t *sl)
{
	EVP_PKEY_CTX_free(sl->ctx);
	EVP_PKEY_free(sl->key);
	sl->ctx = NULL;
	sl->key = NULL;
}

/* A context for key, initialised for signing (sign != 0) or verifying. */
static int tpid_es256_slot_set(tpid_es256_slot_t *sl, EVP_PKEY *key, int sign)
{
	tpid_es256_slot_clear(sl);
	if(!tpid_jose_key_is_p256(key))
		return -1;
	sl->ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
	if(sl->ctx == NULL
			|| (sign ? EVP_PKEY_sign_init(sl->ctx)
					 : EVP_PKEY_verify_init(sl->ctx))
					   != 1
			|| EVP_PKEY_up_ref(key) != 1) {
		EVP_PKEY_CTX_free(sl->ctx);
		sl->ctx = NULL;
		return -1;
	}
	sl->key = key;
	return 0;
}

static EVP_PKEY_CTX *tpid_es256_sign_ctx(EVP_PKEY *key)
{
	if(key == NULL)
		return NULL;
	if(tpid_sign_slot.key != key
			&& tpid_es256_slot_set(&tpid_sign_slot, key, 1) < 0)
		return NULL;
	return tpid_sign_slot.ctx;
}

static EVP_PKEY_CTX *tpid_es256_verify_ctx(EVP_PKEY *key)
{
	tpid_es256_slot_t *sl;
	unsigned i;

	if(key == NULL)
		return NULL;
	for(i = 0; i < TPID_ES256_SLOTS; i++) {
		if(tpid_verify_slots[i].key == key)
			return tpid_verify_slots[i].ctx;
	}
	sl = &tpid_verify_slots[tpid_verify_next++ % TPID_ES256_SLOTS];
	return tpid_es256_slot_set(sl, key, 0) == 0 ? sl->ctx : NULL;
}

int tpid_jose_sha256(const void *a, size_t alen, const void *b, size_t blen,
		unsigned char out[32])
{
	EVP_MD_CTX *md;
	unsigned int n = 0;
	int ok;

	if(tpid_sha256_md == NULL)
		tpid_sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
	if(tpid_sha256_md == NULL || (md = EVP_MD_CTX_new()) == NULL)
		return -1;
	ok = EVP_DigestInit_ex(md, tpid_sha256_md, NULL) == 1
		 && EVP_DigestUpdate(md, a, alen) == 1
		 && (blen == 0 || EVP_DigestUpdate(md, b, blen) == 1)
		 && EVP_DigestFinal_ex(md, out, &n) == 1 && n == 32;
	EVP_MD_CTX_free(md);
	return ok ? 0 : -1;
}

void tpid_jose_release(void)
{
	unsigned i;

	tpid_es256_slot_clear(&tpid_sign_slot);
	for(i = 0; i < TPID_ES256_SLOTS; i++)
		tpid_es256_slot_clear(&tpid_verify_slots[i]);
	EVP_MD_free(tpid_sha256_md);
	tpid_sha256_md = NULL;
}

/* ECDSA over SHA-256, DER converted to the JWS r||s form */
int tpid_jose_es256_sign(EVP_PKEY *key, const char *tbs, size_t tbslen,
		unsigned char rs[TPID_ES256_SIG_LEN])
{
	EVP_PKEY_CTX *ctx;
	ECDSA_SIG *es = NULL;
	unsigned char der[128], dgst[32];
	const unsigned char *p = der;
	const BIGNUM *r, *s;
	size_t derlen = sizeof(der);
	int ret = -1;

	if(tbs == NULL && tbslen > 0)
		return -1;
	ctx = tpid_es256_sign_ctx(key);
	if(ctx == NULL || tpid_jose_sha256(tbs, tbslen, NULL, 0, dgst) < 0)
		return -1;
	if(EVP_PKEY_sign(ctx, der, &derlen, dgst, sizeof(dgst)) != 1)
		goto done;
	es = d2i_ECDSA_SIG(NULL, &p, (long)derlen);
	if(es == NULL)
		goto done;
	ECDSA_SIG_get0(es, &r, &s);
	if(BN_bn2binpad(r, rs, TPID_ES256_COORD_LEN) != TPID_ES256_COORD_LEN
			|| BN_bn2binpad(s, rs + TPID_ES256_COORD_LEN, TPID_ES256_COORD_LEN)
					   != TPID_ES256_COORD_LEN)
		goto done;
	ret = 0;
done:
	ECDSA_SIG_free(es);
	return ret;
}

/* JWS r||s back to the DER form OpenSSL verifies; NULL on failure */
static unsigned char *tpid_es256_der(const unsigned char *rs, int *derlen)
{
	ECDSA_SIG *es;
	BIGNUM *r, *s;
	unsigned char *der = NULL;

	r = BN_bin2bn(rs, TPID_ES256_COORD_LEN, NULL);
	s = BN_bin2bn(rs + TPID_ES256_COORD_LEN, TPID_ES256_COORD_LEN, NULL);
	es = ECDSA_SIG_new();
	if(r == NULL || s == NULL || es == NULL || ECDSA_SIG_set0(es, r, s) != 1) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(es);
		return NULL;
	}
	/* r and s are owned by es now */
	*derlen = i2d_ECDSA_SIG(es, &der);
	ECDSA_SIG_free(es);
	if(*derlen <= 0) {
		OPENSSL_free(der);
		return NULL;
	}
	return der;
}

int tpid_jose_es256_verify(EVP_PKEY *pub, const char *tbs, size_t tbslen,
		const unsigned char *sig, size_t siglen)
{
	EVP_PKEY_CTX *ctx;
	unsigned char *der = NULL, dgst[32];
	int derlen = 0, ret = -1;

	/* the JWS form only: a DER signature is 70-72 bytes and refused */
	if(sig == NULL || siglen != TPID_ES256_SIG_LEN || tbs == NULL)
		return -1;
	ctx = tpid_es256_verify_ctx(pub);
	if(ctx == NULL || tpid_jose_sha256(tbs, tbslen, NULL, 0, dgst) < 0)
		return -1;
	der = tpid_es256_der(sig, &derlen);
	if(der == NULL)
		return -1;
	if(EVP_PKEY_verify(ctx, der, (size_t)derlen, dgst, sizeof(dgst)) == 1)
		ret = 0;
	OPENSSL_free(der);
	return ret;
}
