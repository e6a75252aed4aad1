/*
 * tpid_assert - Kamailio glue: asking a directory's service, asynchronously
 * and once for all the calls that ask the same (see tpid_assert_query.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/dprint.h"
#include "core/timer.h"

#include "tpid_assert_cfg.h"
#include "tpid_assert_query.h"

/* A query still out this long after the service's total timeout is given
 * up: its calls go on with the role's timeout reason (seconds). */
#define TPID_QUERY_DEADLINE_MARGIN 2

#define TPID_QUERY_MAX_ROLES 2

/* A suspended INVITE (shared memory). */
typedef struct tpid_query_waiter
{
	tpid_async_waiter_t base; /* first */
	char id[TPID_MAX_URI];	  /* the cache key with the served user */
	tpid_claims_t claims;	  /* all but what the answer adds */
} tpid_query_waiter_t;

/* Roles by job kind: a job and a waiter name their kind, and the kind
 * number is the same in every process (registered before fork). */
static tpid_query_role_t *tpid_query_roles[TPID_ASYNC_MAX_KINDS];

static tpid_query_role_t *tpid_query_role(int kind)
{
	return kind >= 0 && kind < TPID_ASYNC_MAX_KINDS ? tpid_query_roles[kind]
													: NULL;
}

int tpid_query_ttl(const tpid_enterprise_t *e, const tpid_query_answer_t *a)
{
	int ttl;

	if(!a->answered || a->ttl == 0)
		return 0; /* failures are never cached; ttl 0: do not cache */
	ttl = a->ttl > 0 ? a->ttl : tpid_cfg.default_ttl;
	if(e != NULL && e->ttl_cap > 0 && ttl > e->ttl_cap)
		ttl = e->ttl_cap;
	if(ttl > tpid_cfg.ttl_cap)
		ttl = tpid_cfg.ttl_cap;
	if(a->reason != TPID_OK && ttl > tpid_cfg.deny_ttl)
		ttl = tpid_cfg.deny_ttl;
	return ttl;
}

/* Resumes every waiter of lst with the same outcome. */
static void tpid_query_resume_all(tpid_waiter_t *lst, int reason,
		const char *value, int64_t exp, double hook_ms)
{
	tpid_query_outcome_t o = {reason, value, exp, hook_ms};
	tpid_waiter_t *w;

	while(lst != NULL) {
		w = lst;
		lst = lst->next;
		tpid_async_resume((tpid_async_waiter_t *)w, &o);
	}
}

/* ---- worker side ----------------------------------------------------------- */

static int tpid_query_start(tpid_https_t *eng, tpid_async_job_t *job)
{
	tpid_query_role_t *r = tpid_query_role(job->kind);

	return r != NULL ? r->start(eng, (tpid_query_job_t *)job, job) : -1;
}

static void tpid_query_done(
		tpid_async_job_t *job, const tpid_https_result_t *res)
{
	tpid_query_job_t *q = (tpid_query_job_t *)job;
	tpid_query_role_t *r = tpid_query_role(job->kind);
	static tpid_query_answer_t a; /* large: off the worker's stack */
	tpid_query_answer_t dflt;
	tpid_waiter_t *lst;
	int64_t now = (int64_t)time(NULL);
	int ttl, tok_ttl;

	memset(&a, 0, sizeof(a));
	a.reason = TPID_R_INTERNAL;
	a.ttl = -1;
	if(r != NULL)
		r->answer(res, &a);
	if(!a.answered)
		LM_NOTICE("%s %s: %s (%d), http status %ld (%s), call-id %s\n",
				r != NULL ? r->what : "service", q->ent.domain,
				tpid_reason_name(a.reason), a.reason, a.http_status, a.text,
				q->callid);
	ttl = tpid_query_ttl(&q->ent, &a);
	/* The end of the authorization: how long the service vouches; an
	 * uncached answer still vouches for the operator's default lifetime
	 * at most. */
	memset(&dflt, 0, sizeof(dflt));
	dflt.answered = 1;
	dflt.ttl = -1;
	dflt.reason = TPID_OK;
	tok_ttl = ttl > 0 ? ttl : tpid_query_ttl(&q->ent, &dflt);
	if(q->self != NULL) {
		q->self->base.link.next = NULL;
		lst = &q->self->base.link;
	} else if(r != NULL) {
		/* NULL when the deadline handed the waiters back already */
		lst = tpid_cache_complete(r->dir->cache, q->served, q->id, q->owner,
				a.reason, a.value, now, ttl);
	} else {
		lst = NULL;
	}
	tpid_query_resume_all(lst, a.reason, a.value, now + tok_ttl, a.elapsed_ms);
}

/* The resumed request: the role carries the outcome out. */
static void tpid_query_resumed(
		sip_msg_t *msg, tpid_async_waiter_t *w, const void *outcome)
{
	tpid_query_role_t *r = tpid_query_role(w->kind);

	if(r != NULL)
		r->apply(msg, &((tpid_query_waiter_t *)w)->claims, outcome);
}

static const tpid_async_kind_t tpid_query_kind = {"directory query",
		tpid_query_start, tpid_query_done, tpid_query_resumed};

/* ---- SIP worker side ------------------------------------------------------- */

/* Undoes a suspension whose query could not be sent. Joiners that came
 * meanwhile are resumed with the failure at once. */
static void tpid_query_unsend(tpid_query_role_t *r, tpid_query_waiter_t *w,
		const char *served, int rc)
{
	tpid_waiter_t *lst = NULL, **pp;

	if(rc == TPID_CACHE_OWNER)
		lst = tpid_cache_complete(r->dir->cache, served, w->id, &w->base.link,
				TPID_R_INTERNAL, NULL, (int64_t)time(NULL), 0);
	for(pp = &lst; *pp; pp = &(*pp)->next) {
		if(*pp == &w->base.link) {
			*pp = w->base.link.next;
			break;
		}
	}
	tpid_query_resume_all(lst, TPID_R_INTERNAL, NULL, 0, 0);
	tpid_async_cancel(&w->base);
}

int tpid_query_ask(tpid_query_role_t *r, sip_msg_t *msg,
		const tpid_enterprise_t *e, const char *served, const char *id,
		const char *dest, const tpid_claims_t *c, int route, const str *cbname)
{
	int64_t now = (int64_t)time(NULL);
	int64_t deadline =
			now + (e->timeout_ms + 999) / 1000 + TPID_QUERY_DEADLINE_MARGIN;
	tpid_query_waiter_t *w;
	tpid_query_job_t *q;
	int rc;

	w = (tpid_query_waiter_t *)tpid_async_waiter_new(
			r->kind, sizeof(*w), route, cbname);
	if(w == NULL)
		return TPID_R_INTERNAL;
	w->claims = *c;
	snprintf(w->id, sizeof(w->id), "%s", id);
	rc = tpid_async_suspend(msg, &w->base);
	if(rc != TPID_OK) {
		tpid_async_waiter_free(&w->base);
		return rc;
	}
	/* From here on the transaction is ours to resume. */
	rc = tpid_cache_lookup(r->dir->cache, served, id, e->domain, now, deadline,
			&w->base.link, NULL);
	if(rc == TPID_CACHE_JOINED) {
		update_stat(*r->joined, 1);
		return TPID_OK;
	}
	q = (tpid_query_job_t *)tpid_async_job_new(r->kind, sizeof(*q));
	if(q != NULL) {
		q->ent = *e;
		snprintf(q->served, sizeof(q->served), "%s", served);
		snprintf(q->id, sizeof(q->id), "%s", id);
		snprintf(q->dest, sizeof(q->dest), "%s", dest);
		if(msg->callid != NULL
				&& msg->callid->body.len < (int)sizeof(q->callid)) {
			memcpy(q->callid, msg->callid->body.s, msg->callid->body.len);
			q->callid[msg->callid->body.len] = '\0';
		}
		q->time = now;
		q->self = rc == TPID_CACHE_OWNER ? NULL : w;
		q->owner = rc == TPID_CACHE_OWNER ? &w->base.link : NULL;
		if(tpid_async_submit(&q->base) == 0) {
			update_stat(*r->queries, 1);
			return TPID_OK;
		}
		tpid_async_job_free(&q->base);
	}
	/* Rare (shared memory or pipe exhausted): undo and answer inline. */
	tpid_query_unsend(r, w, served, rc);
	return TPID_R_INTERNAL;
}

/* Runs in the timer process: drops expired answers and hands back the
 * calls whose query outlived its deadline (the late answer finds nothing). */
static void tpid_query_timer(unsigned int ticks, void *param)
{
	tpid_query_role_t *r = param;
	tpid_waiter_t *late = NULL;

	tpid_cache_purge(r->dir->cache, (int64_t)time(NULL), &late);
	if(late != NULL)
		LM_NOTICE("%s queries past their deadline: calls resumed with %s\n",
				r->what, tpid_reason_name(r->timeout_reason));
	tpid_query_resume_all(late, r->timeout_reason, NULL, 0, 0);
}

int tpid_query_register(tpid_query_role_t *r)
{
	r->kind = tpid_async_register(&tpid_query_kind);
	if(r->kind < 0 || r->kind >= TPID_ASYNC_MAX_KINDS) {
		LM_ERR("cannot register the %s query job\n", r->what);
		return -1;
	}
	tpid_query_roles[r->kind] = r;
	if(register_timer(tpid_query_timer, r, 1) < 0) {
		LM_ERR("cannot register the %s cache timer\n", r->what);
		return -1;
	}
	return 0;
}
