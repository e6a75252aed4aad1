/*
 * tpid_assert - Kamailio glue: signing and verifying through the operator's
 * STI-AS / STI-VS over Ms (tpid_assert_ms.h). The requests and the checks
 * of the answers are tpid_ms.c's; this file runs them on the hook workers
 * and hands the outcomes back to the suspended calls.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>
#include <time.h>

#include "core/dprint.h"
#include "core/locking.h"
#include "core/mem/shm_mem.h"

#include "tpid_assert_async.h"
#include "tpid_assert_cfg.h"
#include "tpid_assert_ms.h"
#include "tpid_assert_sip.h"
#include "tpid_assert_stats.h"
#include "tpid_enterprise.h"
#include "tpid_ms.h"

/* The STI-AS / STI-VS in force (ms_file), shared, reloadable. */
typedef struct tpid_ms_sh
{
	gen_lock_t lock;
	int loaded;
	tpid_enterprise_t svc;
} tpid_ms_sh_t;

static tpid_ms_sh_t *tpid_ms_sh = NULL;
static int tpid_ms_sign_kind = -1, tpid_ms_verify_kind = -1;
static int tpid_ms_wait_kind = -1;
static void (*tpid_ms_resumed)(
		sip_msg_t *msg, const tpid_ms_verdict_t *v, int n) = NULL;

/* this process: the call being carried out (tpid_ms_use_slots) */
static tpid_ms_slot_t *tpid_ms_cur = NULL;
static int tpid_ms_ncur = 0;

/* ---- the service ------------------------------------------------------------ */

int tpid_ms_reload(char *err, size_t errsize)
{
	tpid_enterprise_t svc;

	if(tpid_ms_sh == NULL || tpid_cfg.ms_file == NULL) {
		snprintf(err, errsize, "no ms_file");
		return -1;
	}
	if(tpid_ms_load(tpid_cfg.ms_file, &svc, err, errsize) < 0)
		return -1;
	lock_get(&tpid_ms_sh->lock);
	tpid_ms_sh->svc = svc;
	tpid_ms_sh->loaded = 1;
	lock_release(&tpid_ms_sh->lock);
	return 0;
}

/* A copy of the service in force; -1 when there is none. */
static int tpid_ms_service(tpid_enterprise_t *out)
{
	int ok;

	if(tpid_ms_sh == NULL)
		return -1;
	lock_get(&tpid_ms_sh->lock);
	ok = tpid_ms_sh->loaded;
	if(ok)
		*out = tpid_ms_sh->svc;
	lock_release(&tpid_ms_sh->lock);
	return ok ? 0 : -1;
}

/* ---- signing (originating side) --------------------------------------------- */

typedef struct tpid_ms_sign_job
{
	tpid_async_job_t base; /* first */
	tpid_enterprise_t svc;
	tpid_query_call_t *call;
	tpid_ms_slot_t *slot;
	size_t body_len;
	char body[TPID_MS_MAX_REQUEST];
} tpid_ms_sign_job_t;

/* Puts a job's request on the worker's engine (a job kind's start). */
static int tpid_ms_job_post(tpid_https_t *eng, tpid_async_job_t *job,
		const tpid_enterprise_t *svc, const char *path, const char *body,
		size_t len)
{
	return tpid_ms_add(eng, svc, path, body, len, tpid_cfg.hook_max_body, job)
						   == TPID_OK
				   ? 0
				   : -1;
}

static int tpid_ms_sign_job_start(tpid_https_t *eng, tpid_async_job_t *job)
{
	tpid_ms_sign_job_t *j = (tpid_ms_sign_job_t *)job;

	return tpid_ms_job_post(
			eng, job, &j->svc, TPID_MS_SIGN_PATH, j->body, j->body_len);
}

static void tpid_ms_sign_job_done(
		tpid_async_job_t *job, const tpid_https_result_t *res)
{
	tpid_ms_sign_job_t *j = (tpid_ms_sign_job_t *)job;
	tpid_ms_slot_t *s = j->slot;
	char text[TPID_MS_MAX_TEXT] = "not started";
	int rc;

	rc = res != NULL ? tpid_ms_sign_result(res, &s->c, s->origid, s->hdr,
				 sizeof(s->hdr), &s->c, text, sizeof(text))
					 : TPID_R_MS_UNAVAILABLE;
	if(res != NULL)
		tpid_stats_ms_latency(res->elapsed_ms);
	if(rc != TPID_OK)
		LM_NOTICE("STI-AS did not sign: %s (%d), http status %ld: %s\n",
				tpid_reason_name(rc), rc, res ? res->status : 0L, text);
	s->reason = rc;
	tpid_query_step_done(j->call);
}

static const tpid_async_kind_t tpid_ms_sign_job_kind = {
		"STI-AS signing", tpid_ms_sign_job_start, tpid_ms_sign_job_done, NULL};

/* Puts one slot's request on a worker; the slot's reason when it cannot. */
static int tpid_ms_sign_one(tpid_query_call_t *call, tpid_ms_slot_t *s,
		const tpid_enterprise_t *svc)
{
	tpid_ms_sign_job_t *j;
	int n, rc;

	if(tpid_ms_origid(s->origid, sizeof(s->origid)) < 0)
		return TPID_R_INTERNAL;
	j = (tpid_ms_sign_job_t *)tpid_async_job_new(tpid_ms_sign_kind, sizeof(*j));
	if(j == NULL)
		return TPID_R_INTERNAL;
	n = tpid_ms_sign_request(&s->c, s->origid, j->body, sizeof(j->body));
	if(n < 0) {
		tpid_async_job_free(&j->base);
		return TPID_R_INTERNAL;
	}
	j->body_len = (size_t)n;
	j->svc = *svc;
	j->call = call;
	j->slot = s;
	rc = tpid_async_submit(&j->base);
	if(rc != 0) {
		tpid_async_job_free(&j->base);
		return TPID_R_MS_BUSY;
	}
	update_stat(tpid_st_ms_requests, 1);
	return TPID_OK;
}

int tpid_ms_sign_start(tpid_query_call_t *call, tpid_ms_slot_t *slots, int n)
{
	tpid_enterprise_t svc;
	int i, k = 0, have, rc;

	for(i = 0; i < n; i++)
		k += slots[i].used;
	if(k == 0)
		return 0;
	have = tpid_ms_service(&svc) == 0;
	/* one count per request, one while they are handed out */
	atomic_set(&call->pending, k + 1);
	for(i = 0; i < n; i++) {
		if(!slots[i].used)
			continue;
		/* before the request is out: its answer may come at once */
		slots[i].reason = TPID_R_MS_UNAVAILABLE;
		rc = have ? tpid_ms_sign_one(call, &slots[i], &svc)
				  : TPID_R_MS_UNAVAILABLE;
		if(rc != TPID_OK) {
			slots[i].reason = rc;
			atomic_dec(&call->pending); /* never the last: one is held */
		}
	}
	return atomic_dec_and_test(&call->pending) ? 0 : 1;
}

void tpid_ms_use_slots(tpid_ms_slot_t *slots, int n)
{
	tpid_ms_cur = slots;
	tpid_ms_ncur = slots != NULL ? n : 0;
}

int tpid_ms_add_signed(sip_msg_t *msg, tpid_claims_t *c)
{
	str name = str_init(TPID_IDENTITY_HDR);
	tpid_ms_slot_t *s;
	int i;

	for(i = 0; i < tpid_ms_ncur; i++) {
		s = &tpid_ms_cur[i];
		if(!s->used || strcmp(s->c.ppt, c->ppt) != 0)
			continue;
		if(s->reason != TPID_OK)
			return s->reason;
		/* the claims as signed: the iat asked for, the STI-AS's x5u */
		*c = s->c;
		if(tpid_sip_add_header(msg, &name, s->hdr) < 0)
			return TPID_R_INTERNAL;
		return TPID_OK;
	}
	/* nothing was asked for this token */
	return TPID_R_MS_UNAVAILABLE;
}

/* ---- verification (terminating side) ---------------------------------------- */

/* A suspended request waiting for the STI-VS (shared memory). */
typedef struct tpid_ms_vwait
{
	tpid_async_waiter_t base; /* first */
	atomic_t pending;
	tpid_ms_verdict_t v[TPID_MS_MAX_KINDS];
} tpid_ms_vwait_t;

typedef struct tpid_ms_verify_job
{
	tpid_async_job_t base; /* first */
	tpid_enterprise_t svc;
	tpid_ms_vwait_t *w;
	int tag;
	size_t hdr_len;
	char hdr[TPID_MAX_HDR_LEN + 1];
	size_t body_len;
	char body[TPID_MS_MAX_REQUEST];
} tpid_ms_verify_job_t;

static void tpid_ms_verify_step(tpid_ms_vwait_t *w)
{
	if(atomic_dec_and_test(&w->pending))
		tpid_async_resume(&w->base, NULL, 0);
}

static int tpid_ms_verify_job_start(tpid_https_t *eng, tpid_async_job_t *job)
{
	tpid_ms_verify_job_t *j = (tpid_ms_verify_job_t *)job;

	return tpid_ms_job_post(
			eng, job, &j->svc, TPID_MS_VERIFY_PATH, j->body, j->body_len);
}

static void tpid_ms_verify_job_done(
		tpid_async_job_t *job, const tpid_https_result_t *res)
{
	tpid_ms_verify_job_t *j = (tpid_ms_verify_job_t *)job;
	tpid_ms_verdict_t *v = &j->w->v[j->tag];
	tpid_ms_verification_t out;
	int rc;

	memset(&out, 0, sizeof(out));
	rc = res != NULL ? tpid_ms_verify_result(res, j->hdr, j->hdr_len, &out)
					 : TPID_R_MS_UNAVAILABLE;
	if(res != NULL)
		tpid_stats_ms_latency(res->elapsed_ms);
	if(rc != TPID_OK)
		LM_NOTICE("STI-VS did not pass the token: %s (%d), http status %ld, "
				  "verstat %s: %s\n",
				tpid_reason_name(rc), rc, res ? res->status : 0L,
				tpid_ms_verstat_name(out.verstat), out.reason_text);
	v->reason = rc;
	v->verstat = out.verstat;
	tpid_ms_verify_step(j->w);
}

static const tpid_async_kind_t tpid_ms_verify_job_kind = {"STI-VS verification",
		tpid_ms_verify_job_start, tpid_ms_verify_job_done, NULL};

static void tpid_ms_verify_apply(
		sip_msg_t *msg, tpid_async_waiter_t *w, const void *outcome)
{
	tpid_ms_vwait_t *vw = (tpid_ms_vwait_t *)w;

	if(tpid_ms_resumed != NULL)
		tpid_ms_resumed(msg, vw->v, TPID_MS_MAX_KINDS);
}

static const tpid_async_kind_t tpid_ms_wait_kind_def = {
		"STI-VS wait", NULL, NULL, tpid_ms_verify_apply};

/* The identities the STI-VS compares orig and dest with: the first
 * P-Asserted-Identity (else From) and the Request-URI. */
static int tpid_ms_parties(sip_msg_t *msg, tpid_ident_t *from, tpid_ident_t *to)
{
	if(tpid_sip_pai(msg, from, NULL, 1) < 1 && tpid_sip_from(msg, from) < 0)
		return -1;
	return tpid_sip_ruri(msg, to) < 0 ? -1 : 0;
}

int tpid_ms_verify_suspend(sip_msg_t *msg, const char *const *hdrs,
		const size_t *lens, int n, int route, const str *cbname)
{
	tpid_ms_verify_job_t *jobs[TPID_MS_MAX_KINDS];
	tpid_enterprise_t svc;
	tpid_ident_t from, to;
	tpid_ms_vwait_t *w;
	int64_t now = (int64_t)time(NULL);
	int i, k = 0, m, rc;

	if(n > TPID_MS_MAX_KINDS)
		return TPID_R_INTERNAL;
	if(tpid_ms_service(&svc) < 0)
		return TPID_R_MS_UNAVAILABLE;
	memset(&from, 0, sizeof(from));
	memset(&to, 0, sizeof(to));
	if(tpid_ms_parties(msg, &from, &to) < 0)
		return TPID_R_NO_PAI;
	memset(jobs, 0, sizeof(jobs));
	/* every request is built before anything is suspended */
	for(i = 0; i < n; i++) {
		if(hdrs[i] == NULL)
			continue;
		jobs[i] = (tpid_ms_verify_job_t *)tpid_async_job_new(
				tpid_ms_verify_kind, sizeof(*jobs[i]));
		if(jobs[i] == NULL || lens[i] > TPID_MAX_HDR_LEN)
			goto fail;
		memcpy(jobs[i]->hdr, hdrs[i], lens[i]);
		jobs[i]->hdr[lens[i]] = '\0';
		jobs[i]->hdr_len = lens[i];
		m = tpid_ms_verify_request(hdrs[i], lens[i], &from, &to, 1, now,
				jobs[i]->body, sizeof(jobs[i]->body));
		if(m < 0)
			goto fail;
		jobs[i]->body_len = (size_t)m;
		jobs[i]->svc = svc;
		jobs[i]->tag = i;
		k++;
	}
	if(k == 0)
		return TPID_R_INTERNAL;
	w = (tpid_ms_vwait_t *)tpid_async_waiter_new(
			tpid_ms_wait_kind, sizeof(*w), route, cbname);
	if(w == NULL)
		goto fail;
	rc = tpid_async_suspend(msg, &w->base);
	if(rc != TPID_OK) {
		tpid_async_waiter_free(&w->base);
		for(i = 0; i < n; i++)
			if(jobs[i] != NULL)
				tpid_async_job_free(&jobs[i]->base);
		return rc;
	}
	atomic_set(&w->pending, k + 1);
	for(i = 0; i < n; i++) {
		if(jobs[i] == NULL)
			continue;
		w->v[i].asked = 1;
		w->v[i].reason = TPID_R_MS_UNAVAILABLE;
		jobs[i]->w = w;
		if(tpid_async_submit(&jobs[i]->base) != 0) {
			tpid_async_job_free(&jobs[i]->base);
			w->v[i].reason = TPID_R_MS_BUSY;
			atomic_dec(&w->pending); /* never the last: one is held */
		} else
			update_stat(tpid_st_ms_requests, 1);
	}
	tpid_ms_verify_step(w);
	return TPID_OK;

fail:
	for(i = 0; i < n; i++)
		if(jobs[i] != NULL)
			tpid_async_job_free(&jobs[i]->base);
	return TPID_R_INTERNAL;
}

/* ---- module ------------------------------------------------------------------ */

int tpid_ms_mod_init(
		void (*resumed)(sip_msg_t *msg, const tpid_ms_verdict_t *v, int n))
{
	char err[512];

	tpid_ms_resumed = resumed;
	tpid_ms_sign_kind = tpid_async_register(&tpid_ms_sign_job_kind);
	tpid_ms_verify_kind = tpid_async_register(&tpid_ms_verify_job_kind);
	tpid_ms_wait_kind = tpid_async_register(&tpid_ms_wait_kind_def);
	if(tpid_ms_sign_kind < 0 || tpid_ms_verify_kind < 0
			|| tpid_ms_wait_kind < 0) {
		LM_ERR("cannot register the Ms jobs\n");
		return -1;
	}
	if(!tpid_cfg.sign_ms && !tpid_cfg.verify_ms)
		return 0;
	if(tpid_cfg.ms_file == NULL) {
		LM_ERR("sign_mode or verify_mode \"ms\" needs ms_file\n");
		return -1;
	}
	tpid_ms_sh = shm_malloc(sizeof(*tpid_ms_sh));
	if(tpid_ms_sh == NULL) {
		SHM_MEM_ERROR;
		return -1;
	}
	memset(tpid_ms_sh, 0, sizeof(*tpid_ms_sh));
	if(lock_init(&tpid_ms_sh->lock) == NULL) {
		LM_ERR("cannot initialise the Ms lock\n");
		return -1;
	}
	if(tpid_ms_reload(err, sizeof(err)) < 0) {
		LM_ERR("%s\n", err);
		return -1;
	}
	return 0;
}
