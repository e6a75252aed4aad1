/*
 * tpid_assert - unit tests of the signing key reader (tpid_signkey.c).
 *
 * Keys and certificates are made here with the OpenSSL API: a P-256 key,
 * the same key encrypted (both PEM encryption styles), keys of the wrong
 * kind, and certificates that do and do not hold the key.
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
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tpid_signkey.h"

static EVP_PKEY *key_p256, *key_other, *key_rsa, *key_p384;

/* PEM text of what write() puts into a memory BIO. */
static char *pem_of(int (*write)(BIO *, void *), void *obj, size_t *len)
{
	BIO *b = BIO_new(BIO_s_mem());
	char *p, *out;
	long n;

	assert_non_null(b);
	assert_int_equal(write(b, obj), 1);
	n = BIO_get_mem_data(b, &p);
	out = malloc(n + 1);
	assert_non_null(out);
	memcpy(out, p, n);
	out[n] = '\0';
	*len = (size_t)n;
	BIO_free(b);
	return out;
}

static int w_key(BIO *b, void *k)
{
	return PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL);
}

/* PKCS#8 "ENCRYPTED PRIVATE KEY" */
static int w_key_pkcs8_enc(BIO *b, void *k)
{
	return PEM_write_bio_PKCS8PrivateKey(
			b, k, EVP_aes_256_cbc(), "secret", 6, NULL, NULL);
}

/* traditional "Proc-Type: 4,ENCRYPTED" */
static int w_key_trad_enc(BIO *b, void *k)
{
	return PEM_write_bio_PrivateKey_traditional(
			b, k, EVP_aes_128_cbc(), (unsigned char *)"secret", 6, NULL, NULL);
}

static int w_cert(BIO *b, void *c)
{
	return PEM_write_bio_X509(b, c);
}

static X509 *self_signed(EVP_PKEY *k)
{
	X509 *c = X509_new();

	assert_non_null(c);
	ASN1_INTEGER_set(X509_get_serialNumber(c), 1);
	X509_gmtime_adj(X509_getm_notBefore(c), 0);
	X509_gmtime_adj(X509_getm_notAfter(c), 3600);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(c), "CN", MBSTRING_ASC,
			(const unsigned char *)"signer", -1, -1, 0);
	X509_set_issuer_name(c, X509_get_subject_name(c));
	X509_set_pubkey(c, k);
	assert_true(X509_sign(c, k, EVP_sha256()) > 0);
	return c;
}

static int setup(void **state)
{
	(void)state;
	key_p256 = EVP_EC_gen("P-256");
	key_other = EVP_EC_gen("P-256");
	key_p384 = EVP_EC_gen("P-384");
	key_rsa = EVP_RSA_gen(2048);
	return key_p256 && key_other && key_p384 && key_rsa ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	EVP_PKEY_free(key_p256);
	EVP_PKEY_free(key_other);
	EVP_PKEY_free(key_p384);
	EVP_PKEY_free(key_rsa);
	return 0;
}

static int parse(const char *pem, size_t len, char *err)
{
	EVP_PKEY *k = NULL;
	int rc = tpid_signkey_parse(pem, len, &k, err, 256);

	assert_true(rc == 0 ? k != NULL : k == NULL);
	EVP_PKEY_free(k);
	return rc;
}

static void test_p256_key_is_read(void **state)
{
	char err[256];
	size_t len;
	char *pem = pem_of(w_key, key_p256, &len);

	(void)state;
	assert_int_equal(parse(pem, len, err), 0);
	free(pem);
}

static void test_encrypted_keys_are_refused_without_prompt(void **state)
{
	int (*writers[])(BIO *, void *) = {w_key_pkcs8_enc, w_key_trad_enc};
	char err[256];
	size_t i, len;

	(void)state;
	for(i = 0; i < 2; i++) {
		char *pem = pem_of(writers[i], key_p256, &len);
		assert_int_equal(parse(pem, len, err), -1);
		assert_non_null(strstr(err, "encrypted"));
		free(pem);
	}
}

static void test_wrong_kinds_are_refused(void **state)
{
	EVP_PKEY *keys[] = {key_rsa, key_p384};
	char err[256];
	size_t i, len;

	(void)state;
	for(i = 0; i < 2; i++) {
		char *pem = pem_of(w_key, keys[i], &len);
		assert_int_equal(parse(pem, len, err), -1);
		assert_non_null(strstr(err, "P-256"));
		free(pem);
	}
}

static void test_garbage_is_refused(void **state)
{
	static const char *bad[] = {"", "not a key",
			"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
			"-----BEGIN PRIVATE KEY-----\n"};
	char err[256];
	char *big;
	size_t i;

	(void)state;
	for(i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(parse(bad[i], strlen(bad[i]), err), -1);
	big = malloc(TPID_SIGNKEY_MAX_PEM + 2);
	assert_non_null(big);
	memset(big, 'A', TPID_SIGNKEY_MAX_PEM + 1);
	assert_int_equal(parse(big, TPID_SIGNKEY_MAX_PEM + 1, err), -1);
	free(big);
}

static void test_key_matches_its_certificate_only(void **state)
{
	X509 *mine = self_signed(key_p256), *other = self_signed(key_other);
	char err[256];
	size_t l1, l2;
	char *p1 = pem_of(w_cert, mine, &l1), *p2 = pem_of(w_cert, other, &l2);

	(void)state;
	assert_int_equal(tpid_signkey_matches_cert(key_p256, p1, l1, err, 256), 1);
	assert_int_equal(tpid_signkey_matches_cert(key_p256, p2, l2, err, 256), 0);
	assert_int_equal(
			tpid_signkey_matches_cert(key_p256, "junk", 4, err, 256), -1);
	free(p1);
	free(p2);
	X509_free(mine);
	X509_free(other);
}

static void test_file_reading_is_bounded(void **state)
{
	char path[] = "/tmp/tpid-signkey-XXXXXX";
	char buf[64], err[256];
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("0123456789", f);
	fclose(f);
	assert_int_equal(
			tpid_signkey_read_file(path, buf, sizeof(buf), err, sizeof(err)),
			10);
	assert_string_equal(buf, "0123456789");
	/* a file larger than the buffer is refused, never cut */
	assert_int_equal(
			tpid_signkey_read_file(path, buf, 10, err, sizeof(err)), -1);
	assert_int_equal(
			tpid_signkey_read_file(path, buf, 11, err, sizeof(err)), 10);
	unlink(path);
	assert_int_equal(
			tpid_signkey_read_file(path, buf, sizeof(buf), err, sizeof(err)),
			-1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_p256_key_is_read),
			cmocka_unit_test(test_encrypted_keys_are_refused_without_prompt),
			cmocka_unit_test(test_wrong_kinds_are_refused),
			cmocka_unit_test(test_garbage_is_refused),
			cmocka_unit_test(test_key_matches_its_certificate_only),
			cmocka_unit_test(test_file_reading_is_bounded),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
