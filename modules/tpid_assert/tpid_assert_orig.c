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
#include "core/timer.h"

#include "tpid_assert_async.h"
#include "tpid_assert_cfg.h"
#include "tpid_assert_ent.h"
#include "tpid_assert_orig.h"
#include "tpid_assert_signer.h"
#include "tpid_assert_sip.h"
#include "tpid_assert_stats.h"
#include "tpid_hook.h"

/* A cached decision this close to its end is asked again rather than
 * signed into a token that may expire before the terminating side sees it. */
#define TPID_ORIG_MIN_EXP 3

/* A query still out this long after the enterprise's total timeout is
 * given up: its calls go on with HOOK_TIMEOUT (seconds). */
#define TPID_ORIG_DEADLINE_MARGIN 2

/* A suspended INVITE (shared memory). */
typedef struct tpid_orig_waiter
{
	tpid_async_waiter_t base; /* first */
	tpid_claims_t claims;	  /* all but name/iat/exp, set on resume */
} tpid_orig_waiter_t;

/* An enterprise query on its way to a worker (shared memory). */
typedef struct tpid_orig_job
{
	tpid_async_job_t base; /* first */
	tpid_enterprise_t ent;
	char served[TPID_MAX_URI];
	char id[TPID_MAX_URI];
	char dest[TPID_MAX_URI];
	char callid[256];
	int64_t time;
	tpid_orig_waiter_t *self;	/* not cached (cache full): its one waiter */
	const tpid_waiter_t *owner; /* cached: names its cache entry */
} tpid_orig_job_t;

/* What a resumed INVITE is told. */
typedef struct tpid_orig_outcome
{
	int reason;
	const char *name;
	int64_t exp;
	double hook_ms;
} tpid_orig_outcome_t;

static int tpid_orig_kind = -1;

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
static int tpid_orig_apply(sip_msg_t *msg, tpid_claims_t *c, int reason)
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

/* ---- the enterprise query as a job of the runner --------------------------- */

/* The effective cache lifetime of an answer (seconds; 0 = not cached). */
static int tpid_orig_ttl(const tpid_enterprise_t *e, int reason, int answer_ttl)
{
	int ttl;

	if(reason != TPID_OK && reason != TPID_R_DENIED
			&& reason != TPID_R_UNKNOWN_ID)
		return 0; /* failures are never cached */
	if(answer_ttl == 0)
		return 0; /* the enterprise asked not to cache */
	ttl = answer_ttl > 0 ? answer_ttl : tpid_cfg.default_ttl;
	if(e != NULL && e->ttl_cap > 0 && ttl > e->ttl_cap)
		ttl = e->ttl_cap;
	if(ttl > tpid_cfg.ttl_cap)
		ttl = tpid_cfg.ttl_cap;
	if(reason != TPID_OK && ttl > tpid_cfg.deny_ttl)
		ttl = tpid_cfg.deny_ttl;
	return ttl;
}

/* Resumes every waiter of lst with the same outcome. */
static void tpid_orig_resume_all(tpid_waiter_t *lst, int reason,
		const char *name, int64_t exp, double hook_ms)
{
	tpid_orig_outcome_t o = {reason, name, exp, hook_ms};
	tpid_waiter_t *w;

	while(lst != NULL) {
		w = lst;
		lst = lst->next;
		tpid_async_resume((tpid_async_waiter_t *)w, &o);
	}
}

static int tpid_orig_start(tpid_https_t *eng, tpid_async_job_t *job)
{
	tpid_orig_job_t *q = (tpid_orig_job_t *)job;
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

/* The answer's reason, counted. */
static int tpid_orig_answer_reason(const tpid_hook_answer_t *a)
{
	tpid_stats_latency(a->elapsed_ms);
	switch(a->result) {
		case TPID_HOOK_AUTHORIZED:
			update_stat(tpid_st_authorized, 1);
			return TPID_OK;
		case TPID_HOOK_DENIED:
			update_stat(tpid_st_denied, 1);
			return TPID_R_DENIED;
		default:
			update_stat(tpid_st_unknown, 1);
			return TPID_R_UNKNOWN_ID;
	}
}

static void tpid_orig_done(
		tpid_async_job_t *job, const tpid_https_result_t *res)
{
	tpid_orig_job_t *q = (tpid_orig_job_t *)job;
	tpid_hook_answer_t a;
	tpid_waiter_t *lst;
	int64_t now = (int64_t)time(NULL);
	int rc, reason, ttl, tok_ttl;

	memset(&a, 0, sizeof(a));
	rc = res != NULL ? tpid_hook_result(res, &a) : TPID_R_INTERNAL;
	reason = rc;
	if(rc == TPID_OK)
		reason = tpid_orig_answer_reason(&a);
	else
		LM_NOTICE("enterprise %s: %s (%d), http status %ld (%s), call-id "
				  "%s\n",
				q->ent.domain, tpid_reason_name(rc), rc, a.http_status,
				a.reason, q->callid);
	ttl = tpid_orig_ttl(&q->ent, reason, rc == TPID_OK ? a.ttl : 0);
	/* tpid.exp: how long the enterprise vouches; an uncached answer still
	 * vouches for the operator's default lifetime at most. */
	tok_ttl = ttl > 0 ? ttl : tpid_orig_ttl(&q->ent, TPID_OK, -1);
	if(q->self != NULL) {
		q->self->base.link.next = NULL;
		lst = &q->self->base.link;
	} else {
		/* NULL when the deadline handed the waiters back already */
		lst = tpid_cache_complete(tpid_cache, q->served, q->id, q->owner,
				reason, a.display_name, now, ttl);
	}
	tpid_orig_resume_all(
			lst, reason, a.display_name, now + tok_ttl, a.elapsed_ms);
}

/* The resumed request: the claims it was suspended with, completed by the
 * answer. */
static void tpid_orig_resumed(
		sip_msg_t *msg, tpid_async_waiter_t *w, const void *outcome)
{
	const tpid_orig_outcome_t *o = outcome;
	tpid_claims_t *c = &tpid_res.claims;

	tpid_result_start(msg);
	*c = ((tpid_orig_waiter_t *)w)->claims;
	tpid_res.hook_ms = o->hook_ms;
	if(o->name != NULL)
		snprintf(c->name, sizeof(c->name), "%s", o->name);
	c->iat = (int64_t)time(NULL);
	c->exp = o->exp;
	tpid_orig_apply(msg, c, o->reason);
}

static const tpid_async_kind_t tpid_orig_job_kind = {
		"enterprise query", tpid_orig_start, tpid_orig_done, tpid_orig_resumed};

/* Undoes a suspension whose query could not be sent. Joiners that came
 * meanwhile are resumed with the failure at once. */
static void tpid_orig_unsend(tpid_orig_waiter_t *w, const char *served, int rc)
{
	tpid_waiter_t *lst = NULL, **pp;

	if(rc == TPID_CACHE_OWNER)
		lst = tpid_cache_complete(tpid_cache, served, w->claims.id,
				&w->base.link, TPID_R_INTERNAL, NULL, (int64_t)time(NULL), 0);
	for(pp = &lst; *pp; pp = &(*pp)->next) {
		if(*pp == &w->base.link) {
			*pp = w->base.link.next;
			break;
		}
	}
	tpid_orig_resume_all(lst, TPID_R_INTERNAL, NULL, 0, 0);
	tpid_async_cancel(&w->base);
}

/* Joins the query out for (served, id) or sends one. TPID_OK when w is
 * suspended and waiting; else the reason, w freed and msg untouched. */
static int tpid_orig_query(sip_msg_t *msg, const tpid_enterprise_t *e,
		const char *served, const char *dest, const char *callid,
		tpid_orig_waiter_t *w)
{
	int64_t now = (int64_t)time(NULL);
	int64_t deadline =
			now + (e->timeout_ms + 999) / 1000 + TPID_ORIG_DEADLINE_MARGIN;
	tpid_orig_job_t *q;
	int rc;

	rc = tpid_async_suspend(msg, &w->base);
	if(rc != TPID_OK) {
		tpid_async_waiter_free(&w->base);
		return rc;
	}
	/* From here on the transaction is ours to resume. */
	rc = tpid_cache_lookup(tpid_cache, served, w->claims.id, e->domain, now,
			deadline, &w->base.link, NULL);
	if(rc == TPID_CACHE_JOINED) {
		update_stat(tpid_st_coalesced, 1);
		return TPID_OK;
	}
	q = (tpid_orig_job_t *)tpid_async_job_new(tpid_orig_kind, sizeof(*q));
	if(q != NULL) {
		q->ent = *e;
		snprintf(q->served, sizeof(q->served), "%s", served);
		snprintf(q->id, sizeof(q->id), "%s", w->claims.id);
		snprintf(q->dest, sizeof(q->dest), "%s", dest);
		snprintf(q->callid, sizeof(q->callid), "%s", callid);
		q->time = now;
		q->self = rc == TPID_CACHE_OWNER ? NULL : w;
		q->owner = rc == TPID_CACHE_OWNER ? &w->base.link : NULL;
		if(tpid_async_submit(&q->base) == 0) {
			update_stat(tpid_st_queries, 1);
			return TPID_OK;
		}
		tpid_async_job_free(&q->base);
	}
	/* Rare (shared memory or pipe exhausted): undo and answer inline. */
	tpid_orig_unsend(w, served, rc);
	return TPID_R_INTERNAL;
}

/* Runs in the timer process: drops expired answers and hands back the
 * calls whose query outlived its deadline (the late answer finds nothing). */
static void tpid_orig_timer(unsigned int ticks, void *param)
{
	tpid_waiter_t *late = NULL;

	tpid_cache_purge(tpid_cache, (int64_t)time(NULL), &late);
	if(late != NULL)
		LM_NOTICE("enterprise queries past their deadline: calls resumed "
				  "with HOOK_TIMEOUT\n");
	tpid_orig_resume_all(late, TPID_R_HOOK_TIMEOUT, NULL, 0, 0);
}

int tpid_orig_mod_init(void)
{
	tpid_orig_kind = tpid_async_register(&tpid_orig_job_kind);
	if(tpid_orig_kind < 0) {
		LM_ERR("cannot register the enterprise query job\n");
		return -1;
	}
	if(register_timer(tpid_orig_timer, NULL, 1) < 0) {
		LM_ERR("cannot register the cache timer\n");
		return -1;
	}
	return 0;
}

int tpid_orig(sip_msg_t *msg, str *explicit_id, int route, str *cbname)
{
	char id[TPID_MAX_URI], domain[TPID_MAX_DOMAIN];
	char served_raw[1][TPID_MAX_URI];
	char served[TPID_MAX_URI], dest[TPID_MAX_URI], callid[256] = "";
	tpid_ident_t served_id, dest_id;
	tpid_enterprise_t ent;
	tpid_cache_view_t view;
	tpid_orig_waiter_t *w;
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
	if(tpid_cache_lookup(tpid_cache, served, id, domain, now, 0, NULL, &view)
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
	w = (tpid_orig_waiter_t *)tpid_async_waiter_new(
			tpid_orig_kind, sizeof(*w), route, cbname);
	if(w == NULL)
		return tpid_orig_refuse(msg, TPID_R_INTERNAL);
	w->claims = *c;
	rc = tpid_orig_query(msg, &ent, served, dest, callid, w);
	if(rc != TPID_OK)
		return tpid_orig_refuse(msg, rc);
	/* Suspended: the route runs when the answer (or the timeout) comes. */
	tpid_res.ret = TPID_RET_SUSPENDED;
	return TPID_RET_SUSPENDED;
}
