/*
 * tpid_assert - Kamailio glue: asking the directories' services for a call,
 * in parallel, suspended once (see tpid_assert_query.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/dprint.h"
#include "core/mem/shm_mem.h"
#include "core/timer.h"

#include "tpid_assert_cfg.h"
#include "tpid_assert_query.h"

/* A query still out this long after the service's total timeout is given
 * up: its questions get the role's timeout reason (seconds). */
#define TPID_QUERY_DEADLINE_MARGIN 2

/* Roles by job kind: a job names its kind, and the kind number is the same
 * in every process (registered before fork). */
static tpid_query_role_t *tpid_query_roles[TPID_ASYNC_MAX_KINDS];
static int tpid_query_call_kind = -1;
static void (*tpid_query_apply)(sip_msg_t *msg, tpid_query_call_t *call);
static int (*tpid_query_follow)(tpid_query_call_t *call);

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

/* ---- answers ---------------------------------------------------------------- */

static void tpid_query_set(tpid_query_outcome_t *o, int reason,
		const char *value, int64_t exp, double hook_ms)
{
	o->reason = reason;
	snprintf(o->value, sizeof(o->value), "%s", value ? value : "");
	o->exp = exp;
	o->hook_ms = hook_ms;
}

/* Every answer of the call is in: the follow-up step (signing through
 * the STI-AS) may take it further, 1; else 0. */
static int tpid_query_follows(tpid_query_call_t *c)
{
	return tpid_query_follow != NULL && tpid_query_follow(c);
}

void tpid_query_step_done(tpid_query_call_t *c)
{
	/* the decrement orders the outcome before whoever sees zero */
	if(atomic_dec_and_test(&c->pending) && !tpid_query_follows(c))
		tpid_async_resume(&c->base, NULL, 0);
}

/* Records the answer of one question; the last one resumes its call. */
static void tpid_query_deliver(tpid_query_q_t *q, int reason, const char *value,
		int64_t exp, double hook_ms)
{
	tpid_query_set(&q->out, reason, value, exp, hook_ms);
	tpid_query_step_done(q->call);
}

/* Every question of lst (a cache's waiters, detached) gets the outcome. */
static void tpid_query_deliver_all(tpid_waiter_t *lst, int reason,
		const char *value, int64_t exp, double hook_ms)
{
	tpid_waiter_t *w;

	while(lst != NULL) {
		w = lst;
		lst = lst->next;
		tpid_query_deliver((tpid_query_q_t *)w, reason, value, exp, hook_ms);
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
	tpid_waiter_t *lst = NULL;
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
	tok_ttl = ttl > 0 ? ttl : tpid_query_ttl(&q->ent, &dflt);
	if(q->self != NULL) {
		q->self->link.next = NULL;
		lst = &q->self->link;
	} else if(r != NULL) {
		/* NULL when the deadline handed the questions back already */
		lst = tpid_cache_complete(r->dir->cache, q->served, q->id, q->owner,
				a.reason, a.value, now, ttl);
	}
	tpid_query_deliver_all(lst, a.reason, a.value, now + tok_ttl, a.elapsed_ms);
}

/* The resumed request: the caller carries every outcome out. */
static void tpid_query_resumed(
		sip_msg_t *msg, tpid_async_waiter_t *w, const void *outcome)
{
	if(tpid_query_apply != NULL)
		tpid_query_apply(msg, (tpid_query_call_t *)w);
}

static const tpid_async_kind_t tpid_query_job_kind = {
		"directory query", tpid_query_start, tpid_query_done, NULL};
static const tpid_async_kind_t tpid_query_wait_kind = {
		"directory call", NULL, NULL, tpid_query_resumed};

/* ---- SIP worker side ------------------------------------------------------- */

void tpid_query_part_done(
		tpid_query_part_t *p, int reason, const char *value, int64_t exp)
{
	p->state = TPID_PART_DONE;
	tpid_query_set(&p->out, reason, value, exp, 0);
}

const tpid_query_outcome_t *tpid_query_part_outcome(
		const tpid_query_part_t *p, const tpid_query_call_t *call)
{
	if(p->state == TPID_PART_DONE)
		return &p->out;
	if(p->state == TPID_PART_ASK && call != NULL && p->q >= 0
			&& p->q < call->nq)
		return &call->q[p->q].out;
	return NULL;
}

tpid_query_call_t *tpid_query_call_new(
		size_t data_size, int route, const str *cbname)
{
	tpid_query_call_t *c;

	c = (tpid_query_call_t *)tpid_async_waiter_new(
			tpid_query_call_kind, sizeof(*c) + data_size, route, cbname);
	return c;
}

void *tpid_query_call_data(tpid_query_call_t *c)
{
	return (void *)(c + 1);
}

void tpid_query_call_free(tpid_query_call_t *c)
{
	tpid_async_waiter_free(&c->base);
}

int tpid_query_add(tpid_query_call_t *c, tpid_query_role_t *role,
		const tpid_enterprise_t *e, const char *id)
{
	tpid_query_q_t *q;

	if(c->nq >= TPID_QUERY_MAX)
		return -1;
	q = &c->q[c->nq++];
	q->call = c;
	q->role = role;
	q->ent = *e;
	snprintf(q->id, sizeof(q->id), "%s", id);
	return 0;
}

/* Asks one question of a suspended call: joins a query under way, sends
 * one, or takes an answer that arrived meanwhile. Always delivers (or will
 * deliver) exactly one outcome to q. */
static void tpid_query_one(tpid_query_q_t *q, const char *served,
		const char *dest, const char *callid, int64_t now)
{
	tpid_query_role_t *r = q->role;
	int64_t deadline =
			now + (q->ent.timeout_ms + 999) / 1000 + TPID_QUERY_DEADLINE_MARGIN;
	tpid_cache_view_t view;
	tpid_waiter_t *lst;
	tpid_query_job_t *j;
	int rc, sub, reason = TPID_R_INTERNAL;

	rc = tpid_cache_lookup(r->dir->cache, served, q->id, q->ent.domain, now,
			deadline, &q->link, &view);
	if(rc == TPID_CACHE_JOINED) {
		update_stat(*r->joined, 1);
		return;
	}
	if(rc == TPID_CACHE_HIT) {
		tpid_query_deliver(q, view.reason, view.value, view.expires, 0);
		return;
	}
	j = (tpid_query_job_t *)tpid_async_job_new(r->kind, sizeof(*j));
	if(j != NULL) {
		j->ent = q->ent;
		snprintf(j->served, sizeof(j->served), "%s", served);
		snprintf(j->id, sizeof(j->id), "%s", q->id);
		snprintf(j->dest, sizeof(j->dest), "%s", dest);
		snprintf(j->callid, sizeof(j->callid), "%s", callid);
		j->time = now;
		j->self = rc == TPID_CACHE_OWNER ? NULL : q;
		j->owner = rc == TPID_CACHE_OWNER ? &q->link : NULL;
		sub = tpid_async_submit(&j->base);
		if(sub == 0) {
			update_stat(*r->queries, 1);
			return;
		}
		tpid_async_job_free(&j->base);
		if(sub == TPID_ASYNC_NO_WORKER)
			reason = r->busy_reason;
	}
	/* No worker alive, or rare (shared memory or pipe exhausted): this
	 * question and those that joined it meanwhile fail at once. */
	lst = NULL;
	if(rc == TPID_CACHE_OWNER)
		lst = tpid_cache_complete(
				r->dir->cache, served, q->id, &q->link, reason, NULL, now, 0);
	else
		lst = &q->link;
	tpid_query_deliver_all(lst, reason, NULL, 0, 0);
}

int tpid_query_ask(tpid_query_call_t *c, sip_msg_t *msg, const char *served,
		const char *dest)
{
	int64_t now = (int64_t)time(NULL);
	char callid[256] = "";
	int i, rc;

	if(msg->callid != NULL && msg->callid->body.len < (int)sizeof(callid)) {
		memcpy(callid, msg->callid->body.s, msg->callid->body.len);
		callid[msg->callid->body.len] = '\0';
	}
	rc = tpid_async_suspend(msg, &c->base);
	if(rc != TPID_OK) {
		tpid_query_call_free(c);
		return rc;
	}
	/* From here on the transaction is ours to resume. One extra count
	 * while asking: no answer can resume the call before all are out. */
	atomic_set(&c->pending, c->nq + 1);
	for(i = 0; i < c->nq; i++)
		tpid_query_one(&c->q[i], served, dest, callid, now);
	if(!atomic_dec_and_test(&c->pending) || tpid_query_follows(c))
		return TPID_OK;
	/* Every answer is in already (the cache, or fast workers) and nothing
	 * follows: carry on here, not suspended. The call stays the caller's. */
	tpid_async_unsuspend(&c->base);
	return TPID_QUERY_ANSWERED;
}

/* Runs in the timer process: drops expired answers and hands back the
 * questions whose query outlived its deadline (the late answer finds
 * nothing). */
static void tpid_query_timer(unsigned int ticks, void *param)
{
	tpid_query_role_t *r = param;
	tpid_waiter_t *late = NULL;

	tpid_cache_purge(r->dir->cache, (int64_t)time(NULL), &late);
	if(late != NULL)
		LM_NOTICE("%s queries past their deadline: calls resumed with %s\n",
				r->what, tpid_reason_name(r->timeout_reason));
	tpid_query_deliver_all(late, r->timeout_reason, NULL, 0, 0);
}

int tpid_query_register(tpid_query_role_t *r)
{
	r->kind = tpid_async_register(&tpid_query_job_kind);
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

int tpid_query_init(void (*apply)(sip_msg_t *msg, tpid_query_call_t *call),
		int (*follow)(tpid_query_call_t *call))
{
	tpid_query_apply = apply;
	tpid_query_follow = follow;
	tpid_query_call_kind = tpid_async_register(&tpid_query_wait_kind);
	if(tpid_query_call_kind < 0) {
		LM_ERR("cannot register the directory call\n");
		return -1;
	}
	return 0;
}
