/*
 * tpid_assert - libFuzzer target for the x5u cache lifetime
 * (tpid_x5u_lifetime) with oracles: the result stays within its bounds,
 * and an Expires date that parses prints back as the same IMF-fixdate.
 *
 * Input: Cache-Control, a NUL byte, Expires (each may hold anything else).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tpid_x5u.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NOW 1760000000
#define MIN_TTL 60
#define MAX_TTL 86400

static void check_bounds(const char *cc, const char *ex, int64_t not_after)
{
	int r = tpid_x5u_lifetime(cc, ex, NOW, MIN_TTL, MAX_TTL, not_after);

	if(not_after <= NOW ? r != 0
						: r < 0 || r > MAX_TTL || r > not_after - NOW
								  || (r < MIN_TTL && r != not_after - NOW))
		abort();
}

/* A date that parses must print back as the input, spaces trimmed. */
static void check_date(const char *ex)
{
	char out[64];
	struct tm tm;
	int64_t t;
	time_t tt;
	size_t n;

	if(tpid_x5u_http_date(ex, &t) != 0)
		return;
	while(*ex == ' ' || *ex == '\t')
		ex++;
	n = strlen(ex);
	while(n > 0 && (ex[n - 1] == ' ' || ex[n - 1] == '\t'))
		n--;
	tt = (time_t)t;
	if(n != 29 || gmtime_r(&tt, &tm) == NULL)
		abort();
	/* %Y does not pad years below 1000 */
	strftime(out, 13, "%a, %d %b ", &tm);
	snprintf(out + 12, 5, "%04d", tm.tm_year + 1900);
	strftime(out + 16, sizeof(out) - 16, " %H:%M:%S GMT", &tm);
	/* second 60 (a leap second) rolls over into the next minute */
	if(memcmp(out, ex, 29) != 0 && memcmp(ex + 23, "60", 2) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size + 2);
	const char *cc, *ex;

	if(buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	buf[size + 1] = '\0';
	cc = buf;
	ex = buf + strlen(buf) + 1;
	check_bounds(cc, ex, NOW + 1000000);
	check_bounds(cc, ex, NOW + 30);
	check_bounds(cc, ex, NOW);
	check_bounds(NULL, ex, NOW + 1000000);
	check_bounds(cc, NULL, NOW + 1000000);
	check_date(ex);
	free(buf);
	return 0;
}
