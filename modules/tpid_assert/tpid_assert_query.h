/*
 * tpid_assert - Kamailio glue: asking a service of a directory (an
 * enterprise's hook, an avatar repository) whether the served user may use
 * an identity, asynchronously and once for all the calls that ask the same.
 *
 * A role (tpid_assert_orig.c, tpid_assert_avatar.c) describes its service
 * in a tpid_query_role_t: how to put the question on the HTTPS engine, how
 * to read the answer, and what to do with the call afterwards. This file
 * owns the rest: suspending the INVITE, the decision cache lookup that
 * makes later askers join a query under way, the job on a hook worker, the
 * cache lifetime of the answer, resuming every waiting call, and the timer
 * that gives up queries past their deadline.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_ASSERT_QUERY_H
#define TPID_ASSERT_QUERY_H

#include <stdint.h>

#include "core/counters.h"
#include "core/parser/msg_parser.h"
#include "core/str.h"

#include "tpid_assert_async.h"
#include "tpid_assert_dir.h"
#include "tpid_cache.h"
#include "tpid_passport.h"

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
	struct tpid_query_waiter *self; /* not cached (cache full): its waiter */
	const tpid_waiter_t *owner;		/* cached: names its cache entry */
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

/* What a resumed call is told. */
typedef struct tpid_query_outcome
{
	int reason;
	const char *value; /* NULL or the answer's value */
	int64_t exp;	   /* end of the authorization */
	double hook_ms;
} tpid_query_outcome_t;

typedef struct tpid_query_role
{
	const char *what; /* for the log, e.g. "enterprise" */
	tpid_dir_t *dir;
	int timeout_reason; /* given to calls whose query is past its deadline */
	/* Worker: puts q's request on eng with job as its user. 0 or -1. */
	int (*start)(tpid_https_t *eng, const tpid_query_job_t *q,
			tpid_async_job_t *job);
	/* Worker: reads res (NULL: the query could not start) into a. */
	void (*answer)(const tpid_https_result_t *res, tpid_query_answer_t *a);
	/* The resumed call with the claims it was suspended with: sign, or
	 * apply the policy. */
	void (*apply)(sip_msg_t *msg, const tpid_claims_t *c,
			const tpid_query_outcome_t *o);
	stat_var **queries; /* queries handed to a worker */
	stat_var **joined;	/* calls that joined a query under way */
	int kind;			/* set by tpid_query_register() */
} tpid_query_role_t;

/* Registers role's job kind and purge timer. At mod_init. 0 or -1. */
int tpid_query_register(tpid_query_role_t *role);

/* Suspends msg and asks e about (served, id) for dest, unless a query for
 * the same is under way (then msg waits for its answer). c is what the
 * resumed call gets back (role->apply). TPID_OK when suspended; else a
 * reason, with msg untouched. */
int tpid_query_ask(tpid_query_role_t *role, sip_msg_t *msg,
		const tpid_enterprise_t *e, const char *served, const char *id,
		const char *dest, const tpid_claims_t *c, int route, const str *cbname);

/* How long an answer is cached (0: not at all): the service's ttl (none:
 * default_ttl) within the service's and the module's ttl_cap, denials
 * within deny_ttl; failures never. */
int tpid_query_ttl(const tpid_enterprise_t *e, const tpid_query_answer_t *a);

#endif
