/*
 * tpid_assert - Kamailio glue: asynchronous enterprise queries, the shared
 * enterprise table and the shared decision cache.
 *
 * In the manner of http_async_client: hook worker processes forked at
 * start, requests handed over by pipe (a pointer to shared memory), the
 * transaction suspended (t_suspend) and resumed (t_continue) from the hook
 * worker. The resumed request passes through tpid_async_pre_script() before
 * the route: that is where the answer is applied (Identity header added or
 * the policy carried out), so the route sees the result in $tpid(...).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <errno.h>
#include <stdlib.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/cfg/cfg_struct.h"
#include "core/dprint.h"
#include "core/kemi.h"
#include "core/locking.h"
#include "core/mem/shm_mem.h"
#include "core/pt.h"
#include "core/route.h"
#include "core/script_cb.h"
#include "core/timer.h"
#include "modules/tm/tm_load.h"

#include "tpid_assert_async.h"
#include "tpid_assert_mod.h"
#include "tpid_assert_stats.h"
#include "tpid_hook.h"

/* A query on its way to a hook worker (shared memory). */
typedef struct tpid_query
{
	tpid_enterprise_t ent;
	char served[TPID_MAX_URI];
	char id[TPID_MAX_URI];
	char dest[TPID_MAX_URI];
	char callid[256];
	int64_t time;
	tpid_orig_waiter_t *self;	/* not cached (cache full): its one waiter */
	const tpid_waiter_t *owner; /* cached: names its cache entry */
} tpid_query_t;

/* What shared memory holds besides the cache. */
typedef struct tpid_shared
{
	gen_lock_t ent_lock;
	int ent_version;
	int ent_n;
	tpid_enterprise_t *ent; /* shm array of ent_n */
	int inflight;			/* suspended INVITEs (atomic) */
} tpid_shared_t;

/* The answer being applied in tpid_async_pre_script(), set by the hook
 * worker around t_continue. */
typedef struct tpid_resume
{
	tpid_orig_waiter_t *w;
	int reason;
	const char *name;
	int64_t exp;
	double hook_ms;
} tpid_resume_t;

tpid_cache_t *tpid_cache = NULL;
static tpid_shared_t *tpid_sh = NULL;
static gen_lock_set_t *tpid_cache_locks = NULL;
static struct tm_binds tpid_tmb;
static int (*tpid_pipes)[2] = NULL; /* one per hook worker */
static unsigned int tpid_rr = 0;	/* per process round robin */
static tpid_resume_t *tpid_resume_now = NULL;

/* ---- shared memory for the plain-C cache ---------------------------------- */

static void *tpid_shm_alloc(size_t size)
{
	return shm_malloc(size);
}

static void tpid_shm_free(void *p)
{
	shm_free(p);
}

static void tpid_cache_lock_stripe(void *ctx, unsigned int stripe)
{
	gen_lock_set_t *set = ctx;
	lock_set_get(set, stripe);
}

static void tpid_cache_unlock_stripe(void *ctx, unsigned int stripe)
{
	gen_lock_set_t *set = ctx;
	lock_set_release(set, stripe);
}

/* ---- the enterprise table -------------------------------------------------- */

static int tpid_ent_publish(const tpid_enterprise_set_t *set)
{
	tpid_enterprise_t *items = NULL, *old;
	int i, j, n = set->n, old_n;

	if(n > 0) {
		items = shm_malloc(n * sizeof(*items));
		if(items == NULL) {
			SHM_MEM_ERROR;
			return -1;
		}
		memcpy(items, set->items, n * sizeof(*items));
	}
	lock_get(&tpid_sh->ent_lock);
	old = tpid_sh->ent;
	old_n = tpid_sh->ent_n;
	tpid_sh->ent = items;
	tpid_sh->ent_n = n;
	tpid_sh->ent_version++;
	lock_release(&tpid_sh->ent_lock);
	/* Answers from an enterprise that went away or changed are not kept. */
	if(tpid_cache != NULL) {
		for(i = 0; i < old_n; i++) {
			for(j = 0; j < n; j++) {
				if(strcmp(old[i].domain, items[j].domain) == 0)
					break;
			}
			if(j == n || memcmp(&old[i], &items[j], sizeof(old[i])) != 0)
				tpid_cache_evict(tpid_cache, NULL, NULL, old[i].domain);
		}
	}
	if(old != NULL)
		shm_free(old);
	return 0;
}

int tpid_ent_get(const char *domain, tpid_enterprise_t *out)
{
	int i, rc = -1;

	lock_get(&tpid_sh->ent_lock);
	for(i = 0; i < tpid_sh->ent_n; i++) {
		if(strcasecmp(tpid_sh->ent[i].domain, domain) == 0) {
			*out = tpid_sh->ent[i];
			rc = 0;
			break;
		}
	}
	lock_release(&tpid_sh->ent_lock);
	return rc;
}

int tpid_ent_reload(const char *path, char *err, size_t errsize)
{
	tpid_enterprise_set_t set = {0, NULL};
	int rc;

	if(path == NULL) {
		snprintf(err, errsize, "no enterprise_file configured");
		return -1;
	}
	if(tpid_enterprise_load(path, &set, err, errsize) < 0)
		return -1;
	rc = tpid_ent_publish(&set);
	if(rc < 0)
		snprintf(err, errsize, "out of shared memory");
	tpid_enterprise_free(&set);
	return rc;
}

int tpid_ent_walk(void (*fn)(const tpid_enterprise_t *e, void *arg), void *arg)
{
	int i, n;

	lock_get(&tpid_sh->ent_lock);
	n = tpid_sh->ent_n;
	for(i = 0; fn != NULL && i < n; i++)
		fn(&tpid_sh->ent[i], arg);
	lock_release(&tpid_sh->ent_lock);
	return n;
}

int tpid_ent_version(void)
{
	return tpid_sh ? tpid_sh->ent_version : 0;
}

/* ---- lifetimes -------------------------------------------------------------- */

int tpid_async_ttl(const tpid_enterprise_t *e, int reason, int answer_ttl)
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

static void tpid_async_resume(tpid_orig_waiter_t *w, int reason,
		const char *name, int64_t exp, double hook_ms);

/* ---- SIP worker side ---------------------------------------------------------- */

int tpid_async_inflight(void)
{
	return tpid_sh ? __atomic_load_n(&tpid_sh->inflight, __ATOMIC_RELAXED) : 0;
}

static int tpid_async_send(tpid_query_t *q)
{
	int i = tpid_rr++ % tpid_cfg.hook_workers;
	ssize_t n;

	do {
		n = write(tpid_pipes[i][1], &q, sizeof(q));
	} while(n < 0 && errno == EINTR);
	return n == sizeof(q) ? 0 : -1;
}

int tpid_async_start(sip_msg_t *msg, const tpid_enterprise_t *e,
		const char *served, const char *dest, const char *callid,
		tpid_orig_waiter_t *wtmpl)
{
	tpid_orig_waiter_t *w;
	tpid_query_t *q;
	int rc;

	/* A bound on suspended calls: past it, the failure policy, not a pile. */
	if(__atomic_add_fetch(&tpid_sh->inflight, 1, __ATOMIC_RELAXED)
			> tpid_cfg.max_inflight) {
		__atomic_sub_fetch(&tpid_sh->inflight, 1, __ATOMIC_RELAXED);
		return TPID_R_HOOK_BUSY;
	}
	w = shm_malloc(sizeof(*w));
	if(w == NULL) {
		SHM_MEM_ERROR;
		goto error;
	}
	*w = *wtmpl;
	w->link.next = NULL;
	if(tpid_tmb.t_suspend(msg, &w->tindex, &w->tlabel) < 0) {
		LM_ERR("cannot suspend the transaction (t_newtran() first?)\n");
		goto error;
	}
	/* From here on the transaction is ours to resume. */
	rc = tpid_cache_lookup(tpid_cache, served, w->claims.id, e->domain,
			(int64_t)time(NULL), &w->link, NULL);
	if(rc == TPID_CACHE_JOINED) {
		update_stat(tpid_st_coalesced, 1);
		update_stat(tpid_st_inflight, 1);
		return TPID_OK;
	}
	q = shm_malloc(sizeof(*q));
	if(q == NULL) {
		SHM_MEM_ERROR;
		goto unsuspend;
	}
	memset(q, 0, sizeof(*q));
	q->ent = *e;
	snprintf(q->served, sizeof(q->served), "%s", served);
	snprintf(q->id, sizeof(q->id), "%s", w->claims.id);
	snprintf(q->dest, sizeof(q->dest), "%s", dest);
	snprintf(q->callid, sizeof(q->callid), "%s", callid);
	q->time = (int64_t)time(NULL);
	q->self = rc == TPID_CACHE_OWNER ? NULL : w;
	q->owner = rc == TPID_CACHE_OWNER ? &w->link : NULL;
	if(tpid_async_send(q) < 0) {
		LM_ERR("cannot hand the query to a hook worker: %s\n", strerror(errno));
		shm_free(q);
		goto unsuspend;
	}
	update_stat(tpid_st_queries, 1);
	update_stat(tpid_st_inflight, 1);
	return TPID_OK;

unsuspend:
	/* Rare (shared memory or pipe exhausted): undo and answer inline.
	 * Joiners that came meanwhile are resumed with the failure at once
	 * (tm allows t_continue from any process). */
	if(rc == TPID_CACHE_OWNER) {
		tpid_waiter_t *lst =
				tpid_cache_complete(tpid_cache, served, w->claims.id, &w->link,
						TPID_R_INTERNAL, NULL, (int64_t)time(NULL), 0);
		while(lst != NULL) {
			tpid_orig_waiter_t *o = (tpid_orig_waiter_t *)lst;
			lst = lst->next;
			if(o != w)
				tpid_async_resume(o, TPID_R_INTERNAL, NULL, 0, 0);
		}
	}
	tpid_tmb.t_cancel_suspend(w->tindex, w->tlabel);
error:
	if(w != NULL)
		shm_free(w);
	__atomic_sub_fetch(&tpid_sh->inflight, 1, __ATOMIC_RELAXED);
	return TPID_R_INTERNAL;
}

/* ---- hook worker side ------------------------------------------------------------ */

static void tpid_async_resume(tpid_orig_waiter_t *w, int reason,
		const char *name, int64_t exp, double hook_ms)
{
	tpid_resume_t r;
	str cbname, evname = str_init("tpid_assert:resume");

	r.w = w;
	r.reason = reason;
	r.name = name;
	r.exp = exp;
	r.hook_ms = hook_ms;
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
	__atomic_sub_fetch(&tpid_sh->inflight, 1, __ATOMIC_RELAXED);
	update_stat(tpid_st_inflight, -1);
	shm_free(w);
}

static void tpid_async_done(tpid_query_t *q, int rc, tpid_hook_answer_t *a)
{
	tpid_waiter_t *lst;
	tpid_orig_waiter_t *w;
	int64_t now = (int64_t)time(NULL);
	int reason = rc, ttl, tok_ttl;

	if(rc == TPID_OK) {
		tpid_stats_latency(a->elapsed_ms);
		switch(a->result) {
			case TPID_HOOK_AUTHORIZED:
				update_stat(tpid_st_authorized, 1);
				break;
			case TPID_HOOK_DENIED:
				update_stat(tpid_st_denied, 1);
				reason = TPID_R_DENIED;
				break;
			default:
				update_stat(tpid_st_unknown, 1);
				reason = TPID_R_UNKNOWN_ID;
				break;
		}
	} else {
		LM_NOTICE("enterprise %s: %s (%d), http status %ld (%s), call-id "
				  "%s\n",
				q->ent.domain, tpid_reason_name(rc), rc, a->http_status,
				a->reason, q->callid);
	}
	ttl = tpid_async_ttl(&q->ent, reason, rc == TPID_OK ? a->ttl : 0);
	/* tpid.exp: how long the enterprise vouches; an uncached answer still
	 * vouches for the operator's default lifetime at most. */
	tok_ttl = ttl > 0 ? ttl : tpid_async_ttl(&q->ent, TPID_OK, -1);
	if(q->self != NULL) {
		q->self->link.next = NULL;
		lst = &q->self->link;
	} else {
		lst = tpid_cache_complete(tpid_cache, q->served, q->id, q->owner,
				reason, a->display_name, now, ttl);
	}
	while(lst != NULL) {
		w = (tpid_orig_waiter_t *)lst;
		lst = lst->next;
		tpid_async_resume(
				w, reason, a->display_name, now + tok_ttl, a->elapsed_ms);
	}
	shm_free(q);
}

static void tpid_async_take(tpid_https_t *m, int fd)
{
	tpid_hook_answer_t a;
	tpid_hook_query_t hq;
	const char *dests[1];
	tpid_query_t *q;
	ssize_t n;
	int rc;

	for(;;) {
		n = read(fd, &q, sizeof(q));
		if(n != sizeof(q))
			return; /* EAGAIN: drained */
		dests[0] = q->dest;
		memset(&hq, 0, sizeof(hq));
		hq.served_user = q->served;
		hq.tpid = q->id;
		hq.dest = dests;
		hq.ndest = 1;
		hq.call_id = q->callid;
		hq.time = q->time;
		rc = tpid_hook_add(m, &q->ent, &hq, tpid_cfg.hook_max_body, q);
		if(rc != TPID_OK) {
			memset(&a, 0, sizeof(a));
			tpid_async_done(q, rc, &a);
		}
	}
}

static void tpid_async_worker(int idx)
{
	tpid_https_t *m;
	tpid_https_result_t res;
	tpid_hook_answer_t a;
	void *user;
	int ready, rc;
	int fd = tpid_pipes[idx][0];

	m = tpid_https_new(0);
	if(m == NULL) {
		LM_CRIT("hook worker %d: cannot start libcurl\n", idx);
		return;
	}
	LM_INFO("hook worker %d ready\n", idx);
	for(;;) {
		if(tpid_https_wait(m, fd, 1000, &ready) < 0)
			LM_ERR("hook worker %d: curl multi failure\n", idx);
		cfg_update();
		if(ready)
			tpid_async_take(m, fd);
		while(tpid_https_next(m, &user, &res)) {
			rc = tpid_hook_result(&res, &a);
			tpid_https_result_clear(&res);
			tpid_async_done((tpid_query_t *)user, rc, &a);
		}
	}
}

/* ---- applying the answer to the resumed request ------------------------------ */

int tpid_orig_apply(sip_msg_t *msg, tpid_claims_t *c, int reason);

static int tpid_async_pre_script(sip_msg_t *msg, unsigned int flags, void *p)
{
	tpid_resume_t *r = tpid_resume_now;
	tpid_claims_t *c;

	if(r == NULL)
		return 1; /* not ours: someone else's failure route */
	tpid_resume_now = NULL;
	tpid_result_start(msg);
	c = &tpid_res.claims;
	*c = r->w->claims;
	tpid_res.hook_ms = r->hook_ms;
	if(r->name != NULL)
		snprintf(c->name, sizeof(c->name), "%s", r->name);
	c->iat = (int64_t)time(NULL);
	c->exp = r->exp;
	tpid_orig_apply(msg, c, r->reason);
	return 1;
}

/* ---- life cycle ------------------------------------------------------------------- */

/* Runs in the timer process. */
static void tpid_async_purge_timer(unsigned int ticks, void *param)
{
	tpid_cache_purge(tpid_cache, (int64_t)time(NULL));
}

int tpid_async_mod_init(void)
{
	tpid_cache_ops_t ops;
	int i, fl;

	if(load_tm_api(&tpid_tmb) < 0) {
		LM_ERR("the tm module is required\n");
		return -1;
	}
	tpid_sh = shm_malloc(sizeof(*tpid_sh));
	if(tpid_sh == NULL) {
		SHM_MEM_ERROR;
		return -1;
	}
	memset(tpid_sh, 0, sizeof(*tpid_sh));
	lock_init(&tpid_sh->ent_lock);

	tpid_cache_locks = lock_set_alloc(tpid_cfg.cache_locks);
	if(tpid_cache_locks == NULL || lock_set_init(tpid_cache_locks) == NULL) {
		LM_ERR("cannot create %d cache locks\n", tpid_cfg.cache_locks);
		return -1;
	}
	memset(&ops, 0, sizeof(ops));
	ops.alloc = tpid_shm_alloc;
	ops.free = tpid_shm_free;
	ops.lock = tpid_cache_lock_stripe;
	ops.unlock = tpid_cache_unlock_stripe;
	ops.ctx = tpid_cache_locks;
	/* stripes = the lock set size, a power of two (see mod_init) */
	tpid_cache = tpid_cache_new(&ops, tpid_cfg.cache_size, tpid_cfg.cache_locks,
			tpid_cfg.cache_size);
	if(tpid_cache == NULL) {
		LM_ERR("cannot create the decision cache\n");
		return -1;
	}

	tpid_pipes = shm_malloc(tpid_cfg.hook_workers * sizeof(*tpid_pipes));
	if(tpid_pipes == NULL) {
		SHM_MEM_ERROR;
		return -1;
	}
	for(i = 0; i < tpid_cfg.hook_workers; i++) {
		if(pipe(tpid_pipes[i]) < 0) {
			LM_ERR("pipe: %s\n", strerror(errno));
			return -1;
		}
		/* writers never block (full pipe = failure policy); the worker
		 * drains until EAGAIN */
		for(fl = 0; fl < 2; fl++)
			fcntl(tpid_pipes[i][fl], F_SETFL,
					fcntl(tpid_pipes[i][fl], F_GETFL) | O_NONBLOCK);
	}
	if(register_timer(tpid_async_purge_timer, NULL, 10) < 0) {
		LM_ERR("cannot register the cache purge timer\n");
		return -1;
	}
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
			exit(-1);
		}
	}
	return 0;
}

void tpid_async_destroy(void)
{
	/* shared memory goes with the process tree */
}
