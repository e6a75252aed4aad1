/*
 * tpid_assert - Kamailio glue: the terminating side's trust configuration
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>
#include <time.h>

#include "core/dprint.h"

#include "tpid_assert_cfg.h"
#include "tpid_assert_trustcfg.h"
#include "tpid_reason.h"
#include "tpid_signers.h"
#include "tpid_trust.h"

/* Raw values as the cfg gave them, turned into tpid_cfg at mod_init. */
typedef struct tpid_tc_list
{
	const char *what;
	int max, n;
	char **v;
} tpid_tc_list_t;

static char *tpid_tc_ca_file = NULL;
static char *tpid_tc_crl_file = NULL;
static char *tpid_tc_cert_v[TPID_TRUST_MAX_CERTS];
static char *tpid_tc_allow_v[TPID_TRUST_MAX_ALLOW];
static char *tpid_tc_signer_v[TPID_SIGNERS_MAX];
static tpid_tc_list_t tpid_tc_cert = {
		"x5u_cert", TPID_TRUST_MAX_CERTS, 0, tpid_tc_cert_v};
static tpid_tc_list_t tpid_tc_allow = {
		"x5u_allow", TPID_TRUST_MAX_ALLOW, 0, tpid_tc_allow_v};
static tpid_tc_list_t tpid_tc_signer = {
		"x5u_signer", TPID_SIGNERS_MAX, 0, tpid_tc_signer_v};

static int tpid_tc_add(tpid_tc_list_t *l, void *val)
{
	if(l->n >= l->max) {
		LM_ERR("too many %s parameters (max %d)\n", l->what, l->max);
		return -1;
	}
	l->v[l->n++] = (char *)val;
	return 0;
}

int tpid_trustcfg_param_ca_file(modparam_t type, void *val)
{
	tpid_tc_ca_file = (char *)val;
	return 0;
}

int tpid_trustcfg_param_crl_file(modparam_t type, void *val)
{
	tpid_tc_crl_file = (char *)val;
	return 0;
}

int tpid_trustcfg_param_cert(modparam_t type, void *val)
{
	return tpid_tc_add(&tpid_tc_cert, val);
}

int tpid_trustcfg_param_allow(modparam_t type, void *val)
{
	return tpid_tc_add(&tpid_tc_allow, val);
}

int tpid_trustcfg_param_signer(modparam_t type, void *val)
{
	return tpid_tc_add(&tpid_tc_signer, val);
}

/* "URL=path": the URL may hold '=', the path is after the last. */
static int tpid_tc_pin(tpid_trust_t *t, char *spec)
{
	char err[512];
	char *eq = strrchr(spec, '=');
	EVP_PKEY *pub;

	if(eq == NULL) {
		LM_ERR("x5u_cert '%s': expected URL=PEM-file\n", spec);
		return -1;
	}
	*eq = '\0';
	if(tpid_trust_add_cert(t, spec, eq + 1, err, sizeof(err)) < 0) {
		LM_ERR("x5u_cert: %s\n", err);
		return -1;
	}
	/* Kept (so the reason says CERT_INVALID), but said now rather than
	 * discovered on every call. */
	if(tpid_trust_get_key(t, spec, (int64_t)time(NULL), &pub) != TPID_OK)
		LM_WARN("x5u_cert %s: certificate %s does not chain to ca_file or "
				"is not valid now: tokens naming it will fail "
				"CERT_INVALID\n",
				spec, eq + 1);
	return 0;
}

static int tpid_tc_trust(void)
{
	char err[512];
	int i;

	if(tpid_tc_ca_file == NULL && tpid_tc_cert.n == 0)
		return 0;
	tpid_cfg.trust = tpid_trust_new();
	if(tpid_cfg.trust == NULL)
		return -1;
	if(tpid_tc_ca_file == NULL) {
		LM_ERR("x5u_cert needs ca_file (the trust anchors)\n");
		return -1;
	}
	if(tpid_trust_load_ca(tpid_cfg.trust, tpid_tc_ca_file, err, sizeof(err))
			< 0) {
		LM_ERR("ca_file: %s\n", err);
		return -1;
	}
	if(tpid_tc_crl_file != NULL
			&& tpid_trust_load_crl(
					   tpid_cfg.trust, tpid_tc_crl_file, err, sizeof(err))
					   < 0) {
		LM_ERR("crl_file: %s\n", err);
		return -1;
	}
	for(i = 0; i < tpid_tc_cert.n; i++) {
		if(tpid_tc_pin(tpid_cfg.trust, tpid_tc_cert.v[i]) < 0)
			return -1;
	}
	for(i = 0; i < tpid_tc_allow.n; i++) {
		if(tpid_trust_allow(tpid_cfg.trust, tpid_tc_allow.v[i]) < 0) {
			LM_ERR("x5u_allow '%s' refused\n", tpid_tc_allow.v[i]);
			return -1;
		}
	}
	return 0;
}

/* Default deny: without x5u_signer no signer may assert anything. */
static int tpid_tc_signers(void)
{
	char err[256];
	int i;

	tpid_cfg.signers = tpid_signers_new();
	if(tpid_cfg.signers == NULL)
		return -1;
	for(i = 0; i < tpid_tc_signer.n; i++) {
		if(tpid_signers_add(
				   tpid_cfg.signers, tpid_tc_signer.v[i], err, sizeof(err))
				< 0) {
			LM_ERR("x5u_signer '%s': %s\n", tpid_tc_signer.v[i], err);
			return -1;
		}
	}
	if(tpid_cfg.trust != NULL && tpid_tc_signer.n == 0)
		LM_WARN("no x5u_signer configured: every third-party token will "
				"fail ISSUER_NOT_ALLOWED\n");
	return 0;
}

int tpid_trustcfg_init(void)
{
	return tpid_tc_trust() == 0 && tpid_tc_signers() == 0 ? 0 : -1;
}

void tpid_trustcfg_destroy(void)
{
	tpid_trust_free(tpid_cfg.trust);
	tpid_cfg.trust = NULL;
	tpid_signers_free(tpid_cfg.signers);
	tpid_cfg.signers = NULL;
}
