/*
 * tpid_assert - unit tests of the one identity grammar (tpid_ident.c).
 * Table-driven: each row is an input, accept or refuse, and the canonical
 * output (and the PASSporT form) it must give.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "tpid_ident.h"

/* len 0: strlen(in). canon NULL: refused. tn: the ident is a tn. ident
 * NULL: same as canon. */
typedef struct uri_row
{
	const char *in;
	size_t len;
	const char *canon;
	int tn;
	const char *ident;
} uri_row_t;

#define L(s) s, sizeof(s) - 1

static const uri_row_t uri_rows[] = {
		/* sip / sips: case, ports, parameters */
		{"sip:alice@acme.example", 0, "sip:alice@acme.example", 0, NULL},
		{"SIP:Alice@ACME.Example", 0, "sip:Alice@acme.example", 0, NULL},
		{"sips:bob@acme.example:5061", 0, "sips:bob@acme.example:5061", 0,
				NULL},
		{"sip:bob@acme.example:05060", 0, "sip:bob@acme.example:5060", 0, NULL},
		{"sip:bob@acme.example;transport=tls;lr", 0, "sip:bob@acme.example", 0,
				NULL},
		{"sip:acme.example", 0, "sip:acme.example", 0, NULL},
		{"sip:e102938@acme.example;user=ip", 0, "sip:e102938@acme.example", 0,
				NULL},
		{"sip:a%41%7e%2d@acme.example", 0, "sip:aA~-@acme.example", 0, NULL},
		{"sip:a%3a%2fb@acme.example", 0, "sip:a%3A%2Fb@acme.example", 0, NULL},
		{"sip:a&=+$,;?/b@acme.example", 0, "sip:a&=+$,;?/b@acme.example", 0,
				NULL},
		{"sip:-_.!~*()@h.example", 0, "sip:-_.!~*()@h.example", 0, NULL},
		{"sip:bob@10.0.0.1", 0, "sip:bob@10.0.0.1", 0, NULL},
		{"sip:bob@[2001:DB8:0::1]:5060", 0, "sip:bob@[2001:db8::1]:5060", 0,
				NULL},
		{"sip:bob@[::ffff:10.0.0.1]", 0, "sip:bob@[::ffff:10.0.0.1]", 0, NULL},
		{"sip:bob@a-b.c-d.example", 0, "sip:bob@a-b.c-d.example", 0, NULL},
		{"sip:bob@x1.example2", 0, "sip:bob@x1.example2", 0, NULL},
		{"sip:bob@h.example;p=%41;q=[]/:&+$", 0, "sip:bob@h.example", 0, NULL},
		/* phone numbers: user=phone makes a number, nothing else does */
		{"sip:+49-6151-9876543@ims.example;user=phone", 0,
				"sip:+4961519876543@ims.example;user=phone", 1,
				"4961519876543"},
		{"sip:+4961519876543@ims.example;USER=Phone", 0,
				"sip:+4961519876543@ims.example;user=phone", 1,
				"4961519876543"},
		{"sip:+4961519876543;npdi;rn=+49@ims.example;user=phone", 0,
				"sip:+4961519876543@ims.example;user=phone", 1,
				"4961519876543"},
		{"sip:+4961519876543@ims.example", 0, "sip:+4961519876543@ims.example",
				0, NULL},
		{"sip:1234;phone-context=ACME.example@ims.example;user=phone", 0,
				"sip:1234;phone-context=acme.example@ims.example;user=phone", 0,
				NULL},
		{"sip:+49%36@ims.example;user=phone", 0, NULL, 0, NULL},
		{"sip:alice@ims.example;user=phone", 0, NULL, 0, NULL},
		{"sip:ims.example;user=phone", 0, NULL, 0, NULL},
		{"sip:+1@h.example;user=phone;user=phone", 0, NULL, 0, NULL},
		{"sip:+1@h.example;u%73er=phone", 0, "sip:+1@h.example;user=phone", 1,
				"1"},
		/* tel */
		{"tel:+49-6151-9876543", 0, "tel:+4961519876543", 1, "4961519876543"},
		{"TEL:+1(555)123.4567;ext=12", 0, "tel:+15551234567", 1, "15551234567"},
		{"tel:+4961519876543;isub=12;foo=bar;baz", 0, "tel:+4961519876543", 1,
				"4961519876543"},
		{"tel:1234;phone-context=Acme.Example", 0,
				"tel:1234;phone-context=acme.example", 0, NULL},
		{"tel:12-34;phone-context=+49-6151", 0,
				"tel:1234;phone-context=+496151", 0, NULL},
		{"tel:*31#a;phone-context=acme.example", 0,
				"tel:*31#A;phone-context=acme.example", 0, NULL},
		{"tel:1234", 0, NULL, 0, NULL},
		{"tel:+4961519876543;phone-context=acme.example", 0, NULL, 0, NULL},
		{"tel:1234;phone-context=a.example;phone-context=b.example", 0, NULL, 0,
				NULL},
		{"tel:1234;phone-context=", 0, NULL, 0, NULL},
		{"tel:1234;phone-context=acme.example.", 0, NULL, 0, NULL},
		{"tel:1234;phone-context=10.0.0.1", 0, NULL, 0, NULL},
		{"tel:+", 0, NULL, 0, NULL},
		{"tel:+--", 0, NULL, 0, NULL},
		{"tel:+12a", 0, NULL, 0, NULL},
		{"tel:+1*2", 0, NULL, 0, NULL},
		{"tel:+49;ext=", 0, NULL, 0, NULL},
		{"tel:+49;ext=1x", 0, NULL, 0, NULL},
		{"tel:+49;=x", 0, NULL, 0, NULL},
		{"tel:+49;a_b=x", 0, NULL, 0, NULL},
		{"tel:+49;", 0, NULL, 0, NULL},
		{"tel:", 0, NULL, 0, NULL},
		/* hosts */
		{"sip:bob@a..example", 0, NULL, 0, NULL},
		{"sip:bob@.example", 0, NULL, 0, NULL},
		{"sip:bob@acme.example.", 0, NULL, 0, NULL},
		{"sip:bob@-acme.example", 0, NULL, 0, NULL},
		{"sip:bob@acme-.example", 0, NULL, 0, NULL},
		{"sip:bob@acme_x.example", 0, NULL, 0, NULL},
		{"sip:bob@1.2.3", 0, NULL, 0, NULL},
		{"sip:bob@1.2.3.256", 0, NULL, 0, NULL},
		{"sip:bob@010.0.0.1", 0, NULL, 0, NULL},
		{"sip:bob@[::1", 0, NULL, 0, NULL},
		{"sip:bob@[]", 0, NULL, 0, NULL},
		{"sip:bob@[fe80::1%25eth0]", 0, NULL, 0, NULL},
		{"sip:bob@[10.0.0.1]", 0, NULL, 0, NULL},
		{"sip:bob@::1", 0, NULL, 0, NULL},
		{"sip:bob@", 0, NULL, 0, NULL},
		{"sip:@acme.example", 0, NULL, 0, NULL},
		{"sip:", 0, NULL, 0, NULL},
		{"sip:bob@acme.example:", 0, NULL, 0, NULL},
		{"sip:bob@acme.example:0", 0, NULL, 0, NULL},
		{"sip:bob@acme.example:65536", 0, NULL, 0, NULL},
		{"sip:bob@acme.example:123456", 0, NULL, 0, NULL},
		{"sip:bob@acme.example:50x", 0, NULL, 0, NULL},
		{"sip:bob@acme.example:5060:5060", 0, NULL, 0, NULL},
		/* userinfo, params, headers */
		{"sip:bob:secret@acme.example", 0, NULL, 0, NULL},
		{"sip:a@b@acme.example", 0, NULL, 0, NULL},
		{"sip:a%4@acme.example", 0, NULL, 0, NULL},
		{"sip:a%zz@acme.example", 0, NULL, 0, NULL},
		{"sip:a%@acme.example", 0, NULL, 0, NULL},
		{"sip:bob@acme.example?subject=x", 0, NULL, 0, NULL},
		{"sip:bob@acme.example;", 0, NULL, 0, NULL},
		{"sip:bob@acme.example;;lr", 0, NULL, 0, NULL},
		{"sip:bob@acme.example;a=", 0, NULL, 0, NULL},
		{"sip:bob@acme.example;=a", 0, NULL, 0, NULL},
		{"sip:bob@acme.example;a=b=c", 0, NULL, 0, NULL},
		{"sip:bob@acme.example;a=%2", 0, NULL, 0, NULL},
		/* hostile text */
		{"sip:bo b@acme.example", 0, NULL, 0, NULL},
		{"sip:bob@acme.example ", 0, NULL, 0, NULL},
		{" sip:bob@acme.example", 0, NULL, 0, NULL},
		{"sip:bob\t@acme.example", 0, NULL, 0, NULL},
		{"sip:bob\r\n@acme.example", 0, NULL, 0, NULL},
		{"sip:bob\x7f@acme.example", 0, NULL, 0, NULL},
		{"sip:b\xc3\xb6@acme.example", 0, NULL, 0, NULL},
		{"sip:bob@acme.ex\xe2\x80\x8b"
		 "ample",
				0, NULL, 0, NULL},
		{"sip:\"bob\"@acme.example", 0, NULL, 0, NULL},
		{"sip:o'hara@acme.example", 0, NULL, 0, NULL},
		{"sip:bob@acme.example>", 0, NULL, 0, NULL},
		{"sip:<bob>@acme.example", 0, NULL, 0, NULL},
		{"sip:bob\\@acme.example", 0, NULL, 0, NULL},
		{L("sip:bob@acme.example\0.evil"), NULL, 0, NULL},
		{L("\0sip:bob@acme.example"), NULL, 0, NULL},
		{"sip:bob@acme.example;x=\"y\"", 0, NULL, 0, NULL},
		{"<sip:bob@acme.example>", 0, NULL, 0, NULL},
		{"https://bob@acme.example", 0, NULL, 0, NULL},
		{"sipx:bob@acme.example", 0, NULL, 0, NULL},
		{"sip bob@acme.example", 0, NULL, 0, NULL},
		{"tel+4961519876543", 0, NULL, 0, NULL},
		{"", 0, NULL, 0, NULL},
};

static void check_uri_row(const uri_row_t *r)
{
	size_t len = r->len ? r->len : strlen(r->in);
	tpid_uri_t u;
	tpid_ident_t id;
	char canon[TPID_MAX_URI];
	int rc = tpid_uri_parse(r->in, len, &u);

	if(r->canon == NULL) {
		if(rc != -1)
			fail_msg("accepted: '%s'", r->in);
		assert_int_equal(u.scheme, 0);
		return;
	}
	if(rc != 0)
		fail_msg("refused: '%s'", r->in);
	assert_int_equal(tpid_uri_canon(&u, canon, sizeof(canon)), 0);
	if(strcmp(canon, r->canon) != 0)
		fail_msg("'%s': canon '%s', want '%s'", r->in, canon, r->canon);
	assert_int_equal(tpid_uri_ident(&u, &id), 0);
	assert_int_equal(id.is_tn, r->tn);
	assert_string_equal(id.value, r->ident ? r->ident : r->canon);
	/* the canonical text is a fixed point */
	assert_int_equal(tpid_uri_parse(canon, strlen(canon), &u), 0);
	assert_int_equal(tpid_uri_canon(&u, canon, sizeof(canon)), 0);
	assert_string_equal(canon, r->canon);
}

static void test_uri_table(void **state)
{
	size_t i;

	(void)state;
	for(i = 0; i < sizeof(uri_rows) / sizeof(uri_rows[0]); i++)
		check_uri_row(&uri_rows[i]);
}

/* Bounds: refused at TPID_MAX_URI bytes, never truncated; small outputs. */
static void test_uri_bounds(void **state)
{
	char buf[TPID_MAX_URI + 8], out[TPID_MAX_URI];
	tpid_uri_t u;
	tpid_ident_t id;
	size_t n;

	(void)state;
	memcpy(buf, "sip:", 4);
	memset(buf + 4, 'a', sizeof(buf) - 4);
	memcpy(buf + TPID_MAX_URI - 1 - 10, "@h.example", 10);
	n = TPID_MAX_URI - 1;
	assert_int_equal(tpid_uri_parse(buf, n, &u), 0);
	assert_int_equal(tpid_uri_canon(&u, out, sizeof(out)), 0);
	assert_int_equal(strlen(out), n);
	assert_int_equal(tpid_uri_canon(&u, out, n), -1);
	assert_int_equal(tpid_uri_ident(&u, &id), 0);
	memcpy(buf + TPID_MAX_URI - 10, "@h.example", 10);
	assert_int_equal(tpid_uri_parse(buf, TPID_MAX_URI, &u), -1);
	/* a 64-byte label, a 254-byte name */
	assert_int_equal(tpid_dns_name_ok(buf + 4, 63), 1);
	assert_int_equal(tpid_dns_name_ok(buf + 4, 64), 0);
	/* a number longer than kept */
	memcpy(buf, "tel:+", 5);
	memset(buf + 5, '1', TPID_MAX_NUMBER);
	assert_int_equal(tpid_uri_parse(buf, 5 + TPID_MAX_NUMBER - 1, &u), 0);
	assert_int_equal(tpid_uri_parse(buf, 5 + TPID_MAX_NUMBER, &u), -1);
	assert_int_equal(tpid_uri_parse(NULL, 3, &u), -1);
	assert_int_equal(tpid_uri_parse("tel:+1", 6, NULL), -1);
	assert_int_equal(tpid_uri_canon(NULL, out, sizeof(out)), -1);
	memset(&u, 0, sizeof(u));
	assert_int_equal(tpid_uri_canon(&u, out, sizeof(out)), -1);
	assert_int_equal(tpid_uri_ident(NULL, &id), -1);
}

/* Two spellings of one identity, one canonical text. */
static void test_uri_same_identity(void **state)
{
	static const char *pairs[][2] = {
			{"sip:Bob@ACME.example", "SIP:Bob@acme.EXAMPLE;transport=tcp"},
			{"sip:b%6fb@acme.example", "sip:bob@acme.example"},
			{"sip:a%2fb@acme.example", "sip:a%2Fb@acme.example"},
			{"tel:+49-6151-98", "tel:+49615198;foo"},
			{"tel:+4961519876543", "sip:+4961519876543@x.example;user=phone"},
			{"sip:bob@[2001:db8::1]", "sip:bob@[2001:0DB8:0:0::1]"},
	};
	tpid_uri_t a, b;
	tpid_ident_t ia, ib;
	size_t i;

	(void)state;
	for(i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
		assert_int_equal(
				tpid_uri_parse(pairs[i][0], strlen(pairs[i][0]), &a), 0);
		assert_int_equal(
				tpid_uri_parse(pairs[i][1], strlen(pairs[i][1]), &b), 0);
		assert_int_equal(tpid_uri_ident(&a, &ia), 0);
		assert_int_equal(tpid_uri_ident(&b, &ib), 0);
		assert_int_equal(ia.is_tn, ib.is_tn);
		assert_string_equal(ia.value, ib.value);
	}
	/* the user part keeps its case */
	assert_int_equal(tpid_uri_parse(L("sip:bob@acme.example"), &a), 0);
	assert_int_equal(tpid_uri_parse(L("sip:BOB@acme.example"), &b), 0);
	assert_int_equal(tpid_uri_ident(&a, &ia), 0);
	assert_int_equal(tpid_uri_ident(&b, &ib), 0);
	assert_string_not_equal(ia.value, ib.value);
}

typedef struct text_row
{
	const char *in;
	size_t len;
	const char *uri; /* name_addr's output, NULL: refused */
	int from_text_ok;
} text_row_t;

static const text_row_t text_rows[] = {
		{"<sip:bob@acme.example>", 0, "sip:bob@acme.example", 1},
		{"\"Bob\" <sip:bob@acme.example>;tag=1", 0, "sip:bob@acme.example", 1},
		{"  \"B \\\"o<b>\\\\\" <sip:bob@acme.example> ", 0,
				"sip:bob@acme.example", 1},
		{"\"<sip:evil@evil.example>\" <sip:bob@acme.example>", 0,
				"sip:bob@acme.example", 1},
		{"\"J\xc3\xb6rg\" <sip:j@acme.example>", 0, "sip:j@acme.example", 1},
		{"Bob Smith <sip:bob@acme.example>", 0, "sip:bob@acme.example", 1},
		{"Bob<sip:bob@acme.example;user=ip>", 0, "sip:bob@acme.example;user=ip",
				1},
		{"<tel:+4961519876543>;x=\"a>b\"", 0, "tel:+4961519876543", 1},
		{"sip:bob@acme.example;tag=1", 0, "sip:bob@acme.example", 1},
		{"tel:+4961519876543", 0, "tel:+4961519876543", 1},
		{"\"Bob\" sip:bob@acme.example", 0, NULL, 0},
		{"\"Bob <sip:bob@acme.example>", 0, NULL, 0},
		{"\"Bob\\", 0, NULL, 0},
		{"<sip:bob@acme.example", 0, NULL, 0},
		{"<sip:bob@acme.example>>", 0, NULL, 0},
		{"<sip:bob@acme.example>, <sip:eve@acme.example>", 0, NULL, 0},
		{"<sip:bob@acme.example> x", 0, NULL, 0},
		{"<sip:bob@acme.example>;a=<b>", 0, NULL, 0},
		{"<sip:bob@acme.example>;a=\"unterminated", 0, NULL, 0},
		{"<sip:bob@acme.example>;a=\x01", 0, NULL, 0},
		{"<sip:bob@acme.example>;a=\xc3\xb6", 0, NULL, 0},
		{"B\xc3\xb6"
		 "b <sip:bob@acme.example>",
				0, NULL, 0},
		{"B@b <sip:bob@acme.example>", 0, NULL, 0},
		{"\"B\\\r\" <sip:bob@acme.example>", 0, NULL, 0},
		{"\"B\nb\" <sip:bob@acme.example>", 0, NULL, 0},
		{"< sip:bob@acme.example>", 0, NULL, 0},
		{"<>", 0, NULL, 0},
		{"<sip:bob@a..example>", 0, NULL, 0},
		{L("<sip:bob@acme.example>\0"), NULL, 0},
		{L("\"a\0\" <sip:bob@acme.example>"), NULL, 0},
		{"", 0, NULL, 0},
		{"   ", 0, NULL, 0},
};

static void test_name_addr_table(void **state)
{
	char out[TPID_MAX_URI];
	tpid_uri_t u;
	size_t i, len;
	const text_row_t *r;
	int rc;

	(void)state;
	for(i = 0; i < sizeof(text_rows) / sizeof(text_rows[0]); i++) {
		r = &text_rows[i];
		len = r->len ? r->len : strlen(r->in);
		rc = tpid_uri_name_addr(r->in, len, out, sizeof(out));
		if(rc != (r->uri ? 0 : -1))
			fail_msg("name_addr '%s': %d", r->in, rc);
		if(r->uri)
			assert_string_equal(out, r->uri);
		rc = tpid_uri_from_text(r->in, len, &u);
		if(rc != (r->from_text_ok ? 0 : -1))
			fail_msg("from_text '%s': %d", r->in, rc);
	}
	/* a bare URI keeps its parameters, an addr-spec does not */
	assert_int_equal(
			tpid_uri_from_text(L("sip:+1@h.example;user=phone"), &u), 0);
	assert_true(u.is_phone);
	assert_int_equal(tpid_uri_name_addr(L("sip:+1@h.example;user=phone"), out,
							 sizeof(out)),
			0);
	assert_string_equal(out, "sip:+1@h.example");
	assert_int_equal(
			tpid_uri_name_addr(L("<sip:bob@acme.example>"), out, 20), -1);
	assert_int_equal(
			tpid_uri_name_addr(L("<sip:bob@acme.example>"), out, 21), 0);
	assert_int_equal(tpid_uri_name_addr(NULL, 3, out, sizeof(out)), -1);
	assert_int_equal(tpid_uri_from_text(NULL, 3, &u), -1);
}

typedef struct dns_row
{
	const char *in;
	int ok;
} dns_row_t;

static const dns_row_t dns_rows[] = {
		{"acme.example", 1},
		{"ACME.Example", 1},
		{"a", 1},
		{"a-b.c", 1},
		{"x1.c2", 1},
		{"1.2.3.4", 0},
		{"a.123", 0},
		{"", 0},
		{".", 0},
		{"a.", 0},
		{".a", 0},
		{"a..b", 0},
		{"-a.b", 0},
		{"a-.b", 0},
		{"a_b.c", 0},
		{"a b.c", 0},
		{"a.b;x", 0},
		{"a.b:5060", 0},
		{"\xc3\xa4.example", 0},
		{"a\"b.c", 0},
};

static void test_dns_table(void **state)
{
	char big[300];
	size_t i;

	(void)state;
	for(i = 0; i < sizeof(dns_rows) / sizeof(dns_rows[0]); i++) {
		if(tpid_dns_name_ok(dns_rows[i].in, strlen(dns_rows[i].in))
				!= dns_rows[i].ok)
			fail_msg("dns '%s'", dns_rows[i].in);
	}
	/* 253 bytes pass, 254 do not */
	for(i = 0; i < sizeof(big); i++)
		big[i] = (i % 50 == 49) ? '.' : 'a';
	assert_int_equal(tpid_dns_name_ok(big, 253), 1);
	big[253] = 'a';
	assert_int_equal(tpid_dns_name_ok(big, 254), 0);
	assert_int_equal(tpid_dns_name_ok("a\0b", 3), 0);
	assert_int_equal(tpid_dns_name_ok(NULL, 3), 0);

	assert_int_equal(tpid_dns_under("acme.example", "acme.example"), 1);
	assert_int_equal(tpid_dns_under("Sub.ACME.example", "acme.EXAMPLE"), 1);
	assert_int_equal(tpid_dns_under("evilacme.example", "acme.example"), 0);
	assert_int_equal(tpid_dns_under("acme.example", "sub.acme.example"), 0);
	assert_int_equal(tpid_dns_under("acme.example.evil", "acme.example"), 0);
	assert_int_equal(tpid_dns_under(".acme.example", "acme.example"), 1);
	assert_int_equal(tpid_dns_under("x.example", ""), 0);
	assert_int_equal(tpid_dns_under("x.example", ".example"), 0);
	assert_int_equal(tpid_dns_under(NULL, "a"), 0);
}

typedef struct url_row
{
	const char *in;
	const char *host; /* NULL: refused */
	int port;
	const char *path;
} url_row_t;

static const url_row_t url_rows[] = {
		{"https://cert.example.net/tpid.pem", "cert.example.net", 0,
				"/tpid.pem"},
		{"HTTPS://Cert.Example.NET:8443/a/b%41.pem", "cert.example.net", 8443,
				"/a/b%41.pem"},
		/* escapes a server may decode into a way out of a prefix */
		{"https://h.example/a/b%2F.pem", NULL, 0, NULL},
		{"https://h.example/a%2f..%2fb.pem", NULL, 0, NULL},
		{"https://h.example/a/%5c../b.pem", NULL, 0, NULL},
		{"https://h.example/a/b%00.pem", NULL, 0, NULL},
		{"https://h.example/a/%2e%2E/b.pem", NULL, 0, NULL},
		{"https://127.0.0.1:8443/acme", "127.0.0.1", 8443, "/acme"},
		{"https://[::1]/x", "[::1]", 0, "/x"},
		{"https://h.example", "h.example", 0, ""},
		{"https://h.example/", "h.example", 0, "/"},
		{"https://h.example/a/.b/c..d/~x;y=1:z", "h.example", 0,
				"/a/.b/c..d/~x;y=1:z"},
		{"http://h.example/x", NULL, 0, NULL},
		{"https://", NULL, 0, NULL},
		{"https:///x", NULL, 0, NULL},
		{"https://u:p@h.example/x", NULL, 0, NULL},
		{"https://h.example/x?y=1", NULL, 0, NULL},
		{"https://h.example/x#f", NULL, 0, NULL},
		{"https://h.example/a/../x", NULL, 0, NULL},
		{"https://h.example/a/./x", NULL, 0, NULL},
		{"https://h.example/a/%2e%2E/x", NULL, 0, NULL},
		{"https://h.example/..", NULL, 0, NULL},
		{"https://h.example/a b", NULL, 0, NULL},
		{"https://h.example/a%zz", NULL, 0, NULL},
		{"https://h.example/\xc3\xa4", NULL, 0, NULL},
		{"https://h.example/a\"b", NULL, 0, NULL},
		{"https://h.example/a<b>", NULL, 0, NULL},
		{"https://h.example/a\\b", NULL, 0, NULL},
		{"https://h.example:0/x", NULL, 0, NULL},
		{"https://h.example:/x", NULL, 0, NULL},
		{"https://h..example/x", NULL, 0, NULL},
		{"https://h_x.example/x", NULL, 0, NULL},
		{"https://h.example/x\r\n", NULL, 0, NULL},
};

static void test_url_table(void **state)
{
	char big[TPID_URL_MAX + 4];
	tpid_url_t u;
	size_t i;
	const url_row_t *r;
	int rc;

	(void)state;
	for(i = 0; i < sizeof(url_rows) / sizeof(url_rows[0]); i++) {
		r = &url_rows[i];
		rc = tpid_url_parse(r->in, strlen(r->in), &u);
		if(rc != (r->host ? 0 : -1))
			fail_msg("url '%s': %d", r->in, rc);
		if(r->host == NULL)
			continue;
		assert_string_equal(u.host, r->host);
		assert_int_equal(u.port, r->port);
		assert_string_equal(u.path, r->path);
	}
	assert_int_equal(tpid_url_parse(L("https://h.example/x\0/../y"), &u), -1);
	memcpy(big, "https://h.example/", 18);
	memset(big + 18, 'a', sizeof(big) - 18);
	assert_int_equal(tpid_url_parse(big, TPID_URL_MAX - 1, &u), 0);
	assert_int_equal(tpid_url_parse(big, TPID_URL_MAX, &u), -1);
	assert_int_equal(tpid_url_parse(NULL, 9, &u), -1);
}

typedef struct claim_row
{
	const char *id;
	const char *iss;
	int want;
} claim_row_t;

static const claim_row_t claim_rows[] = {
		{"sip:e102938@acme.example", "acme.example", TPID_OK},
		{"sip:e102938@Sales.ACME.example", "acme.example", TPID_OK},
		{"sips:e1@acme.example:5061;transport=tls", "ACME.example", TPID_OK},
		{"tel:+4961519876543", "acme.example", TPID_OK},
		{"tel:1234;phone-context=acme.example", "acme.example", TPID_OK},
		{"sip:e1@evilacme.example", "acme.example", TPID_R_ISS_MISMATCH},
		{"sip:e1@acme.example.evil", "acme.example", TPID_R_ISS_MISMATCH},
		{"sip:e1@10.0.0.1", "acme.example", TPID_R_ISS_MISMATCH},
		{"sip:e1@example", "acme.example", TPID_R_ISS_MISMATCH},
		{"sip:e1@acme.example", "acme.example;x", TPID_R_BAD_TPID_ISS},
		{"sip:e1@acme.example", "acme.example.", TPID_R_BAD_TPID_ISS},
		{"sip:e1@acme.example", "\"acme.example\"", TPID_R_BAD_TPID_ISS},
		{"sip:e1@acme.example", "acme example", TPID_R_BAD_TPID_ISS},
		{"sip:e1@acme.example", "", TPID_R_BAD_TPID_ISS},
		{"sip:e1@acme.example", "10.0.0.1", TPID_R_BAD_TPID_ISS},
		{"sip:e1@acme.example", NULL, TPID_R_BAD_TPID_ISS},
		{"sip:e1@a..example", "example", TPID_R_BAD_TPID_ID},
		{"<sip:e1@acme.example>", "acme.example", TPID_R_BAD_TPID_ID},
		{"mailto:e1@acme.example", "acme.example", TPID_R_BAD_TPID_ID},
		{"sip:e1@acme.example\r\nX: y", "acme.example", TPID_R_BAD_TPID_ID},
		{"", "acme.example", TPID_R_BAD_TPID_ID},
		{NULL, "acme.example", TPID_R_BAD_TPID_ID},
};

static void test_claim_rules(void **state)
{
	size_t i;
	int rc;

	(void)state;
	for(i = 0; i < sizeof(claim_rows) / sizeof(claim_rows[0]); i++) {
		rc = tpid_claim_rules(claim_rows[i].id, claim_rows[i].iss);
		if(rc != claim_rows[i].want)
			fail_msg("claim '%s' / '%s': %d, want %d",
					claim_rows[i].id ? claim_rows[i].id : "(null)",
					claim_rows[i].iss ? claim_rows[i].iss : "(null)", rc,
					claim_rows[i].want);
	}
	assert_int_equal(tpid_reason_sip_code(TPID_R_ISS_MISMATCH), 438);
	assert_string_equal(tpid_reason_name(TPID_R_BAD_TPID_ID), "BAD_TPID_ID");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_uri_table),
			cmocka_unit_test(test_uri_bounds),
			cmocka_unit_test(test_uri_same_identity),
			cmocka_unit_test(test_name_addr_table),
			cmocka_unit_test(test_dns_table),
			cmocka_unit_test(test_url_table),
			cmocka_unit_test(test_claim_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
