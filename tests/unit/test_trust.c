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
	/* a host is compared as a host, whatever the prefix's text */
	assert_int_equal(tpid_trust_check_allowed(
							 t, "https://cert.example.net.evil.example/a.pem"),
			TPID_R_X5U_NOT_ALLOWED);
	assert_int_equal(tpid_trust_check_allowed(t, "https://evil.example/"),
			TPID_R_X5U_NOT_ALLOWED);
	/* a prefix, not a substring; no query, fragment, userinfo, dot
	 * segment; same port */
	static const char *const refused[] = {
			"https://evil.example/?u=https://cert.example.net/",
			"https://cert.example.net/a.pem?x=1",
			"https://cert.example.net/a.pem#f",
			"https://cert.example.net@evil.example/a.pem",
			"https://user@cert.example.net/a.pem",
			"https://cert.example.net/../a.pem",
			"https://peer.example/certs/../a.pem",
			"https://cert.example.net:8443/a.pem",
			"http://cert.example.net/a.pem",
			"https://cert.example.net",
			"https://cert.example.net/a b.pem",
			"https://cert.example.net/a\x80.pem",
			"file:///etc/passwd",
			"",
	};
	size_t i;

	for(i = 0; i < sizeof(refused) / sizeof(refused[0]); i++)
		assert_int_equal(tpid_trust_check_allowed(t, refused[i]) * 100 + (int)i,
				TPID_R_X5U_NOT_ALLOWED * 100 + (int)i);
	/* scheme and host without case; the explicit default port */
	assert_int_equal(
			tpid_trust_check_allowed(t, "HTTPS://Cert.Example.NET/a"), TPID_OK);
	assert_int_equal(
			tpid_trust_check_allowed(t, "https://cert.example.net:443/a"),
			TPID_OK);
	/* a prefix that is no URL of the grammar is refused at configuration */
	assert_int_equal(tpid_trust_allow(t, "https://a.example/?q"), -1);
	assert_int_equal(tpid_trust_allow(t, "cert.example.net/"), -1);
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

/* ---- validate (chains in memory) ------------------------------------------ */

#define PEMBUF 65600

/* PEM of up to three certificates (NULL ends the list), into buf. */
static size_t pem_of(char *buf, X509 *a, X509 *b, X509 *c)
{
	X509 *xs[3] = {a, b, c};
	size_t len = 0;
	int i;

	buf[0] = '\0';
	for(i = 0; i < 3 && xs[i] != NULL; i++)
		assert_int_equal(pki_pem_append(xs[i], buf, PEMBUF, &len), 0);
	return len;
}

/* Validates the chain a[, b] at time at, through the PEM parser. */
static int validate_at(const tpid_trust_t *t, X509 *a, X509 *b, int64_t at)
{
	static char buf[PEMBUF];
	STACK_OF(X509) *chain = NULL;
	EVP_PKEY *pub = NULL;
	size_t len = pem_of(buf, a, b, NULL);
	int rc;

	assert_int_equal(tpid_trust_parse_pem(buf, len, 4, &chain), TPID_OK);
	rc = tpid_trust_validate(t, chain, at, &pub);
	assert_true(rc == TPID_OK ? EVP_PKEY_eq(pub, X509_get0_pubkey(a)) == 1
							  : pub == NULL);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}

static X509 *leaf_with(const char *bc, const char *ku, long serial)
{
	pki_spec_t s = {leaf_key, "variant", ca, ca_key, bc, ku, T0 - YEAR,
			T0 + YEAR, serial};
	X509 *x = pki_cert(&s);

	assert_non_null(x);
	return x;
}

/* Validity is judged at the token's iat, not at the time of the call. */
static void test_validate_at_iat(void **state)
{
	tpid_trust_t *t = store();
	static const struct
	{
		int64_t at;
		int rc;
	} cases[] = {
			{LEAF_NB - YEAR, TPID_R_CERT_INVALID}, /* not yet valid */
			{LEAF_NB - 1, TPID_R_CERT_INVALID},
			{LEAF_NB, TPID_OK},
			{T0, TPID_OK},
			{LEAF_NA - 1, TPID_OK},
			{LEAF_NA + 1, TPID_R_CERT_INVALID}, /* expired at iat */
			{LEAF_NA + YEAR, TPID_R_CERT_INVALID},
	};
	size_t i;

	(void)state;
	for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(validate_at(t, leaf, NULL, cases[i].at), cases[i].rc);
	tpid_trust_free(t);
}

/* The pinned path remembers the window of its last validation: times in
 * it pass without validating again, times out of it are judged afresh,
 * in any order. */
static void test_remembered_window(void **state)
{
	tpid_trust_t *t = store();
	static const struct
	{
		int64_t at;
		int rc;
	} seq[] = {
			{T0, TPID_OK},
			{LEAF_NA + 1, TPID_R_CERT_INVALID},
			{T0 + 1, TPID_OK},
			{LEAF_NB - 1, TPID_R_CERT_INVALID},
			{LEAF_NA, TPID_R_CERT_INVALID}, /* OpenSSL: expired at notAfter */
			{LEAF_NB, TPID_OK},
			{LEAF_NA + YEAR, TPID_R_CERT_INVALID},
			{LEAF_NA - 1, TPID_OK},
	};
	size_t i;

	(void)state;
	add(t, X5U_LEAF, F_LEAF);
	for(i = 0; i < sizeof(seq) / sizeof(seq[0]); i++)
		assert_int_equal(get_key(t, X5U_LEAF, seq[i].at), seq[i].rc);
	tpid_trust_free(t);
}

/* The leaf's profile: digitalSignature, not a CA, P-256. */
static void test_validate_leaf_profile(void **state)
{
	tpid_trust_t *t = store();
	static const struct
	{
		const char *bc, *ku;
		int rc;
	} cases[] = {
			{"critical,CA:FALSE", PKI_KU_LEAF, TPID_OK},
			{"CA:FALSE", "digitalSignature", TPID_OK},
			{NULL, PKI_KU_LEAF, TPID_OK}, /* no basicConstraints: not a CA */
			{"critical,CA:FALSE", NULL, TPID_R_CERT_INVALID}, /* no keyUsage */
			{"critical,CA:FALSE", "critical,keyEncipherment",
					TPID_R_CERT_INVALID},
			{"critical,CA:FALSE", "critical,nonRepudiation",
					TPID_R_CERT_INVALID},
			{"critical,CA:TRUE", "critical,digitalSignature,keyCertSign",
					TPID_R_CERT_INVALID},
			{"critical,CA:TRUE", PKI_KU_LEAF, TPID_R_CERT_INVALID},
			{NULL, "critical,digitalSignature,keyCertSign",
					TPID_R_CERT_INVALID},
	};
	size_t i;
	X509 *x;

	(void)state;
	for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		x = leaf_with(cases[i].bc, cases[i].ku, 100 + (long)i);
		if(validate_at(t, x, NULL, T0) != cases[i].rc)
			fail_msg("case %zu\n", i);
		X509_free(x);
	}
	/* chains to the root, refused for the key alone */
	assert_int_equal(validate_at(t, rsa, NULL, T0), TPID_R_CERT_INVALID);
	assert_int_equal(validate_at(t, p384, NULL, T0), TPID_R_CERT_INVALID);
	tpid_trust_free(t);
}

static void test_validate_chain(void **state)
{
	tpid_trust_t *t = store();
	tpid_trust_t *empty = tpid_trust_new();
	X509 *plain, *under;

	(void)state;
	assert_non_null(empty);
	assert_int_equal(validate_at(t, sub, inter, T0), TPID_OK);
	/* the intermediate comes from the chain only */
	assert_int_equal(validate_at(t, sub, NULL, T0), TPID_R_CERT_INVALID);
	/* wrong anchor, even with that anchor shipped in the chain */
	assert_int_equal(validate_at(t, other, NULL, T0), TPID_R_CERT_INVALID);
	assert_int_equal(validate_at(t, other, other_ca, T0), TPID_R_CERT_INVALID);
	assert_int_equal(validate_at(empty, leaf, NULL, T0), TPID_R_CERT_INVALID);
	/* a leaf's key signing another leaf: the issuer is no CA */
	plain = leaf_with("critical,CA:FALSE", PKI_KU_LEAF, 200);
	under = pki_leaf(
			sub_key, "under", plain, leaf_key, T0 - YEAR, T0 + YEAR, 201);
	assert_non_null(under);
	assert_int_equal(validate_at(t, under, plain, T0), TPID_R_CERT_INVALID);
	/* an anchor is not a signing certificate */
	assert_int_equal(validate_at(t, ca, NULL, T0), TPID_R_CERT_INVALID);
	assert_int_equal(
			tpid_trust_validate(t, NULL, T0, NULL), TPID_R_CERT_INVALID);
	assert_int_equal(
			tpid_trust_validate(NULL, NULL, T0, NULL), TPID_R_CERT_INVALID);
	X509_free(plain);
	X509_free(under);
	tpid_trust_free(empty);
	tpid_trust_free(t);
}

static void write_crl(const char *file, X509_CRL *crl)
{
	FILE *f = fopen(file, "w");

	assert_non_null(f);
	assert_non_null(crl);
	assert_int_equal(PEM_write_X509_CRL(f, crl), 1);
	assert_int_equal(fclose(f), 0);
	X509_CRL_free(crl);
}

static void test_validate_crl(void **state)
{
	tpid_trust_t *t = store(), *t2 = store(), *t3 = store();
	char file[160], err[256];
	X509 *x;

	(void)state;
	snprintf(file, sizeof(file), "%s/revoked.crl", dir);
	/* revokes the leaf (serial 3); issued after the token's iat */
	write_crl(file, pki_crl(ca, ca_key, 3, T0 + 60, T0 + 30 * DAY));
	assert_int_equal(tpid_trust_load_crl(t, file, err, sizeof(err)), 0);
	assert_int_equal(validate_at(t, leaf, NULL, T0), TPID_R_CERT_INVALID);
	add(t, X5U_LEAF, F_LEAF);
	assert_int_equal(get_key(t, X5U_LEAF, T0), TPID_R_CERT_INVALID);
	/* other leaves of the root pass */
	x = leaf_with("critical,CA:FALSE", PKI_KU_LEAF, 300);
	assert_int_equal(validate_at(t, x, NULL, T0), TPID_OK);
	X509_free(x);
	/* with CRLs on, an issuer without one fails (the intermediate) */
	assert_int_equal(validate_at(t, sub, inter, T0), TPID_R_CERT_INVALID);
	/* a CRL that revokes nothing */
	write_crl(file, pki_crl(ca, ca_key, 0, T0 - DAY, T0 + 30 * DAY));
	assert_int_equal(tpid_trust_load_crl(t2, file, err, sizeof(err)), 0);
	assert_int_equal(validate_at(t2, leaf, NULL, T0), TPID_OK);
	/* a CRL signed by another root does not count */
	write_crl(file, pki_crl(other_ca, other_ca_key, 0, T0 - DAY, T0 + DAY));
	assert_int_equal(tpid_trust_load_crl(t3, file, err, sizeof(err)), 0);
	assert_int_equal(validate_at(t3, leaf, NULL, T0), TPID_R_CERT_INVALID);
	/* files without a CRL */
	err[0] = '\0';
	assert_int_equal(tpid_trust_load_crl(t, path[F_CA], err, sizeof(err)), -1);
	assert_non_null(strstr(err, "cannot load CRLs"));
	assert_int_equal(tpid_trust_load_crl(t, missing, err, sizeof(err)), -1);
	unlink(file);
	tpid_trust_free(t);
	tpid_trust_free(t2);
	tpid_trust_free(t3);
}

static void test_not_after(void **state)
{
	static char buf[PEMBUF];
	STACK_OF(X509) *chain = NULL;
	int64_t na = 0;
	size_t len = pem_of(buf, sub, inter, NULL);

	(void)state;
	assert_int_equal(tpid_trust_parse_pem(buf, len, 4, &chain), TPID_OK);
	/* the leaf's, not the intermediate's (which ends sooner) */
	assert_int_equal(tpid_trust_not_after(chain, &na), 0);
	assert_int_equal(na, T0 + YEAR);
	sk_X509_pop_free(chain, X509_free);
	len = pem_of(buf, leaf, NULL, NULL);
	assert_int_equal(tpid_trust_parse_pem(buf, len, 4, &chain), TPID_OK);
	assert_int_equal(tpid_trust_not_after(chain, &na), 0);
	assert_int_equal(na, LEAF_NA);
	sk_X509_pop_free(chain, X509_free);
	assert_int_equal(tpid_trust_not_after(NULL, &na), -1);
}

/* ---- PEM grammar ---------------------------------------------------------- */

static int parse(const char *buf, size_t len, int max)
{
	STACK_OF(X509) *chain = (STACK_OF(X509) *)1;
	int rc = tpid_trust_parse_pem(buf, len, max, &chain);

	if(rc == TPID_OK) {
		assert_non_null(chain);
		rc = sk_X509_num(chain);
		sk_X509_pop_free(chain, X509_free);
		return rc;
	}
	assert_null(chain);
	assert_int_equal(rc, TPID_R_CERT_INVALID);
	return 0;
}

/* buf = prefix + PEM(leaf, inter) with edit applied + suffix. */
static size_t variant(char *buf, const char *prefix, const char *suffix,
		const char *from, const char *to)
{
	static char pem[PEMBUF];
	char *at;
	size_t len = pem_of(pem, leaf, inter, NULL);

	(void)len;
	if(from != NULL && (at = strstr(pem, from)) != NULL)
		snprintf(buf, PEMBUF, "%s%.*s%s%s%s", prefix, (int)(at - pem), pem, to,
				at + strlen(from), suffix);
	else
		snprintf(buf, PEMBUF, "%s%s%s", prefix, pem, suffix);
	return strlen(buf);
}

static void test_pem_grammar(void **state)
{
	static const struct
	{
		const char *prefix, *suffix, *from, *to;
		int n; /* certificates parsed, 0: refused */
	} cases[] = {
			{"", "", NULL, NULL, 2}, {"\r\n \t\n", "\n\n  \r\n", NULL, NULL, 2},
			{"", "", "\n", "\r\n", 2}, /* first line break CRLF */
			{"", "", "-----\n-----BEGIN", "-----\n\n \n-----BEGIN", 2},
			{"x", "", NULL, NULL, 0},	/* leading garbage */
			{"", "x", NULL, NULL, 0},	/* trailing garbage */
			{"", "\n.", NULL, NULL, 0}, /* trailing garbage on a line */
			{"", "\n-----BEGIN CERTIFICATE-----\n", NULL, NULL, 0},
			{"", "-----END CERTIFICATE-----\n", NULL, NULL, 0},
			{"", "", "-----\n-----BEGIN", "-----\nhello\n-----BEGIN", 0},
			{"", "", "-----\n-----BEGIN", "----------BEGIN", 0}, /* glued */
			{"", "", "BEGIN CERTIFICATE", "BEGIN X509 CERTIFICATE", 0},
			{"", "", "BEGIN CERTIFICATE", "BEGIN TRUSTED CERTIFICATE", 0},
			{"", "", "BEGIN CERTIFICATE", "BEGIN certificate", 0},
			{"", "", "BEGIN CERTIFICATE-----", "BEGIN CERTIFICATE----- ", 0},
			{"", "", "BEGIN CERTIFICATE-----\n",
					"BEGIN CERTIFICATE-----\nProc-Type: 4,ENCRYPTED\n\n", 0},
			{"", "", "END CERTIFICATE", "END CRL", 0},
			{"", "", "END CERTIFICATE-----\n", "END CERTIFICATE-----x\n", 0},
			{"", "", "END CERTIFICATE-----\n", "END CERTIFICATE----- \n", 2},
			{"", "", "BEGIN CERTIFICATE-----\n",
					"BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n"
					"-----BEGIN CERTIFICATE-----\n",
					0},							   /* an empty block */
			{"", "", "\n-----END", "-----END", 0}, /* END not on its line */
			{"", "", "\n-----END", "\n\x80-----END", 0},
			{"", "", "\n-----END", "\n\x01-----END", 0},
			{"", "", "\n-----END", "\n\"-----END", 0},
			{"", "", "\n-----END", "\n====\n-----END", 0},
			{"", "", "\n-----END", "\nAAAA\n-----END", 0}, /* DER + more */
			{"", "", "MII", "MIJ", 0},			 /* DER length changed */
			{"", "", "MII", "", 0},				 /* base64 not aligned */
			{"\xef\xbb\xbf", "", NULL, NULL, 0}, /* BOM */
	};
	static char buf[PEMBUF];
	size_t i, len;

	(void)state;
	for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		len = variant(buf, cases[i].prefix, cases[i].suffix, cases[i].from,
				cases[i].to);
		if(parse(buf, len, 4) != cases[i].n)
			fail_msg("case %zu\n", i);
	}
}

static void test_pem_bounds(void **state)
{
	static char buf[PEMBUF], der[4096];
	unsigned char *p = (unsigned char *)der;
	size_t len;
	int i, dlen;

	(void)state;
	len = pem_of(buf, leaf, NULL, NULL);
	/* embedded NUL: the length given counts, not the string */
	buf[len] = '\0';
	buf[len + 1] = ' ';
	assert_int_equal(parse(buf, len + 2, 4), 0);
	assert_int_equal(parse(buf, len, 4), 1);
	assert_int_equal(parse(buf, len - 1, 4), 1); /* no final line break */
	assert_int_equal(parse(buf, len - 2, 4), 0); /* truncated */
	assert_int_equal(parse(buf, len / 2, 4), 0);
	assert_int_equal(parse(buf, 0, 4), 0);
	assert_int_equal(parse("  \n", 3, 4), 0); /* nothing */
	assert_int_equal(parse(NULL, 0, 4), 0);
	assert_int_equal(parse(buf, len, 0), 0);
	/* DER instead of PEM */
	dlen = i2d_X509(leaf, &p);
	assert_true(dlen > 0 && dlen < (int)sizeof(der));
	assert_int_equal(parse(der, (size_t)dlen, 4), 0);
	/* 10 certificates, max 4: refused, not cut */
	len = 0;
	for(i = 0; i < 10; i++)
		assert_int_equal(pki_pem_append(leaf, buf, PEMBUF, &len), 0);
	assert_int_equal(parse(buf, len, 4), 0);
	assert_int_equal(parse(buf, len, 10), 10);
	len = pem_of(buf, leaf, inter, sub);
	assert_int_equal(parse(buf, len, 3), 3);
	assert_int_equal(parse(buf, len, 2), 0);
	/* over the size cap, even when made of whitespace after a good block */
	len = pem_of(buf, leaf, NULL, NULL);
	memset(buf + len, '\n', TPID_TRUST_MAX_PEM + 1 - len);
	assert_int_equal(parse(buf, TPID_TRUST_MAX_PEM, 4), 1);
	assert_int_equal(parse(buf, TPID_TRUST_MAX_PEM + 1, 4), 0);
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
			cmocka_unit_test(test_validate_at_iat),
			cmocka_unit_test(test_remembered_window),
			cmocka_unit_test(test_validate_leaf_profile),
			cmocka_unit_test(test_validate_chain),
			cmocka_unit_test(test_validate_crl),
			cmocka_unit_test(test_not_after),
			cmocka_unit_test(test_pem_grammar),
			cmocka_unit_test(test_pem_bounds),
	};
	return cmocka_run_group_tests_name(
			"tpid_trust", tests, group_setup, group_teardown);
}
