/*
 * tpid_assert - libFuzzer target for the decision cache's operation
 * sequences (tpid_cache.c), with the oracle the module relies on: every
 * waiter that is added comes back exactly once (from the answer that
 * completes its entry, or from the purge that gives up a late one), never
 * twice and never not at all; the count of entries stays within the bound.
 *
 * Input: a program of 3-byte operations on 4 served users x 4 IDs, with a
 * clock that only moves forward.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tpid_cache.h"
#include "tpid_reason.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXW 256
#define MAXE 6

typedef struct w
{
	tpid_waiter_t link; /* first */
	int state;			/* 0 free, 1 waiting, 2 returned */
} w_t;

static w_t ws[MAXW];
static int nw;
static const tpid_waiter_t *owners[4][4]; /* the owner of each pending key */

static void *f_alloc(size_t n)
{
	return malloc(n);
}
static void f_free(void *p)
{
	free(p);
}
static void f_lock(void *ctx, unsigned int s)
{
	(void)ctx;
	(void)s;
}

static const char *served(int i)
{
	static const char *s[4] = {
			"tel:+491", "tel:+492", "sip:a@x.example", "sip:b@x.example"};
	return s[i & 3];
}

static const char *id(int i)
{
	static const char *s[4] = {"sip:1@acme.example", "sip:2@acme.example",
			"sip:3@beta.example", "sip:4@beta.example"};
	return s[i & 3];
}

static void take(tpid_waiter_t *lst)
{
	while(lst != NULL) {
		w_t *w = (w_t *)lst;
		lst = lst->next;
		if(w < ws || w >= ws + MAXW || w->state != 1)
			abort(); /* not ours, or back twice */
		w->state = 2;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tpid_cache_ops_t ops = {f_alloc, f_free, f_lock, f_lock, NULL};
	tpid_cache_t *c = tpid_cache_new(&ops, 4, 2, MAXE);
	tpid_cache_view_t v;
	tpid_waiter_t *late;
	int64_t now = 1000;
	size_t i;
	int k, s, d, rc;

	if(c == NULL)
		return 0;
	memset(ws, 0, sizeof(ws));
	memset(owners, 0, sizeof(owners));
	nw = 0;
	for(i = 0; i + 3 <= size; i += 3) {
		uint8_t op = data[i], a = data[i + 1], b = data[i + 2];
		s = a & 3;
		d = (a >> 2) & 3;
		switch(op % 6) {
			case 0: /* a call asks */
				if(nw >= MAXW)
					break;
				ws[nw].state = 1;
				rc = tpid_cache_lookup(c, served(s), id(d), "acme.example", now,
						now + (b & 7), &ws[nw].link, &v);
				if(rc == TPID_CACHE_OWNER)
					owners[s][d] = &ws[nw].link;
				if(rc == TPID_CACHE_HIT || rc == TPID_CACHE_FULL)
					ws[nw].state = rc == TPID_CACHE_HIT ? 2 : 0;
				else if(rc != TPID_CACHE_JOINED && rc != TPID_CACHE_OWNER)
					abort();
				nw++;
				break;
			case 1: /* the answer of a pending key */
				take(tpid_cache_complete(c, served(s), id(d), owners[s][d],
						(b & 1) ? TPID_OK : TPID_R_DENIED, "Name", now,
						(int)(b >> 1) - 20));
				owners[s][d] = NULL;
				break;
			case 2: /* revocation */
				tpid_cache_evict(c, (b & 1) ? served(s) : NULL,
						(b & 2) ? id(d) : NULL,
						(b & 4) ? "acme.example" : NULL);
				break;
			case 3: /* the timer */
				late = NULL;
				tpid_cache_purge(c, now, (b & 1) ? &late : NULL);
				take(late);
				break;
			case 4: /* time goes by */
				now += b;
				break;
			default: /* a lookup without a waiter */
				tpid_cache_lookup(
						c, served(s), id(d), "acme.example", now, 0, NULL, &v);
		}
		if(tpid_cache_count(c) > MAXE)
			abort();
	}
	/* every answer still due arrives, or the deadline gives up: all back */
	for(s = 0; s < 4; s++)
		for(d = 0; d < 4; d++)
			take(tpid_cache_complete(
					c, served(s), id(d), owners[s][d], TPID_OK, NULL, now, 0));
	late = NULL;
	tpid_cache_purge(c, INT64_MAX / 2, &late);
	take(late);
	for(k = 0; k < nw; k++) {
		if(ws[k].state == 1)
			abort(); /* a waiter that never came back */
	}
	tpid_cache_destroy(c);
	return 0;
}
