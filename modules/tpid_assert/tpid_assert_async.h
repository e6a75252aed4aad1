/*
 * tpid_assert - Kamailio glue: the asynchronous job runner
 *
 * SIP workers never wait on the network. A role suspends the transaction
 * (tpid_async_suspend), puts a job in shared memory and hands it (by pipe)
 * to a worker process that runs the HTTPS engine (tpid_https.h). Job kinds
 * are registered at mod_init with their callbacks: start() puts the job's
 * request on the engine, done() gets its result and resumes the waiting
 * transactions (tpid_async_resume, from any process), apply() carries the
 * outcome out on each resumed request before its route runs.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_ASSERT_ASYNC_H
#define TPID_ASSERT_ASYNC_H

#include <stddef.h>

#include "core/parser/msg_parser.h"
#include "core/str.h"

#include "tpid_cache.h"
#include "tpid_https.h"

#define TPID_CBNAME_MAX 64
#define TPID_ASYNC_MAX_KINDS 8

/* A suspended request (shared memory). A kind embeds it first in its own
 * waiter struct. */
typedef struct tpid_async_waiter
{
	tpid_waiter_t link; /* first: the decision cache links waiters by it */
	unsigned int tindex, tlabel;
	int kind;
	int route;					  /* cfg route index, -1 with KEMI */
	char cbname[TPID_CBNAME_MAX]; /* KEMI function */
} tpid_async_waiter_t;

/* A job on its way to a worker (shared memory). A kind embeds it first in
 * its own job struct. */
typedef struct tpid_async_job
{
	int kind;
} tpid_async_job_t;

typedef struct tpid_async_kind
{
	const char *name;
	/* A kind of job has start and done; a kind of waiter has apply (a kind
	 * may be both). */
	/* Worker: adds the job's request to eng, with the job as user. 0/-1. */
	int (*start)(tpid_https_t *eng, tpid_async_job_t *job);
	/* Worker: the job's result (NULL if it could not start); resumes its
	 * waiters. The runner frees the job afterwards. */
	void (*done)(tpid_async_job_t *job, const tpid_https_result_t *res);
	/* The resumed request, before its route: carries outcome out. */
	void (*apply)(sip_msg_t *msg, tpid_async_waiter_t *w, const void *outcome);
} tpid_async_kind_t;

/* Registers a kind (k must stay valid); at mod_init. Its id, or -1. */
int tpid_async_register(const tpid_async_kind_t *k);

int tpid_async_mod_init(void);

/* Closes the workers' pipes and frees the shared counters (module destroy,
 * after the children have stopped). */
void tpid_async_mod_destroy(void);
int tpid_async_child_init(int rank);

/* A zeroed waiter of size bytes (shared memory) for kind, resuming into
 * route or, with KEMI, cbname (NULL or empty: none). NULL on failure. */
tpid_async_waiter_t *tpid_async_waiter_new(
		int kind, size_t size, int route, const str *cbname);

void tpid_async_waiter_free(tpid_async_waiter_t *w);

/* Suspends msg's transaction for w, taking an in-flight slot. TPID_OK, or
 * a reason (HOOK_BUSY past max_inflight, CANCELLED when a CANCEL or a final
 * response came first, INTERNAL) with msg untouched and w not taken. */
int tpid_async_suspend(sip_msg_t *msg, tpid_async_waiter_t *w);

/* Undoes tpid_async_suspend (nothing was sent): frees w and its slot. */
void tpid_async_cancel(tpid_async_waiter_t *w);

/* Undoes tpid_async_suspend, frees the slot and keeps w (its outcomes are
 * carried out by the caller, in the request's own route). */
void tpid_async_unsuspend(tpid_async_waiter_t *w);

/* The largest outcome tpid_async_resume() copies for an async task worker. */
#define TPID_ASYNC_OUTCOME_MAX 64

/* Resumes w's transaction with outcome (outcome_len bytes, copied; handed
 * to the kind's apply), then frees w and its slot. Any process. With
 * Kamailio's async task workers (core parameter async_workers) the
 * continuation route runs in one of them, else in the calling process. */
void tpid_async_resume(
		tpid_async_waiter_t *w, const void *outcome, size_t outcome_len);

/* A zeroed job of size bytes (shared memory) for kind. NULL on failure. */
tpid_async_job_t *tpid_async_job_new(int kind, size_t size);

/* Hands job to a worker (round robin over the workers alive); the worker
 * frees it. 0, TPID_ASYNC_NO_WORKER or -1 (the job is still the
 * caller's). */
int tpid_async_submit(tpid_async_job_t *job);

/* tpid_async_submit(): no worker has come round its loop lately (hung,
 * stopped or dead): the job was not queued behind it. */
#define TPID_ASYNC_NO_WORKER (-2)

void tpid_async_job_free(tpid_async_job_t *job);

/* Suspended requests now. */
int tpid_async_inflight(void);

/* Hook workers that came round their loop within TPID_WORKER_STALE_S (the
 * others are hung, stopped or dead and get no jobs). */
int tpid_async_workers_alive(void);

#endif
