/*
 * tpid_assert - unit tests of the JWT claim constraints (tpid_jcc.c).
 * Certificates are made at test time; extension values are encoded with
 * OpenSSL's ASN1_generate_nconf() or, for malformed DER, written as bytes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/asn1.h>
#include <openssl/conf.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tpid_jcc.h"
#include "tpid_jose.h"
#include "tpid_reason.h"

#define J8226 TPID_JCC_OID
#define J9118 TPID_EJCC_OID

static EVP_PKEY *key;

static int setup(void **state)
{
	(void)state;
	key = EVP_EC_gen("P-256");
	return key != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(key);
	return 0;
}

/* DER of "SEQUENCE:top" from an ASN1_generate_nconf() configuration;
 * OPENSSL_free() it. Fails the test when OpenSSL refuses the config. */
static int der_from_cnf(const char *cnf, unsigned char **der)
{
	BIO *b = BIO_new_mem_buf(cnf, -1);
	CONF *conf = NCONF_new(NULL);
	ASN1_TYPE *t;
	long eline = 0;
	int n;

	assert_int_equal(NCONF_load_bio(conf, b, &eline), 1);
	t = ASN1_generate_nconf("SEQUENCE:top", conf);
	assert_non_null(t);
	*der = NULL;
	n = i2d_ASN1_TYPE(t, der);
	assert_true(n > 0);
	ASN1_TYPE_free(t);
	NCONF_free(conf);
	BIO_free(b);
	return n;
}

/* Adds extension oid with value der/n to x. */
static void add_ext(X509 *x, const char *oid, const unsigned char *der, int n)
{
	ASN1_OBJECT *o = OBJ_txt2obj(oid, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e;

	assert_int_equal(ASN1_OCTET_STRING_set(os, der, n), 1);
	e = X509_EXTENSION_create_by_OBJ(NULL, o, 0, os);
	assert_non_null(e);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(o);
}

/* A self-signed P-256 certificate, taken through DER as a peer sends it;
 * with the extension oid/der/n when oid is not NULL, twice when twice. */
static X509 *mk_cert(
		const char *oid, const unsigned char *der, int n, int twice)
{
	X509 *x = X509_new(), *y;
	X509_NAME *nm = X509_get_subject_name(x);
	unsigned char *buf = NULL;
	const unsigned char *p;
	int len;

	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_NAME_add_entry_by_txt(
			nm, "CN", MBSTRING_ASC, (const unsigned char *)"jcc", -1, -1, 0);
	X509_set_issuer_name(x, nm);
	X509_set_pubkey(x, key);
	if(oid != NULL)
		add_ext(x, oid, der, n);
	if(oid != NULL && twice)
		add_ext(x, oid, der, n);
	assert_true(X509_sign(x, key, EVP_sha256()) > 0);
	len = i2d_X509(x, &buf);
	assert_true(len > 0);
	p = buf;
	y = d2i_X509(NULL, &p, len);
	assert_non_null(y);
	OPENSSL_free(buf);
	X509_free(x);
	return y;
}

/* tpid_jcc_from_cert() on a certificate with one extension from cnf. */
static int parse_cnf(const char *oid, const char *cnf, tpid_jcc_t **out)
{
	unsigned char *der;
	int n = der_from_cnf(cnf, &der), rc;
	X509 *x = mk_cert(oid, der, n, 0);

	rc = tpid_jcc_from_cert(x, out);
	X509_free(x);
	OPENSSL_free(der);
	return rc;
}

static int parse_raw(const char *oid, const unsigned char *der, int n)
{
	tpid_jcc_t *c = NULL;
	X509 *x = mk_cert(oid, der, n, 0);
	int rc = tpid_jcc_from_cert(x, &c);

	if(rc != 1)
		assert_null(c);
	tpid_jcc_free(c);
	X509_free(x);
	return rc;
}

/* ---- configurations ------------------------------------------------------- */

#define NAMES_TPID "[names]\nn0 = IA5STRING:tpid\n"
#define PV_CRN                                                           \
	"[pvl]\np0 = SEQUENCE:pv0\n[pv0]\nclaim = IA5STRING:crn\n"           \
	"vals = SEQUENCE:vals0\n[vals0]\nv0 = UTF8String:Customer service\n" \
	"v1 = UTF8String:Sales\n"

static const char cnf_include[] =
		"[top]\nmi = EXP:0,SEQUENCE:names\n" NAMES_TPID;
static const char cnf_permitted[] = "[top]\npv = EXP:1,SEQUENCE:pvl\n" PV_CRN;
static const char cnf_exclude[] =
		"[top]\nmx = EXP:2,SEQUENCE:names\n" NAMES_TPID;
static const char cnf_all[] =
		"[top]\nmi = EXP:0,SEQUENCE:inc\n"
		"pv = EXP:1,SEQUENCE:pvl\n"
		"mx = EXP:2,SEQUENCE:names\n"
		"[inc]\nn0 = IA5STRING:rcd\nn1 = IA5STRING:orig\n" NAMES_TPID PV_CRN;

typedef struct parse_case
{
	const char *what;
	const char *oid;
	const char *cnf;
	int rc;
} parse_case_t;

static const parse_case_t parse_cases[] = {
		{"8226 mustInclude", J8226, cnf_include, 1},
		{"8226 permittedValues", J8226, cnf_permitted, 1},
		{"8226 both", J8226,
				"[top]\nmi = EXP:0,SEQUENCE:names\npv = "
				"EXP:1,SEQUENCE:pvl\n" NAMES_TPID PV_CRN,
				1},
		{"9118 mustInclude", J9118, cnf_include, 1},
		{"9118 permittedValues", J9118, cnf_permitted, 1},
		{"9118 mustExclude", J9118, cnf_exclude, 1},
		{"9118 all three", J9118, cnf_all, 1},
		{"8226 with mustExclude", J8226, cnf_exclude, -1},
		{"8226 with all three", J8226, cnf_all, -1},
		{"tag [3]", J9118, "[top]\nx = EXP:3,SEQUENCE:names\n" NAMES_TPID, -1},
		{"implicit [0]", J9118, "[top]\nmi = IMP:0,SEQUENCE:names\n" NAMES_TPID,
				-1},
		{"order [2] [0]", J9118,
				"[top]\nmx = EXP:2,SEQUENCE:names\nmi = "
				"EXP:0,SEQUENCE:names\n" NAMES_TPID,
				-1},
		{"[0] twice", J9118,
				"[top]\nmi = EXP:0,SEQUENCE:names\nm2 = "
				"EXP:0,SEQUENCE:names\n" NAMES_TPID,
				-1},
		{"name UTF8String", J9118,
				"[top]\nmi = EXP:0,SEQUENCE:n\n[n]\nn0 = UTF8String:tpid\n",
				-1},
		{"name PrintableString", J9118,
				"[top]\nmi = EXP:0,SEQUENCE:n\n[n]\nn0 = "
				"PRINTABLESTRING:tpid\n",
				-1},
		{"name not in a SEQUENCE", J9118, "[top]\nmi = EXP:0,IA5STRING:tpid\n",
				-1},
		{"names in a SET", J9118, "[top]\nmi = EXP:0,SET:names\n" NAMES_TPID,
				-1},
		{"empty name", J9118,
				"[top]\nmi = EXP:0,SEQUENCE:n\n[n]\nn0 = IA5STRING:\n", -1},
		{"value IA5String", J8226,
				"[top]\npv = EXP:1,SEQUENCE:l\n[l]\np = SEQUENCE:v\n[v]\nc = "
				"IA5STRING:crn\nv = SEQUENCE:s\n[s]\ns = IA5STRING:x\n",
				-1},
		{"value UTF-8 ok", J8226,
				"[top]\npv = EXP:1,SEQUENCE:l\n[l]\np = SEQUENCE:v\n[v]\nc = "
				"IA5STRING:crn\nv = SEQUENCE:s\n[s]\ns = "
				"FORMAT:UTF8,UTF8String:\xc3\xa9\n",
				1},
		{"permitted without values", J8226,
				"[top]\npv = EXP:1,SEQUENCE:l\n[l]\np = SEQUENCE:v\n[v]\nc = "
				"IA5STRING:crn\n",
				-1},
		{"permitted values not a SEQUENCE", J8226,
				"[top]\npv = EXP:1,SEQUENCE:l\n[l]\np = SEQUENCE:v\n[v]\nc = "
				"IA5STRING:crn\nv = UTF8String:x\n",
				-1},
		{"permitted extra field", J8226,
				"[top]\npv = EXP:1,SEQUENCE:l\n[l]\np = SEQUENCE:v\n[v]\nc = "
				"IA5STRING:crn\nv = SEQUENCE:s\nw = SEQUENCE:s\n[s]\ns = "
				"UTF8String:x\n",
				-1},
		{"claim twice in permittedValues", J8226,
				"[top]\npv = EXP:1,SEQUENCE:l\n[l]\np = SEQUENCE:v\nq = "
				"SEQUENCE:v\n[v]\nc = IA5STRING:crn\nv = SEQUENCE:s\n[s]\ns = "
				"UTF8String:x\n",
				-1},
		{"trailing field", J9118,
				"[top]\nmi = EXP:0,SEQUENCE:names\nx = INTEGER:1\n" NAMES_TPID,
				-1},
};

static void test_parse_table(void **state)
{
	tpid_jcc_t *c;
	size_t i;
	int rc;

	(void)state;
	for(i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		c = (tpid_jcc_t *)1;
		rc = parse_cnf(parse_cases[i].oid, parse_cases[i].cnf, &c);
		if(rc != parse_cases[i].rc)
			fail_msg("%s: %d, expected %d", parse_cases[i].what, rc,
					parse_cases[i].rc);
		if(rc == 1)
			assert_int_equal(tpid_jcc_is_enhanced(c),
					strcmp(parse_cases[i].oid, J9118) == 0);
		else
			assert_null(c);
		tpid_jcc_free(c);
	}
}

/* No extension: 0 and no constraints; both kinds, or one twice: -1. */
static void test_presence(void **state)
{
	tpid_jcc_t *c = (tpid_jcc_t *)1;
	unsigned char *der;
	int n = der_from_cnf(cnf_include, &der);
	X509 *x = mk_cert(NULL, NULL, 0, 0);

	(void)state;
	assert_int_equal(tpid_jcc_from_cert(x, &c), 0);
	assert_null(c);
	X509_free(x);
	x = mk_cert(J9118, der, n, 1);
	assert_int_equal(tpid_jcc_from_cert(x, &c), -1);
	assert_null(c);
	X509_free(x);
	x = mk_cert(J8226, der, n, 0);
	add_ext(x, J9118, der, n);
	assert_int_equal(tpid_jcc_from_cert(x, &c), -1);
	X509_free(x);
	assert_int_equal(tpid_jcc_from_cert(NULL, &c), -1);
	OPENSSL_free(der);
}

/* Hand-made DER: what no ASN.1 encoder emits. */
static void test_malformed_der(void **state)
{
	static const unsigned char good[] = {
			0x30, 0x0a, 0xa0, 0x08, 0x30, 0x06, 0x16, 0x04, 't', 'p', 'i', 'd'};
	static const struct
	{
		const char *what;
		unsigned char d[20];
		int n;
	} bad[] = {
			{"empty", {0}, 0},
			{"empty SEQUENCE", {0x30, 0x00}, 2},
			{"empty names", {0x30, 0x04, 0xa0, 0x02, 0x30, 0x00}, 6},
			{"empty permitted list", {0x30, 0x04, 0xa1, 0x02, 0x30, 0x00}, 6},
			{"empty [0]", {0x30, 0x02, 0xa0, 0x00}, 4},
			{"truncated",
					{0x30, 0x0a, 0xa0, 0x08, 0x30, 0x06, 0x16, 0x04, 't', 'p',
							'i'},
					11},
			{"trailing byte",
					{0x30, 0x0a, 0xa0, 0x08, 0x30, 0x06, 0x16, 0x04, 't', 'p',
							'i', 'd', 0x00},
					13},
			{"SET outside",
					{0x31, 0x0a, 0xa0, 0x08, 0x30, 0x06, 0x16, 0x04, 't', 'p',
							'i', 'd'},
					12},
			{"indefinite length (BER)",
					{0x30, 0x80, 0xa0, 0x08, 0x30, 0x06, 0x16, 0x04, 't', 'p',
							'i', 'd', 0x00, 0x00},
					14},
			{"long-form length (BER)",
					{0x30, 0x81, 0x0a, 0xa0, 0x08, 0x30, 0x06, 0x16, 0x04, 't',
							'p', 'i', 'd'},
					13},
			{"length past the end",
					{0x30, 0x7f, 0xa0, 0x08, 0x30, 0x06, 0x16, 0x04, 't', 'p',
							'i', 'd'},
					12},
			{"huge length",
					{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff, 0xa0, 0x08, 0x30,
							0x06},
					10},
			{"primitive [0]",
					{0x30, 0x0a, 0x80, 0x08, 0x30, 0x06, 0x16, 0x04, 't', 'p',
							'i', 'd'},
					12},
			{"constructed IA5String",
					{0x30, 0x0c, 0xa0, 0x0a, 0x30, 0x08, 0x36, 0x06, 0x04, 0x04,
							't', 'p', 'i', 'd'},
					14},
			{"NULL", {0x05, 0x00}, 2},
	};
	size_t i;

	(void)state;
	assert_int_equal(parse_raw(J9118, good, sizeof(good)), 1);
	assert_int_equal(parse_raw(J8226, good, sizeof(good)), 1);
	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if(parse_raw(J9118, bad[i].d, bad[i].n) != -1)
			fail_msg("9118 accepted %s", bad[i].what);
		if(parse_raw(J8226, bad[i].d, bad[i].n) != -1)
			fail_msg("8226 accepted %s", bad[i].what);
	}
}

/* DER of a 9118 value with one name (as_value 0) in mustInclude or one
 * permitted value for "crn" (as_value 1) of the bytes s/k (k < 100). */
static int der_one(unsigned char *d, const char *s, int k, int as_value)
{
	static const unsigned char crn[] = {0x16, 0x03, 'c', 'r', 'n'};
	unsigned char *p = d;

	if(as_value) {
		*p++ = 0x30, *p++ = (unsigned char)(k + 15);
		*p++ = 0xa1, *p++ = (unsigned char)(k + 13);
		*p++ = 0x30, *p++ = (unsigned char)(k + 11);
		*p++ = 0x30, *p++ = (unsigned char)(k + 9);
		memcpy(p, crn, sizeof(crn));
		p += sizeof(crn);
		*p++ = 0x30, *p++ = (unsigned char)(k + 2), *p++ = 0x0c;
	} else {
		*p++ = 0x30, *p++ = (unsigned char)(k + 6);
		*p++ = 0xa0, *p++ = (unsigned char)(k + 4);
		*p++ = 0x30, *p++ = (unsigned char)(k + 2), *p++ = 0x16;
	}
	*p++ = (unsigned char)k;
	memcpy(p, s, (size_t)k);
	return (int)(p - d) + k;
}

/* Names: printable ASCII; values: UTF-8; neither with NUL. */
static void test_hostile_strings(void **state)
{
	static const struct
	{
		const char *s;
		int k, name_ok, value_ok;
	} cases[] = {
			{"tpid", 4, 1, 1},
			{"a b", 3, 1, 1},
			{"tp\nid", 5, 0, 1},
			{"tp\0id", 5, 0, 0},
			{"tp\x7fid", 5, 0, 1},
			{"tp\x80id", 5, 0, 0},
			{"\xc3\xa9", 2, 0, 1},
			{"\xc3\x28", 2, 0, 0},
			{"\xed\xa0\x80", 3, 0, 0},	   /* a surrogate */
			{"\xc0\xaf", 2, 0, 0},		   /* overlong '/' */
			{"\xf4\x90\x80\x80", 4, 0, 0}, /* past U+10FFFF */
			{"\"", 1, 1, 1},
			{"", 0, 0, 1},
	};
	unsigned char der[128];
	size_t i;
	int n;

	(void)state;
	for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = der_one(der, cases[i].s, cases[i].k, 0);
		if(parse_raw(J9118, der, n) != (cases[i].name_ok ? 1 : -1))
			fail_msg("name case %zu", i);
		n = der_one(der, cases[i].s, cases[i].k, 1);
		if(parse_raw(J9118, der, n) != (cases[i].value_ok ? 1 : -1))
			fail_msg("value case %zu", i);
	}
}

/* A configuration with n names (each len bytes) in mustInclude, or with
 * one permitted claim of n values, or n permitted claims. */
enum
{
	BIG_NAMES,
	BIG_VALUES,
	BIG_CLAIMS
};

static char *big_cnf(int kind, int n, int len)
{
	size_t size = 64 + (size_t)n * (size_t)(len + 96);
	char *cnf = malloc(size), *p = cnf, *end = cnf + size;
	int i;

	assert_non_null(cnf);
	if(kind == BIG_NAMES)
		p += snprintf(
				p, (size_t)(end - p), "[top]\nmi = EXP:0,SEQUENCE:n\n[n]\n");
	else if(kind == BIG_VALUES)
		p += snprintf(p, (size_t)(end - p),
				"[top]\npv = EXP:1,SEQUENCE:l\n[l]\np = SEQUENCE:v\n[v]\nc = "
				"IA5STRING:crn\nv = SEQUENCE:s\n[s]\n");
	else
		p += snprintf(
				p, (size_t)(end - p), "[top]\npv = EXP:1,SEQUENCE:l\n[l]\n");
	for(i = 0; i < n; i++) {
		if(kind == BIG_CLAIMS) {
			p += snprintf(p, (size_t)(end - p), "p%d = SEQUENCE:v%d\n", i, i);
			continue;
		}
		p += snprintf(p, (size_t)(end - p), "x%d = %s:%05d", i,
				kind == BIG_NAMES ? "IA5STRING" : "UTF8String", i);
		memset(p, 'a', (size_t)len - 5);
		p += len - 5;
		*p++ = '\n';
	}
	*p = '\0';
	for(i = 0; kind == BIG_CLAIMS && i < n; i++)
		p += snprintf(p, (size_t)(end - p),
				"[v%d]\nc = IA5STRING:c%d\nv = SEQUENCE:s\n", i, i);
	if(kind == BIG_CLAIMS)
		snprintf(p, (size_t)(end - p), "[s]\ns = UTF8String:x\n");
	return cnf;
}

static void test_bounds(void **state)
{
	static const struct
	{
		int kind, n, len, rc;
	} cases[] = {
			{BIG_NAMES, 32, 6, 1},
			{BIG_NAMES, 33, 6, -1},
			{BIG_NAMES, 1, 256, 1},
			{BIG_NAMES, 1, 257, -1},
			{BIG_NAMES, 1000, 6, -1},
			{BIG_VALUES, 32, 256, 1},
			{BIG_VALUES, 33, 6, -1},
			{BIG_VALUES, 1, 257, -1},
			{BIG_CLAIMS, 32, 0, 1},
			{BIG_CLAIMS, 33, 0, -1},
	};
	tpid_jcc_t *c;
	size_t i;
	char *cnf;
	int rc;

	(void)state;
	for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cnf = big_cnf(cases[i].kind, cases[i].n, cases[i].len);
		c = NULL;
		rc = parse_cnf(J9118, cnf, &c);
		if(rc != cases[i].rc)
			fail_msg("bounds case %zu: %d, expected %d", i, rc, cases[i].rc);
		tpid_jcc_free(c);
		free(cnf);
	}
}

/* ---- enforcement ---------------------------------------------------------- */

typedef struct check_case
{
	const char *cnf;
	const char *oid;
	const char *payload;
	int ok;
} check_case_t;

#define P_TPID "{\"iat\":1,\"orig\":{\"tn\":\"1\"},\"tpid\":{\"id\":\"x\"}}"
#define P_PLAIN "{\"iat\":1,\"orig\":{\"tn\":\"1\"}}"

static const check_case_t check_cases[] = {
		{cnf_include, J8226, P_TPID, 1},
		{cnf_include, J8226, P_PLAIN, 0},
		{cnf_include, J8226, "{\"x\":{\"tpid\":1}}", 0}, /* top level only */
		{cnf_include, J8226, "{\"tpid\":null}", 1},
		{cnf_include, J8226, "{\"TPID\":{}}", 0},
		{cnf_include, J8226, "{\"tpid \":{}}", 0},
		{cnf_exclude, J9118, P_PLAIN, 1},
		{cnf_exclude, J9118, P_TPID, 0},
		{cnf_exclude, J9118, "{\"tpid\":null}", 0},
		{cnf_exclude, J9118, "{\"tpid\":{},\"a\":1}", 0},
		{cnf_exclude, J9118, "{\"Tpid\":{}}", 1},
		{cnf_permitted, J8226, P_PLAIN, 1}, /* absent: nothing to check */
		{cnf_permitted, J8226, "{\"crn\":\"Sales\"}", 1},
		{cnf_permitted, J8226, "{\"crn\":\"Customer service\"}", 1},
		{cnf_permitted, J8226, "{\"crn\":\"sales\"}", 0},
		{cnf_permitted, J8226, "{\"crn\":\"Sales \"}", 0},
		{cnf_permitted, J8226, "{\"crn\":\"Sale\"}", 0},
		{cnf_permitted, J8226, "{\"crn\":\"Sales\\u0000\"}", 0},
		{cnf_permitted, J8226, "{\"crn\":\"\"}", 0},
		{cnf_permitted, J8226, "{\"crn\":[\"Sales\"]}", 0},
		{cnf_permitted, J8226, "{\"crn\":{\"Sales\":1}}", 0},
		{cnf_permitted, J8226, "{\"crn\":null}", 0},
		{cnf_permitted, J8226, "{\"crn\":1}", 0},
		{cnf_all, J9118, "{\"orig\":{},\"rcd\":{},\"crn\":\"Sales\"}", 1},
		{cnf_all, J9118, "{\"orig\":{},\"rcd\":{}}", 1},
		{cnf_all, J9118, "{\"orig\":{},\"rcd\":{},\"crn\":\"x\"}", 0},
		{cnf_all, J9118, "{\"orig\":{},\"crn\":\"Sales\"}", 0},
		{cnf_all, J9118, "{\"orig\":{},\"rcd\":{},\"tpid\":{}}", 0},
		{cnf_all, J9118, "[]", 0},
		{cnf_all, J9118, "\"orig\"", 0},
};

static void test_check_table(void **state)
{
	const check_case_t *k;
	json_t *payload;
	json_error_t err;
	tpid_jcc_t *c;
	size_t i;
	int want;

	(void)state;
	for(i = 0; i < sizeof(check_cases) / sizeof(check_cases[0]); i++) {
		k = &check_cases[i];
		assert_int_equal(parse_cnf(k->oid, k->cnf, &c), 1);
		payload =
				json_loads(k->payload, JSON_DECODE_ANY | JSON_ALLOW_NUL, &err);
		assert_non_null(payload);
		want = k->ok ? TPID_OK : TPID_R_CLAIM_CONSTRAINTS;
		if(tpid_jcc_check(c, payload) != want)
			fail_msg("check %s: expected %d", k->payload, k->ok);
		json_decref(payload);
		tpid_jcc_free(c);
	}
	assert_int_equal(tpid_jcc_check(NULL, NULL), TPID_OK);
}

static void test_check_b64u(void **state)
{
	static const char *const bad[] = {"", "e30=", "e30.", "e3 0", "W10", "ImEi",
			"eyJ0cGlkIjoxLCJ0cGlkIjoyfQ", "e30\n"};
	char b64[256], big[TPID_JCC_MAX_STR * 40];
	tpid_jcc_t *c;
	size_t i;
	int n;

	(void)state;
	assert_int_equal(parse_cnf(J9118, cnf_exclude, &c), 1);
	n = tpid_b64u_encode(
			(const unsigned char *)P_PLAIN, strlen(P_PLAIN), b64, sizeof(b64));
	assert_true(n > 0);
	assert_int_equal(tpid_jcc_check_payload_b64u(c, b64, (size_t)n), TPID_OK);
	n = tpid_b64u_encode(
			(const unsigned char *)P_TPID, strlen(P_TPID), b64, sizeof(b64));
	assert_int_equal(tpid_jcc_check_payload_b64u(c, b64, (size_t)n),
			TPID_R_CLAIM_CONSTRAINTS);
	/* "{}" is e30; W10 is [], ImEi "a", then padding, blanks, dup keys */
	assert_int_equal(tpid_jcc_check_payload_b64u(c, "e30", 3), TPID_OK);
	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if(tpid_jcc_check_payload_b64u(c, bad[i], strlen(bad[i]))
				!= TPID_R_CLAIM_CONSTRAINTS)
			fail_msg("accepted %s", bad[i]);
	}
	assert_int_equal(
			tpid_jcc_check_payload_b64u(c, NULL, 0), TPID_R_CLAIM_CONSTRAINTS);
	memset(big, 'A', sizeof(big));
	assert_int_equal(tpid_jcc_check_payload_b64u(c, big, sizeof(big)),
			TPID_R_CLAIM_CONSTRAINTS);
	assert_int_equal(tpid_jcc_check_payload_b64u(NULL, "!", 1), TPID_OK);
	tpid_jcc_free(c);
}

/* ---- the test PKI (tools/make-pki.sh), when it was made ------------------- */

static X509 *load_pki(const char *name)
{
	const char *dir = getenv("TPID_PKI");
	char path[512];
	X509 *x;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s.pem", dir ? dir : "build/pki", name);
	f = fopen(path, "r");
	if(f == NULL)
		return NULL;
	x = PEM_read_X509(f, NULL, NULL, NULL);
	fclose(f);
	return x;
}

static void test_pki_files(void **state)
{
	X509 *no = load_pki("sign-noTPID"), *pin = load_pki("sign-pinrcd"),
		 *plain = load_pki("sign");
	tpid_jcc_t *c = NULL;

	(void)state;
	if(no == NULL || pin == NULL || plain == NULL) {
		X509_free(no);
		X509_free(pin);
		X509_free(plain);
		skip();
	}
	assert_int_equal(tpid_jcc_from_cert(plain, &c), 0);
	assert_int_equal(tpid_jcc_from_cert(no, &c), 1);
	assert_true(tpid_jcc_is_enhanced(c));
	assert_int_equal(tpid_jcc_check_payload_b64u(c, "e30", 3), TPID_OK);
	assert_int_equal(tpid_jcc_check_payload_b64u(c, "eyJ0cGlkIjp7fX0", 15),
			TPID_R_CLAIM_CONSTRAINTS); /* {"tpid":{}} */
	tpid_jcc_free(c);
	assert_int_equal(tpid_jcc_from_cert(pin, &c), 1);
	assert_false(tpid_jcc_is_enhanced(c));
	/* {"rcd":{},"tpid":{}} passes; {"rcd":{},"tpid":{},"crn":"x"} not */
	assert_int_equal(
			tpid_jcc_check_payload_b64u(c, "eyJyY2QiOnt9LCJ0cGlkIjp7fX0", 27),
			TPID_OK);
	assert_int_equal(tpid_jcc_check_payload_b64u(
							 c, "eyJyY2QiOnt9LCJ0cGlkIjp7fSwiY3JuIjoieCJ9", 40),
			TPID_R_CLAIM_CONSTRAINTS);
	assert_int_equal(tpid_jcc_check_payload_b64u(c, "eyJ0cGlkIjp7fX0", 15),
			TPID_R_CLAIM_CONSTRAINTS); /* no rcd */
	tpid_jcc_free(c);
	X509_free(no);
	X509_free(pin);
	X509_free(plain);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_parse_table),
			cmocka_unit_test(test_presence),
			cmocka_unit_test(test_malformed_der),
			cmocka_unit_test(test_hostile_strings),
			cmocka_unit_test(test_bounds),
			cmocka_unit_test(test_check_table),
			cmocka_unit_test(test_check_b64u),
			cmocka_unit_test(test_pki_files),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
