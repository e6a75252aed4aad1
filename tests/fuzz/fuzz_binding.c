/*
 * tpid_assert - libFuzzer target for the issuer binding: the JWT claim
 * constraints of a certificate (hostile DER from a fetched certificate)
 * and the signer list (spec, x5u and iss lookups).
 *
 * The first input byte picks a mode: 0/1 the rest is the value of an RFC
 * 8226 / RFC 9118 extension (what parses is checked against a payload);
 * 2 the rest is "spec \n x5u \n iss". Aborts when a check passes where it
 * cannot: an x5u that is no https URL, a payload that is no object.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/x509.h>

#include "tpid_jcc.h"
#include "tpid_reason.h"
#include "tpid_signers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static X509 *cert;

/* One certificate for all runs; each run adds and removes its extension. */
static X509 *base_cert(void)
{
	EVP_PKEY *key;

	if(cert != NULL)
		return cert;
	key = EVP_EC_gen("P-256");
	cert = X509_new();
	if(key == NULL || cert == NULL || X509_set_pubkey(cert, key) != 1)
		abort();
	EVP_PKEY_free(key);
	return cert;
}

static void constraints(const uint8_t *d, size_t n, int enhanced)
{
	X509 *x = base_cert();
	ASN1_OBJECT *o = OBJ_txt2obj(enhanced ? TPID_EJCC_OID : TPID_JCC_OID, 1);
	ASN1_OCTET_STRING *os = ASN1_OCTET_STRING_new();
	X509_EXTENSION *e;
	tpid_jcc_t *c = NULL;
	json_t *arr = json_array();

	if(o == NULL || os == NULL || arr == NULL
			|| ASN1_OCTET_STRING_set(os, d, (int)n) != 1
			|| (e = X509_EXTENSION_create_by_OBJ(NULL, o, 0, os)) == NULL
			|| X509_add_ext(x, e, -1) != 1)
		abort();
	X509_EXTENSION_free(e);
	if(tpid_jcc_from_cert(x, &c) == 1) {
		if(tpid_jcc_check(c, arr) == TPID_OK)
			abort();
		tpid_jcc_check_payload_b64u(c, "eyJ0cGlkIjp7fX0", 15);
	}
	tpid_jcc_free(c);
	X509_EXTENSION_free(X509_delete_ext(x, 0));
	json_decref(arr);
	ASN1_OCTET_STRING_free(os);
	ASN1_OBJECT_free(o);
}

static void signers(const char *s, size_t n)
{
	char *buf = malloc(n + 1), *x5u, *iss;
	tpid_signers_t *l = tpid_signers_new();

	if(buf == NULL || l == NULL)
		abort();
	memcpy(buf, s, n);
	buf[n] = '\0';
	x5u = strchr(buf, '\n');
	iss = x5u ? strchr(x5u + 1, '\n') : NULL;
	if(iss != NULL) {
		*x5u++ = '\0';
		*iss++ = '\0';
		tpid_signers_add(l, buf, NULL, 0);
		if(tpid_signers_check(l, x5u, iss) == TPID_OK
				&& strncasecmp(x5u, "https://", 8) != 0)
			abort();
		tpid_signers_may_avatar(l, x5u);
	}
	tpid_signers_free(l);
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if(size < 1)
		return 0;
	if(data[0] % 3 == 2)
		signers((const char *)data + 1, size - 1);
	else
		constraints(data + 1, size - 1, data[0] % 3);
	return 0;
}
