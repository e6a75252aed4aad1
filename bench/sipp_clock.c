/*
 * LD_PRELOAD shim for the benchmark's caller (bench/run.py): SIPp 3.6 reads its
 * clock with CLOCK_MONOTONIC_COARSE, which advances once per kernel tick (4 ms
 * with HZ=250 here), so every response time it measures is a multiple of 4 ms.
 * This turns those reads into CLOCK_MONOTONIC (vDSO, sub-microsecond), so the
 * INVITE-to-200 times are precise; nothing else changes.
 *
 *   gcc -shared -fPIC -O2 -o sipp_clock.so bench/sipp_clock.c -ldl
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <time.h>

int clock_gettime(clockid_t id, struct timespec *ts)
{
	static int (*real)(clockid_t, struct timespec *);

	if(real == NULL)
		real = (int (*)(clockid_t, struct timespec *))dlsym(
				RTLD_NEXT, "clock_gettime");
	if(id == CLOCK_MONOTONIC_COARSE)
		id = CLOCK_MONOTONIC;
	return real(id, ts);
}
