/*
 * tpid_assert unit tests - certificates, chains and CRLs made at test time
 * with the OpenSSL API, so that no fixture can expire. Include after
 * cmocka.h.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_TEST_PKI_H
#define TPID_TEST_PKI_H

#include <stdint.h>
#include <string.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* The extension profiles of tools/make-pki.sh. */
#define PKI_KU_CA "critical,keyCertSign,cRLSign"
#define PKI_KU_LEAF "critical,digitalSignature"

typedef struct pki_spec
{
	EVP_PKEY *key;
	const char *cn;
	X509 *issuer; /* NULL: self-signed with key */
	EVP_PKEY *issuer_key;
	const char *bc; /* basicConstraints value, NULL: none */
	const char *ku; /* keyUsage value, NULL: none */
	int64_t nb, na;
	long serial;
} pki_spec_t;

static inline int pki_ext(X509 *x, X509V3_CTX *v3, int nid, const char *value)
{
	X509_EXTENSION *ext;
	int ok;

	if(value == NULL)
		return 1;
	ext = X509V3_EXT_conf_nid(NULL, v3, nid, value);
	if(ext == NULL)
		return 0;
	ok = X509_add_ext(x, ext, -1) == 1;
	X509_EXTENSION_free(ext);
	return ok;
}

/* A v3 certificate with subject/authority key identifiers; NULL on error. */
static inline X509 *pki_cert(const pki_spec_t *s)
{
	X509 *x = X509_new();
	X509_NAME *name;
	X509V3_CTX v3;

	if(x == NULL)
		return NULL;
	name = X509_get_subject_name(x);
	if(X509_set_version(x, X509_VERSION_3) != 1
			|| ASN1_INTEGER_set(X509_get_serialNumber(x), s->serial) != 1
			|| ASN1_TIME_set(X509_getm_notBefore(x), (time_t)s->nb) == NULL
			|| ASN1_TIME_set(X509_getm_notAfter(x), (time_t)s->na) == NULL
			|| X509_set_pubkey(x, s->key) != 1
			|| X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
					   (const unsigned char *)s->cn, -1, -1, 0)
					   != 1
			|| X509_set_issuer_name(
					   x, s->issuer ? X509_get_subject_name(s->issuer) : name)
					   != 1)
		goto fail;
	X509V3_set_ctx(&v3, s->issuer ? s->issuer : x, x, NULL, NULL, 0);
	if(!pki_ext(x, &v3, NID_basic_constraints, s->bc)
			|| !pki_ext(x, &v3, NID_key_usage, s->ku)
			|| !pki_ext(x, &v3, NID_subject_key_identifier, "hash")
			|| !pki_ext(x, &v3, NID_authority_key_identifier,
					s->issuer ? "keyid" : NULL)
			|| X509_sign(x, s->issuer ? s->issuer_key : s->key, EVP_sha256())
					   <= 0)
		goto fail;
	return x;
fail:
	X509_free(x);
	return NULL;
}

/* A CA (critical CA:TRUE, keyCertSign, cRLSign). */
static inline X509 *pki_ca(EVP_PKEY *key, const char *cn, X509 *issuer,
		EVP_PKEY *issuer_key, int64_t nb, int64_t na, long serial)
{
	pki_spec_t s = {key, cn, issuer, issuer_key, "critical,CA:TRUE", PKI_KU_CA,
			nb, na, serial};
	return pki_cert(&s);
}

/* A signing leaf (critical CA:FALSE, digitalSignature). */
static inline X509 *pki_leaf(EVP_PKEY *key, const char *cn, X509 *issuer,
		EVP_PKEY *issuer_key, int64_t nb, int64_t na, long serial)
{
	pki_spec_t s = {key, cn, issuer, issuer_key, "critical,CA:FALSE",
			PKI_KU_LEAF, nb, na, serial};
	return pki_cert(&s);
}

/* Appends x as PEM to buf (of size bufsize, *len used so far). 0 or -1. */
static inline int pki_pem_append(
		X509 *x, char *buf, size_t bufsize, size_t *len)
{
	BIO *bio = BIO_new(BIO_s_mem());
	char *data;
	long n;
	int rc = -1;

	if(bio != NULL && PEM_write_bio_X509(bio, x) == 1) {
		n = BIO_get_mem_data(bio, &data);
		if(n > 0 && (size_t)n < bufsize - *len) {
			memcpy(buf + *len, data, (size_t)n);
			*len += (size_t)n;
			buf[*len] = '\0';
			rc = 0;
		}
	}
	BIO_free(bio);
	return rc;
}

/* A CRL of issuer revoking serial (0: none), valid [last, next]. */
static inline X509_CRL *pki_crl(X509 *issuer, EVP_PKEY *issuer_key, long serial,
		int64_t last, int64_t next)
{
	X509_CRL *crl = X509_CRL_new();
	X509_REVOKED *r = NULL;
	ASN1_INTEGER *sn = ASN1_INTEGER_new();
	ASN1_TIME *tl = ASN1_TIME_set(NULL, (time_t)last);
	ASN1_TIME *tn = ASN1_TIME_set(NULL, (time_t)next);
	int ok =
			crl != NULL && tl != NULL && tn != NULL
			&& X509_CRL_set_version(crl, X509_CRL_VERSION_2) == 1
			&& X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) == 1
			&& X509_CRL_set1_lastUpdate(crl, tl) == 1
			&& X509_CRL_set1_nextUpdate(crl, tn) == 1;

	if(ok && serial != 0) {
		r = X509_REVOKED_new();
		ok = r != NULL && sn != NULL && ASN1_INTEGER_set(sn, serial) == 1
			 && X509_REVOKED_set_serialNumber(r, sn) == 1
			 && X509_REVOKED_set_revocationDate(r, tl) == 1
			 && X509_CRL_add0_revoked(crl, r) == 1;
		if(!ok)
			X509_REVOKED_free(r);
	}
	ok = ok && X509_CRL_sort(crl) == 1
		 && X509_CRL_sign(crl, issuer_key, EVP_sha256()) > 0;
	ASN1_TIME_free(tl);
	ASN1_TIME_free(tn);
	ASN1_INTEGER_free(sn);
	if(!ok) {
		X509_CRL_free(crl);
		return NULL;
	}
	return crl;
}

#endif
