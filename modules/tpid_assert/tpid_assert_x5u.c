/*
 * tpid_assert - Kamailio glue: certificates fetched from x5u
 *
 * A miss suspends the INVITE (tpid_x5u_suspend) and hands a fetch job to
 * the runner's workers; the worker validates what it got, caches it (or
 * the failure) and resumes every INVITE that waited for that URL, each of
 * which verifies again. A fetch still out at its deadline is given up by
 * the timer, which resumes its INVITEs with CERT_FETCH.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/counters.h"
#include "core/dprint.h"
#include "core/mem/pkg.h"
#include "core/timer.h"

#include "tpid_assert_async.h"
#include "tpid_assert_cfg.h"
#include "tpid_assert_shm.h"
#include "tpid_assert_x5u.h"
#include "tpid_certcache.h"
#include "tpid_keymap.h"
#include "tpid_reason.h"
#include "tpid_x5u.h"

/* A fetch still out this long after its total timeout is given up. */
#define TPID_X5U_DEADLINE_MARGIN 2

typedef struct tpid_x5u_waiter
{
	tpid_async_waiter_t base; /* first */
	int detached;			  /* a prefetch: no transaction waits behind it */
	int tag;				  /* handed back to resumed() */
	char next[TPID_MAX_URI];  /* "" or a second URL to wait for */
} tpid_x5u_waiter_t;

typedef struct tpid_x5u_job
{
	tpid_async_job_t base; /* first */
	char url[TPID_MAX_URI];
	const tpid_waiter_t *owner; /* cached: names its cache entry */
	tpid_x5u_waiter_t *self;	/* not cached (cache full): its one waiter */
} tpid_x5u_job_t;

typedef struct tpid_x5u_outcome
{
	int reason;
} tpid_x5u_outcome_t;

static void (*tpid_x5u_resumed)(
		sip_msg_t *msg, int tag, int fetch_reason) = NULL;
static tpid_certcache_t *tpid_cc = NULL;
static tpid_cache_ops_t tpid_cc_ops;
static int tpid_x5u_kind = -1;
static counter_handle_t tpid_x5u_cnt_fetches;
/* per process */
static tpid_keymap_t *tpid_km = NULL;
static char *tpid_x5u_buf = NULL;

/* ---- worker side ---------------------------------------------------------- */

static int tpid_x5u_start(tpid_https_t *eng, tpid_async_job_t *job)
{
	tpid_x5u_job_t *q = (tpid_x5u_job_t *)job;
	static const char *const hdrs[] = {
			"Accept: application/pem-certificate-chain"};
	tpid_https_req_t req;

	memset(&req, 0, sizeof(req));
	req.url = q->url;
	req.method = TPID_HTTPS_GET;
	req.headers = hdrs;
	req.nheaders = 1;
	req.ca_file = tpid_cfg.x5u_ca_file;
	req.connect_timeout_ms = tpid_cfg.x5u_connect_timeout_ms;
	req.timeout_ms = tpid_cfg.x5u_timeout_ms;
	req.max_body = (size_t)tpid_cfg.x5u_max_size;
	req.allow_private = tpid_cfg.x5u_allow_private;
	counter_inc(tpid_x5u_cnt_fetches);
	return tpid_https_add(eng, &req, job);
}

/* What a fetch brought: TPID_OK and *ttl for a chain that parses and
 * validates now, else the reason to cache for x5u_fail_ttl. */
static int tpid_x5u_judge(
		const tpid_x5u_job_t *q, const tpid_https_result_t *res, int *ttl)
{
	STACK_OF(X509) *chain = NULL;
	int64_t now = (int64_t)time(NULL), not_after = 0;
	int rc;

	*ttl = tpid_cfg.x5u_fail_ttl;
	if(res == NULL)
		return TPID_R_CERT_FETCH;
	if(res->cls != TPID_HTTPS_OK) {
		LM_NOTICE("x5u %s: fetch failed: %s, http status %ld (%s)\n", q->url,
				tpid_https_class_name(res->cls), res->status, res->error);
		return TPID_R_CERT_FETCH;
	}
	if(tpid_trust_parse_pem(
			   res->body, res->body_len, TPID_TRUST_MAX_CHAIN, &chain)
			!= TPID_OK) {
		LM_NOTICE("x5u %s: not a PEM certificate chain\n", q->url);
		return TPID_R_CERT_FETCH;
	}
	rc = tpid_trust_validate(tpid_cfg.trust, chain, now, NULL);
	if(rc == TPID_OK && tpid_trust_not_after(chain, &not_after) < 0)
		rc = TPID_R_CERT_INVALID;
	sk_X509_pop_free(chain, X509_free);
	if(rc != TPID_OK) {
		LM_NOTICE("x5u %s: certificate does not validate against ca_file "
				  "(expired, wrong chain, key usage, revoked)\n",
				q->url);
		return rc;
	}
	*ttl = tpid_x5u_lifetime(res->cache_control, res->expires, now,
			tpid_cfg.x5u_min_ttl, tpid_cfg.x5u_max_ttl, not_after);
	return *ttl > 0 ? TPID_OK : TPID_R_CERT_INVALID;
}

static int tpid_x5u_send(const char *x5u, tpid_x5u_waiter_t *w, int owner);
static int64_t tpid_x5u_deadline(int64_t now);
static void tpid_x5u_resume_all(tpid_waiter_t *lst, int reason);

/* A waiter whose first certificate is in waits for its second one too,
 * so that its request is resumed (and suspended) once. 1 when it waits
 * again, 0 when it should be resumed now. */
static int tpid_x5u_wait_next(tpid_x5u_waiter_t *w)
{
	int64_t now = (int64_t)time(NULL);
	char url[TPID_MAX_URI];
	tpid_waiter_t *lst;
	int rc;

	if(w->detached || w->next[0] == '\0')
		return 0;
	memcpy(url, w->next, sizeof(url));
	w->next[0] = '\0';
	w->base.link.next = NULL;
	rc = tpid_certcache_lookup(tpid_cc, url, now, tpid_x5u_deadline(now),
			&w->base.link, NULL, NULL, 0);
	if(rc == TPID_CERTCACHE_JOINED)
		return 1;
	if(rc != TPID_CERTCACHE_OWNER && rc != TPID_CERTCACHE_FULL)
		return 0; /* there already, good or bad */
	if(tpid_x5u_send(url, w, rc == TPID_CERTCACHE_OWNER) == 0)
		return 1;
	if(rc == TPID_CERTCACHE_OWNER) {
		/* not sent: the entry goes, whoever joined meanwhile is told */
		lst = tpid_certcache_complete(
				tpid_cc, url, &w->base.link, TPID_R_INTERNAL, NULL, 0, now, 0);
		if(lst == &w->base.link)
			lst = lst->next;
		tpid_x5u_resume_all(lst, TPID_R_CERT_FETCH);
	}
	return 0;
}

static void tpid_x5u_resume_all(tpid_waiter_t *lst, int reason)
{
	tpid_x5u_outcome_t o = {reason};
	tpid_waiter_t *w;

	while(lst != NULL) {
		w = lst;
		lst = lst->next;
		if(((tpid_x5u_waiter_t *)w)->detached)
			tpid_async_waiter_free((tpid_async_waiter_t *)w);
		else if(!tpid_x5u_wait_next((tpid_x5u_waiter_t *)w))
			tpid_async_resume((tpid_async_waiter_t *)w, &o, sizeof(o));
	}
}

static void tpid_x5u_done(tpid_async_job_t *job, const tpid_https_result_t *res)
{
	tpid_x5u_job_t *q = (tpid_x5u_job_t *)job;
	tpid_waiter_t *lst;
	int ttl, reason = tpid_x5u_judge(q, res, &ttl);

	if(q->self != NULL) {
		q->self->base.link.next = NULL;
		lst = &q->self->base.link;
	} else {
		/* NULL when the deadline handed the waiters back already */
		lst = tpid_certcache_complete(tpid_cc, q->url, q->owner, reason,
				reason == TPID_OK ? res->body : NULL,
				reason == TPID_OK ? res->body_len : 0, (int64_t)time(NULL),
				ttl);
	}
	tpid_x5u_resume_all(lst, reason);
}

static void tpid_x5u_apply(
		sip_msg_t *msg, tpid_async_waiter_t *w, const void *outcome)
{
	tpid_x5u_resumed(msg, ((tpid_x5u_waiter_t *)w)->tag,
			((const tpid_x5u_outcome_t *)outcome)->reason);
}

static const tpid_async_kind_t tpid_x5u_job_kind = {
		"x5u fetch", tpid_x5u_start, tpid_x5u_done, tpid_x5u_apply};

/* ---- SIP worker side ------------------------------------------------------ */

/* The per-process parsed copy of a GOOD entry of generation gen. */
static int tpid_x5u_parsed(const char *x5u, uint64_t gen, tpid_cert_t **cert)
{
	tpid_certcache_view_t v;
	STACK_OF(X509) *chain = NULL;
	tpid_cert_t *c;

	if(tpid_km == NULL) {
		tpid_km = tpid_keymap_new((unsigned int)tpid_cfg.x5u_cache_size);
		tpid_x5u_buf = pkg_malloc(tpid_cfg.x5u_max_size + 1);
		if(tpid_km == NULL || tpid_x5u_buf == NULL) {
			PKG_MEM_ERROR;
			return TPID_R_INTERNAL;
		}
	}
	*cert = (tpid_cert_t *)tpid_keymap_get(tpid_km, x5u, gen);
	if(*cert != NULL)
		return TPID_OK;
	if(tpid_certcache_lookup(tpid_cc, x5u, (int64_t)time(NULL), 0, NULL, &v,
			   tpid_x5u_buf, tpid_cfg.x5u_max_size + 1)
					!= TPID_CERTCACHE_HIT_GOOD
			|| !v.copied)
		return TPID_X5U_MISS;
	if(tpid_trust_parse_pem(tpid_x5u_buf, v.len, TPID_TRUST_MAX_CHAIN, &chain)
			!= TPID_OK)
		return TPID_R_CERT_INVALID;
	c = tpid_cert_new(chain);
	if(c == NULL || tpid_keymap_put(tpid_km, x5u, v.generation, c) < 0)
		return TPID_R_INTERNAL;
	*cert = c;
	return TPID_OK;
}

int tpid_x5u_cert(const char *x5u, tpid_cert_t **cert)
{
	tpid_certcache_view_t v;

	*cert = NULL;
	if(tpid_cc == NULL)
		return TPID_R_CERT_UNAVAILABLE;
	switch(tpid_certcache_lookup(
			tpid_cc, x5u, (int64_t)time(NULL), 0, NULL, &v, NULL, 0)) {
		case TPID_CERTCACHE_HIT_GOOD:
			return tpid_x5u_parsed(x5u, v.generation, cert);
		case TPID_CERTCACHE_HIT_BAD:
			return v.reason;
		default:
			return TPID_X5U_MISS;
	}
}

/* Sends the fetch for w (owner of the cache entry, or alone when the cache
 * is full). 0, or -1 with nothing sent. */
static int tpid_x5u_send(const char *x5u, tpid_x5u_waiter_t *w, int owner)
{
	tpid_x5u_job_t *q;

	q = (tpid_x5u_job_t *)tpid_async_job_new(tpid_x5u_kind, sizeof(*q));
	if(q == NULL)
		return -1;
	snprintf(q->url, sizeof(q->url), "%s", x5u);
	q->owner = owner && w != NULL ? &w->base.link : NULL;
	q->self = owner ? NULL : w;
	if(tpid_async_submit(&q->base) == 0)
		return 0;
	tpid_async_job_free(&q->base);
	return -1;
}

static int64_t tpid_x5u_deadline(int64_t now)
{
	return now + (tpid_cfg.x5u_timeout_ms + 999) / 1000
		   + TPID_X5U_DEADLINE_MARGIN;
}

int tpid_x5u_suspend(sip_msg_t *msg, const char *x5u, const char *next,
		int route, const str *cbname, int tag)
{
	int64_t now = (int64_t)time(NULL);
	char url2[TPID_MAX_URI];
	tpid_x5u_waiter_t *w;
	tpid_waiter_t *lst;
	int rc;

	if(tpid_cc == NULL)
		return TPID_R_CERT_UNAVAILABLE;
	w = (tpid_x5u_waiter_t *)tpid_async_waiter_new(
			tpid_x5u_kind, sizeof(*w), route, cbname);
	if(w == NULL)
		return TPID_R_INTERNAL;
	w->tag = tag;
	if(next != NULL && strcmp(next, x5u) != 0)
		snprintf(w->next, sizeof(w->next), "%s", next);
	rc = tpid_async_suspend(msg, &w->base);
	if(rc != TPID_OK) {
		tpid_async_waiter_free(&w->base);
		/* max_inflight reached: the certificate is not at hand and the
		 * call cannot wait for it */
		return rc == TPID_R_HOOK_BUSY ? TPID_R_CERT_UNAVAILABLE : rc;
	}
	/* From here on the transaction is ours to resume. */
	rc = tpid_certcache_lookup(tpid_cc, x5u, now, tpid_x5u_deadline(now),
			&w->base.link, NULL, NULL, 0);
	switch(rc) {
		case TPID_CERTCACHE_JOINED:
			return TPID_OK;
		case TPID_CERTCACHE_OWNER:
		case TPID_CERTCACHE_FULL:
			if(tpid_x5u_send(x5u, w, rc == TPID_CERTCACHE_OWNER) == 0)
				return TPID_OK;
			break;
		default: /* it arrived meanwhile: wait for the second one, if any */
			if(w->next[0] != '\0') {
				snprintf(url2, sizeof(url2), "%s", w->next);
				w->next[0] = '\0';
				tpid_async_cancel(&w->base);
				return tpid_x5u_suspend(msg, url2, NULL, route, cbname, tag);
			}
			tpid_async_cancel(&w->base);
			return TPID_X5U_RETRY;
	}
	/* Rare (shared memory or pipe exhausted): undo, joiners get the
	 * failure at once. */
	lst = NULL;
	if(rc == TPID_CERTCACHE_OWNER)
		lst = tpid_certcache_complete(
				tpid_cc, x5u, &w->base.link, TPID_R_INTERNAL, NULL, 0, now, 0);
	if(lst == &w->base.link)
		lst = lst->next;
	tpid_x5u_resume_all(lst, TPID_R_CERT_FETCH);
	tpid_async_cancel(&w->base);
	return TPID_R_INTERNAL;
}

void tpid_x5u_prefetch(const char *x5u)
{
	int64_t now = (int64_t)time(NULL);
	tpid_x5u_waiter_t *w;
	tpid_waiter_t *lst;
	int rc;

	if(tpid_cc == NULL)
		return;
	/* a waiter in shared memory names the cache entry; the fetch's end
	 * frees it instead of resuming anything */
	w = (tpid_x5u_waiter_t *)tpid_async_waiter_new(
			tpid_x5u_kind, sizeof(*w), -1, NULL);
	if(w == NULL)
		return;
	w->detached = 1;
	rc = tpid_certcache_lookup(tpid_cc, x5u, now, tpid_x5u_deadline(now),
			&w->base.link, NULL, NULL, 0);
	if(rc != TPID_CERTCACHE_OWNER) {
		/* joined: the fetch out frees it; else nothing holds it */
		if(rc != TPID_CERTCACHE_JOINED)
			tpid_async_waiter_free(&w->base);
		return;
	}
	if(tpid_x5u_send(x5u, w, 1) < 0) {
		lst = tpid_certcache_complete(
				tpid_cc, x5u, &w->base.link, TPID_R_INTERNAL, NULL, 0, now, 0);
		tpid_x5u_resume_all(lst, TPID_R_CERT_FETCH);
	}
}

/* ---- timer, RPC, start-up ------------------------------------------------- */

/* Fetches out past their deadline: their INVITEs go on with CERT_FETCH
 * (the late answer finds nothing); expired entries go. */
static void tpid_x5u_timer(unsigned int ticks, void *param)
{
	int64_t now = (int64_t)time(NULL);
	tpid_waiter_t *late;

	late = tpid_certcache_expire_pending(tpid_cc, now, NULL);
	if(late != NULL)
		LM_NOTICE("x5u fetches past their deadline: calls resumed with "
				  "CERT_FETCH\n");
	tpid_x5u_resume_all(late, TPID_R_CERT_FETCH);
	tpid_certcache_purge(tpid_cc, now);
}

static counter_val_t tpid_x5u_stat_entries(counter_handle_t h, void *p)
{
	return tpid_cc ? (counter_val_t)tpid_certcache_count(tpid_cc) : 0;
}

static const char *tpid_x5u_state_name(int state)
{
	switch(state) {
		case TPID_CERTCACHE_PENDING:
			return "pending";
		case TPID_CERTCACHE_GOOD:
			return "good";
		default:
			return "bad";
	}
}

typedef struct tpid_x5u_rpc_arg
{
	rpc_t *rpc;
	void *ctx;
} tpid_x5u_rpc_arg_t;

static int tpid_x5u_rpc_entry(const tpid_certcache_view_t *v, void *arg)
{
	tpid_x5u_rpc_arg_t *a = arg;
	void *th;

	if(a->rpc->add(a->ctx, "{", &th) < 0)
		return 1;
	a->rpc->struct_add(th, "sssdddd", "url", v->url, "state",
			tpid_x5u_state_name(v->state), "reason",
			tpid_reason_name(v->reason), "bytes", (int)v->len, "expires",
			(int)v->expires, "hits", (int)v->hits, "generation",
			(int)v->generation);
	return 0;
}

void tpid_x5u_rpc_list(rpc_t *rpc, void *ctx)
{
	tpid_x5u_rpc_arg_t a = {rpc, ctx};

	if(tpid_cc == NULL) {
		rpc->fault(ctx, 500, "x5u fetching is off");
		return;
	}
	tpid_certcache_walk(tpid_cc, (int64_t)time(NULL), tpid_x5u_rpc_entry, &a);
}

void tpid_x5u_rpc_flush(rpc_t *rpc, void *ctx)
{
	str url = STR_NULL;
	char buf[TPID_MAX_URI];
	int n;

	if(tpid_cc == NULL) {
		rpc->fault(ctx, 500, "x5u fetching is off");
		return;
	}
	if(rpc->scan(ctx, "*S", &url) < 1) {
		n = tpid_certcache_flush(tpid_cc, NULL);
	} else {
		if(url.len <= 0 || url.len >= (int)sizeof(buf)) {
			rpc->fault(ctx, 400, "bad url");
			return;
		}
		memcpy(buf, url.s, url.len);
		buf[url.len] = '\0';
		n = tpid_certcache_flush(tpid_cc, buf);
	}
	/* other processes notice the new generation when it is fetched again */
	if(tpid_km != NULL)
		tpid_keymap_drop(tpid_km, url.len > 0 ? buf : NULL);
	rpc->add(ctx, "d", n);
}

int tpid_x5u_mod_init(
		void (*resumed)(sip_msg_t *msg, int tag, int fetch_reason))
{
	unsigned int n;

	tpid_x5u_resumed = resumed;
	if(!tpid_cfg.x5u_fetch || tpid_cfg.trust == NULL)
		return 0;
	tpid_x5u_kind = tpid_async_register(&tpid_x5u_job_kind);
	if(tpid_x5u_kind < 0 || tpid_shm_ops_new(16, &tpid_cc_ops) < 0) {
		LM_ERR("cannot register the x5u fetch job\n");
		return -1;
	}
	n = (unsigned int)tpid_cfg.x5u_cache_size;
	tpid_cc = tpid_certcache_new(
			&tpid_cc_ops, n, 16, n, (size_t)tpid_cfg.x5u_max_size);
	if(tpid_cc == NULL) {
		LM_ERR("cannot create the certificate cache\n");
		return -1;
	}
	if(register_timer(tpid_x5u_timer, NULL, 1) < 0
			|| counter_register(&tpid_x5u_cnt_fetches, "tpid_assert",
					   "x5u_fetches", 0, 0, 0, "certificate fetches started", 0)
					   < 0
			|| counter_register(NULL, "tpid_assert", "x5u_cache_entries",
					   CNT_F_NO_RESET, tpid_x5u_stat_entries, NULL,
					   "certificates (and fetches, failures) cached now", 0)
					   < 0) {
		LM_ERR("cannot register the x5u timer or counters\n");
		return -1;
	}
	return 0;
}

void tpid_x5u_mod_destroy(void)
{
	tpid_certcache_destroy(tpid_cc);
	tpid_cc = NULL;
	tpid_shm_ops_destroy(&tpid_cc_ops);
	/* this process's parsed certificates */
	tpid_keymap_free(tpid_km);
	tpid_km = NULL;
	if(tpid_x5u_buf != NULL) {
		pkg_free(tpid_x5u_buf);
		tpid_x5u_buf = NULL;
	}
}
