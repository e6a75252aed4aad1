/*
 * tpid_assert - Kamailio glue: the originating S-CSCF
 *
 * Strip what the UE cannot be trusted to send, ask the enterprise whether
 * the served user may use the claimed ID, sign the asserted ID into an
 * Identity header, or apply the deny / failure policy.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>
#include <time.h>

#include "core/dprint.h"
#include "core/pt.h"

#include "tpid_assert_mod.h"
#include "tpid_assert_sip.h"
#include "tpid_hook.h"

/* One client per process, created after fork on first use, so that curl
 * handles and their connections are never shared between processes. */
static tpid_hook_client_t *tpid_orig_client = NULL;

static tpid_hook_client_t *tpid_orig_get_client(void)
{
	if(tpid_orig_client == NULL)
		tpid_orig_client = tpid_hook_client_new(tpid_cfg.hook_max_body);
	return tpid_orig_client;
}

void tpid_orig_destroy(void)
{
	tpid_hook_client_free(tpid_orig_client);
	tpid_orig_client = NULL;
}

/* Deny-type reasons: the ID is not authorized (or cannot be). */
static int tpid_orig_is_denial(int reason)
{
	switch(reason) {
		case TPID_R_BAD_CLAIM:
		case TPID_R_NO_SERVED_USER:
		case TPID_R_NO_ENTERPRISE:
		case TPID_R_DENIED:
		case TPID_R_UNKNOWN_ID:
			return 1;
		default:
			return 0;
	}
}

/* Applies the deny or failure policy; the claim is already stripped. */
static int tpid_orig_refuse(sip_msg_t *msg, int reason)
{
	int deny = tpid_orig_is_denial(reason);
	int policy = deny ? tpid_cfg.deny_policy : tpid_cfg.fail_policy;
	int code = deny ? tpid_cfg.deny_code : tpid_cfg.fail_code;

	tpid_res.reason = reason;
	LM_NOTICE("third-party ID refused: %s (%d), call-id %.*s\n",
			tpid_reason_name(reason), reason,
			msg->callid ? msg->callid->body.len : 0,
			msg->callid ? msg->callid->body.s : "");
	if(policy == TPID_POLICY_REJECT) {
		tpid_res.ret = TPID_RET_REJECTED;
		if(tpid_sip_reply(msg, code, tpid_reason_sip_phrase(reason)) < 0)
			tpid_res.ret = TPID_RET_ERROR;
		return tpid_res.ret;
	}
	tpid_res.ret = TPID_RET_STRIPPED;
	return tpid_res.ret;
}

/* The claimed ID as a bare URI, from the explicit value or the header. */
static int tpid_orig_claim(sip_msg_t *msg, str *explicit_id, char *id,
		size_t idsize, char *domain, size_t dsize)
{
	char raw[TPID_MAX_HDR_LEN + 1];
	int n;

	if(explicit_id != NULL) {
		if(explicit_id->len <= 0)
			return TPID_R_NO_CLAIM;
		if((size_t)explicit_id->len >= sizeof(raw))
			return TPID_R_BAD_CLAIM;
		memcpy(raw, explicit_id->s, explicit_id->len);
		raw[explicit_id->len] = '\0';
		n = explicit_id->len;
	} else {
		n = tpid_sip_get_header(msg, &tpid_cfg.claim_header, raw, sizeof(raw));
		if(n == 0)
			return TPID_R_NO_CLAIM;
		if(n < 0)
			return TPID_R_BAD_CLAIM;
	}
	if(tpid_sip_uri_of(raw, n, id, idsize) < 0
			|| tpid_id_domain(id, strlen(id), domain, dsize) < 0)
		return TPID_R_BAD_CLAIM;
	return TPID_OK;
}

static int tpid_orig_ask(sip_msg_t *msg, const tpid_enterprise_t *e,
		const char *served, const char *id, const char *dest,
		tpid_hook_answer_t *a)
{
	tpid_hook_client_t *c = tpid_orig_get_client();
	tpid_hook_query_t q;
	const char *dests[1];
	char callid[256] = "";
	int rc;

	if(c == NULL)
		return TPID_R_INTERNAL;
	if(msg->callid && msg->callid->body.len < (int)sizeof(callid)) {
		memcpy(callid, msg->callid->body.s, msg->callid->body.len);
		callid[msg->callid->body.len] = '\0';
	}
	dests[0] = dest;
	memset(&q, 0, sizeof(q));
	q.served_user = served;
	q.tpid = id;
	q.dest = dests;
	q.ndest = 1;
	q.call_id = callid;
	q.time = (int64_t)time(NULL);
	memset(a, 0, sizeof(*a));
	rc = tpid_hook_query(c, e, &q, a);
	tpid_res.hook_ms = a->elapsed_ms;
	if(rc != TPID_OK)
		return rc;
	switch(a->result) {
		case TPID_HOOK_AUTHORIZED:
			return TPID_OK;
		case TPID_HOOK_DENIED:
			return TPID_R_DENIED;
		default:
			return TPID_R_UNKNOWN_ID;
	}
}

static int tpid_orig_sign(sip_msg_t *msg, tpid_claims_t *c)
{
	char hdr[TPID_MAX_HDR_LEN];
	str name = str_init(TPID_IDENTITY_HDR);
	int rc;

	if(tpid_cfg.sign_key == NULL || tpid_cfg.sign_x5u == NULL)
		return TPID_R_SIGN_FAILED;
	rc = tpid_token_sign(c, tpid_cfg.sign_key, hdr, sizeof(hdr));
	if(rc != TPID_OK)
		return rc;
	if(tpid_sip_add_header(msg, &name, hdr) < 0)
		return TPID_R_INTERNAL;
	return TPID_OK;
}

int tpid_orig(sip_msg_t *msg, str *explicit_id)
{
	char id[TPID_MAX_URI], domain[TPID_MAX_DOMAIN];
	char served_raw[1][TPID_MAX_URI];
	char served[TPID_MAX_URI], dest[TPID_MAX_URI];
	tpid_ident_t served_id, dest_id;
	const tpid_enterprise_t *e;
	tpid_hook_answer_t a;
	tpid_claims_t *c = &tpid_res.claims;
	int64_t now;
	int ttl, rc;

	tpid_result_start(msg);
	/* Nothing third-party the UE sent goes on: its Identity tokens and any
	 * presentation it made up. The claim itself goes after it is read. */
	if(tpid_sip_remove_identity(msg, TPID_PPT_THIRD_PARTY) < 0
			|| tpid_sip_remove_headers(msg, &tpid_cfg.present_header) < 0)
		return tpid_orig_refuse(msg, TPID_R_INTERNAL);

	rc = tpid_orig_claim(msg, explicit_id, id, sizeof(id), domain,
			sizeof(domain));
	if(tpid_sip_remove_headers(msg, &tpid_cfg.claim_header) < 0)
		return tpid_orig_refuse(msg, TPID_R_INTERNAL);
	if(rc == TPID_R_NO_CLAIM) {
		tpid_res.reason = rc;
		tpid_res.ret = TPID_RET_NONE;
		return tpid_res.ret;
	}
	if(rc != TPID_OK)
		return tpid_orig_refuse(msg, rc);
	snprintf(c->id, sizeof(c->id), "%s", id);
	snprintf(c->iss, sizeof(c->iss), "%s", domain);

	if(tpid_sip_pai(msg, &served_id, served_raw, 1) < 1)
		return tpid_orig_refuse(msg, TPID_R_NO_SERVED_USER);
	if(tpid_sip_ruri(msg, &dest_id) < 0)
		return tpid_orig_refuse(msg, TPID_R_INTERNAL);
	tpid_sip_ident_uri(&served_id, served, sizeof(served));
	tpid_sip_ident_uri(&dest_id, dest, sizeof(dest));

	e = tpid_enterprise_find(&tpid_cfg.enterprises, domain, strlen(domain));
	if(e == NULL)
		return tpid_orig_refuse(msg, TPID_R_NO_ENTERPRISE);

	rc = tpid_orig_ask(msg, e, served, id, dest, &a);
	if(rc != TPID_OK)
		return tpid_orig_refuse(msg, rc);

	now = (int64_t)time(NULL);
	ttl = a.ttl > 0 ? a.ttl : tpid_cfg.default_ttl;
	if(e->ttl_cap > 0 && ttl > e->ttl_cap)
		ttl = e->ttl_cap;
	if(ttl > tpid_cfg.ttl_cap)
		ttl = tpid_cfg.ttl_cap;
	snprintf(c->ppt, sizeof(c->ppt), "%s", TPID_PPT_THIRD_PARTY);
	snprintf(c->x5u, sizeof(c->x5u), "%s",
			tpid_cfg.sign_x5u ? tpid_cfg.sign_x5u : "");
	snprintf(c->name, sizeof(c->name), "%s", a.display_name);
	c->iat = now;
	c->exp = now + ttl;
	c->orig = served_id;
	c->ndest = 1;
	c->dest[0] = dest_id;
	rc = tpid_orig_sign(msg, c);
	if(rc != TPID_OK)
		return tpid_orig_refuse(msg, rc);
	tpid_res.reason = TPID_OK;
	tpid_res.ret = TPID_RET_ASSERTED;
	LM_DBG("asserted %s for %s\n", id, served);
	return tpid_res.ret;
}
