/*
 * tpid_assert - how long a certificate fetched from x5u may be cached:
 * Cache-Control and Expires (RFC 9111) within the operator's bounds,
 * never past the certificate's notAfter.
 *
 * Plain C, no Kamailio dependency.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_X5U_H
#define TPID_X5U_H

#include <stdint.h>

/* Longest Cache-Control or Expires value looked at; a longer one counts as
 * malformed. */
#define TPID_X5U_MAX_HDR 1024

/* Seconds to cache a fetched certificate at time now:
 * - Cache-Control no-store or no-cache: min_ttl;
 * - else Cache-Control max-age (s-maxage ignored);
 * - else Expires (IMF-fixdate only, RFC 9110 5.6.7) minus now; an Expires
 *   that is not an IMF-fixdate means "already expired";
 * - else max_ttl.
 * A malformed Cache-Control (not a list of token[=token|quoted-string], a
 * control or non-ASCII byte, a max-age that is not digits, max-age twice)
 * counts as stale: min_ttl. The result is clamped to [min_ttl, max_ttl]
 * (a negative min_ttl counts as 0, a max_ttl below min_ttl as min_ttl) and
 * never goes past not_after: 0 when not_after <= now. Either header may be
 * NULL (absent). Age is not subtracted: the engine fetches from the origin,
 * not through caches. */
int tpid_x5u_lifetime(const char *cache_control, const char *expires,
		int64_t now, int min_ttl, int max_ttl, int64_t not_after);

/* Parses an IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT", surrounding
 * spaces and tabs allowed, weekday checked) into Unix time. 0 or -1. */
int tpid_x5u_http_date(const char *s, int64_t *out);

#endif
