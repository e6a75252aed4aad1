/*
 * tpid_assert - Kamailio glue: the signing key and its x5u, reloadable
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "core/dprint.h"
#include "core/locking.h"
#include "core/mem/shm_mem.h"

#include "tpid_assert_cfg.h"
#include "tpid_assert_ms.h"
#include "tpid_assert_signer.h"
#include "tpid_assert_sip.h"
#include "tpid_signkey.h"
#include "tpid_passport.h"

typedef struct tpid_signer_sh
{
	gen_lock_t lock;
	int version; /* 0: no key */
	size_t pem_len;
	char pem[TPID_SIGNKEY_MAX_PEM + 1];
	char x5u[TPID_MAX_URI];
	char key_file[512];
	char cert_file[512];
} tpid_signer_sh_t;

static tpid_signer_sh_t *tpid_sg = NULL;

/* this process's parsed copy */
static int tpid_sg_version = 0;
static EVP_PKEY *tpid_sg_key = NULL;
static char tpid_sg_x5u[TPID_MAX_URI];

int tpid_signer_mod_init(void)
{
	tpid_sg = shm_malloc(sizeof(*tpid_sg));
	if(tpid_sg == NULL) {
		SHM_MEM_ERROR;
		return -1;
	}
	memset(tpid_sg, 0, sizeof(*tpid_sg));
	if(lock_init(&tpid_sg->lock) == NULL) {
		LM_ERR("cannot initialise the signer lock\n");
		return -1;
	}
	return 0;
}

/* An x5u goes between <> and into the token: an https URL with nothing
 * that could end a header field. */
static int tpid_signer_x5u_ok(const char *x5u)
{
	return x5u != NULL && strncmp(x5u, "https://", 8) == 0
		   && strlen(x5u) < TPID_MAX_URI
		   && strpbrk(x5u, "<>\" \t;,\r\n") == NULL;
}

int tpid_signer_load(const char *key_file, const char *x5u,
		const char *cert_file, char *err, size_t errsize)
{
	static char pem[TPID_SIGNKEY_MAX_PEM + 1], cert[TPID_SIGNKEY_MAX_PEM + 1];
	char why[256];
	EVP_PKEY *key = NULL;
	int n, c = 0, ok;

	if(!tpid_signer_x5u_ok(x5u)) {
		snprintf(err, errsize,
				"sign_x5u: an https URL of at most %d characters without "
				"blanks, quotes, ';', ',' or <> is required",
				TPID_MAX_URI - 1);
		return -1;
	}
	n = tpid_signkey_read_file(key_file, pem, sizeof(pem), why, sizeof(why));
	if(n < 0 || tpid_signkey_parse(pem, n, &key, why, sizeof(why)) < 0) {
		snprintf(err, errsize, "sign_key '%s': %s", key_file, why);
		return -1;
	}
	if(cert_file != NULL && *cert_file) {
		c = tpid_signkey_read_file(
				cert_file, cert, sizeof(cert), why, sizeof(why));
		ok = c >= 0
			 && tpid_signkey_matches_cert(key, cert, c, why, sizeof(why)) == 1;
		if(!ok) {
			EVP_PKEY_free(key);
			snprintf(err, errsize, "sign_cert '%s': %s", cert_file, why);
			return -1;
		}
	}
	EVP_PKEY_free(key);
	lock_get(&tpid_sg->lock);
	memcpy(tpid_sg->pem, pem, n + 1);
	tpid_sg->pem_len = n;
	snprintf(tpid_sg->x5u, sizeof(tpid_sg->x5u), "%s", x5u);
	snprintf(tpid_sg->key_file, sizeof(tpid_sg->key_file), "%s", key_file);
	snprintf(tpid_sg->cert_file, sizeof(tpid_sg->cert_file), "%s",
			cert_file ? cert_file : "");
	__atomic_add_fetch(&tpid_sg->version, 1, __ATOMIC_RELEASE);
	lock_release(&tpid_sg->lock);
	return 0;
}

/* Re-parses the published key into this process's copy. */
static void tpid_signer_refresh(void)
{
	static char pem[TPID_SIGNKEY_MAX_PEM + 1];
	char why[256];
	EVP_PKEY *key = NULL;
	size_t n;

	int version;

	lock_get(&tpid_sg->lock);
	n = tpid_sg->pem_len;
	memcpy(pem, tpid_sg->pem, n);
	snprintf(tpid_sg_x5u, sizeof(tpid_sg_x5u), "%s", tpid_sg->x5u);
	version = tpid_sg->version;
	lock_release(&tpid_sg->lock);
	/* it parsed when it was published: a failure here is memory */
	if(tpid_signkey_parse(pem, n, &key, why, sizeof(why)) < 0) {
		LM_ERR("cannot parse the published signing key: %s\n", why);
		return;
	}
	EVP_PKEY_free(tpid_sg_key);
	tpid_sg_key = key;
	tpid_sg_version = version;
}

EVP_PKEY *tpid_signer_current(const char **x5u)
{
	int v;

	if(tpid_sg == NULL)
		return NULL;
	v = __atomic_load_n(&tpid_sg->version, __ATOMIC_ACQUIRE);
	if(v == 0)
		return NULL;
	if(v != tpid_sg_version)
		tpid_signer_refresh();
	*x5u = tpid_sg_x5u;
	return tpid_sg_key;
}

int tpid_signer_info(char *x5u, size_t xsize, char *key_file, size_t ksize,
		char *cert_file, size_t csize)
{
	int v;

	if(tpid_sg == NULL)
		return 0;
	lock_get(&tpid_sg->lock);
	v = tpid_sg->version;
	snprintf(x5u, xsize, "%s", tpid_sg->x5u);
	snprintf(key_file, ksize, "%s", tpid_sg->key_file);
	snprintf(cert_file, csize, "%s", tpid_sg->cert_file);
	lock_release(&tpid_sg->lock);
	return v;
}

void tpid_signer_destroy(void)
{
	EVP_PKEY_free(tpid_sg_key);
	tpid_sg_key = NULL;
	if(tpid_sg != NULL) {
		lock_destroy(&tpid_sg->lock);
		shm_free(tpid_sg);
		tpid_sg = NULL;
	}
}

int tpid_signer_add_identity(sip_msg_t *msg, tpid_claims_t *c)
{
	char hdr[TPID_MAX_HDR_LEN];
	str name = str_init(TPID_IDENTITY_HDR);
	const char *x5u = NULL;
	EVP_PKEY *key;
	int rc;

	/* sign_mode "ms": the STI-AS has signed it already */
	if(tpid_cfg.sign_ms)
		return tpid_ms_add_signed(msg, c);
	/* the pair in force now: a reload since the call began is honoured */
	key = tpid_signer_current(&x5u);
	if(key == NULL)
		return TPID_R_SIGN_FAILED;
	snprintf(c->x5u, sizeof(c->x5u), "%s", x5u);
	rc = tpid_passport_sign(c, key, hdr, sizeof(hdr));
	if(rc != TPID_OK)
		return rc;
	if(tpid_sip_add_header(msg, &name, hdr) < 0)
		return TPID_R_INTERNAL;
	return TPID_OK;
}
