/*
 * tpid_assert - the originating side's signing key
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tpid_signkey.h"

#include <stdio.h>
#include <string.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

int tpid_signkey_read_file(
		const char *path, char *buf, size_t bufsize, char *err, size_t errsize)
{
	FILE *f;
	size_t n;

	if(bufsize < 2) {
		snprintf(err, errsize, "no room to read '%s'", path);
		return -1;
	}
	f = fopen(path, "r");
	if(f == NULL) {
		snprintf(err, errsize, "cannot open '%s'", path);
		return -1;
	}
	n = fread(buf, 1, bufsize - 1, f);
	/* one more byte means the file is over the bound: refused, not cut */
	if(n == bufsize - 1 && fgetc(f) != EOF) {
		fclose(f);
		snprintf(err, errsize, "'%s' is larger than %zu bytes", path,
				bufsize - 1);
		return -1;
	}
	if(ferror(f)) {
		fclose(f);
		snprintf(err, errsize, "cannot read '%s'", path);
		return -1;
	}
	fclose(f);
	buf[n] = '\0';
	return (int)n;
}

/* Called by OpenSSL only for an encrypted key: we never prompt. */
static int tpid_signkey_no_pass(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	*(int *)u = 1;
	return -1;
}

static int tpid_signkey_is_p256(EVP_PKEY *key)
{
	char group[64];
	size_t glen = 0;

	if(!EVP_PKEY_is_a(key, "EC"))
		return 0;
	if(EVP_PKEY_get_group_name(key, group, sizeof(group), &glen) != 1)
		return 0;
	return strcmp(group, SN_X9_62_prime256v1) == 0
		   || strcmp(group, "P-256") == 0;
}

int tpid_signkey_parse(
		const char *pem, size_t len, EVP_PKEY **out, char *err, size_t errsize)
{
	BIO *b;
	EVP_PKEY *key;
	int encrypted = 0;

	*out = NULL;
	if(len == 0 || len > TPID_SIGNKEY_MAX_PEM) {
		snprintf(err, errsize, "empty or over %d bytes", TPID_SIGNKEY_MAX_PEM);
		return -1;
	}
	b = BIO_new_mem_buf(pem, (int)len);
	if(b == NULL) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	key = PEM_read_bio_PrivateKey(b, NULL, tpid_signkey_no_pass, &encrypted);
	BIO_free(b);
	ERR_clear_error();
	if(key == NULL) {
		snprintf(err, errsize,
				encrypted ? "the private key is encrypted: a server starts "
							"unattended, store it decrypted with restricted "
							"file permissions (openssl pkey -in KEY -out KEY2)"
						  : "not a PEM private key");
		return -1;
	}
	if(!tpid_signkey_is_p256(key)) {
		EVP_PKEY_free(key);
		snprintf(err, errsize, "not an EC P-256 key (ES256 needs one)");
		return -1;
	}
	*out = key;
	return 0;
}

int tpid_signkey_matches_cert(
		EVP_PKEY *key, const char *pem, size_t len, char *err, size_t errsize)
{
	BIO *b;
	X509 *cert;
	int rc;

	if(len == 0 || len > TPID_SIGNKEY_MAX_PEM) {
		snprintf(err, errsize, "empty or over %d bytes", TPID_SIGNKEY_MAX_PEM);
		return -1;
	}
	b = BIO_new_mem_buf(pem, (int)len);
	if(b == NULL) {
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	cert = PEM_read_bio_X509(b, NULL, NULL, NULL);
	BIO_free(b);
	ERR_clear_error();
	if(cert == NULL) {
		snprintf(err, errsize, "not a PEM certificate");
		return -1;
	}
	rc = EVP_PKEY_eq(key, X509_get0_pubkey(cert)) == 1;
	X509_free(cert);
	if(!rc)
		snprintf(err, errsize,
				"the key is not the one of the certificate published for it");
	return rc;
}
