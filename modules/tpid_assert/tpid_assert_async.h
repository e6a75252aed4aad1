/*
 * tpid_assert - Kamailio glue: asynchronous enterprise queries
 *
 * SIP workers never wait on the network: on a cache miss the transaction is
 * suspended and the query handed (by pipe) to a hook worker process that
 * runs libcurl's multi interface; the answer resumes every transaction
 * waiting for it (t_continue), runs the configured route, and is cached in
 * shared memory.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_ASSERT_ASYNC_H
#define TPID_ASSERT_ASYNC_H

#include "core/parser/msg_parser.h"

#include "tpid_cache.h"
#include "tpid_enterprise.h"
#include "tpid_passport.h"

#define TPID_CBNAME_MAX 64

/* A suspended INVITE (shared memory). */
typedef struct tpid_orig_waiter
{
	tpid_waiter_t link; /* first: the cache links waiters through it */
	unsigned int tindex, tlabel;
	int route;					  /* cfg route index, -1 with KEMI */
	char cbname[TPID_CBNAME_MAX]; /* KEMI function */
	tpid_claims_t claims;		  /* all but name/iat/exp, set on resume */
} tpid_orig_waiter_t;

/* Settings shared by all processes (shared memory). */
extern tpid_cache_t *tpid_cache;

int tpid_async_mod_init(void);
int tpid_async_child_init(int rank);
void tpid_async_destroy(void);

/* The enterprise for domain, copied out of the shared table. 0 or -1. */
int tpid_ent_get(const char *domain, tpid_enterprise_t *out);

/* Loads path and, if valid, replaces the shared table; entries of domains
 * that went away or changed are evicted from the cache. 0 or -1 (old table
 * kept) with the reason in err. */
int tpid_ent_reload(const char *path, char *err, size_t errsize);

/* Calls fn for a copy of every enterprise. Returns how many. */
int tpid_ent_walk(void (*fn)(const tpid_enterprise_t *e, void *arg), void *arg);
int tpid_ent_version(void);

/* Suspends msg and sends (or joins) the query. TPID_OK when suspended; a
 * reason (HOOK_BUSY, INTERNAL) when it could not be, msg untouched. */
int tpid_async_start(sip_msg_t *msg, const tpid_enterprise_t *e,
		const char *served, const char *dest, const char *callid,
		tpid_orig_waiter_t *w);

/* Suspended INVITEs now. */
int tpid_async_inflight(void);

/* The effective cache lifetime of an answer (seconds; 0 = not cached). */
int tpid_async_ttl(const tpid_enterprise_t *e, int reason, int answer_ttl);

#endif
