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
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "core/dprint.h"

#include "tpid_assert_avatar.h"
#include "tpid_assert_cfg.h"
#include "tpid_assert_dir.h"
#include "tpid_assert_ms.h"
#include "tpid_assert_orig.h"
#include "tpid_assert_query.h"
#include "tpid_assert_signer.h"
#include "tpid_assert_sip.h"
#include "tpid_assert_stats.h"
#include "tpid_hook.h"

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

	return tpid_sip_refuse(msg, &tpid_res, reason,
			deny ? tpid_cfg.deny_policy : tpid_cfg.fail_policy,
			deny ? tpid_cfg.deny_code : tpid_cfg.fail_code, "third-party ID");
}

/* The claimed ID in canonical form (tpid_ident.h), from the explicit value
 * or the header, and its domain. */
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
	/* canonical: the cache key, the hook's tpid and revoke_id all agree on
	 * one spelling (host case, escapes, parameters) */
	if(tpid_uri_canon_text(raw, (size_t)n, id, idsize) < 0
			|| tpid_id_domain(id, strlen(id), domain, dsize) < 0)
		return TPID_R_BAD_CLAIM;
	return TPID_OK;
}

/* The display name from a cached value (at most the claim's size: the
 * hook's parser already refused longer names). */
static void tpid_orig_set_name(tpid_claims_t *c, const char *value)
{
	size_t n = strnlen(value, sizeof(c->name) - 1);

	memcpy(c->name, value, n);
	c->name[n] = '\0';
}

/* Carries out an outcome on msg: sign and add the Identity header, or
 * apply the deny / failure policy. Used inline on a cache hit and on the
 * resumed request after an enterprise answer. */
static int tpid_orig_apply(sip_msg_t *msg, tpid_claims_t *c, int reason)
{
	int rc;

	if(reason != TPID_OK)
		return tpid_orig_refuse(msg, reason);
	rc = tpid_signer_add_identity(msg, c);
	if(rc != TPID_OK)
		return tpid_orig_refuse(msg, rc);
	update_stat(tpid_st_signed, 1);
	tpid_res.reason = TPID_OK;
	tpid_res.ret = TPID_RET_ASSERTED;
	return tpid_res.ret;
}

/* ---- the enterprise query (tpid_assert_query.h) --------------------------- */

static int tpid_orig_start(
		tpid_https_t *eng, const tpid_query_job_t *q, tpid_async_job_t *job)
{
	const char *dests[1] = {q->dest};
	tpid_hook_query_t hq;

	memset(&hq, 0, sizeof(hq));
	hq.served_user = q->served;
	hq.tpid = q->id;
	hq.dest = dests;
	hq.ndest = 1;
	hq.call_id = q->callid;
	hq.time = q->time;
	return tpid_hook_add(eng, &q->ent, &hq, tpid_cfg.hook_max_body, job)
						   == TPID_OK
				   ? 0
				   : -1;
}

/* The enterprise's answer as a reason, counted; the display name is the
 * value cached with it. */
static void tpid_orig_answer(
		const tpid_https_result_t *res, tpid_query_answer_t *qa)
{
	static tpid_hook_answer_t a; /* large: off the worker's stack */

	memset(&a, 0, sizeof(a));
	qa->reason = res != NULL ? tpid_hook_result(res, &a) : TPID_R_INTERNAL;
	qa->http_status = a.http_status;
	snprintf(qa->text, sizeof(qa->text), "%s", a.reason);
	if(qa->reason != TPID_OK)
		return;
	qa->answered = 1;
	qa->ttl = a.ttl;
	qa->elapsed_ms = a.elapsed_ms;
	snprintf(qa->value, sizeof(qa->value), "%s", a.display_name);
	tpid_stats_latency(a.elapsed_ms);
	switch(a.result) {
		case TPID_HOOK_AUTHORIZED:
			update_stat(tpid_st_authorized, 1);
			qa->reason = TPID_OK;
			break;
		case TPID_HOOK_DENIED:
			update_stat(tpid_st_denied, 1);
			qa->reason = TPID_R_DENIED;
			break;
		default:
			update_stat(tpid_st_unknown, 1);
			qa->reason = TPID_R_UNKNOWN_ID;
	}
}

static tpid_query_role_t tpid_orig_role = {"enterprise", &tpid_ents,
		TPID_R_HOOK_TIMEOUT, TPID_R_HOOK_BUSY, tpid_orig_start,
		tpid_orig_answer, &tpid_st_queries, &tpid_st_coalesced, -1};

/* ---- one call, both identities ---------------------------------------------- */

/* What a suspended call keeps (after its tpid_query_call_t). */
typedef struct tpid_orig_call
{
	tpid_query_part_t tpid;	  /* the third-party ID */
	tpid_query_part_t avatar; /* the avatar */
	int ms_asked;			  /* the STI-AS was asked (sign_mode "ms") */
	tpid_ms_slot_t ms[TPID_MS_SLOTS]; /* its tokens: third-party, avatar */
} tpid_orig_call_t;

/* What every call keeps; the STI-AS's slots follow (sign_mode "ms"). */
#define TPID_ORIG_PARTS offsetof(tpid_orig_call_t, ms_asked)

/* The third-party claims an authorized outcome signs. */
static void tpid_orig_claims(const tpid_query_part_t *p,
		const tpid_query_outcome_t *o, int64_t iat, tpid_claims_t *c)
{
	*c = p->c;
	tpid_orig_set_name(c, o->value);
	c->iat = iat;
	c->exp = o->exp;
}

/* The third-party part: decided, or the enterprise to ask in *ent. */
static void tpid_orig_prepare(sip_msg_t *msg, str *explicit_id,
		const tpid_ident_t *served_id, const tpid_ident_t *dest_id,
		const char *served, int have_users, tpid_query_part_t *p,
		tpid_enterprise_t *ent)
{
	char domain[TPID_MAX_DOMAIN];
	tpid_claims_t *c = &p->c;
	tpid_cache_view_t view;
	int64_t now = (int64_t)time(NULL);
	int rc;

	rc = tpid_orig_claim(
			msg, explicit_id, c->id, sizeof(c->id), domain, sizeof(domain));
	if(rc == TPID_R_NO_CLAIM) {
		p->state = TPID_PART_NONE;
		return;
	}
	if(rc != TPID_OK) {
		c->id[0] = '\0';
		tpid_query_part_done(p, rc, NULL, 0);
		return;
	}
	snprintf(c->iss, sizeof(c->iss), "%s", domain);
	if(have_users != TPID_OK) {
		tpid_query_part_done(p, have_users, NULL, 0);
		return;
	}
	snprintf(c->ppt, sizeof(c->ppt), "%s", TPID_PPT_THIRD_PARTY);
	c->orig = *served_id;
	c->ndest = 1;
	c->dest[0] = *dest_id;
	/* The common case costs no network and no suspension. */
	if(tpid_cache_lookup(
			   tpid_ents.cache, served, c->id, domain, now, 0, NULL, &view)
			== TPID_CACHE_HIT) {
		update_stat(tpid_st_cache_hits, 1);
		tpid_query_part_done(p, view.reason, view.value, view.expires);
		return;
	}
	update_stat(tpid_st_cache_misses, 1);
	if(tpid_dir_get(&tpid_ents, domain, ent) < 0) {
		tpid_query_part_done(p, TPID_R_NO_ENTERPRISE, NULL, 0);
		return;
	}
	p->state = TPID_PART_ASK;
}

/* Carries out both outcomes on msg (inline, or on the resumed request):
 * the third-party ID first; a rejection ends it. Returns the function's
 * result: -1 when either was rejected, else the third-party one. */
static int tpid_orig_finish(sip_msg_t *msg, tpid_orig_call_t *oc,
		const tpid_query_call_t *call, int resumed)
{
	const tpid_query_outcome_t *o;
	tpid_claims_t *c = &tpid_res.claims;

	tpid_res.ret = TPID_RET_NONE;
	tpid_res.reason = TPID_R_NO_CLAIM;
	int ret = TPID_RET_NONE;

	/* sign_mode "ms": the headers the STI-AS signed for this call */
	tpid_ms_use_slots(oc->ms, TPID_MS_SLOTS);
	o = tpid_query_part_outcome(&oc->tpid, call);
	if(o != NULL) {
		tpid_res.hook_ms = o->hook_ms;
		tpid_orig_claims(&oc->tpid, o, (int64_t)time(NULL), c);
		if(tpid_orig_apply(msg, c, o->reason) == TPID_RET_REJECTED)
			ret = TPID_RET_REJECTED;
	}
	o = tpid_query_part_outcome(&oc->avatar, call);
	if(ret != TPID_RET_REJECTED && o != NULL
			&& tpid_avatar_apply(msg, &oc->avatar.c, o) == TPID_RET_REJECTED)
		ret = TPID_RET_REJECTED;
	tpid_ms_use_slots(NULL, 0);
	return ret == TPID_RET_REJECTED ? ret : tpid_res.ret;
}

/* sign_mode "ms", every decision of the call in: the STI-AS signs what
 * was authorized (the claims fixed now, iat included), before the call
 * resumes. 1 while it is asked; 0 when nothing is (left) to ask. */
static int tpid_orig_follow(tpid_query_call_t *call)
{
	tpid_orig_call_t *d = tpid_query_call_data(call);
	const tpid_query_outcome_t *o;
	int64_t now = (int64_t)time(NULL);

	if(!tpid_cfg.sign_ms || d->ms_asked)
		return 0;
	d->ms_asked = 1;
	o = tpid_query_part_outcome(&d->tpid, call);
	if(o != NULL && o->reason == TPID_OK) {
		tpid_orig_claims(&d->tpid, o, now, &d->ms[0].c);
		d->ms[0].used = 1;
	}
	o = tpid_query_part_outcome(&d->avatar, call);
	if(o != NULL && o->reason == TPID_OK
			&& tpid_avatar_claims(&d->avatar.c, o, now, &d->ms[1].c) == TPID_OK)
		d->ms[1].used = 1;
	return tpid_ms_sign_start(call, d->ms, TPID_MS_SLOTS);
}

/* Whether a call decided without asking anyone still has a token for the
 * STI-AS to sign (sign_mode "ms"): then it is suspended like one that
 * asks. */
static int tpid_orig_needs_ms(const tpid_orig_call_t *oc)
{
	return tpid_cfg.sign_ms
		   && ((oc->tpid.state == TPID_PART_DONE
					   && oc->tpid.out.reason == TPID_OK)
				   || (oc->avatar.state == TPID_PART_DONE
						   && oc->avatar.out.reason == TPID_OK));
}

/* The resumed request: both outcomes, then the route. */
static void tpid_orig_resumed(sip_msg_t *msg, tpid_query_call_t *call)
{
	tpid_result_start(msg);
	tpid_result_reset(&tpid_avres, msg);
	tpid_avres.reason = TPID_R_NO_AVATAR;
	tpid_avres.ret = TPID_RET_NONE;
	tpid_orig_finish(msg, tpid_query_call_data(call), call, 1);
}

int tpid_orig_mod_init(void)
{
	if(tpid_query_register(&tpid_orig_role) < 0
			|| tpid_query_init(tpid_orig_resumed, tpid_orig_follow) < 0)
		return -1;
	return 0;
}

/* Asks the services of the parts marked ASK, suspended once. */
static int tpid_orig_ask(sip_msg_t *msg, tpid_orig_call_t *oc,
		const tpid_enterprise_t *ent, const tpid_enterprise_t *bar,
		const char *served, const char *dest, int route, str *cbname)
{
	tpid_query_call_t *call;
	tpid_orig_call_t *d;
	int rc;

	/* the STI-AS's slots (16 KB) only where it signs */
	call = tpid_query_call_new(
			tpid_cfg.sign_ms ? sizeof(*oc) : TPID_ORIG_PARTS, route, cbname);
	if(call == NULL)
		rc = TPID_R_INTERNAL;
	else {
		d = tpid_query_call_data(call);
		memcpy(d, oc, TPID_ORIG_PARTS);
		if(d->tpid.state == TPID_PART_ASK) {
			d->tpid.q = call->nq;
			tpid_query_add(call, &tpid_orig_role, ent, d->tpid.c.id);
		}
		if(d->avatar.state == TPID_PART_ASK) {
			d->avatar.q = call->nq;
			tpid_query_add(call, tpid_avatar_role(), bar, d->avatar.c.aid);
		}
		rc = tpid_query_ask(call, msg, served, dest);
		if(rc == TPID_OK) {
			/* the routes run when the answers (or the timeouts) come */
			tpid_res.ret = TPID_RET_SUSPENDED;
			tpid_avres.ret = TPID_RET_SUSPENDED;
			return TPID_RET_SUSPENDED;
		}
		if(rc == TPID_QUERY_ANSWERED) {
			rc = tpid_orig_finish(msg, d, call, 0);
			tpid_query_call_free(call);
			return rc;
		}
		if(rc == TPID_R_CANCELLED) {
			tpid_result_t *res[2] = {&tpid_res, &tpid_avres};
			return tpid_sip_cancelled(msg, res, 2);
		}
	}
	/* not suspended: each question fails at once (busy, no memory) */
	if(oc->tpid.state == TPID_PART_ASK)
		tpid_query_part_done(&oc->tpid, rc, NULL, 0);
	if(oc->avatar.state == TPID_PART_ASK)
		tpid_query_part_done(&oc->avatar,
				rc == TPID_R_HOOK_BUSY ? TPID_R_BAR_BUSY : rc, NULL, 0);
	return tpid_orig_finish(msg, oc, NULL, 0);
}

int tpid_orig(sip_msg_t *msg, str *explicit_id, int route, str *cbname)
{
	static tpid_orig_call_t oc; /* large: off the worker's stack */
	char served_raw[1][TPID_MAX_URI];
	char served[TPID_MAX_URI] = "", dest[TPID_MAX_URI] = "";
	tpid_ident_t served_id, dest_id;
	tpid_enterprise_t ent, bar;
	int users = TPID_OK;

	tpid_result_start(msg);
	tpid_result_reset(&tpid_avres, msg);
	tpid_avres.reason = TPID_R_NO_AVATAR;
	tpid_avres.ret = TPID_RET_NONE;
	/* the parts only: the slots are filled in the shared copy, never here */
	memset(&oc, 0, TPID_ORIG_PARTS);
	/* Nothing the UE sent for the callee to see goes on: Identity tokens
	 * of both kinds and any presentation it made up, before anything can
	 * suspend (tm keeps the edits made up to the suspension). The claims
	 * go after they are read. */
	if(tpid_sip_remove_identity(msg, TPID_PPT_THIRD_PARTY, 0) < 0
			|| tpid_sip_remove_headers(msg, &tpid_cfg.present_header) < 0
			|| tpid_avatar_strip(msg) < 0)
		return tpid_orig_refuse(msg, TPID_R_INTERNAL);
	if(tpid_sip_pai(msg, &served_id, served_raw, 1) < 1)
		users = TPID_R_NO_SERVED_USER;
	else if(tpid_sip_ruri(msg, &dest_id) < 0)
		users = TPID_R_BAD_DEST;
	else {
		tpid_sip_ident_uri(&served_id, served, sizeof(served));
		tpid_sip_ident_uri(&dest_id, dest, sizeof(dest));
	}
	tpid_orig_prepare(msg, explicit_id, &served_id, &dest_id, served, users,
			&oc.tpid, &ent);
	if(tpid_sip_remove_headers(msg, &tpid_cfg.claim_header) < 0)
		tpid_query_part_done(&oc.tpid, TPID_R_INTERNAL, NULL, 0);
	if(tpid_avatar_prepare(
			   msg, &served_id, &dest_id, served, users, &oc.avatar, &bar)
			< 0)
		tpid_query_part_done(&oc.avatar, TPID_R_INTERNAL, NULL, 0);
	if(oc.tpid.state != TPID_PART_ASK && oc.avatar.state != TPID_PART_ASK
			&& !tpid_orig_needs_ms(&oc))
		return tpid_orig_finish(msg, &oc, NULL, 0);
	return tpid_orig_ask(msg, &oc, &ent, &bar, served, dest, route, cbname);
}
