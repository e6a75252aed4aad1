/*
 * tpid_assert - Kamailio glue: the originating S-CSCF
 *
 * Strip what the UE cannot be trusted to send, find out whether the served
 * user may use the claimed ID (decision cache, else the enterprise, asked
 * asynchronously), sign the asserted ID into an Identity header, or apply
 * the deny / failure policy.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>
#include <time.h>

#include "core/dprint.h"
#include "core/pt.h"

#include "tpid_assert_mod.h"
#include "tpid_assert_sip.h"
#include "tpid_assert_async.h"
#include "tpid_assert_signer.h"
#include "tpid_assert_stats.h"
#include "tpid_hook.h"

/* A cached decision this close to its end is asked again rather than
 * signed into a token that may expire before the terminating side sees it. */
#define TPID_ORIG_MIN_EXP 3

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
	/* $tpid(id), name, ... name only what was signed. */
	memset(&tpid_res.claims, 0, sizeof(tpid_res.claims));
	tpid_stats_reason(reason);
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
	if(tpid_sip_uri_of(raw, n, id, idsize) < 0 || !tpid_sip_uri_safe(id)
			|| tpid_id_domain(id, strlen(id), domain, dsize) < 0)
		return TPID_R_BAD_CLAIM;
	return TPID_OK;
}

static int tpid_orig_sign(sip_msg_t *msg, tpid_claims_t *c)
{
	char hdr[TPID_MAX_HDR_LEN];
	str name = str_init(TPID_IDENTITY_HDR);
	const char *x5u = NULL;
	EVP_PKEY *key;
	int rc;

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

/* Carries out an outcome on msg: sign and add the Identity header, or
 * apply the deny / failure policy. Used inline on a cache hit and on the
 * resumed request after an enterprise answer. */
int tpid_orig_apply(sip_msg_t *msg, tpid_claims_t *c, int reason)
{
	int rc;

	if(reason != TPID_OK)
		return tpid_orig_refuse(msg, reason);
	rc = tpid_orig_sign(msg, c);
	if(rc != TPID_OK)
		return tpid_orig_refuse(msg, rc);
	update_stat(tpid_st_signed, 1);
	tpid_res.reason = TPID_OK;
	tpid_res.ret = TPID_RET_ASSERTED;
	return tpid_res.ret;
}

int tpid_orig(sip_msg_t *msg, str *explicit_id, int route, str *cbname)
{
	char id[TPID_MAX_URI], domain[TPID_MAX_DOMAIN];
	char served_raw[1][TPID_MAX_URI];
	char served[TPID_MAX_URI], dest[TPID_MAX_URI], callid[256] = "";
	tpid_ident_t served_id, dest_id;
	tpid_enterprise_t ent;
	tpid_cache_view_t view;
	static tpid_orig_waiter_t w; /* large: off the stack; copied to shm */
	tpid_claims_t *c = &tpid_res.claims;
	int64_t now = (int64_t)time(NULL);
	int rc;

	tpid_result_start(msg);
	/* Nothing third-party the UE sent goes on: its Identity tokens and any
	 * presentation it made up. The claim itself goes after it is read. */
	if(tpid_sip_remove_identity(msg, TPID_PPT_THIRD_PARTY, 0) < 0
			|| tpid_sip_remove_headers(msg, &tpid_cfg.present_header) < 0)
		return tpid_orig_refuse(msg, TPID_R_INTERNAL);

	rc = tpid_orig_claim(
			msg, explicit_id, id, sizeof(id), domain, sizeof(domain));
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
		return tpid_orig_refuse(msg, TPID_R_BAD_DEST);
	tpid_sip_ident_uri(&served_id, served, sizeof(served));
	tpid_sip_ident_uri(&dest_id, dest, sizeof(dest));
	snprintf(c->ppt, sizeof(c->ppt), "%s", TPID_PPT_THIRD_PARTY);
	c->orig = served_id;
	c->ndest = 1;
	c->dest[0] = dest_id;

	/* The common case costs no network and no suspension. */
	if(tpid_cache_lookup(tpid_cache, served, id, domain, now, NULL, &view)
					== TPID_CACHE_HIT
			&& view.expires - now >= TPID_ORIG_MIN_EXP) {
		update_stat(tpid_st_cache_hits, 1);
		snprintf(c->name, sizeof(c->name), "%s", view.name);
		c->iat = now;
		c->exp = view.expires;
		return tpid_orig_apply(msg, c, view.reason);
	}
	update_stat(tpid_st_cache_misses, 1);

	if(tpid_ent_get(domain, &ent) < 0)
		return tpid_orig_refuse(msg, TPID_R_NO_ENTERPRISE);
	if(msg->callid && msg->callid->body.len < (int)sizeof(callid)) {
		memcpy(callid, msg->callid->body.s, msg->callid->body.len);
		callid[msg->callid->body.len] = '\0';
	}
	memset(&w, 0, sizeof(w));
	w.claims = *c;
	w.route = route;
	if(cbname != NULL && cbname->len > 0) {
		if(cbname->len >= (int)sizeof(w.cbname))
			return tpid_orig_refuse(msg, TPID_R_INTERNAL);
		memcpy(w.cbname, cbname->s, cbname->len);
	}
	rc = tpid_async_start(msg, &ent, served, dest, callid, &w);
	if(rc != TPID_OK)
		return tpid_orig_refuse(msg, rc);
	/* Suspended: the route runs when the answer (or the timeout) comes. */
	tpid_res.ret = TPID_RET_SUSPENDED;
	return TPID_RET_SUSPENDED;
}
