/*
 * tpid_assert - Kamailio glue: the asynchronous job runner.
 *
 * In the manner of http_async_client: worker processes forked at start,
 * jobs handed over by pipe (a pointer to shared memory), transactions
 * suspended (t_suspend) and resumed (t_continue) from any process. The
 * resumed request passes through tpid_async_pre_script() before the route:
 * that is where the kind applies the outcome, so the route sees the result
 * in $tpid(...).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/cfg/cfg_struct.h"
#include "core/async_task.h"
#include "core/dprint.h"
#include "core/mem/shm_mem.h"
#include "core/pt.h"
#include "core/route.h"
#include "core/script_cb.h"
#include "modules/tm/h_table.h"
#include "modules/tm/tm_load.h"

#include "tpid_assert_async.h"
#include "tpid_assert_cfg.h"
#include "tpid_assert_stats.h"
#include "tpid_reason.h"

/* The outcome being applied in tpid_async_pre_script(), set around
 * t_continue. */
typedef struct tpid_resume
{
	tpid_async_waiter_t *w;
	const void *outcome;
} tpid_resume_t;

static const tpid_async_kind_t *tpid_kinds[TPID_ASYNC_MAX_KINDS];
static int tpid_nkinds = 0;
static int *tpid_inflight = NULL; /* shared, atomic */
static struct tm_binds tpid_tmb;
static int (*tpid_pipes)[2] = NULL; /* one per worker */
/* Each worker's last sign of life (time(NULL), shared, atomic): a worker
 * that has not come round its loop for TPID_WORKER_STALE_S seconds (hung,
 * stopped, dead, or running a slow continuation route) gets no new job. */
static int64_t *tpid_beats = NULL;
#define TPID_WORKER_STALE_S 3
static unsigned int tpid_rr = 0; /* per process round robin */
static tpid_resume_t *tpid_resume_now = NULL;

int tpid_async_register(const tpid_async_kind_t *k)
{
	/* a kind of job (start and done), of waiter (apply), or both */
	if(k == NULL || (k->start == NULL) != (k->done == NULL)
			|| (k->start == NULL && k->apply == NULL)
			|| tpid_nkinds >= TPID_ASYNC_MAX_KINDS)
		return -1;
	tpid_kinds[tpid_nkinds] = k;
	return tpid_nkinds++;
}

static int tpid_async_kind_ok(int kind)
{
	return kind >= 0 && kind < tpid_nkinds;
}

int tpid_async_inflight(void)
{
	return tpid_inflight ? __atomic_load_n(tpid_inflight, __ATOMIC_RELAXED) : 0;
}

static void tpid_async_slot_free(void)
{
	__atomic_sub_fetch(tpid_inflight, 1, __ATOMIC_RELAXED);
	update_stat(tpid_st_inflight, -1);
}

/* ---- waiters (SIP worker side) -------------------------------------------- */

tpid_async_waiter_t *tpid_async_waiter_new(
		int kind, size_t size, int route, const str *cbname)
{
	tpid_async_waiter_t *w;

	if(!tpid_async_kind_ok(kind) || size < sizeof(*w)
			|| (cbname != NULL && cbname->len >= TPID_CBNAME_MAX))
		return NULL;
	w = shm_malloc(size);
	if(w == NULL) {
		SHM_MEM_ERROR;
		return NULL;
	}
	memset(w, 0, size);
	w->kind = kind;
	w->route = route;
	if(cbname != NULL && cbname->len > 0)
		memcpy(w->cbname, cbname->s, cbname->len);
	return w;
}

void tpid_async_waiter_free(tpid_async_waiter_t *w)
{
	if(w != NULL)
		shm_free(w);
}

int tpid_async_suspend(sip_msg_t *msg, tpid_async_waiter_t *w)
{
	int rc;

	/* A bound on suspended calls: past it, the failure policy, not a pile. */
	if(__atomic_add_fetch(tpid_inflight, 1, __ATOMIC_RELAXED)
			> tpid_cfg.max_inflight) {
		__atomic_sub_fetch(tpid_inflight, 1, __ATOMIC_RELAXED);
		return TPID_R_HOOK_BUSY;
	}
	rc = tpid_tmb.t_suspend(msg, &w->tindex, &w->tlabel);
	if(rc == 1 || rc == -3) {
		/* 1: a CANCEL came first; -3: the transaction has its final
		 * response. tm has answered the INVITE: nothing is left to wait
		 * for, and nothing to apply a policy to. */
		__atomic_sub_fetch(tpid_inflight, 1, __ATOMIC_RELAXED);
		return TPID_R_CANCELLED;
	}
	if(rc < 0) {
		LM_ERR("cannot suspend the transaction (t_newtran() first?)\n");
		__atomic_sub_fetch(tpid_inflight, 1, __ATOMIC_RELAXED);
		return TPID_R_INTERNAL;
	}
	update_stat(tpid_st_inflight, 1);
	return TPID_OK;
}

void tpid_async_unsuspend(tpid_async_waiter_t *w)
{
	struct cell *t;

	tpid_tmb.t_cancel_suspend(w->tindex, w->tlabel);
	/* Kamailio 5.6's t_cancel_suspend() retires the blind branch but leaves
	 * the transaction marked suspended, and tm then drops every reply to
	 * the request relayed from here on ("Reply for suspended transaction"):
	 * the caller would never get an answer. The route that suspended it is
	 * still running, so the transaction is ours to clear. */
	t = tpid_tmb.t_gett();
	if(t != NULL && t != T_UNDEFINED && t->hash_index == w->tindex
			&& t->label == w->tlabel)
		t->flags &= ~T_ASYNC_SUSPENDED;
	tpid_async_slot_free();
}

void tpid_async_cancel(tpid_async_waiter_t *w)
{
	tpid_async_unsuspend(w);
	tpid_async_waiter_free(w);
}

static void tpid_async_continue(tpid_async_waiter_t *w, const void *outcome)
{
	tpid_resume_t r;
	str cbname, evname = str_init("tpid_assert:resume");

	r.w = w;
	r.outcome = outcome;
	tpid_resume_now = &r;
	if(w->route >= 0) {
		if(tpid_tmb.t_continue(w->tindex, w->tlabel, main_rt.rlist[w->route])
				< 0)
			LM_DBG("transaction %u:%u is gone\n", w->tindex, w->tlabel);
	} else {
		cbname.s = w->cbname;
		cbname.len = strlen(w->cbname);
		if(tpid_tmb.t_continue_cb(w->tindex, w->tlabel, &cbname, &evname) < 0)
			LM_DBG("transaction %u:%u is gone\n", w->tindex, w->tlabel);
	}
	tpid_resume_now = NULL;
	tpid_async_slot_free();
	tpid_async_waiter_free(w);
}

/* A resumption handed to Kamailio's async task workers (core parameter
 * async_workers): the continuation route runs there, so that a slow route
 * never holds up the queries of the hook worker that got the answer. One
 * shm block; the task worker frees it after exec. */
typedef struct tpid_resume_task
{
	async_task_t task;
	tpid_async_waiter_t *w;
	int has_outcome;
	unsigned char outcome[TPID_ASYNC_OUTCOME_MAX];
} tpid_resume_task_t;

static void tpid_async_resume_task(void *param)
{
	tpid_resume_task_t *t = param;

	tpid_async_continue(t->w, t->has_outcome ? t->outcome : NULL);
}

void tpid_async_resume(
		tpid_async_waiter_t *w, const void *outcome, size_t outcome_len)
{
	tpid_resume_task_t *t;

	if(async_task_workers_active() && outcome_len <= TPID_ASYNC_OUTCOME_MAX) {
		t = shm_malloc(sizeof(*t));
		if(t != NULL) {
			memset(t, 0, sizeof(*t));
			t->task.exec = tpid_async_resume_task;
			t->task.param = t;
			t->w = w;
			t->has_outcome = outcome != NULL;
			if(outcome != NULL)
				memcpy(t->outcome, outcome, outcome_len);
			if(async_task_push(&t->task) == 0)
				return;
			shm_free(t);
		}
		LM_WARN("cannot hand a resumption to the async workers: resumed "
				"here\n");
	}
	tpid_async_continue(w, outcome);
}

/* The resumed request: the kind carries the outcome out. */
static int tpid_async_pre_script(sip_msg_t *msg, unsigned int flags, void *p)
{
	tpid_resume_t *r = tpid_resume_now;

	if(r == NULL)
		return 1; /* not ours: someone else's failure route */
	tpid_resume_now = NULL;
	if(tpid_kinds[r->w->kind]->apply != NULL)
		tpid_kinds[r->w->kind]->apply(msg, r->w, r->outcome);
	return 1;
}

/* ---- jobs ----------------------------------------------------------------- */

tpid_async_job_t *tpid_async_job_new(int kind, size_t size)
{
	tpid_async_job_t *job;

	if(!tpid_async_kind_ok(kind) || size < sizeof(*job))
		return NULL;
	job = shm_malloc(size);
	if(job == NULL) {
		SHM_MEM_ERROR;
		return NULL;
	}
	memset(job, 0, size);
	job->kind = kind;
	return job;
}

void tpid_async_job_free(tpid_async_job_t *job)
{
	if(job != NULL)
		shm_free(job);
}

static int tpid_async_alive(int i, int64_t now)
{
	return now - __atomic_load_n(&tpid_beats[i], __ATOMIC_RELAXED)
		   <= TPID_WORKER_STALE_S;
}

int tpid_async_workers_alive(void)
{
	int64_t now = (int64_t)time(NULL);
	int i, n = 0;

	if(tpid_beats == NULL)
		return 0;
	for(i = 0; i < tpid_cfg.hook_workers; i++)
		n += tpid_async_alive(i, now);
	return n;
}

int tpid_async_submit(tpid_async_job_t *job)
{
	int64_t now = (int64_t)time(NULL);
	int k, i = 0;
	ssize_t n;

	/* round robin over the workers that are alive */
	for(k = 0; k < tpid_cfg.hook_workers; k++) {
		i = tpid_rr++ % tpid_cfg.hook_workers;
		if(tpid_async_alive(i, now))
			break;
	}
	if(k == tpid_cfg.hook_workers) {
		LM_ERR("no hook worker has shown a sign of life for %d s: job "
			   "refused\n",
				TPID_WORKER_STALE_S);
		return TPID_ASYNC_NO_WORKER;
	}
	do {
		n = write(tpid_pipes[i][1], &job, sizeof(job));
	} while(n < 0 && errno == EINTR);
	if(n != sizeof(job)) {
		LM_ERR("cannot hand a job to a worker: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- worker side ---------------------------------------------------------- */

static void tpid_async_finish(tpid_async_job_t *job, tpid_https_result_t *res)
{
	tpid_kinds[job->kind]->done(job, res);
	tpid_https_result_clear(res);
	tpid_async_job_free(job);
}

static void tpid_async_take(tpid_https_t *eng, int fd)
{
	tpid_async_job_t *job;
	ssize_t n;

	for(;;) {
		n = read(fd, &job, sizeof(job));
		if(n != sizeof(job))
			return; /* EAGAIN: drained */
		if(!tpid_async_kind_ok(job->kind)
				|| tpid_kinds[job->kind]->start == NULL) {
			LM_CRIT("job of unknown kind %d dropped\n", job->kind);
			continue;
		}
		if(tpid_kinds[job->kind]->start(eng, job) < 0)
			tpid_async_finish(job, NULL);
	}
}

static void tpid_async_worker(int idx)
{
	tpid_https_result_t res;
	tpid_https_t *eng;
	void *user;
	int ready;
	int fd = tpid_pipes[idx][0];

	eng = tpid_https_new(0);
	if(eng == NULL
			|| tpid_https_set_host_limit(eng, tpid_cfg.hook_max_connections)
					   < 0) {
		LM_CRIT("worker %d: cannot start libcurl\n", idx);
		tpid_https_free(eng);
		return;
	}
	__atomic_store_n(&tpid_beats[idx], (int64_t)time(NULL), __ATOMIC_RELAXED);
	LM_INFO("hook worker %d ready\n", idx);
	for(;;) {
		__atomic_store_n(
				&tpid_beats[idx], (int64_t)time(NULL), __ATOMIC_RELAXED);
		if(tpid_https_wait(eng, fd, 1000, &ready) < 0)
			LM_ERR("worker %d: curl multi failure\n", idx);
		cfg_update();
		if(ready)
			tpid_async_take(eng, fd);
		while(tpid_https_next(eng, &user, &res))
			tpid_async_finish(user, &res);
	}
}

/* ---- life cycle ----------------------------------------------------------- */

static void tpid_async_pipes_close(void)
{
	int i, e;

	if(tpid_pipes == NULL)
		return;
	for(i = 0; i < tpid_cfg.hook_workers; i++) {
		for(e = 0; e < 2; e++) {
			if(tpid_pipes[i][e] >= 0 && close(tpid_pipes[i][e]) < 0)
				LM_WARN("close: %s\n", strerror(errno));
			tpid_pipes[i][e] = -1;
		}
	}
	shm_free(tpid_pipes);
	tpid_pipes = NULL;
}

static int tpid_async_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if(fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		LM_ERR("fcntl O_NONBLOCK: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static int tpid_async_pipes(void)
{
	int i;

	tpid_pipes = shm_malloc(tpid_cfg.hook_workers * sizeof(*tpid_pipes));
	if(tpid_pipes == NULL) {
		SHM_MEM_ERROR;
		return -1;
	}
	for(i = 0; i < tpid_cfg.hook_workers; i++)
		tpid_pipes[i][0] = tpid_pipes[i][1] = -1;
	for(i = 0; i < tpid_cfg.hook_workers; i++) {
		if(pipe(tpid_pipes[i]) < 0) {
			LM_ERR("pipe: %s\n", strerror(errno));
			tpid_pipes[i][0] = tpid_pipes[i][1] = -1;
			goto fail;
		}
		/* writers never block (full pipe = failure policy); the worker
		 * drains until EAGAIN */
		if(tpid_async_nonblock(tpid_pipes[i][0]) < 0
				|| tpid_async_nonblock(tpid_pipes[i][1]) < 0)
			goto fail;
	}
	return 0;
fail:
	tpid_async_pipes_close();
	return -1;
}

int tpid_async_mod_init(void)
{
	int i;

	if(load_tm_api(&tpid_tmb) < 0) {
		LM_ERR("the tm module is required\n");
		return -1;
	}
	tpid_inflight = shm_malloc(sizeof(*tpid_inflight));
	if(tpid_inflight == NULL) {
		SHM_MEM_ERROR;
		return -1;
	}
	*tpid_inflight = 0;
	tpid_beats = shm_malloc(tpid_cfg.hook_workers * sizeof(*tpid_beats));
	if(tpid_beats == NULL) {
		SHM_MEM_ERROR;
		return -1;
	}
	/* alive until proven otherwise: a worker starting up gets its jobs */
	for(i = 0; i < tpid_cfg.hook_workers; i++)
		tpid_beats[i] = (int64_t)time(NULL);
	if(tpid_async_pipes() < 0)
		return -1;
	register_procs(tpid_cfg.hook_workers);
	cfg_register_child(tpid_cfg.hook_workers);
	if(register_script_cb(tpid_async_pre_script, PRE_SCRIPT_CB | FAILURE_CB, 0)
			< 0) {
		LM_ERR("cannot register the resume callback\n");
		return -1;
	}
	return 0;
}

int tpid_async_child_init(int rank)
{
	int i, pid;

	if(rank != PROC_MAIN)
		return 0;
	for(i = 0; i < tpid_cfg.hook_workers; i++) {
		pid = fork_process(PROC_RPC, "tpid_assert hook worker", 1);
		if(pid < 0)
			return -1;
		if(pid == 0) {
			if(cfg_child_init())
				return -1;
			tpid_async_worker(i);
			/* not a normal path: the worker loop returns only when it
			 * could not start (logged); Kamailio stops its children */
			exit(-1);
		}
	}
	return 0;
}

void tpid_async_mod_destroy(void)
{
	tpid_async_pipes_close();
	if(tpid_inflight != NULL) {
		shm_free(tpid_inflight);
		tpid_inflight = NULL;
	}
	if(tpid_beats != NULL) {
		shm_free(tpid_beats);
		tpid_beats = NULL;
	}
}
