/*
 * query_loop - what one enterprise query costs the module's process,
 * measured in-process without Kamailio.
 *
 * Starts RATE queries per second for SECONDS seconds through the module's
 * own query code (tpid_hook: the request's JSON, the answer's checks) on its
 * HTTPS engine (tpid_https: libcurl multi, kept-alive TLS connections,
 * epoll), the way a hook worker runs them, against the enterprise of
 * ENTERPRISE_FILE (bench/hook_mock.py with its delay): query i asks whether
 * tel:+4970NNNNNNNN may use sip:uNNNNNNNN@acme.example, user i of USERS,
 * as the calls of bench/run.py's (c) do. Prints the CPU time of this
 * process per answered query after the first second (the connections' TLS
 * handshakes are left out, as the module keeps its connections): the HTTPS
 * exchange and the wake-ups that the miss path (c) cannot do without, less
 * the suspension and resumption of the INVITE, which only Kamailio does.
 *
 *   query_loop ENTERPRISE_FILE RATE SECONDS [USERS]   (SECONDS > 1)
 *
 * Prints "key value" lines: query_cpu_us (per query answered after the
 * first second), answered, authorized, failed (all queries), wall_s.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu_loop.h"
#include "tpid_hook.h"
#include "tpid_https.h"

/* Takes every finished query off the engine. */
static void drain(
		tpid_https_t *eng, long *answered, long *authorized, long *failed)
{
	tpid_https_result_t res;
	tpid_hook_answer_t a;
	void *user;

	while(tpid_https_next(eng, &user, &res)) {
		memset(&a, 0, sizeof(a));
		if(tpid_hook_result(&res, &a) == TPID_OK) {
			(*answered)++;
			*authorized += a.result == TPID_HOOK_AUTHORIZED;
		} else {
			(*failed)++;
			fprintf(stderr, "query failed: %s\n", a.reason);
		}
		tpid_https_result_clear(&res);
	}
}

int main(int argc, char **argv)
{
	tpid_enterprise_set_t set;
	const tpid_enterprise_t *ent;
	tpid_https_t *eng;
	char err[256], served[32], tpid[48], callid[32];
	const char *dest[1] = {"tel:+4961511234567"};
	double rate, secs, t0, c0 = -1, next, now;
	long users, total, started = 0, answered = 0, authorized = 0, failed = 0;
	long answered0 = 0;

	if(argc < 4) {
		fprintf(stderr, "usage: query_loop ENTERPRISE_FILE RATE SECONDS "
						"[USERS]\n");
		return 2;
	}
	rate = atof(argv[2]);
	secs = atof(argv[3]);
	users = argc > 4 ? atol(argv[4]) : 1000000;
	total = (long)(rate * secs);
	if(rate <= 0 || secs <= 1 || users < 1 || total < 1)
		return 2;
	if(tpid_enterprise_load(argv[1], &set, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", argv[1], err);
		return 2;
	}
	ent = tpid_enterprise_find(&set, "acme.example", 12);
	if(ent == NULL || tpid_https_global_init() != 0
			|| (eng = tpid_https_new(0)) == NULL) {
		fprintf(stderr, "no acme.example enterprise, or no engine\n");
		return 1;
	}
	/* as the module's hook workers (hook_max_connections) */
	tpid_https_set_host_limit(eng, 64);

	t0 = mono_s();
	next = t0;
	while(started < total || tpid_https_running(eng) > 0) {
		now = mono_s();
		if(c0 < 0 && now - t0 >= 1.0) { /* the warm-up second is over */
			c0 = cpu_now_s();
			answered0 = answered;
		}
		while(started < total && now >= next) {
			tpid_hook_query_t q = {.served_user = served,
					.tpid = tpid,
					.dest = dest,
					.ndest = 1,
					.call_id = callid,
					.time = (int64_t)time(NULL)};
			long u = started % users;

			snprintf(served, sizeof(served), "tel:+4970%08ld", u);
			snprintf(tpid, sizeof(tpid), "sip:u%08ld@acme.example", u);
			snprintf(callid, sizeof(callid), "query-loop-%ld", started);
			if(tpid_hook_add(eng, ent, &q, 0, NULL) != TPID_OK) {
				fprintf(stderr, "tpid_hook_add failed\n");
				return 1;
			}
			started++;
			next = t0 + (double)started / rate;
		}
		int wait_ms = started < total ? (int)((next - now) * 1000.0) + 1 : 1000;
		if(tpid_https_wait(eng, -1, wait_ms, NULL) < 0)
			return 1;
		drain(eng, &answered, &authorized, &failed);
		if(mono_s() - t0 > secs + 30) {
			fprintf(stderr, "queries still running 30 s after the last\n");
			return 1;
		}
	}
	drain(eng, &answered, &authorized, &failed);

	printf("query_cpu_us %.2f\n",
			c0 >= 0 && answered > answered0
					? (cpu_now_s() - c0) * 1e6 / (double)(answered - answered0)
					: 0.0);
	printf("answered %ld\nauthorized %ld\nfailed %ld\nwall_s %.2f\n", answered,
			authorized, failed, mono_s() - t0);
	tpid_https_free(eng);
	tpid_https_global_cleanup();
	tpid_enterprise_free(&set);
	return failed > 0;
}
