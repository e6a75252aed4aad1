/*
 * The loops of bench/es256_loop.c, bench/token_loop.c and bench/query_loop.c:
 * CPU time of this process, wall-clock time, and an operation timed over CPU
 * time.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef BENCH_CPU_LOOP_H
#define BENCH_CPU_LOOP_H

#include <stdio.h>
#include <time.h>

static inline double cpu_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Wall-clock seconds, for what is timed one operation at a time or at a
 * fixed rate. */
static inline double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs op (true on success) in batches of 64 until `seconds` of CPU have
 * passed; microseconds per call in out_us. A failure returns 1 from the
 * caller. */
#define TIME_LOOP(seconds, op, out_us)                   \
	do {                                                 \
		double t0_ = cpu_now_s(), t_;                    \
		long n_ = 0;                                     \
		do {                                             \
			for(int i_ = 0; i_ < 64; i_++, n_++) {       \
				if(!(op)) {                              \
					fprintf(stderr, "%s failed\n", #op); \
					return 1;                            \
				}                                        \
			}                                            \
			t_ = cpu_now_s() - t0_;                      \
		} while(t_ < (seconds));                         \
		(out_us) = t_ * 1e6 / (double)n_;                \
	} while(0)

#endif
