/*
 * tpid_assert - trustworthy third-party identities in IMS calls
 *
 * Kamailio glue only: exports, parameters, initialisation, $tpid(key) and
 * KEMI. The logic lives in the plain-C tpid_*.c files.
 *
 * Includes among the glue files (a DAG: roles call down into the runner,
 * the runner calls back only through the kind callbacks of its header):
 *   mod.c   -> orig, avatar, term, pv, trustcfg, replay, boundary, rpc,
 *              async, dir, signer, stats, cfg
 *   orig.c  -> query, dir, signer, sip, stats, cfg  (+ plain tpid_hook)
 *   avatar.c -> query, term, dir, signer, sip, stats, cfg (+ plain tpid_bar,
 *              tpid_avatar)
 *   query.c -> async, dir, cfg                (+ plain tpid_cache)
 *   term.c  -> x5u, replay, sip, stats, cfg
 *   x5u.c   -> async, shm, cfg                (+ plain tpid_certcache)
 *   pv.c    -> cfg
 *   trustcfg.c -> cfg                         (+ plain tpid_trust, signers)
 *   replay.c -> shm, cfg                     (+ plain tpid_replay)
 *   boundary.c -> sip, cfg
 *   rpc.c   -> async, dir, x5u, signer, cfg
 *   signer.c -> (plain tpid_signkey)
 *   async.c -> stats, cfg                     (+ plain tpid_https)
 *   dir.c   -> shm                            (+ plain tpid_cache,
 *              tpid_enterprise)
 *   shm.c   -> (plain tpid_cache ops)
 *   sip.c   -> stats, cfg
 *   cfg.h, stats.h: include no glue header
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "core/dprint.h"
#include "core/kemi.h"
#include "core/mod_fix.h"
#include "core/pvar.h"
#include "core/sr_module.h"
#include "core/ut.h"

#include "core/route.h"

#include "tpid_assert_boundary.h"
#include "tpid_assert_async.h"
#include "tpid_assert_avatar.h"
#include "tpid_assert_cfg.h"
#include "tpid_assert_cluster.h"
#include "tpid_assert_dir.h"
#include "tpid_assert_ms.h"
#include "tpid_assert_orig.h"
#include "tpid_assert_pv.h"
#include "tpid_assert_replay.h"
#include "tpid_assert_rpc.h"
#include "tpid_assert_signer.h"
#include "tpid_assert_stats.h"
#include "tpid_assert_term.h"
#include "tpid_assert_trustcfg.h"
#include "tpid_assert_x5u.h"
#include "tpid_hook.h"
#include "tpid_https.h"
#include "tpid_jose.h"

MODULE_VERSION


tpid_mod_cfg_t tpid_cfg;
sl_api_t tpid_slb;
tpid_result_t tpid_res;
tpid_result_t tpid_avres;

/* raw parameter values, turned into tpid_cfg in mod_init */
static char *tpid_p_sign_key = NULL;
static char *tpid_p_sign_cert = NULL;
static char *tpid_p_deny_policy = "reject";
static char *tpid_p_fail_policy = "strip";
static char *tpid_p_term_policy = "continue";
static char *tpid_p_avatar_deny_policy = "reject";
static char *tpid_p_avatar_fail_policy = "strip";
static char *tpid_p_avatar_term_policy = "continue";
static char *tpid_p_sign_mode = "local";
static char *tpid_p_verify_mode = "local";

static int mod_init(void);
static int child_init(int rank);
static void mod_destroy(void);
static int w_tpid_assert_orig(sip_msg_t *msg, char *rt, char *p2);
static int w_tpid_assert_orig_id(sip_msg_t *msg, char *id, char *rt);
static int fixup_tpid_orig(void **param, int param_no);
static int fixup_tpid_orig_id(void **param, int param_no);
static int fixup_free_tpid_orig_id(void **param, int param_no);
static int w_tpid_assert_term(sip_msg_t *msg, char *p1, char *p2);
static int w_tpid_assert_term_route(sip_msg_t *msg, char *rt, char *p2);
static int w_tpid_assert_strip(sip_msg_t *msg, char *p1, char *p2);

/* clang-format off */
static cmd_export_t cmds[] = {
	{"tpid_assert_orig", (cmd_function)w_tpid_assert_orig, 1,
		fixup_tpid_orig, 0, REQUEST_ROUTE},
	{"tpid_assert_orig_id", (cmd_function)w_tpid_assert_orig_id, 2,
		fixup_tpid_orig_id, fixup_free_tpid_orig_id, REQUEST_ROUTE},
	{"tpid_assert_term", (cmd_function)w_tpid_assert_term, 0,
		0, 0, REQUEST_ROUTE},
	{"tpid_assert_term", (cmd_function)w_tpid_assert_term_route, 1,
		fixup_tpid_orig, 0, REQUEST_ROUTE},
	{"tpid_assert_strip", (cmd_function)w_tpid_assert_strip, 0,
		0, 0, REQUEST_ROUTE | FAILURE_ROUTE | BRANCH_ROUTE},
	{0, 0, 0, 0, 0, 0}
};

static param_export_t params[] = {
	{"claim_header",     PARAM_STR,    &tpid_cfg.claim_header},
	{"present_header",   PARAM_STR,    &tpid_cfg.present_header},
	{"sign_key",         PARAM_STRING, &tpid_p_sign_key},
	{"sign_x5u",         PARAM_STRING, &tpid_cfg.sign_x5u},
	{"sign_cert",        PARAM_STRING, &tpid_p_sign_cert},
	{"enterprise_file",  PARAM_STRING, &tpid_cfg.enterprise_file},
	{"deny_policy",      PARAM_STRING, &tpid_p_deny_policy},
	{"deny_code",        PARAM_INT,    &tpid_cfg.deny_code},
	{"fail_policy",      PARAM_STRING, &tpid_p_fail_policy},
	{"fail_code",        PARAM_INT,    &tpid_cfg.fail_code},
	{"default_ttl",      PARAM_INT,    &tpid_cfg.default_ttl},
	{"ttl_cap",          PARAM_INT,    &tpid_cfg.ttl_cap},
	{"deny_ttl",         PARAM_INT,    &tpid_cfg.deny_ttl},
	{"hook_max_body",    PARAM_INT,    &tpid_cfg.hook_max_body},
	{"hook_workers",     PARAM_INT,    &tpid_cfg.hook_workers},
	{"max_inflight",     PARAM_INT,    &tpid_cfg.max_inflight},
	{"hook_max_connections", PARAM_INT, &tpid_cfg.hook_max_connections},
	{"cache_size",       PARAM_INT,    &tpid_cfg.cache_size},
	{"cache_locks",      PARAM_INT,    &tpid_cfg.cache_locks},
	{"ca_file",          PARAM_STRING|PARAM_USE_FUNC,
		(void *)tpid_trustcfg_param_ca_file},
	{"x5u_cert",         PARAM_STRING|PARAM_USE_FUNC,
		(void *)tpid_trustcfg_param_cert},
	{"x5u_allow",        PARAM_STRING|PARAM_USE_FUNC,
		(void *)tpid_trustcfg_param_allow},
	{"x5u_signer",       PARAM_STRING|PARAM_USE_FUNC,
		(void *)tpid_trustcfg_param_signer},
	{"iat_max_age",      PARAM_INT,    &tpid_cfg.iat_max_age},
	{"iat_max_future",   PARAM_INT,    &tpid_cfg.iat_max_future},
	{"term_policy",      PARAM_STRING, &tpid_p_term_policy},
	{"require_identity", PARAM_INT,    &tpid_cfg.require_identity},
	{"term_orig_from",   PARAM_INT,    &tpid_cfg.term_orig_from},
	{"replay_cache_size", PARAM_INT,   &tpid_cfg.replay_cache_size},
	{"enable_dmq",       PARAM_INT,    &tpid_cfg.enable_dmq},
	{"crl_file",         PARAM_STRING|PARAM_USE_FUNC,
		(void *)tpid_trustcfg_param_crl_file},
	{"x5u_fetch",        PARAM_INT,    &tpid_cfg.x5u_fetch},
	{"avatar_header",    PARAM_STR,    &tpid_cfg.avatar_header},
	{"avatar_present_header", PARAM_STR, &tpid_cfg.avatar_present_header},
	{"bar_file",         PARAM_STRING, &tpid_cfg.bar_file},
	{"avatar_deny_policy", PARAM_STRING, &tpid_p_avatar_deny_policy},
	{"avatar_deny_code", PARAM_INT,    &tpid_cfg.avatar_deny_code},
	{"avatar_fail_policy", PARAM_STRING, &tpid_p_avatar_fail_policy},
	{"avatar_fail_code", PARAM_INT,    &tpid_cfg.avatar_fail_code},
	{"avatar_term_policy", PARAM_STRING, &tpid_p_avatar_term_policy},
	{"avatar_cache_size", PARAM_INT,   &tpid_cfg.avatar_cache_size},
	{"sign_mode",        PARAM_STRING, &tpid_p_sign_mode},
	{"verify_mode",      PARAM_STRING, &tpid_p_verify_mode},
	{"ms_file",          PARAM_STRING, &tpid_cfg.ms_file},
	{"verstat",          PARAM_INT,    &tpid_cfg.verstat},
	{"x5u_ca_file",      PARAM_STRING, &tpid_cfg.x5u_ca_file},
	{"x5u_allow_private", PARAM_INT,   &tpid_cfg.x5u_allow_private},
	{"x5u_timeout_ms",   PARAM_INT,    &tpid_cfg.x5u_timeout_ms},
	{"x5u_connect_timeout_ms", PARAM_INT, &tpid_cfg.x5u_connect_timeout_ms},
	{"x5u_max_size",     PARAM_INT,    &tpid_cfg.x5u_max_size},
	{"x5u_cache_size",   PARAM_INT,    &tpid_cfg.x5u_cache_size},
	{"x5u_min_ttl",      PARAM_INT,    &tpid_cfg.x5u_min_ttl},
	{"x5u_max_ttl",      PARAM_INT,    &tpid_cfg.x5u_max_ttl},
	{"x5u_fail_ttl",     PARAM_INT,    &tpid_cfg.x5u_fail_ttl},
	{0, 0, 0}
};

static pv_export_t mod_pvs[] = {
	{{"tpid", sizeof("tpid") - 1}, PVT_OTHER, pv_get_tpid, 0,
		pv_parse_tpid_name, 0, 0, 0},
	{{0, 0}, 0, 0, 0, 0, 0, 0, 0}
};

struct module_exports exports = {
	"tpid_assert",
	DEFAULT_DLFLAGS,
	cmds,
	params,
	0,          /* RPC methods: registered in mod_init */
	mod_pvs,
	0,          /* response function */
	mod_init,
	child_init,
	mod_destroy
};
/* clang-format on */

/* Defaults that are not zero; set before the cfg's modparams are applied. */
static void tpid_cfg_defaults(void)
{
	static int done = 0;

	if(done)
		return;
	done = 1;
	tpid_cfg.claim_header.s = "P-Third-Party-ID";
	tpid_cfg.claim_header.len = strlen(tpid_cfg.claim_header.s);
	tpid_cfg.present_header.s = "P-Verified-Third-Party-ID";
	tpid_cfg.present_header.len = strlen(tpid_cfg.present_header.s);
	tpid_cfg.deny_code = 403;
	tpid_cfg.fail_code = 500;
	tpid_cfg.avatar_header.s = "P-Avatar-ID";
	tpid_cfg.avatar_header.len = strlen(tpid_cfg.avatar_header.s);
	tpid_cfg.avatar_present_header.s = "P-Verified-Avatar-ID";
	tpid_cfg.avatar_present_header.len =
			strlen(tpid_cfg.avatar_present_header.s);
	tpid_cfg.avatar_deny_code = 403;
	tpid_cfg.avatar_fail_code = 500;
	tpid_cfg.avatar_cache_size = 16384;
	tpid_cfg.default_ttl = 300;
	tpid_cfg.ttl_cap = 3600;
	tpid_cfg.deny_ttl = 30;
	tpid_cfg.hook_workers = 1;
	tpid_cfg.max_inflight = 1024;
	tpid_cfg.hook_max_connections = 64;
	tpid_cfg.cache_size = 16384;
	tpid_cfg.cache_locks = 64;
	tpid_cfg.hook_max_body = TPID_HOOK_MAX_BODY;
	tpid_cfg.iat_max_age = 60;
	tpid_cfg.iat_max_future = 15;
	tpid_cfg.replay_cache_size = 32768;
	tpid_cfg.enable_dmq = 0;
	tpid_cfg.x5u_fetch = 1;
	tpid_cfg.x5u_ca_file = "/etc/ssl/certs/ca-certificates.crt";
	tpid_cfg.x5u_timeout_ms = 2000;
	tpid_cfg.x5u_connect_timeout_ms = 1000;
	tpid_cfg.x5u_max_size = 16384;
	tpid_cfg.x5u_cache_size = 256;
	tpid_cfg.x5u_min_ttl = 60;
	tpid_cfg.x5u_max_ttl = 86400;
	tpid_cfg.x5u_fail_ttl = 10;
}

int mod_register(char *path, int *dlflags, void *p1, void *p2);

static int tpid_policy_parse(const char *name, const char *v, int allow_reason)
{
	if(strcasecmp(v, "reject") == 0)
		return TPID_POLICY_REJECT;
	if(strcasecmp(v, "strip") == 0 || strcasecmp(v, "continue") == 0)
		return TPID_POLICY_STRIP;
	if(allow_reason && strcasecmp(v, "reason") == 0)
		return TPID_POLICY_REASON;
	LM_ERR("%s: unknown policy '%s'\n", name, v);
	return -1;
}

/* "local" (0: this module signs / verifies) or "ms" (1: the STI-AS /
 * STI-VS does, over Ms). */
static int tpid_mode_parse(const char *name, const char *v)
{
	if(strcasecmp(v, "local") == 0)
		return 0;
	if(strcasecmp(v, "ms") == 0)
		return 1;
	LM_ERR("%s: unknown mode '%s' (local or ms)\n", name, v);
	return -1;
}

static int tpid_load_sign_key(void)
{
	char err[512];

	if(tpid_signer_mod_init() < 0)
		return -1;
	if(tpid_p_sign_key == NULL)
		return 0;
	if(tpid_signer_load(tpid_p_sign_key, tpid_cfg.sign_x5u, tpid_p_sign_cert,
			   err, sizeof(err))
			< 0) {
		LM_ERR("%s\n", err);
		return -1;
	}
	return 0;
}

static int mod_init(void)
{
	char err[512];
	int p;

	tpid_cfg_defaults();
	if(sl_load_api(&tpid_slb) != 0) {
		LM_ERR("the sl module is required\n");
		return -1;
	}
	if((p = tpid_policy_parse("deny_policy", tpid_p_deny_policy, 0)) < 0)
		return -1;
	tpid_cfg.deny_policy = p;
	if((p = tpid_policy_parse("fail_policy", tpid_p_fail_policy, 0)) < 0)
		return -1;
	tpid_cfg.fail_policy = p;
	if((p = tpid_policy_parse("term_policy", tpid_p_term_policy, 1)) < 0)
		return -1;
	tpid_cfg.term_policy = p;
	if((p = tpid_policy_parse(
				"avatar_deny_policy", tpid_p_avatar_deny_policy, 0))
			< 0)
		return -1;
	tpid_cfg.avatar_deny_policy = p;
	if((p = tpid_policy_parse(
				"avatar_fail_policy", tpid_p_avatar_fail_policy, 0))
			< 0)
		return -1;
	tpid_cfg.avatar_fail_policy = p;
	if((p = tpid_policy_parse(
				"avatar_term_policy", tpid_p_avatar_term_policy, 1))
			< 0)
		return -1;
	tpid_cfg.avatar_term_policy = p;
	if((p = tpid_mode_parse("sign_mode", tpid_p_sign_mode)) < 0)
		return -1;
	tpid_cfg.sign_ms = p;
	if((p = tpid_mode_parse("verify_mode", tpid_p_verify_mode)) < 0)
		return -1;
	tpid_cfg.verify_ms = p;
	if(tpid_cfg.verstat != 0 && tpid_cfg.verstat != 1) {
		LM_ERR("verstat must be 0 or 1\n");
		return -1;
	}
	if(tpid_cfg.deny_code < 300 || tpid_cfg.deny_code > 699
			|| tpid_cfg.fail_code < 300 || tpid_cfg.fail_code > 699
			|| tpid_cfg.avatar_deny_code < 300
			|| tpid_cfg.avatar_deny_code > 699
			|| tpid_cfg.avatar_fail_code < 300
			|| tpid_cfg.avatar_fail_code > 699) {
		LM_ERR("deny_code, fail_code, avatar_deny_code and avatar_fail_code "
			   "must be 300..699\n");
		return -1;
	}
	if(tpid_cfg.avatar_cache_size < 1) {
		LM_ERR("avatar_cache_size must be >= 1\n");
		return -1;
	}
	if(tpid_cfg.default_ttl <= 0 || tpid_cfg.ttl_cap <= 0
			|| tpid_cfg.deny_ttl < 0 || tpid_cfg.iat_max_age <= 0
			|| tpid_cfg.iat_max_future < 0 || tpid_cfg.hook_max_body < 256) {
		LM_ERR("default_ttl, ttl_cap, iat_max_age must be > 0, deny_ttl "
			   "and iat_max_future >= 0, hook_max_body >= 256\n");
		return -1;
	}
	/* A pipe holds 8192 pointers: the in-flight bound keeps writers from
	 * ever finding it full. */
	if(tpid_cfg.hook_workers < 1 || tpid_cfg.hook_workers > 16
			|| tpid_cfg.max_inflight < 1
			|| tpid_cfg.max_inflight > 4096 * tpid_cfg.hook_workers
			|| tpid_cfg.hook_max_connections < 1
			|| tpid_cfg.hook_max_connections > 1024 || tpid_cfg.cache_size < 1
			|| tpid_cfg.cache_locks < 1) {
		LM_ERR("hook_workers must be 1..16, max_inflight 1..4096 per worker, "
			   "hook_max_connections 1..1024, cache_size and cache_locks "
			   ">= 1\n");
		return -1;
	}
	if(tpid_cfg.x5u_timeout_ms < 1 || tpid_cfg.x5u_connect_timeout_ms < 1
			|| tpid_cfg.x5u_max_size < 1024
			|| tpid_cfg.x5u_max_size > TPID_TRUST_MAX_PEM
			|| tpid_cfg.x5u_cache_size < 1 || tpid_cfg.x5u_cache_size > 65536
			|| tpid_cfg.x5u_min_ttl < 0
			|| tpid_cfg.x5u_max_ttl < tpid_cfg.x5u_min_ttl
			|| tpid_cfg.x5u_fail_ttl < 1) {
		LM_ERR("x5u_timeout_ms and x5u_connect_timeout_ms must be >= 1, "
			   "x5u_max_size 1024..%d, x5u_cache_size 1..65536, "
			   "0 <= x5u_min_ttl <= x5u_max_ttl, x5u_fail_ttl >= 1\n",
				TPID_TRUST_MAX_PEM);
		return -1;
	}
	if(tpid_cfg.replay_cache_size < 0
			|| tpid_cfg.replay_cache_size > (1 << 26)) {
		LM_ERR("replay_cache_size must be 0..67108864\n");
		return -1;
	}
	if(tpid_cfg.enable_dmq != 0 && tpid_cfg.enable_dmq != 1) {
		LM_ERR("enable_dmq must be 0 or 1\n");
		return -1;
	}
	/* The cache stripes by a power of two: size the lock set to match. */
	for(p = 1; p < tpid_cfg.cache_locks && p < 4096; p <<= 1)
		;
	tpid_cfg.cache_locks = p;
	if(tpid_load_sign_key() < 0 || tpid_trustcfg_init() < 0
			|| tpid_term_init() < 0)
		return -1;
	if(tpid_stats_register() < 0 || tpid_rpc_register() < 0
			|| tpid_dir_init(
					   &tpid_ents, tpid_cfg.cache_size, tpid_cfg.cache_locks)
					   < 0
			|| tpid_async_mod_init() < 0 || tpid_orig_mod_init() < 0
			|| tpid_avatar_mod_init() < 0 || tpid_replay_mod_init() < 0
			|| tpid_cluster_mod_init() < 0
			|| tpid_ms_mod_init(tpid_term_ms_resumed) < 0)
		return -1;
	if(tpid_cfg.enterprise_file != NULL
			&& tpid_dir_reload(
					   &tpid_ents, tpid_cfg.enterprise_file, err, sizeof(err))
					   < 0) {
		LM_ERR("%s\n", err);
		return -1;
	}
	if(tpid_cfg.bar_file != NULL
			&& tpid_dir_reload(&tpid_bars, tpid_cfg.bar_file, err, sizeof(err))
					   < 0) {
		LM_ERR("%s\n", err);
		return -1;
	}
	/* curl_global_init is not thread-safe and must run before any handle
	 * exists; handles themselves are made per process after fork. */
	if(tpid_https_global_init() != 0) {
		LM_ERR("cannot initialise libcurl\n");
		return -1;
	}
	LM_INFO("tpid_assert ready: %d enterprise(s), %d certificate(s), "
			"signing %s\n",
			tpid_dir_walk(&tpid_ents, NULL, NULL),
			tpid_cfg.trust ? tpid_trust_count(tpid_cfg.trust) : 0,
			tpid_p_sign_key ? "on" : "off");
	return 0;
}

static int child_init(int rank)
{
	return tpid_async_child_init(rank);
}

static void mod_destroy(void)
{
	/* Kamailio calls this in the main process once the children have
	 * stopped: nothing below is in use any more. */
	tpid_x5u_mod_destroy();
	tpid_replay_mod_destroy();
	tpid_dir_destroy(&tpid_bars);
	tpid_dir_destroy(&tpid_ents);
	tpid_async_mod_destroy();
	tpid_trustcfg_destroy();
	tpid_signer_destroy();
	tpid_jose_release();
	tpid_https_global_cleanup();
}

void tpid_result_reset(tpid_result_t *r, sip_msg_t *msg)
{
	memset(r, 0, sizeof(*r));
	r->msg_id = msg->id;
	r->msg_pid = msg->pid;
}

void tpid_result_start(sip_msg_t *msg)
{
	tpid_result_reset(&tpid_res, msg);
}

static int tpid_is_invite(sip_msg_t *msg)
{
	return msg->first_line.type == SIP_REQUEST
		   && msg->first_line.u.request.method_value == METHOD_INVITE;
}

static int ki_tpid_assert_orig(sip_msg_t *msg, str *cbname)
{
	if(!tpid_is_invite(msg)) {
		LM_ERR("tpid_assert_orig() is for INVITE requests\n");
		return TPID_RET_ERROR;
	}
	return tpid_orig(msg, NULL, -1, cbname);
}

static int ki_tpid_assert_orig_id(sip_msg_t *msg, str *id, str *cbname)
{
	if(!tpid_is_invite(msg)) {
		LM_ERR("tpid_assert_orig_id() is for INVITE requests\n");
		return TPID_RET_ERROR;
	}
	return tpid_orig(msg, id, -1, cbname);
}

static int ki_tpid_assert_term(sip_msg_t *msg)
{
	if(!tpid_is_invite(msg)) {
		LM_ERR("tpid_assert_term() is for INVITE requests\n");
		return TPID_RET_ERROR;
	}
	return tpid_term(msg, -1, NULL);
}

static int ki_tpid_assert_term_cb(sip_msg_t *msg, str *cbname)
{
	if(!tpid_is_invite(msg)) {
		LM_ERR("tpid_assert_term_cb() is for INVITE requests\n");
		return TPID_RET_ERROR;
	}
	return tpid_term(msg, -1, cbname);
}

/* A route name, resolved to its index at start-up so that a typo stops
 * Kamailio instead of a call. */
static int tpid_fixup_route(void **param)
{
	int ri = route_lookup(&main_rt, (char *)*param);

	if(ri < 0) {
		LM_ERR("route '%s' not found\n", (char *)*param);
		return E_CFG;
	}
	*param = (void *)(long)ri;
	return 0;
}

/* tpid_assert_orig(route), tpid_assert_term(route) */
static int fixup_tpid_orig(void **param, int param_no)
{
	return tpid_fixup_route(param);
}

/* tpid_assert_orig_id(id, route) */
static int fixup_tpid_orig_id(void **param, int param_no)
{
	if(param_no == 1)
		return fixup_spve_null(param, 1);
	return tpid_fixup_route(param);
}

static int fixup_free_tpid_orig_id(void **param, int param_no)
{
	if(param_no == 1)
		return fixup_free_spve_null(param, 1);
	return 0;
}

static int w_tpid_assert_orig(sip_msg_t *msg, char *rt, char *p2)
{
	if(!tpid_is_invite(msg)) {
		LM_ERR("tpid_assert_orig() is for INVITE requests\n");
		return TPID_RET_ERROR;
	}
	return tpid_orig(msg, NULL, (int)(long)rt, NULL);
}

static int w_tpid_assert_orig_id(sip_msg_t *msg, char *id, char *rt)
{
	str sid;

	if(!tpid_is_invite(msg)) {
		LM_ERR("tpid_assert_orig_id() is for INVITE requests\n");
		return TPID_RET_ERROR;
	}
	if(fixup_get_svalue(msg, (gparam_t *)id, &sid) < 0) {
		LM_ERR("cannot get the third-party ID value\n");
		return TPID_RET_ERROR;
	}
	return tpid_orig(msg, &sid, (int)(long)rt, NULL);
}

static int w_tpid_assert_term(sip_msg_t *msg, char *p1, char *p2)
{
	return ki_tpid_assert_term(msg);
}

static int w_tpid_assert_term_route(sip_msg_t *msg, char *rt, char *p2)
{
	if(!tpid_is_invite(msg)) {
		LM_ERR("tpid_assert_term() is for INVITE requests\n");
		return TPID_RET_ERROR;
	}
	return tpid_term(msg, (int)(long)rt, NULL);
}

/* Never 0 (that would end the script): 1, or -1 when the message could
 * not be edited. */
static int ki_tpid_assert_strip(sip_msg_t *msg)
{
	if(msg->first_line.type != SIP_REQUEST) {
		LM_ERR("tpid_assert_strip() is for requests\n");
		return TPID_RET_ERROR;
	}
	return tpid_strip(msg) < 0 ? -1 : 1;
}

static int w_tpid_assert_strip(sip_msg_t *msg, char *p1, char *p2)
{
	return ki_tpid_assert_strip(msg);
}

/* clang-format off */
static sr_kemi_t sr_kemi_tpid_assert_exports[] = {
	{ str_init("tpid_assert"), str_init("tpid_assert_orig"),
		SR_KEMIP_INT, ki_tpid_assert_orig,
		{ SR_KEMIP_STR, SR_KEMIP_NONE, SR_KEMIP_NONE,
			SR_KEMIP_NONE, SR_KEMIP_NONE, SR_KEMIP_NONE }
	},
	{ str_init("tpid_assert"), str_init("tpid_assert_orig_id"),
		SR_KEMIP_INT, ki_tpid_assert_orig_id,
		{ SR_KEMIP_STR, SR_KEMIP_STR, SR_KEMIP_NONE,
			SR_KEMIP_NONE, SR_KEMIP_NONE, SR_KEMIP_NONE }
	},
	{ str_init("tpid_assert"), str_init("tpid_assert_term"),
		SR_KEMIP_INT, ki_tpid_assert_term,
		{ SR_KEMIP_NONE, SR_KEMIP_NONE, SR_KEMIP_NONE,
			SR_KEMIP_NONE, SR_KEMIP_NONE, SR_KEMIP_NONE }
	},
	{ str_init("tpid_assert"), str_init("tpid_assert_term_cb"),
		SR_KEMIP_INT, ki_tpid_assert_term_cb,
		{ SR_KEMIP_STR, SR_KEMIP_NONE, SR_KEMIP_NONE,
			SR_KEMIP_NONE, SR_KEMIP_NONE, SR_KEMIP_NONE }
	},
	{ str_init("tpid_assert"), str_init("tpid_assert_strip"),
		SR_KEMIP_INT, ki_tpid_assert_strip,
		{ SR_KEMIP_NONE, SR_KEMIP_NONE, SR_KEMIP_NONE,
			SR_KEMIP_NONE, SR_KEMIP_NONE, SR_KEMIP_NONE }
	},
	{ {0, 0}, {0, 0}, 0, NULL, { 0, 0, 0, 0, 0, 0 } }
};
/* clang-format on */

int mod_register(char *path, int *dlflags, void *p1, void *p2)
{
	tpid_cfg_defaults();
	sr_kemi_modules_add(sr_kemi_tpid_assert_exports);
	return 0;
}
