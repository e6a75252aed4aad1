/*
 * tpid_assert - unit tests of the trust store (tpid_trust.c).
 *
 * Keys and certificates are made here with the OpenSSL API, so that every
 * case (other CA, intermediate, validity window, key type) is built exactly
 * and no fixture can expire. All times are fixed around T0: the chain is
 * checked without a clock and validity only against the time passed in.
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
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "test_pki.h"
#include "tpid_reason.h"
#include "tpid_trust.h"

#define T0 1760000000
#define DAY 86400
#define YEAR (365 * DAY)

#define X5U_LEAF "https://cert.example.net/leaf.pem"
#define X5U_OTHER "https://cert.example.net/other.pem"
#define X5U_SUB "https://cert.example.net/sub.pem"

/* leaf.pem is valid exactly [LEAF_NB, LEAF_NA] */
#define LEAF_NB (T0 - DAY)
#define LEAF_NA (T0 + DAY)
/* the intermediate expires long before the leaf below it */
#define INTER_NA (T0 + 10 * DAY)

static char dir[64];

enum
{
	F_CA,		/* root, the only anchor */
	F_OTHER_CA, /* another root, never loaded */
	F_LEAF,		/* P-256 leaf issued by the root */
	F_OTHER,	/* leaf issued by the other root, shipped with that root */
	F_SUB,		/* leaf issued by the intermediate, then the intermediate */
	F_SUB_ONLY, /* the same leaf without its intermediate */
	F_RSA,		/* RSA leaf issued by the root */
	F_P384,		/* P-384 leaf issued by the root */
	F_NOCERT,	/* text, no PEM block */
	F_KEYONLY,	/* a PEM private key, no certificate */
	F_COUNT
};

static const char *fname[F_COUNT] = {"ca.pem", "other-ca.pem", "leaf.pem",
		"other.pem", "sub.pem", "sub-only.pem", "rsa.pem", "p384.pem",
		"nocert.pem", "keyonly.pem"};
static char path[F_COUNT][128];
static char missing[128];

static EVP_PKEY *ca_key, *other_ca_key, *inter_key, *leaf_key, *other_key,
		*sub_key, *rsa_key, *p384_key;

/* ---- fixtures ------------------------------------------------------------- */

/* Writes the certificates in order; a NULL entry ends the list. */
static int write_pem(const char *file, X509 *a, X509 *b)
{
	FILE *f = fopen(file, "w");
	int ok;

	if(f == NULL)
		return -1;
	ok = PEM_write_X509(f, a) == 1 && (b == NULL || PEM_write_X509(f, b) == 1);
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int write_text(const char *file, const char *text)
{
	FILE *f = fopen(file, "w");
	int ok;

	if(f == NULL)
		return -1;
	ok = fputs(text, f) >= 0;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static int write_key(const char *file, EVP_PKEY *key)
{
	FILE *f = fopen(file, "w");
	int ok;

	if(f == NULL)
		return -1;
	ok = PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL) == 1;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* issuer NULL: self-signed. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer,
		EVP_PKEY *issuer_key, int ca, int64_t nb, int64_t na, long serial)
{
	return ca ? pki_ca(key, cn, issuer, issuer_key, nb, na, serial)
			  : pki_leaf(key, cn, issuer, issuer_key, nb, na, serial);
}

/* Certificates kept for the in-memory cases (tpid_trust_validate). */
static X509 *ca, *other_ca, *inter, *leaf, *other, *sub, *rsa, *p384;

static int make_files(void)
{
	/* the other root has the root's name, so only the signature can tell
	 * their leaves apart */
	ca = make_cert(ca_key, "TPID Test Root", NULL, NULL, 1, T0 - 10 * YEAR,
			T0 + 10 * YEAR, 1);
	other_ca = make_cert(other_ca_key, "TPID Test Root", NULL, NULL, 1,
			T0 - 10 * YEAR, T0 + 10 * YEAR, 1);
	inter = make_cert(inter_key, "TPID Test Intermediate", ca, ca_key, 1,
			T0 - 10 * DAY, INTER_NA, 2);
	leaf = make_cert(leaf_key, "leaf", ca, ca_key, 0, LEAF_NB, LEAF_NA, 3);
	other = make_cert(other_key, "other", other_ca, other_ca_key, 0, T0 - YEAR,
			T0 + YEAR, 4);
	sub = make_cert(
			sub_key, "sub", inter, inter_key, 0, T0 - YEAR, T0 + YEAR, 5);
	rsa = make_cert(rsa_key, "rsa", ca, ca_key, 0, T0 - YEAR, T0 + YEAR, 6);
	p384 = make_cert(p384_key, "p384", ca, ca_key, 0, T0 - YEAR, T0 + YEAR, 7);

	if(ca && other_ca && inter && leaf && other && sub && rsa && p384
			&& write_pem(path[F_CA], ca, NULL) == 0
			&& write_pem(path[F_OTHER_CA], other_ca, NULL) == 0
			&& write_pem(path[F_LEAF], leaf, NULL) == 0
			&& write_pem(path[F_OTHER], other, other_ca) == 0
			&& write_pem(path[F_SUB], sub, inter) == 0
			&& write_pem(path[F_SUB_ONLY], sub, NULL) == 0
			&& write_pem(path[F_RSA], rsa, NULL) == 0
			&& write_pem(path[F_P384], p384, NULL) == 0
			&& write_text(path[F_NOCERT], "not a certificate\n") == 0
			&& write_key(path[F_KEYONLY], leaf_key) == 0)
		return 0;
	return -1;
}

static int group_setup(void **state)
{
	int i;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/tpid_trust_XXXXXX");
	if(mkdtemp(dir) == NULL)
		return -1;
	for(i = 0; i < F_COUNT; i++)
		snprintf(path[i], sizeof(path[i]), "%s/%s", dir, fname[i]);
	snprintf(missing, sizeof(missing), "%s/missing.pem", dir);
	ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	other_ca_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	inter_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	leaf_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	other_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	sub_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	rsa_key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	p384_key = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
	if(!ca_key || !other_ca_key || !inter_key || !leaf_key || !other_key
			|| !sub_key || !rsa_key || !p384_key)
		return -1;
	return make_files();
}

static int group_teardown(void **state)
{
	int i;

	(void)state;
	for(i = 0; i < F_COUNT; i++)
		unlink(path[i]);
	rmdir(dir);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(other_ca_key);
	EVP_PKEY_free(inter_key);
	EVP_PKEY_free(leaf_key);
	EVP_PKEY_free(other_key);
	EVP_PKEY_free(sub_key);
	EVP_PKEY_free(rsa_key);
	EVP_PKEY_free(p384_key);
	X509_free(ca);
	X509_free(other_ca);
	X509_free(inter);
	X509_free(leaf);
	X509_free(other);
	X509_free(sub);
	X509_free(rsa);
	X509_free(p384);
	return 0;
}

/* ---- helpers -------------------------------------------------------------- */

/* A store with the root loaded. */
static tpid_trust_t *store(void)
{
	tpid_trust_t *t = tpid_trust_new();
	char err[256];

	assert_non_null(t);
	assert_int_equal(tpid_trust_load_ca(t, path[F_CA], err, sizeof(err)), 0);
	return t;
}

static void add(tpid_trust_t *t, const char *x5u, int file)
{
	char err[256];

	assert_int_equal(
			tpid_trust_add_cert(t, x5u, path[file], err, sizeof(err)), 0);
}

static int get_key(const tpid_trust_t *t, const char *x5u, int64_t now)
{
	EVP_PKEY *pub = NULL;

	return tpid_trust_get_key(t, x5u, now, &pub);
}

/* 1 when sig, made by signer, verifies under pub. */
static int sig_verifies(EVP_PKEY *signer, EVP_PKEY *pub)
{
	static const unsigned char msg[] = "tpid trust test";
	unsigned char sig[128];
	size_t siglen = sizeof(sig);
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	int rc;

	assert_non_null(md);
	assert_int_equal(
			EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL, signer), 1);
	assert_int_equal(EVP_DigestSign(md, sig, &siglen, msg, sizeof(msg) - 1), 1);
	EVP_MD_CTX_free(md);
	md = EVP_MD_CTX_new();
	assert_non_null(md);
	assert_int_equal(
			EVP_DigestVerifyInit(md, NULL, EVP_sha256(), NULL, pub), 1);
	rc = EVP_DigestVerify(md, sig, siglen, msg, sizeof(msg) - 1);
	EVP_MD_CTX_free(md);
	return rc == 1;
}

/* ---- get_key -------------------------------------------------------------- */

static void test_leaf_ok(void **state)
{
	tpid_trust_t *t = store();
	EVP_PKEY *pub = NULL;

	(void)state;
	add(t, X5U_LEAF, F_LEAF);
	assert_int_equal(tpid_trust_get_key(t, X5U_LEAF, T0, &pub), TPID_OK);
	assert_non_null(pub);
	/* the leaf's key, not the anchor's: its signatures verify, others not */
	assert_int_equal(EVP_PKEY_eq(pub, leaf_key), 1);
	assert_true(sig_verifies(leaf_key, pub));
	assert_false(sig_verifies(ca_key, pub));
	tpid_trust_free(t);
}

static void test_unknown_x5u(void **state)
{
	tpid_trust_t *t = store();

	(void)state;
	assert_int_equal(get_key(t, X5U_LEAF, T0), TPID_R_CERT_UNAVAILABLE);
	add(t, X5U_LEAF, F_LEAF);
	assert_int_equal(get_key(t, X5U_OTHER, T0), TPID_R_CERT_UNAVAILABLE);
	/* exact match only: a prefix or a longer URL is another x5u */
	assert_int_equal(get_key(t, "https://cert.example.net/leaf.pe", T0),
			TPID_R_CERT_UNAVAILABLE);
	assert_int_equal(get_key(t, X5U_LEAF "x", T0), TPID_R_CERT_UNAVAILABLE);
	tpid_trust_free(t);
}

static void test_other_ca(void **state)
{
	tpid_trust_t *t = store();

	(void)state;
	/* kept (so the reason is INVALID, not UNAVAILABLE) but never usable,
	 * even though its file carries its own root */
	add(t, X5U_OTHER, F_OTHER);
	assert_int_equal(tpid_trust_count(t), 1);
	assert_int_equal(get_key(t, X5U_OTHER, T0), TPID_R_CERT_INVALID);
	tpid_trust_free(t);
}

static void test_validity(void **state)
{
	tpid_trust_t *t = store();

	(void)state;
	add(t, X5U_LEAF, F_LEAF);
	assert_int_equal(get_key(t, X5U_LEAF, LEAF_NB - 1), TPID_R_CERT_INVALID);
	assert_int_equal(get_key(t, X5U_LEAF, LEAF_NB - YEAR), TPID_R_CERT_INVALID);
	assert_int_equal(get_key(t, X5U_LEAF, LEAF_NB), TPID_OK);
	assert_int_equal(get_key(t, X5U_LEAF, T0), TPID_OK);
	assert_int_equal(get_key(t, X5U_LEAF, LEAF_NA - 1), TPID_OK);
	assert_int_equal(get_key(t, X5U_LEAF, LEAF_NA + 1), TPID_R_CERT_INVALID);
	assert_int_equal(get_key(t, X5U_LEAF, LEAF_NA + YEAR), TPID_R_CERT_INVALID);
	/* the verdict depends on the time asked, not on an earlier call */
	assert_int_equal(get_key(t, X5U_LEAF, T0), TPID_OK);
	tpid_trust_free(t);
}

static void test_intermediate(void **state)
{
	tpid_trust_t *t = store();
	EVP_PKEY *pub = NULL;

	(void)state;
	add(t, X5U_SUB, F_SUB);
	add(t, X5U_LEAF, F_SUB_ONLY);
	assert_int_equal(tpid_trust_get_key(t, X5U_SUB, T0, &pub), TPID_OK);
	/* the first certificate of the file is the one whose key is used */
	assert_int_equal(EVP_PKEY_eq(pub, sub_key), 1);
	assert_true(sig_verifies(sub_key, pub));
	/* no path to the root without the intermediate */
	assert_int_equal(get_key(t, X5U_LEAF, T0), TPID_R_CERT_INVALID);
	/* the leaf is still valid but the intermediate has expired */
	assert_int_equal(get_key(t, X5U_SUB, INTER_NA - 1), TPID_OK);
	assert_int_equal(get_key(t, X5U_SUB, INTER_NA + 1), TPID_R_CERT_INVALID);
	tpid_trust_free(t);
}

static void test_key_type(void **state)
{
	tpid_trust_t *t = store();

	(void)state;
	/* both chain to the root: refused for the key alone (ES256 only) */
	add(t, "https://cert.example.net/rsa.pem", F_RSA);
	add(t, "https://cert.example.net/p384.pem", F_P384);
	assert_int_equal(get_key(t, "https://cert.example.net/rsa.pem", T0),
			TPID_R_CERT_INVALID);
	assert_int_equal(get_key(t, "https://cert.example.net/p384.pem", T0),
			TPID_R_CERT_INVALID);
	tpid_trust_free(t);
}

static void test_ca_after_cert(void **state)
{
	tpid_trust_t *t = tpid_trust_new();
	char err[256];

	(void)state;
	assert_non_null(t);
	/* the chain is checked per call, against the anchors of that moment */
	add(t, X5U_LEAF, F_LEAF);
	assert_int_equal(get_key(t, X5U_LEAF, T0), TPID_R_CERT_INVALID);
	assert_int_equal(tpid_trust_load_ca(t, path[F_CA], err, sizeof(err)), 0);
	assert_int_equal(get_key(t, X5U_LEAF, T0), TPID_OK);
	tpid_trust_free(t);
}

/* ---- loading -------------------------------------------------------------- */

static void test_add_not_https(void **state)
{
	tpid_trust_t *t = store();
	char err[256];

	(void)state;
	err[0] = '\0';
	assert_int_equal(tpid_trust_add_cert(t, "http://cert.example.net/a.pem",
							 path[F_LEAF], err, sizeof(err)),
			-1);
	assert_non_null(strstr(err, "not an https URL"));
	assert_non_null(strstr(err, "http://cert.example.net/a.pem"));
	assert_int_equal(
			tpid_trust_add_cert(t, "", path[F_LEAF], err, sizeof(err)), -1);
	assert_int_equal(
			tpid_trust_add_cert(t, "https:/x", path[F_LEAF], err, sizeof(err)),
			-1);
	assert_int_equal(tpid_trust_count(t), 0);
	assert_int_equal(get_key(t, "http://cert.example.net/a.pem", T0),
			TPID_R_CERT_UNAVAILABLE);
	tpid_trust_free(t);
}

static void test_add_missing_file(void **state)
{
	tpid_trust_t *t = store();
	char err[256];

	(void)state;
	err[0] = '\0';
	assert_int_equal(
			tpid_trust_add_cert(t, X5U_LEAF, missing, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot open"));
	assert_non_null(strstr(err, missing));
	assert_int_equal(tpid_trust_count(t), 0);
	assert_int_equal(get_key(t, X5U_LEAF, T0), TPID_R_CERT_UNAVAILABLE);
	tpid_trust_free(t);
}

static void test_add_no_certificate(void **state)
{
	tpid_trust_t *t = store();
	char err[256];

	(void)state;
	err[0] = '\0';
	assert_int_equal(
			tpid_trust_add_cert(t, X5U_LEAF, path[F_NOCERT], err, sizeof(err)),
			-1);
	assert_non_null(strstr(err, "no certificate"));
	/* a PEM file, but a key and not a certificate */
	err[0] = '\0';
	assert_int_equal(
			tpid_trust_add_cert(t, X5U_LEAF, path[F_KEYONLY], err, sizeof(err)),
			-1);
	assert_non_null(strstr(err, "no certificate"));
	assert_int_equal(tpid_trust_count(t), 0);
	tpid_trust_free(t);
}

static void test_load_ca_errors(void **state)
{
	tpid_trust_t *t = tpid_trust_new();
	char err[256];

	(void)state;
	assert_non_null(t);
	err[0] = '\0';
	assert_int_equal(tpid_trust_load_ca(t, missing, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot load trust anchors"));
	assert_non_null(strstr(err, missing));
	err[0] = '\0';
	assert_int_equal(
			tpid_trust_load_ca(t, path[F_NOCERT], err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot load trust anchors"));
	/* a failed load leaves the store usable */
	assert_int_equal(tpid_trust_load_ca(t, path[F_CA], err, sizeof(err)), 0);
	add(t, X5U_LEAF, F_LEAF);
	assert_int_equal(get_key(t, X5U_LEAF, T0), TPID_OK);
	tpid_trust_free(t);
}

static void test_count(void **state)
{
	tpid_trust_t *t = store();
	char err[256];

	(void)state;
	assert_int_equal(tpid_trust_count(t), 0);
	add(t, X5U_LEAF, F_LEAF);
	/* invalid certificates count too: they are mapped */
	add(t, X5U_OTHER, F_OTHER);
	add(t, X5U_SUB, F_SUB);
	/* failed adds do not */
	assert_int_equal(
			tpid_trust_add_cert(t, X5U_LEAF, missing, err, sizeof(err)), -1);
	assert_int_equal(tpid_trust_count(t), 3);
	tpid_trust_free(t);
	tpid_trust_free(NULL);
}

static void test_max_certs(void **state)
{
	tpid_trust_t *t = store();
	char x5u[64], err[256];
	int i;

	(void)state;
	for(i = 0; i < TPID_TRUST_MAX_CERTS; i++) {
		snprintf(x5u, sizeof(x5u), "https://cert.example.net/%d.pem", i);
		add(t, x5u, F_LEAF);
	}
	assert_int_equal(tpid_trust_count(t), TPID_TRUST_MAX_CERTS);
	err[0] = '\0';
	assert_int_equal(tpid_trust_add_cert(t, "https://cert.example.net/x.pem",
							 path[F_LEAF], err, sizeof(err)),
			-1);
	assert_non_null(strstr(err, "too many certificates"));
	assert_int_equal(tpid_trust_count(t), TPID_TRUST_MAX_CERTS);
	/* the first and last entries are still reachable */
	assert_int_equal(get_key(t, "https://cert.example.net/0.pem", T0), TPID_OK);
	snprintf(x5u, sizeof(x5u), "https://cert.example.net/%d.pem",
			TPID_TRUST_MAX_CERTS - 1);
	assert_int_equal(get_key(t, x5u, T0), TPID_OK);
	assert_int_equal(get_key(t, "https://cert.example.net/x.pem", T0),
			TPID_R_CERT_UNAVAILABLE);
	tpid_trust_free(t);
}

/* ---- allowlist ------------------------------------------------------------ */

static void test_allow_none(void **state)
{
	tpid_trust_t *t = store();

	(void)state;
	assert_int_equal(tpid_trust_check_allowed(t, X5U_LEAF), TPID_OK);
	assert_int_equal(
			tpid_trust_check_allowed(t, "https://any.example/x"), TPID_OK);
	assert_int_equal(tpid_trust_check_allowed(t, ""), TPID_OK);
	tpid_trust_free(t);
}

static void test_allow_prefixes(void **state)
{
	tpid_trust_t *t = store();

	(void)state;
	assert_int_equal(tpid_trust_allow(t, "https://cert.example.net/"), 0);
	assert_int_equal(tpid_trust_allow(t, "https://peer.example/certs/"), 0);
	assert_int_equal(tpid_trust_check_allowed(t, X5U_LEAF), TPID_OK);
	assert_int_equal(
			tpid_trust_check_allowed(t, "https://peer.example/certs/a.pem"),
			TPID_OK);
	assert_int_equal(tpid_trust_check_allowed(t, "https://peer.example/a.pem"),
			TPID_R_X5U_NOT_ALLOWED);
	/* why the documentation says to end a prefix with "/" */
	assert_int_equal(tpid_trust_check_allowed(
							 t, "https://cert.example.net.evil.example/a.pem"),
			TPID_R_X5U_NOT_ALLOWED);
	assert_int_equal(tpid_trust_check_allowed(t, "https://evil.example/"),
			TPID_R_X5U_NOT_ALLOWED);
	/* a prefix, not a substring */
	assert_int_equal(
			tpid_trust_check_allowed(
					t, "https://evil.example/?u=https://cert.example.net/"),
			TPID_R_X5U_NOT_ALLOWED);
	/* plain byte comparison: case counts, a shorter x5u does not match */
	assert_int_equal(tpid_trust_check_allowed(t, "HTTPS://cert.example.net/a"),
			TPID_R_X5U_NOT_ALLOWED);
	assert_int_equal(tpid_trust_check_allowed(t, "https://cert.example.net"),
			TPID_R_X5U_NOT_ALLOWED);
	assert_int_equal(tpid_trust_check_allowed(t, ""), TPID_R_X5U_NOT_ALLOWED);
	tpid_trust_free(t);
}

static void test_allow_max(void **state)
{
	tpid_trust_t *t = store();
	char prefix[64];
	int i;

	(void)state;
	for(i = 0; i < TPID_TRUST_MAX_ALLOW; i++) {
		snprintf(prefix, sizeof(prefix), "https://c%d.example/", i);
		assert_int_equal(tpid_trust_allow(t, prefix), 0);
	}
	assert_int_equal(tpid_trust_allow(t, "https://more.example/"), -1);
	assert_int_equal(tpid_trust_check_allowed(t, "https://more.example/a"),
			TPID_R_X5U_NOT_ALLOWED);
	snprintf(prefix, sizeof(prefix), "https://c%d.example/a",
			TPID_TRUST_MAX_ALLOW - 1);
	assert_int_equal(tpid_trust_check_allowed(t, prefix), TPID_OK);
	tpid_trust_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_leaf_ok),
			cmocka_unit_test(test_unknown_x5u),
			cmocka_unit_test(test_other_ca),
			cmocka_unit_test(test_validity),
			cmocka_unit_test(test_intermediate),
			cmocka_unit_test(test_key_type),
			cmocka_unit_test(test_ca_after_cert),
			cmocka_unit_test(test_add_not_https),
			cmocka_unit_test(test_add_missing_file),
			cmocka_unit_test(test_add_no_certificate),
			cmocka_unit_test(test_load_ca_errors),
			cmocka_unit_test(test_count),
			cmocka_unit_test(test_max_certs),
			cmocka_unit_test(test_allow_none),
			cmocka_unit_test(test_allow_prefixes),
			cmocka_unit_test(test_allow_max),
	};
	return cmocka_run_group_tests_name(
			"tpid_trust", tests, group_setup, group_teardown);
}
