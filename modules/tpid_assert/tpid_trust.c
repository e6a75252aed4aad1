/*
 * tpid_assert - trust store: x5u -> certificate, chain validation
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tpid_trust.h"
#include "tpid_reason.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

typedef struct tpid_trust_entry
{
	char *x5u;
	X509 *leaf;
	STACK_OF(X509) * chain; /* intermediates shipped with the leaf */
	EVP_PKEY *pub;			/* borrowed from leaf */
	int p256;				/* pub is EC P-256: decided once, at load */
	/* leaf .. anchor as validated at load time (signatures checked once);
	 * NULL when the chain did not validate. Validity periods are checked
	 * per call, which costs no signature verification. */
	STACK_OF(X509) * verified;
} tpid_trust_entry_t;

struct tpid_trust
{
	X509_STORE *anchors;
	int nentries;
	tpid_trust_entry_t entries[TPID_TRUST_MAX_CERTS];
	int nallow;
	char *allow[TPID_TRUST_MAX_ALLOW];
};

tpid_trust_t *tpid_trust_new(void)
{
	tpid_trust_t *t = calloc(1, sizeof(*t));

	if(t == NULL)
		return NULL;
	t->anchors = X509_STORE_new();
	if(t->anchors == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

void tpid_trust_free(tpid_trust_t *t)
{
	int i;

	if(t == NULL)
		return;
	for(i = 0; i < t->nentries; i++) {
		free(t->entries[i].x5u);
		X509_free(t->entries[i].leaf);
		sk_X509_pop_free(t->entries[i].chain, X509_free);
		sk_X509_pop_free(t->entries[i].verified, X509_free);
	}
	for(i = 0; i < t->nallow; i++)
		free(t->allow[i]);
	X509_STORE_free(t->anchors);
	free(t);
}

int tpid_trust_load_ca(
		tpid_trust_t *t, const char *ca_file, char *err, size_t errsize)
{
	if(X509_STORE_load_file(t->anchors, ca_file) != 1) {
		snprintf(err, errsize, "cannot load trust anchors from '%s'", ca_file);
		ERR_clear_error();
		return -1;
	}
	return 0;
}

/* Only EC P-256 keys can verify ES256. */
static int tpid_trust_key_is_p256(EVP_PKEY *pub)
{
	char group[64];
	size_t glen = 0;

	if(pub == NULL || EVP_PKEY_get_base_id(pub) != EVP_PKEY_EC)
		return 0;
	if(EVP_PKEY_get_utf8_string_param(
			   pub, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &glen)
			!= 1)
		return 0;
	return strcmp(group, "prime256v1") == 0 || strcmp(group, "P-256") == 0;
}

/* Validates the chain once, ignoring time (checked per call), and keeps
 * the path found so that per-call checks need no signature verification. */
static STACK_OF(X509)
		* tpid_trust_verify_chain(
				const tpid_trust_t *t, X509 *leaf, STACK_OF(X509) * chain)
{
	X509_STORE_CTX *ctx;
	STACK_OF(X509) *path = NULL;

	ctx = X509_STORE_CTX_new();
	if(ctx == NULL)
		return NULL;
	if(X509_STORE_CTX_init(ctx, t->anchors, leaf, chain) == 1) {
		X509_VERIFY_PARAM_set_flags(
				X509_STORE_CTX_get0_param(ctx), X509_V_FLAG_NO_CHECK_TIME);
		if(X509_verify_cert(ctx) == 1)
			path = X509_STORE_CTX_get1_chain(ctx);
	}
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
	return path;
}

int tpid_trust_add_cert(tpid_trust_t *t, const char *x5u, const char *pem_file,
		char *err, size_t errsize)
{
	FILE *f;
	X509 *leaf, *x;
	STACK_OF(X509) * chain;
	tpid_trust_entry_t *e;

	if(t->nentries >= TPID_TRUST_MAX_CERTS) {
		snprintf(err, errsize, "too many certificates (max %d)",
				TPID_TRUST_MAX_CERTS);
		return -1;
	}
	if(strncmp(x5u, "https://", 8) != 0) {
		snprintf(err, errsize, "x5u '%s' is not an https URL", x5u);
		return -1;
	}
	for(int i = 0; i < t->nentries; i++) {
		if(strcmp(t->entries[i].x5u, x5u) == 0) {
			snprintf(err, errsize, "x5u '%s' configured twice", x5u);
			return -1;
		}
	}
	f = fopen(pem_file, "r");
	if(f == NULL) {
		snprintf(err, errsize, "cannot open certificate '%s'", pem_file);
		return -1;
	}
	leaf = PEM_read_X509(f, NULL, NULL, NULL);
	chain = sk_X509_new_null();
	while(leaf != NULL && chain != NULL
			&& (x = PEM_read_X509(f, NULL, NULL, NULL)) != NULL) {
		if(!sk_X509_push(chain, x)) {
			X509_free(x);
			break;
		}
	}
	fclose(f);
	ERR_clear_error(); /* end of file shows as an error */
	if(leaf == NULL || chain == NULL) {
		snprintf(err, errsize, "no certificate in '%s'", pem_file);
		X509_free(leaf);
		sk_X509_pop_free(chain, X509_free);
		return -1;
	}
	e = &t->entries[t->nentries];
	e->x5u = strdup(x5u);
	if(e->x5u == NULL) {
		X509_free(leaf);
		sk_X509_pop_free(chain, X509_free);
		snprintf(err, errsize, "out of memory");
		return -1;
	}
	e->leaf = leaf;
	e->chain = chain;
	e->pub = X509_get0_pubkey(leaf);
	e->p256 = tpid_trust_key_is_p256(e->pub);
	/* A certificate that does not chain is kept, so that the verifier can
	 * tell CERT_INVALID from CERT_UNAVAILABLE; load the anchors first. */
	e->verified = tpid_trust_verify_chain(t, leaf, chain);
	t->nentries++;
	return 0;
}

int tpid_trust_allow(tpid_trust_t *t, const char *prefix)
{
	if(t->nallow >= TPID_TRUST_MAX_ALLOW)
		return -1;
	t->allow[t->nallow] = strdup(prefix);
	if(t->allow[t->nallow] == NULL)
		return -1;
	t->nallow++;
	return 0;
}

int tpid_trust_check_allowed(const tpid_trust_t *t, const char *x5u)
{
	int i;

	if(t->nallow == 0)
		return TPID_OK;
	for(i = 0; i < t->nallow; i++) {
		if(strncmp(x5u, t->allow[i], strlen(t->allow[i])) == 0)
			return TPID_OK;
	}
	return TPID_R_X5U_NOT_ALLOWED;
}

static int tpid_trust_in_validity(STACK_OF(X509) * path, int64_t now)
{
	time_t tnow = (time_t)now;
	int i;

	for(i = 0; i < sk_X509_num(path); i++) {
		X509 *x = sk_X509_value(path, i);
		if(X509_cmp_time(X509_get0_notBefore(x), &tnow) >= 0
				|| X509_cmp_time(X509_get0_notAfter(x), &tnow) <= 0)
			return 0;
	}
	return 1;
}

int tpid_trust_get_key(
		const tpid_trust_t *t, const char *x5u, int64_t now, EVP_PKEY **pub)
{
	int i;
	const tpid_trust_entry_t *e;

	for(i = 0; i < t->nentries; i++) {
		e = &t->entries[i];
		if(strcmp(e->x5u, x5u) != 0)
			continue;
		if(e->verified == NULL || !e->p256
				|| !tpid_trust_in_validity(e->verified, now))
			return TPID_R_CERT_INVALID;
		*pub = e->pub;
		return TPID_OK;
	}
	return TPID_R_CERT_UNAVAILABLE;
}

int tpid_trust_count(const tpid_trust_t *t)
{
	return t->nentries;
}
