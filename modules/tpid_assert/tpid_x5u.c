/*
 * tpid_assert - cache lifetime of a certificate fetched from x5u
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tpid_x5u.h"

#include <string.h>
#include <strings.h>

/* RFC 9111 1.2.2: a delta-seconds too big to represent counts as 2^31. */
#define TPID_X5U_DELTA_MAX 2147483648LL

typedef struct tpid_x5u_cc
{
	int nocache;	/* no-store or no-cache seen */
	int64_t maxage; /* -1: none */
	int bad;		/* malformed: the response counts as stale */
} tpid_x5u_cc_t;

static int tpid_x5u_ows(char c)
{
	return c == ' ' || c == '\t';
}

/* RFC 9110 5.6.2 tchar */
static int tpid_x5u_tchar(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z')
		   || (c >= '0' && c <= '9')
		   || (c != '\0' && strchr("!#$%&'*+-.^_`|~", c));
}

/* A quoted-string at s; returns its length with the quotes, 0 if it is not
 * one (unterminated, a control or non-ASCII byte inside). */
static size_t tpid_x5u_quoted(const char *s)
{
	size_t i = 1;
	unsigned char c;

	if(s[0] != '"')
		return 0;
	for(;;) {
		c = (unsigned char)s[i];
		if(c == '"')
			return i + 1;
		if(c == '\\' && s[i + 1] != '\0') {
			c = (unsigned char)s[++i];
			if(c != '\t' && (c < 0x20 || c >= 0x7f))
				return 0;
		} else if(c != '\t' && (c < 0x20 || c >= 0x7f)) {
			return 0; /* NUL (end) included */
		}
		i++;
	}
}

/* delta-seconds: digits only, saturating at 2^31. -1 if not digits. */
static int64_t tpid_x5u_delta(const char *s, size_t len)
{
	int64_t v = 0;
	size_t i;

	if(len == 0)
		return -1;
	for(i = 0; i < len; i++) {
		if(s[i] < '0' || s[i] > '9')
			return -1;
		if(v < TPID_X5U_DELTA_MAX)
			v = v * 10 + (s[i] - '0');
	}
	return v < TPID_X5U_DELTA_MAX ? v : TPID_X5U_DELTA_MAX;
}

/* Records one directive name[=value] (value NULL: none; quoted: it was a
 * quoted-string). */
static void tpid_x5u_directive(tpid_x5u_cc_t *cc, const char *name, size_t nlen,
		const char *value, size_t vlen, int quoted)
{
	if((nlen == 8 && strncasecmp(name, "no-store", 8) == 0)
			|| (nlen == 8 && strncasecmp(name, "no-cache", 8) == 0)) {
		cc->nocache = 1;
	} else if(nlen == 7 && strncasecmp(name, "max-age", 7) == 0) {
		if(cc->maxage >= 0 || value == NULL || quoted)
			cc->bad = 1;
		else if((cc->maxage = tpid_x5u_delta(value, vlen)) < 0)
			cc->bad = 1;
	}
}

/* One directive at *p, *p moved past it and the comma after it. 0 or -1. */
static int tpid_x5u_cc_next(tpid_x5u_cc_t *cc, const char **p)
{
	const char *s = *p, *name = s, *value = NULL;
	size_t nlen, vlen = 0;
	int quoted = 0;

	while(tpid_x5u_tchar(*s))
		s++;
	if((nlen = (size_t)(s - name)) == 0)
		return -1;
	while(tpid_x5u_ows(*s))
		s++;
	if(*s == '=') {
		for(s++; tpid_x5u_ows(*s); s++)
			;
		value = s;
		quoted = *s == '"';
		vlen = quoted ? tpid_x5u_quoted(s) : 0;
		while(!quoted && tpid_x5u_tchar(s[vlen]))
			vlen++;
		if(vlen == 0)
			return -1;
		s += vlen;
		while(tpid_x5u_ows(*s))
			s++;
	}
	if(*s != ',' && *s != '\0')
		return -1;
	tpid_x5u_directive(cc, name, nlen, value, vlen, quoted);
	*p = *s == ',' ? s + 1 : s;
	return 0;
}

/* RFC 9111 5.2: #cache-directive; empty list elements are allowed. */
static void tpid_x5u_cc_parse(const char *s, tpid_x5u_cc_t *cc)
{
	cc->nocache = 0;
	cc->maxage = -1;
	cc->bad = 0;
	if(s == NULL)
		return;
	if(strnlen(s, TPID_X5U_MAX_HDR + 1) > TPID_X5U_MAX_HDR) {
		cc->bad = 1;
		return;
	}
	while(!cc->bad) {
		while(tpid_x5u_ows(*s) || *s == ',')
			s++;
		if(*s == '\0')
			break;
		if(tpid_x5u_cc_next(cc, &s) < 0)
			cc->bad = 1;
	}
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t tpid_x5u_days(int64_t y, int m, int d)
{
	int64_t era, yoe, doy;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	return era * 146097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719468;
}

static int tpid_x5u_num(const char *s, int n)
{
	int v = 0, i;

	for(i = 0; i < n; i++) {
		if(s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int tpid_x5u_mdays(int y, int m)
{
	static const int mdays[12] = {
			31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return mdays[m - 1] + (m == 2 && leap);
}

/* 1..12 for the three letters at s ("Jan".."Dec", case counts), else 0. */
static int tpid_x5u_month(const char *s)
{
	static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
	int m;

	for(m = 0; m < 12; m++) {
		if(memcmp(s, months + 3 * m, 3) == 0)
			return m + 1;
	}
	return 0;
}

/* "Sun, 06 Nov 1994 08:49:37 GMT": exactly 29 bytes. */
static int tpid_x5u_fixdate(const char *s, int64_t *out)
{
	static const char wdays[] = "ThuFriSatSunMonTueWed"; /* 1970-01-01: Thu */
	int d, m, y, hh, mm, ss;
	int64_t days;

	if(s[3] != ',' || s[4] != ' ' || s[7] != ' ' || s[11] != ' ' || s[16] != ' '
			|| s[19] != ':' || s[22] != ':' || s[25] != ' '
			|| memcmp(s + 26, "GMT", 3) != 0)
		return -1;
	d = tpid_x5u_num(s + 5, 2);
	y = tpid_x5u_num(s + 12, 4);
	hh = tpid_x5u_num(s + 17, 2);
	mm = tpid_x5u_num(s + 20, 2);
	ss = tpid_x5u_num(s + 23, 2);
	m = tpid_x5u_month(s + 8);
	if(m < 1 || y < 0 || hh < 0 || hh > 23 || mm < 0 || mm > 59 || ss < 0
			|| ss > 60 || d < 1 || d > tpid_x5u_mdays(y, m))
		return -1;
	days = tpid_x5u_days(y, m, d);
	if(memcmp(s, wdays + 3 * (((days % 7) + 7) % 7), 3) != 0)
		return -1;
	*out = days * 86400 + hh * 3600 + mm * 60 + ss;
	return 0;
}

int tpid_x5u_http_date(const char *s, int64_t *out)
{
	size_t len;

	if(s == NULL || strnlen(s, TPID_X5U_MAX_HDR + 1) > TPID_X5U_MAX_HDR)
		return -1;
	while(tpid_x5u_ows(*s))
		s++;
	len = strlen(s);
	while(len > 0 && tpid_x5u_ows(s[len - 1]))
		len--;
	if(len != 29)
		return -1;
	return tpid_x5u_fixdate(s, out);
}

/* The lifetime the headers ask for, before the bounds. */
static int64_t tpid_x5u_asked(const char *cache_control, const char *expires,
		int64_t now, int64_t min_ttl, int64_t max_ttl)
{
	tpid_x5u_cc_t cc;
	int64_t at;

	tpid_x5u_cc_parse(cache_control, &cc);
	if(cc.bad || cc.nocache)
		return min_ttl;
	if(cc.maxage >= 0)
		return cc.maxage;
	if(expires == NULL)
		return max_ttl;
	if(tpid_x5u_http_date(expires, &at) < 0)
		return 0; /* RFC 9111 5.3: an invalid date is in the past */
	return at - now;
}

int tpid_x5u_lifetime(const char *cache_control, const char *expires,
		int64_t now, int min_ttl, int max_ttl, int64_t not_after)
{
	int64_t lo = min_ttl > 0 ? min_ttl : 0;
	int64_t hi = max_ttl > lo ? max_ttl : lo;
	int64_t ttl = tpid_x5u_asked(cache_control, expires, now, lo, hi);

	if(ttl < lo)
		ttl = lo;
	if(ttl > hi)
		ttl = hi;
	if(not_after <= now)
		return 0;
	if(ttl > not_after - now)
		ttl = not_after - now;
	return (int)ttl;
}
