/*
 * tpid_assert - Kamailio glue: asking the services of the directories (an
 * enterprise's hook, an avatar repository) whether the served user may use
 * an identity, asynchronously, and once for all the calls that ask the same.
 *
 * A call may have several questions (the third-party ID and the avatar).
 * They are asked in parallel and the INVITE is suspended once, until the
 * last answer: tm keeps no header edit made in a resumed route that
 * suspends again, so a second suspension must never be needed.
 *
 * A role (tpid_assert_orig.c: enterprise, BAR) describes its service in a
 * tpid_query_role_t: how to put the question on the HTTPS engine and how
 * to read the answer. This file owns the rest: the decision cache lookups
 * that make later askers join a query under way, the jobs on the hook
 * workers, the cache lifetime of an answer, resuming the call when its
 * last question is answered, and the timer that gives up queries past
 * their deadline.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_ASSERT_QUERY_H
#define TPID_ASSERT_QUERY_H

#include <stdint.h>

#include "core/atomic_ops.h"
#include "core/counters.h"
#include "core/parser/msg_parser.h"
#include "core/str.h"

#include "tpid_assert_async.h"
#include "tpid_assert_dir.h"
#include "tpid_cache.h"
#include "tpid_passport.h"

#define TPID_QUERY_MAX 2 /* questions of one call */

/* A query on its way to a worker (shared memory). */
typedef struct tpid_query_job
{
	tpid_async_job_t base; /* first */
	tpid_enterprise_t ent; /* the service asked */
	char served[TPID_MAX_URI];
	char id[TPID_MAX_URI]; /* the identity asked about (canonical) */
	char dest[TPID_MAX_URI];
	char callid[256];
	int64_t time;
	struct tpid_query_q *self;	/* not cached (cache full): its question */
	const tpid_waiter_t *owner; /* cached: names its cache entry */
} tpid_query_job_t;

/* What a role read from its service's answer. */
typedef struct tpid_query_answer
{
	int reason;	  /* TPID_OK (authorized), a denial or a failure */
	int answered; /* 1: a well-formed answer (cacheable), 0: a failure */
	int ttl;	  /* the answer's ttl, -1 when it gave none */
	char value[TPID_CACHE_MAX_VALUE]; /* cached with it (name, object) */
	double elapsed_ms;
	long http_status; /* for the failure log */
	char text[256];
} tpid_query_answer_t;

/* The outcome of one question. */
typedef struct tpid_query_outcome
{
	int reason;
	char value[TPID_CACHE_MAX_VALUE]; /* the answer's value, or "" */
	int64_t exp;					  /* end of the authorization */
	double hook_ms;					  /* 0 from the cache */
} tpid_query_outcome_t;

typedef struct tpid_query_role
{
	const char *what; /* for the log, e.g. "enterprise" */
	tpid_dir_t *dir;
	int timeout_reason; /* given to questions past their deadline */
	int busy_reason;	/* given when no worker can take the query */
	/* Worker: puts q's request on eng with job as its user. 0 or -1. */
	int (*start)(tpid_https_t *eng, const tpid_query_job_t *q,
			tpid_async_job_t *job);
	/* Worker: reads res (NULL: the query could not start) into a. */
	void (*answer)(const tpid_https_result_t *res, tpid_query_answer_t *a);
	stat_var **queries; /* queries handed to a worker */
	stat_var **joined;	/* questions that joined a query under way */
	int kind;			/* set by tpid_query_register() */
} tpid_query_role_t;

/* One question of a call (shared memory, inside the call). */
typedef struct tpid_query_q
{
	tpid_waiter_t link; /* first: in its role's cache waiter list */
	struct tpid_query_call *call;
	tpid_query_role_t *role;
	tpid_enterprise_t ent;
	char id[TPID_MAX_URI];
	tpid_query_outcome_t out;
} tpid_query_q_t;

/* A suspended INVITE and its questions (shared memory); the caller's own
 * data follows it (tpid_query_call_data). */
typedef struct tpid_query_call
{
	tpid_async_waiter_t base; /* first */
	atomic_t pending;		  /* questions not answered (+1 while asking) */
	int nq;
	tpid_query_q_t q[TPID_QUERY_MAX];
} tpid_query_call_t;

/* One identity a call decides (the third-party ID, the avatar): nothing to
 * do, decided already (out), or asked (question q of the call). */
typedef struct tpid_query_part
{
	int state; /* TPID_PART_* */
	int q;
	tpid_claims_t c; /* the claims so far (what will be signed) */
	tpid_query_outcome_t out;
} tpid_query_part_t;

#define TPID_PART_NONE 0 /* nothing claimed: nothing to do */
#define TPID_PART_DONE 1 /* out holds the outcome */
#define TPID_PART_ASK 2	 /* the call's question q holds it once answered */

/* Marks p decided with reason (and value, exp, from a cached answer). */
void tpid_query_part_done(
		tpid_query_part_t *p, int reason, const char *value, int64_t exp);

/* The outcome of p: its own, or its question's in call (NULL: none). */
const tpid_query_outcome_t *tpid_query_part_outcome(
		const tpid_query_part_t *p, const tpid_query_call_t *call);

/* Registers role's job kind and cache purge timer. At mod_init. 0 or -1. */
int tpid_query_register(tpid_query_role_t *role);

/* Registers how a resumed call is carried out: apply(msg, call) runs on the
 * request before its route, every question answered. follow (or NULL),
 * when the last answer of a call is in, may start more work for it (the
 * signatures of an STI-AS): it then sets pending to that work's count and
 * returns 1, and each piece ends with tpid_query_step_done(); 0: nothing
 * follows. It runs in whichever process delivers that answer, and must
 * return 0 for a call it has followed up already. At mod_init. 0/-1. */
int tpid_query_init(void (*apply)(sip_msg_t *msg, tpid_query_call_t *call),
		int (*follow)(tpid_query_call_t *call));

/* One piece of a call's work is done (any process); the last one resumes
 * the call, unless follow takes it further. */
void tpid_query_step_done(tpid_query_call_t *call);

/* A new call with data_size bytes of the caller's, all zero; resumed into
 * route or, with KEMI, cbname. NULL when out of shared memory. */
tpid_query_call_t *tpid_query_call_new(
		size_t data_size, int route, const str *cbname);

void *tpid_query_call_data(tpid_query_call_t *call);

/* Frees a call that was not suspended, or came back from
 * tpid_query_ask() with TPID_QUERY_ANSWERED. */
void tpid_query_call_free(tpid_query_call_t *call);

/* Adds a question: may the served user use id, says e (role's service)?
 * 0, or -1 when the call has TPID_QUERY_MAX already. */
int tpid_query_add(tpid_query_call_t *call, tpid_query_role_t *role,
		const tpid_enterprise_t *e, const char *id);

/* Not a reason: every question got its answer before the call could be
 * suspended for it; the outcomes are in the call, which is not suspended. */
#define TPID_QUERY_ANSWERED 1000

/* Suspends msg and asks every question of the call, each joining a query
 * under way for the same (served, id) where there is one. TPID_OK when
 * suspended (the call is the runner's now); TPID_QUERY_ANSWERED (the call
 * is still the caller's); or a reason (HOOK_BUSY, INTERNAL) with msg
 * untouched and the call freed. */
int tpid_query_ask(tpid_query_call_t *call, sip_msg_t *msg, const char *served,
		const char *dest);

/* How long an answer is cached (0: not at all): the service's ttl (none:
 * default_ttl) within the service's and the module's ttl_cap, denials
 * within deny_ttl; failures never. */
int tpid_query_ttl(const tpid_enterprise_t *e, const tpid_query_answer_t *a);

#endif
