/*
 * tpid_assert - JWT claim constraints (RFC 8226 section 9, RFC 9118
 * section 4; both modules use EXPLICIT TAGS).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tpid_jcc.h"

#include <stdlib.h>
#include <string.h>
#include <openssl/asn1t.h>
#include <openssl/objects.h>
#include <openssl/safestack.h>

#include "tpid_idhdr.h"
#include "tpid_jose.h"
#include "tpid_reason.h"

/* Largest extension value the bounds allow, with room for the DER
 * headers; anything longer is refused before it is decoded. */
#define TPID_JCC_MAX_DER                                      \
	(2 * TPID_JCC_MAX_NAMES * (TPID_JCC_MAX_STR + 8)          \
			+ TPID_JCC_MAX_CLAIMS * (TPID_JCC_MAX_VALUES + 1) \
					  * (TPID_JCC_MAX_STR + 8)                \
			+ 64)

/* ---- ASN.1 ---------------------------------------------------------------- */

/* JWTClaimName ::= IA5String; its own name for a stack of them */
typedef ASN1_IA5STRING tpid_jcc_name_asn;
DEFINE_STACK_OF(tpid_jcc_name_asn)

/* JWTClaimPermittedValues ::= SEQUENCE { claim JWTClaimName,
 *     permitted SEQUENCE SIZE (1..MAX) OF UTF8String } */
typedef struct tpid_jcc_pv_asn
{
	ASN1_IA5STRING *claim;
	STACK_OF(ASN1_UTF8STRING) * permitted;
} tpid_jcc_pv_asn;
DEFINE_STACK_OF(tpid_jcc_pv_asn)

/* Both extensions in one structure: RFC 8226's has no mustExclude. */
typedef struct tpid_jcc_asn
{
	STACK_OF(tpid_jcc_name_asn) * must_include; /* [0] JWTClaimNames */
	STACK_OF(tpid_jcc_pv_asn) * permitted;		/* [1] ...ValuesList */
	STACK_OF(tpid_jcc_name_asn) * must_exclude; /* [2] JWTClaimNames */
} tpid_jcc_asn;

/* clang-format off */
ASN1_SEQUENCE(tpid_jcc_pv_asn) = {
	ASN1_SIMPLE(tpid_jcc_pv_asn, claim, ASN1_IA5STRING),
	ASN1_SEQUENCE_OF(tpid_jcc_pv_asn, permitted, ASN1_UTF8STRING),
} static_ASN1_SEQUENCE_END(tpid_jcc_pv_asn)

/* RFC 8226 JWTClaimConstraints: a [2] in it does not decode */
ASN1_SEQUENCE(tpid_jcc_asn_8226) = {
	ASN1_EXP_SEQUENCE_OF_OPT(tpid_jcc_asn, must_include, ASN1_IA5STRING, 0),
	ASN1_EXP_SEQUENCE_OF_OPT(tpid_jcc_asn, permitted, tpid_jcc_pv_asn, 1),
} static_ASN1_SEQUENCE_END_name(tpid_jcc_asn, tpid_jcc_asn_8226)

/* RFC 9118 EnhancedJWTClaimConstraints */
ASN1_SEQUENCE(tpid_jcc_asn_9118) = {
	ASN1_EXP_SEQUENCE_OF_OPT(tpid_jcc_asn, must_include, ASN1_IA5STRING, 0),
	ASN1_EXP_SEQUENCE_OF_OPT(tpid_jcc_asn, permitted, tpid_jcc_pv_asn, 1),
	ASN1_EXP_SEQUENCE_OF_OPT(tpid_jcc_asn, must_exclude, ASN1_IA5STRING, 2),
} static_ASN1_SEQUENCE_END_name(tpid_jcc_asn, tpid_jcc_asn_9118);
/* clang-format on */

/* ---- the parsed constraints ----------------------------------------------- */

struct tpid_jcc
{
	int enhanced;
	json_t *must_include; /* array of names, NULL when absent */
	json_t *permitted;	  /* object: claim -> array of values, or NULL */
	json_t *must_exclude; /* array of names, NULL when absent */
};

void tpid_jcc_free(tpid_jcc_t *c)
{
	if(c == NULL)
		return;
	json_decref(c->must_include);
	json_decref(c->permitted);
	json_decref(c->must_exclude);
	free(c);
}

int tpid_jcc_is_enhanced(const tpid_jcc_t *c)
{
	return c != NULL && c->enhanced;
}

/* A JSON string of an ASN.1 string: at most TPID_JCC_MAX_STR bytes, no NUL,
 * valid UTF-8 (jansson checks); a name (IA5String) also printable ASCII
 * and not empty. NULL when refused. */
static json_t *tpid_jcc_str(const ASN1_STRING *a, int name)
{
	const unsigned char *d = ASN1_STRING_get0_data(a);
	int i, n = ASN1_STRING_length(a);

	if(d == NULL || n < 0 || n > TPID_JCC_MAX_STR || (name && n == 0)
			|| (n > 0 && memchr(d, '\0', (size_t)n) != NULL))
		return NULL;
	for(i = 0; name && i < n; i++) {
		if(d[i] < 0x20 || d[i] > 0x7e)
			return NULL;
	}
	return json_stringn((const char *)d, (size_t)n);
}

/* JWTClaimNames (SIZE 1..MAX) as a JSON array; NULL when refused. */
static json_t *tpid_jcc_names(const STACK_OF(tpid_jcc_name_asn) * sk)
{
	json_t *arr, *s;
	int i, n = sk_tpid_jcc_name_asn_num(sk);

	if(n < 1 || n > TPID_JCC_MAX_NAMES || (arr = json_array()) == NULL)
		return NULL;
	for(i = 0; i < n; i++) {
		s = tpid_jcc_str(sk_tpid_jcc_name_asn_value(sk, i), 1);
		if(s == NULL || json_array_append_new(arr, s) != 0) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

/* Adds one JWTClaimPermittedValues to obj. 0 or -1 (also for a claim
 * listed twice: which list would hold?). */
static int tpid_jcc_add_pv(json_t *obj, const tpid_jcc_pv_asn *pv)
{
	json_t *name = tpid_jcc_str(pv->claim, 1), *vals = NULL, *v;
	int i, n = sk_ASN1_UTF8STRING_num(pv->permitted), rc = -1;

	if(name == NULL || n < 1 || n > TPID_JCC_MAX_VALUES
			|| json_object_get(obj, json_string_value(name)) != NULL
			|| (vals = json_array()) == NULL)
		goto out;
	for(i = 0; i < n; i++) {
		v = tpid_jcc_str(sk_ASN1_UTF8STRING_value(pv->permitted, i), 0);
		if(v == NULL || json_array_append_new(vals, v) != 0)
			goto out;
	}
	rc = json_object_set(obj, json_string_value(name), vals);
out:
	json_decref(name);
	json_decref(vals);
	return rc;
}

/* JWTClaimPermittedValuesList (SIZE 1..MAX) as a JSON object, or NULL. */
static json_t *tpid_jcc_permitted(const STACK_OF(tpid_jcc_pv_asn) * sk)
{
	json_t *obj;
	int i, n = sk_tpid_jcc_pv_asn_num(sk);

	if(n < 1 || n > TPID_JCC_MAX_CLAIMS || (obj = json_object()) == NULL)
		return NULL;
	for(i = 0; i < n; i++) {
		if(tpid_jcc_add_pv(obj, sk_tpid_jcc_pv_asn_value(sk, i)) != 0) {
			json_decref(obj);
			return NULL;
		}
	}
	return obj;
}

/* The decoded extension into c; at least one part present. 0 or -1. */
static int tpid_jcc_convert(const tpid_jcc_asn *a, tpid_jcc_t *c)
{
	if(a->must_include == NULL && a->permitted == NULL
			&& a->must_exclude == NULL)
		return -1;
	if(a->must_include != NULL
			&& (c->must_include = tpid_jcc_names(a->must_include)) == NULL)
		return -1;
	if(a->permitted != NULL
			&& (c->permitted = tpid_jcc_permitted(a->permitted)) == NULL)
		return -1;
	if(a->must_exclude != NULL
			&& (c->must_exclude = tpid_jcc_names(a->must_exclude)) == NULL)
		return -1;
	return 0;
}

/* Decodes DER d/n with item it: the whole input, and DER only (the value
 * must encode back to the same bytes; BER's indefinite lengths and long
 * forms are refused). NULL when refused. */
static tpid_jcc_asn *tpid_jcc_d2i(
		const unsigned char *d, long n, const ASN1_ITEM *it)
{
	const unsigned char *p = d;
	unsigned char *der = NULL;
	ASN1_VALUE *v;
	int dn;

	if(n < 2 || n > TPID_JCC_MAX_DER)
		return NULL;
	v = ASN1_item_d2i(NULL, &p, n, it);
	if(v == NULL)
		return NULL;
	dn = ASN1_item_i2d(v, &der, it);
	if(p != d + n || dn != n || memcmp(der, d, (size_t)n) != 0) {
		ASN1_item_free(v, it);
		v = NULL;
	}
	OPENSSL_free(der);
	return (tpid_jcc_asn *)v;
}

/* Parses one extension value; enhanced selects RFC 9118. NULL if refused. */
static tpid_jcc_t *tpid_jcc_parse(const ASN1_OCTET_STRING *os, int enhanced)
{
	const ASN1_ITEM *it = enhanced ? ASN1_ITEM_rptr(tpid_jcc_asn_9118)
								   : ASN1_ITEM_rptr(tpid_jcc_asn_8226);
	tpid_jcc_asn *a;
	tpid_jcc_t *c;

	a = tpid_jcc_d2i(ASN1_STRING_get0_data(os), ASN1_STRING_length(os), it);
	if(a == NULL)
		return NULL;
	c = calloc(1, sizeof(*c));
	if(c != NULL) {
		c->enhanced = enhanced;
		if(tpid_jcc_convert(a, c) != 0) {
			tpid_jcc_free(c);
			c = NULL;
		}
	}
	ASN1_item_free((ASN1_VALUE *)a, it);
	return c;
}

/* 0: not ours, 1: RFC 8226, 2: RFC 9118. */
static int tpid_jcc_ext_kind(X509_EXTENSION *ext)
{
	char oid[32];
	int n = OBJ_obj2txt(oid, sizeof(oid), X509_EXTENSION_get_object(ext), 1);

	if(n <= 0 || n >= (int)sizeof(oid))
		return 0;
	if(strcmp(oid, TPID_JCC_OID) == 0)
		return 1;
	return strcmp(oid, TPID_EJCC_OID) == 0 ? 2 : 0;
}

int tpid_jcc_from_cert(X509 *cert, tpid_jcc_t **out)
{
	X509_EXTENSION *found = NULL, *ext;
	int i, kind, found_kind = 0;

	*out = NULL;
	if(cert == NULL)
		return -1;
	for(i = 0; i < X509_get_ext_count(cert); i++) {
		ext = X509_get_ext(cert, i);
		kind = tpid_jcc_ext_kind(ext);
		if(kind == 0)
			continue;
		/* RFC 9118: never both; either one once at most */
		if(found != NULL)
			return -1;
		found = ext;
		found_kind = kind;
	}
	if(found == NULL)
		return 0;
	*out = tpid_jcc_parse(X509_EXTENSION_get_data(found), found_kind == 2);
	return *out != NULL ? 1 : -1;
}

/* ---- enforcement ---------------------------------------------------------- */

/* 1 if payload has any (present != 0) or lacks any (present == 0) of the
 * names in arr. */
static int tpid_jcc_any(const json_t *arr, const json_t *payload, int present)
{
	size_t i;
	json_t *n;

	json_array_foreach(arr, i, n)
	{
		if((json_object_get(payload, json_string_value(n)) != NULL) == present)
			return 1;
	}
	return 0;
}

/* 1 if v is a string equal to one of the strings in vals. */
static int tpid_jcc_value_ok(const json_t *vals, const json_t *v)
{
	size_t i;
	json_t *a;

	if(!json_is_string(v))
		return 0;
	json_array_foreach(vals, i, a)
	{
		if(json_equal(a, (json_t *)v))
			return 1;
	}
	return 0;
}

int tpid_jcc_check(const tpid_jcc_t *c, const json_t *payload)
{
	const char *claim;
	json_t *vals, *v;

	if(c == NULL)
		return TPID_OK;
	if(!json_is_object(payload))
		return TPID_R_CLAIM_CONSTRAINTS;
	if(c->must_include && tpid_jcc_any(c->must_include, payload, 0))
		return TPID_R_CLAIM_CONSTRAINTS;
	if(c->must_exclude && tpid_jcc_any(c->must_exclude, payload, 1))
		return TPID_R_CLAIM_CONSTRAINTS;
	json_object_foreach(c->permitted, claim, vals)
	{
		v = json_object_get(payload, claim);
		if(v != NULL && !tpid_jcc_value_ok(vals, v))
			return TPID_R_CLAIM_CONSTRAINTS;
	}
	return TPID_OK;
}

int tpid_jcc_check_payload_b64u(
		const tpid_jcc_t *c, const char *b64u, size_t len)
{
	json_t *payload;
	int rc;

	if(c == NULL)
		return TPID_OK;
	if(b64u == NULL || len > TPID_MAX_HDR_LEN)
		return TPID_R_CLAIM_CONSTRAINTS;
	payload = tpid_jose_json_b64u(b64u, len);
	if(payload == NULL)
		return TPID_R_CLAIM_CONSTRAINTS;
	rc = tpid_jcc_check(c, payload);
	json_decref(payload);
	return rc;
}
