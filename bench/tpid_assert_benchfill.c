/*
 * tpid_assert - BENCHMARK ONLY: an RPC that fills the decision cache or the
 * replay cache with N synthetic entries, for the scale scenario (m) of
 * bench/run.py. Never part of the shipped module: it lives in bench/, and
 * run.py builds a copy of the module's sources plus this file, with
 * -DTPID_BENCH_FILL, into build/bench/mod/ (the module's Makefile compiles
 * every *.c of its directory, so this file must never be put there).
 *
 *   kamcmd tpid_assert.bench_fill decisions N   (originating side)
 *   kamcmd tpid_assert.bench_fill replay N      (terminating side)
 *
 * Entries go in through the caches' normal insert paths: a decision is a
 * lookup that makes a PENDING entry (TPID_CACHE_OWNER) completed as an
 * authorization, as an enterprise answer completes it; a replay entry is
 * tpid_replay_learn(), what a token accepted by another cluster node
 * becomes. Served users tel:+4971NNNNNNNN claiming sip:fNNNNNNNN@acme.example
 * (never used by a call of the benchmark), decisions for 3600 s; replay
 * entries with SHA-256-like random keys, remembered for 3600 s.
 *
 * The RPC is registered from a constructor when Kamailio loads the .so
 * (its RPC table exists before the cfg is parsed): no line of the module
 * itself changes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_BENCH_FILL
#error "benchmark-only file: build it with -DTPID_BENCH_FILL (bench/run.py does)"
#endif

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/dprint.h"
#include "core/rpc.h"
#include "core/rpc_lookup.h"

#include "tpid_assert_dir.h"
#include "tpid_assert_replay.h"
#include "tpid_cache.h"
#include "tpid_reason.h"

#define TPID_BENCH_TTL 3600

static uint64_t tpid_bench_mix(uint64_t *s)
{
	/* splitmix64: the replay cache takes its keys as uniform hashes */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int tpid_bench_decisions(int n)
{
	char served[64], id[64], name[64];
	tpid_waiter_t w;
	int i, done = 0, rc;
	int64_t now;

	if(tpid_ents.cache == NULL)
		return -1;
	for(i = 0; i < n; i++) {
		snprintf(served, sizeof(served), "tel:+4971%08d", i);
		snprintf(id, sizeof(id), "sip:f%08d@acme.example", i);
		snprintf(name, sizeof(name), "Fill %d (ACME Corp.)", i);
		/* The PENDING entry lives until the complete below, but the query
		 * timer (another process) resumes the waiters of PENDING entries
		 * past their deadline, and w is no real waiter: its deadline is far
		 * beyond the fill. */
		now = (int64_t)time(NULL);
		rc = tpid_cache_lookup(tpid_ents.cache, served, id, "acme.example", now,
				now + TPID_BENCH_TTL, &w, NULL);
		if(rc != TPID_CACHE_OWNER)
			continue;
		tpid_cache_complete(tpid_ents.cache, served, id, &w, TPID_OK, name, now,
				TPID_BENCH_TTL);
		done++;
	}
	return done;
}

static int tpid_bench_replay(int n)
{
	unsigned char key[TPID_REPLAY_HASH_LEN], cid[TPID_REPLAY_HASH_LEN];
	uint64_t s = 0x7470696462656e63ULL, v;
	int i, j;
	int64_t now = (int64_t)time(NULL);

	for(i = 0; i < n; i++) {
		for(j = 0; j < TPID_REPLAY_HASH_LEN; j += 8) {
			v = tpid_bench_mix(&s);
			memcpy(key + j, &v, 8);
			v = tpid_bench_mix(&s);
			memcpy(cid + j, &v, 8);
		}
		tpid_replay_learn(key, cid, now + TPID_BENCH_TTL);
	}
	return n;
}

static const char *tpid_bench_fill_doc[] = {
		"BENCHMARK ONLY: insert N synthetic entries into the decision cache "
		"(\"decisions\") or the replay cache (\"replay\").",
		0};

static void tpid_bench_fill(rpc_t *rpc, void *ctx)
{
	str what = STR_NULL;
	int n = 0, done;
	struct timespec t0, t1;

	if(rpc->scan(ctx, "Sd", &what, &n) < 2 || n < 0) {
		rpc->fault(ctx, 400, "usage: decisions|replay N");
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if(what.len == 9 && strncmp(what.s, "decisions", 9) == 0) {
		done = tpid_bench_decisions(n);
	} else if(what.len == 6 && strncmp(what.s, "replay", 6) == 0) {
		done = tpid_bench_replay(n);
	} else {
		rpc->fault(ctx, 400, "usage: decisions|replay N");
		return;
	}
	if(done < 0) {
		rpc->fault(ctx, 500, "no decision cache");
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	rpc->rpl_printf(ctx, "%d %ld", done,
			(long)((t1.tv_sec - t0.tv_sec) * 1000
					+ (t1.tv_nsec - t0.tv_nsec) / 1000000));
}

/* clang-format off */
static rpc_export_t tpid_bench_cmds[] = {
	{"tpid_assert.bench_fill", tpid_bench_fill, tpid_bench_fill_doc, 0},
	{0, 0, 0, 0}
};
/* clang-format on */

static void __attribute__((constructor)) tpid_bench_fill_register(void)
{
	if(rpc_register_array(tpid_bench_cmds) != 0)
		LM_ERR("cannot register tpid_assert.bench_fill\n");
}
