/*
 * tpid_assert - unit tests: enterprise file loading, lookup, ID domains.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tpid_enterprise.h"

static char dir[64];
static char ca[128], cert[128], key[128], tok[128], tokcr[128], tokempty[128],
		tokbig[128], conf[128];

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static int group_setup(void **state)
{
	static char big[2000];
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/tpid_ent_XXXXXX");
	if(mkdtemp(dir) == NULL)
		return -1;
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	snprintf(cert, sizeof(cert), "%s/cert.pem", dir);
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(tok, sizeof(tok), "%s/token", dir);
	snprintf(tokcr, sizeof(tokcr), "%s/token-cr", dir);
	snprintf(tokempty, sizeof(tokempty), "%s/token-empty", dir);
	snprintf(tokbig, sizeof(tokbig), "%s/token-big", dir);
	snprintf(conf, sizeof(conf), "%s/enterprises.json", dir);
	write_file(ca, "ca\n", 3);
	write_file(cert, "cert\n", 5);
	write_file(key, "key\n", 4);
	write_file(tok, "s3cr3t-Token.x\r\n \t\n", 19);
	write_file(tokcr, "abc\rdef\n", 8);
	write_file(tokempty, " \n\n", 3);
	memset(big, 'a', sizeof(big));
	write_file(tokbig, big, 1024); /* one over the 1023 limit */
	return 0;
}

static int group_teardown(void **state)
{
	const char *files[] = {ca, cert, key, tok, tokcr, tokempty, tokbig, conf};
	size_t i;
	(void)state;
	for(i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		unlink(files[i]);
	rmdir(dir);
	return 0;
}

/* Writes the config ('@' stands for the temp dir) and loads it. */
static int load(
		tpid_enterprise_set_t *set, char *err, size_t errsize, const char *json)
{
	char buf[8192];
	const char *s;
	size_t n = 0;

	for(s = json; *s && n + 64 < sizeof(buf); s++) {
		if(*s == '@')
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s", dir);
		else
			buf[n++] = *s;
	}
	buf[n] = '\0';
	write_file(conf, buf, n);
	return tpid_enterprise_load(conf, set, err, errsize);
}

static void test_load_valid(void **state)
{
	tpid_enterprise_set_t set = {0, NULL};
	char err[256];
	const tpid_enterprise_t *e;
	(void)state;

	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":["
							 "{\"domain\":\"ACME.example\","
							 "\"api_root\":\"https://127.0.0.1:8443/acme/\","
							 "\"ca_file\":\"@/ca.pem\","
							 "\"client_cert\":\"@/"
							 "cert.pem\",\"client_key\":\"@/key.pem\","
							 "\"bearer_token_file\":\"@/token\","
							 "\"connect_timeout_ms\":250,\"timeout_ms\":1500,"
							 "\"ttl_cap\":300},"
							 "{\"domain\":\"beta.example\","
							 "\"api_root\":\"https://beta.example\","
							 "\"ca_file\":\"@/ca.pem\"}]}"),
			0);
	assert_int_equal(set.n, 2);
	e = &set.items[0];
	assert_string_equal(e->domain, "acme.example");
	assert_string_equal(e->api_root, "https://127.0.0.1:8443/acme");
	assert_string_equal(e->ca_file, ca);
	assert_string_equal(e->client_cert, cert);
	assert_string_equal(e->client_key, key);
	assert_string_equal(e->bearer_token, "s3cr3t-Token.x");
	assert_int_equal(e->connect_timeout_ms, 250);
	assert_int_equal(e->timeout_ms, 1500);
	assert_int_equal(e->ttl_cap, 300);
	e = &set.items[1];
	assert_string_equal(e->domain, "beta.example");
	assert_string_equal(e->api_root, "https://beta.example");
	assert_string_equal(e->client_cert, "");
	assert_string_equal(e->bearer_token, "");
	assert_int_equal(e->connect_timeout_ms, 500);
	assert_int_equal(e->timeout_ms, 2000);
	assert_int_equal(e->ttl_cap, 0);
	tpid_enterprise_free(&set);
	assert_null(set.items);
	assert_int_equal(set.n, 0);
}

static void test_load_empty_list(void **state)
{
	tpid_enterprise_set_t set = {0, NULL};
	char err[256];
	(void)state;
	assert_int_equal(load(&set, err, sizeof(err), "{\"enterprises\":[]}"), 0);
	assert_int_equal(set.n, 0);
	tpid_enterprise_free(&set);
}

static void test_load_missing_file(void **state)
{
	tpid_enterprise_set_t set = {7, NULL};
	char err[256];
	(void)state;
	assert_int_equal(tpid_enterprise_load("/nonexistent/tpid/ent.json", &set,
							 err, sizeof(err)),
			-1);
	assert_int_equal(set.n, 7);
	assert_non_null(strstr(err, "enterprise_file /nonexistent/tpid/ent.json"));
}

static void test_load_invalid_json(void **state)
{
	tpid_enterprise_set_t set = {0, NULL};
	char err[256];
	(void)state;
	assert_int_equal(load(&set, err, sizeof(err), "{\"enterprises\":[{]}"), -1);
	assert_non_null(strstr(err, "line 1"));
	assert_int_equal(load(&set, err, sizeof(err), "[]"), -1);
	assert_non_null(strstr(err, "object"));
	assert_int_equal(load(&set, err, sizeof(err), "{}"), -1);
	assert_non_null(strstr(err, "enterprises"));
	assert_int_equal(load(&set, err, sizeof(err), "{\"enterprises\":[1]}"), -1);
	assert_non_null(strstr(err, "entry 1: not an object"));
	/* duplicate keys are refused by the parser */
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":[{\"domain\":\"a.example\","
							 "\"domain\":\"b.example\","
							 "\"api_root\":\"https://x\","
							 "\"ca_file\":\"@/ca.pem\"}]}"),
			-1);
	assert_null(set.items);
}

static void test_load_unknown_key(void **state)
{
	tpid_enterprise_set_t set = {0, NULL};
	char err[256];
	(void)state;
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":["
							 "{\"domain\":\"a.example\","
							 "\"api_root\":\"https://a.example\","
							 "\"ca_file\":\"@/ca.pem\"},"
							 "{\"domain\":\"acme.example\","
							 "\"api_root\":\"https://x\","
							 "\"ca_file\":\"@/ca.pem\","
							 "\"client_cret\":\"@/cert.pem\"}]}"),
			-1);
	assert_non_null(strstr(err, "entry 2 (acme.example): unknown key "
								"'client_cret'"));
	/* a typo in the domain key is reported as such */
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":[{\"domian\":\"a.example\","
							 "\"api_root\":\"https://x\","
							 "\"ca_file\":\"@/ca.pem\"}]}"),
			-1);
	assert_non_null(strstr(err, "entry 1: unknown key 'domian'"));
	/* and at the top level */
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":[],\"enterprise\":[]}"),
			-1);
	assert_non_null(strstr(err, "unknown key 'enterprise'"));
	assert_null(set.items);
}

static void test_load_duplicate_domain(void **state)
{
	tpid_enterprise_set_t set = {0, NULL};
	char err[256];
	(void)state;
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":["
							 "{\"domain\":\"acme.example\","
							 "\"api_root\":\"https://a\","
							 "\"ca_file\":\"@/ca.pem\"},"
							 "{\"domain\":\"Acme.Example\","
							 "\"api_root\":\"https://b\","
							 "\"ca_file\":\"@/ca.pem\"}]}"),
			-1);
	assert_non_null(strstr(err, "entry 2 (acme.example): duplicate domain"));
}

static void test_load_bad_domain(void **state)
{
	tpid_enterprise_set_t set = {0, NULL};
	char err[256];
	(void)state;
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":[{\"domain\":\"acme_example\","
							 "\"api_root\":\"https://a\","
							 "\"ca_file\":\"@/ca.pem\"}]}"),
			-1);
	assert_non_null(strstr(err, "domain 'acme_example' invalid"));
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":[{\"domain\":\"\","
							 "\"api_root\":\"https://a\","
							 "\"ca_file\":\"@/ca.pem\"}]}"),
			-1);
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":[{\"domain\":7,"
							 "\"api_root\":\"https://a\","
							 "\"ca_file\":\"@/ca.pem\"}]}"),
			-1);
	assert_non_null(strstr(err, "domain must be a string"));
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":[{"
							 "\"api_root\":\"https://a\","
							 "\"ca_file\":\"@/ca.pem\"}]}"),
			-1);
	assert_non_null(strstr(err, "entry 1: domain missing"));
}

static void test_load_non_https(void **state)
{
	tpid_enterprise_set_t set = {0, NULL};
	char err[256];
	(void)state;
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":[{\"domain\":\"acme.example\","
							 "\"api_root\":\"http://127.0.0.1:8080/acme\","
							 "\"ca_file\":\"@/ca.pem\"}]}"),
			-1);
	assert_non_null(strstr(err, "entry 1 (acme.example): api_root "
								"'http://127.0.0.1:8080/acme' must be an "
								"https:// URL"));
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":[{\"domain\":\"acme.example\","
							 "\"api_root\":\"https://\","
							 "\"ca_file\":\"@/ca.pem\"}]}"),
			-1);
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":[{\"domain\":\"acme.example\","
							 "\"api_root\":\"https://a b\","
							 "\"ca_file\":\"@/ca.pem\"}]}"),
			-1);
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":[{\"domain\":\"acme.example\","
							 "\"ca_file\":\"@/ca.pem\"}]}"),
			-1);
	assert_non_null(strstr(err, "api_root missing"));
	assert_null(set.items);
}

static void test_load_unreadable_ca(void **state)
{
	tpid_enterprise_set_t set = {0, NULL};
	char err[512], want[256];
	(void)state;
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":[{\"domain\":\"a.example\","
							 "\"api_root\":\"https://a\","
							 "\"ca_file\":\"@/ca.pem\"},"
							 "{\"domain\":\"acme.example\","
							 "\"api_root\":\"https://x\","
							 "\"ca_file\":\"/nonexistent/ca.pem\"}]}"),
			-1);
	snprintf(want, sizeof(want),
			"enterprise_file %s: entry 2 (acme.example): ca_file "
			"'/nonexistent/ca.pem' not readable",
			conf);
	assert_string_equal(err, want);
	/* a directory is not a CA file */
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":[{\"domain\":\"a.example\","
							 "\"api_root\":\"https://a\","
							 "\"ca_file\":\"@\"}]}"),
			-1);
	assert_non_null(strstr(err, "not readable"));
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":[{\"domain\":\"a.example\","
							 "\"api_root\":\"https://a\"}]}"),
			-1);
	assert_non_null(strstr(err, "ca_file missing"));
}

static void test_load_client_cert_pair(void **state)
{
	tpid_enterprise_set_t set = {0, NULL};
	char err[256];
	(void)state;
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":[{\"domain\":\"a.example\","
							 "\"api_root\":\"https://a\","
							 "\"ca_file\":\"@/ca.pem\","
							 "\"client_cert\":\"@/cert.pem\"}]}"),
			-1);
	assert_non_null(strstr(err, "client_cert and client_key go together"));
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":[{\"domain\":\"a.example\","
							 "\"api_root\":\"https://a\","
							 "\"ca_file\":\"@/ca.pem\","
							 "\"client_key\":\"@/key.pem\"}]}"),
			-1);
	assert_non_null(strstr(err, "client_cert and client_key go together"));
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":[{\"domain\":\"a.example\","
							 "\"api_root\":\"https://a\","
							 "\"ca_file\":\"@/ca.pem\","
							 "\"client_cert\":\"@/cert.pem\","
							 "\"client_key\":\"@/nokey.pem\"}]}"),
			-1);
	assert_non_null(strstr(err, "client_key '"));
}

static void test_load_bad_timeouts(void **state)
{
	tpid_enterprise_set_t set = {0, NULL};
	char err[256];
	(void)state;
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":[{\"domain\":\"a.example\","
							 "\"api_root\":\"https://a\","
							 "\"ca_file\":\"@/ca.pem\","
							 "\"connect_timeout_ms\":1000,"
							 "\"timeout_ms\":999}]}"),
			-1);
	assert_non_null(
			strstr(err, "timeout_ms 999 below connect_timeout_ms 1000"));
	/* default connect timeout (500) above an explicit total */
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":[{\"domain\":\"a.example\","
							 "\"api_root\":\"https://a\","
							 "\"ca_file\":\"@/ca.pem\","
							 "\"timeout_ms\":300}]}"),
			-1);
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":[{\"domain\":\"a.example\","
							 "\"api_root\":\"https://a\","
							 "\"ca_file\":\"@/ca.pem\","
							 "\"connect_timeout_ms\":0}]}"),
			-1);
	assert_non_null(strstr(err, "connect_timeout_ms 0 out of range"));
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":[{\"domain\":\"a.example\","
							 "\"api_root\":\"https://a\","
							 "\"ca_file\":\"@/ca.pem\","
							 "\"timeout_ms\":120001}]}"),
			-1);
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":[{\"domain\":\"a.example\","
							 "\"api_root\":\"https://a\","
							 "\"ca_file\":\"@/ca.pem\","
							 "\"timeout_ms\":1500.0}]}"),
			-1);
	assert_non_null(strstr(err, "timeout_ms must be an integer"));
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":[{\"domain\":\"a.example\","
							 "\"api_root\":\"https://a\","
							 "\"ca_file\":\"@/ca.pem\","
							 "\"timeout_ms\":\"1500\"}]}"),
			-1);
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":[{\"domain\":\"a.example\","
							 "\"api_root\":\"https://a\","
							 "\"ca_file\":\"@/ca.pem\","
							 "\"ttl_cap\":86401}]}"),
			-1);
	assert_non_null(strstr(err, "ttl_cap 86401 out of range"));
	/* the bounds themselves are fine */
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":[{\"domain\":\"a.example\","
							 "\"api_root\":\"https://a\","
							 "\"ca_file\":\"@/ca.pem\","
							 "\"connect_timeout_ms\":60000,"
							 "\"timeout_ms\":120000,\"ttl_cap\":86400}]}"),
			0);
	tpid_enterprise_free(&set);
}

static void test_load_bearer_token(void **state)
{
	tpid_enterprise_set_t set = {0, NULL};
	char err[256];
	(void)state;
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":[{\"domain\":\"a.example\","
							 "\"api_root\":\"https://a\","
							 "\"ca_file\":\"@/ca.pem\","
							 "\"bearer_token_file\":\"@/token-cr\"}]}"),
			-1);
	assert_non_null(strstr(err, "control character"));
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":[{\"domain\":\"a.example\","
							 "\"api_root\":\"https://a\","
							 "\"ca_file\":\"@/ca.pem\","
							 "\"bearer_token_file\":\"@/token-empty\"}]}"),
			-1);
	assert_non_null(strstr(err, "empty"));
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":[{\"domain\":\"a.example\","
							 "\"api_root\":\"https://a\","
							 "\"ca_file\":\"@/ca.pem\","
							 "\"bearer_token_file\":\"@/token-big\"}]}"),
			-1);
	assert_non_null(strstr(err, "too long"));
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":[{\"domain\":\"a.example\","
							 "\"api_root\":\"https://a\","
							 "\"ca_file\":\"@/ca.pem\","
							 "\"bearer_token_file\":\"@/no-token\"}]}"),
			-1);
	assert_non_null(strstr(err, "not readable"));
	/* 1023 bytes plus a newline: exactly the limit */
	{
		char big[1024];
		memset(big, 'b', sizeof(big));
		big[1023] = '\n';
		write_file(tokbig, big, sizeof(big));
	}
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":[{\"domain\":\"a.example\","
							 "\"api_root\":\"https://a\","
							 "\"ca_file\":\"@/ca.pem\","
							 "\"bearer_token_file\":\"@/token-big\"}]}"),
			0);
	assert_int_equal(strlen(set.items[0].bearer_token), 1023);
	tpid_enterprise_free(&set);
}

static void test_load_error_leaves_out(void **state)
{
	tpid_enterprise_t one;
	tpid_enterprise_set_t set = {1, &one};
	char err[256];
	(void)state;
	assert_int_equal(load(&set, err, sizeof(err),
							 "{\"enterprises\":[{\"domain\":\"a.example\"}]}"),
			-1);
	assert_int_equal(set.n, 1);
	assert_ptr_equal(set.items, &one);
	/* a tiny error buffer is still NUL-terminated */
	assert_int_equal(load(&set, err, 8, "{"), -1);
	assert_int_equal(strlen(err), 7);
}

/* allow_private_address: a JSON boolean, true when absent. */
static void test_load_allow_private(void **state)
{
	static const struct
	{
		const char *val; /* NULL: key absent */
		int rc, want;
	} cases[] = {{NULL, 0, 1}, {"true", 0, 1}, {"false", 0, 0}, {"0", -1, 0},
			{"1", -1, 0}, {"\"false\"", -1, 0}, {"null", -1, 0}, {"[]", -1, 0}};
	tpid_enterprise_set_t set = {0, NULL};
	char json[512], err[256];
	size_t i;
	(void)state;

	for(i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(json, sizeof(json),
				"{\"enterprises\":[{\"domain\":\"a.example\","
				"\"api_root\":\"https://a.example\",\"ca_file\":\"@/ca.pem\""
				"%s%s}]}",
				cases[i].val ? ",\"allow_private_address\":" : "",
				cases[i].val ? cases[i].val : "");
		assert_int_equal(load(&set, err, sizeof(err), json), cases[i].rc);
		if(cases[i].rc < 0) {
			assert_non_null(strstr(err, "allow_private_address"));
			continue;
		}
		assert_int_equal(set.items[0].allow_private_address, cases[i].want);
		tpid_enterprise_free(&set);
	}
}

static void test_find(void **state)
{
	tpid_enterprise_t items[2];
	tpid_enterprise_set_t set = {2, items};
	const char *d = "ACME.Example;rest";
	(void)state;
	memset(items, 0, sizeof(items));
	strcpy(items[0].domain, "beta.example");
	strcpy(items[1].domain, "acme.example");
	assert_ptr_equal(tpid_enterprise_find(&set, d, 12), &items[1]);
	assert_ptr_equal(tpid_enterprise_find(&set, "beta.example", 12), &items[0]);
	assert_null(tpid_enterprise_find(&set, d, 11));
	assert_null(tpid_enterprise_find(&set, "acme.example.org", 16));
	assert_null(tpid_enterprise_find(&set, "", 0));
	assert_null(tpid_enterprise_find(NULL, "acme.example", 12));
	assert_null(tpid_enterprise_find(&set, "acme.exampl\0", 12));
}

static int dom(const char *id, char *out, size_t outsize)
{
	return tpid_id_domain(id, strlen(id), out, outsize);
}

static void test_id_domain_ok(void **state)
{
	char out[TPID_MAX_DOMAIN];
	(void)state;
	assert_int_equal(
			dom("sip:e102938@ACME.example;user=x", out, sizeof(out)), 0);
	assert_string_equal(out, "acme.example");
	assert_int_equal(dom("sips:alice@acme.example", out, sizeof(out)), 0);
	assert_string_equal(out, "acme.example");
	assert_int_equal(dom("SIP:alice@acme.example:5061", out, sizeof(out)), 0);
	assert_string_equal(out, "acme.example");
	assert_int_equal(
			dom("sip:alice@acme.example:5061;transport=tls", out, sizeof(out)),
			0);
	assert_string_equal(out, "acme.example");
	assert_int_equal(dom("<sip:bob@Beta.Example>", out, sizeof(out)), 0);
	assert_string_equal(out, "beta.example");
	assert_int_equal(
			dom("sip:+4961511234567;npdi@acme.example", out, sizeof(out)), 0);
	assert_string_equal(out, "acme.example");
	assert_int_equal(dom("sip:bob@10.0.0.1", out, sizeof(out)), 0);
	assert_string_equal(out, "10.0.0.1");
	assert_int_equal(
			dom("\"Bob <x>\" <sip:bob@Acme.Example>;tag=1", out, sizeof(out)),
			0);
	assert_string_equal(out, "acme.example");
	assert_int_equal(dom("sip:bob@[2001:DB8::1]:5060", out, sizeof(out)), 0);
	assert_string_equal(out, "[2001:db8::1]");
	/* len bounds the input: what follows is not looked at */
	assert_int_equal(
			tpid_id_domain("sip:a@b.example@evil", 15, out, sizeof(out)), 0);
	assert_string_equal(out, "b.example");
}

static void test_id_domain_refused(void **state)
{
	char out[TPID_MAX_DOMAIN];
	char longid[300];
	(void)state;
	assert_int_equal(dom("tel:+4961511234567", out, sizeof(out)), -1);
	assert_int_equal(dom("sip:acme.example", out, sizeof(out)), -1);
	assert_int_equal(dom("sip:@acme.example", out, sizeof(out)), -1);
	assert_int_equal(dom("sip:alice@", out, sizeof(out)), -1);
	assert_int_equal(dom("sip:alice@;user=phone", out, sizeof(out)), -1);
	assert_int_equal(dom("sip:alice@:5060", out, sizeof(out)), -1);
	assert_int_equal(dom("https://alice@acme.example", out, sizeof(out)), -1);
	assert_int_equal(dom("sip:a@b@acme.example", out, sizeof(out)), -1);
	assert_int_equal(dom("sip:alice@acme_example", out, sizeof(out)), -1);
	assert_int_equal(dom("sip:alice@acme..example", out, sizeof(out)), -1);
	assert_int_equal(dom("sip:alice@.acme.example", out, sizeof(out)), -1);
	assert_int_equal(dom("sip:alice@acme.example:", out, sizeof(out)), -1);
	assert_int_equal(dom("sip:alice@acme.example:50x", out, sizeof(out)), -1);
	assert_int_equal(dom("sip:al ice@acme.example", out, sizeof(out)), -1);
	assert_int_equal(dom("<sip:alice@acme.example", out, sizeof(out)), -1);
	assert_int_equal(dom("sip:alice@[::1", out, sizeof(out)), -1);
	assert_int_equal(dom("sip:alice@[]", out, sizeof(out)), -1);
	assert_int_equal(dom("sip:", out, sizeof(out)), -1);
	assert_int_equal(dom("", out, sizeof(out)), -1);
	assert_int_equal(tpid_id_domain("sip:a@b\0c", 9, out, sizeof(out)), -1);
	/* over-long host for the output buffer */
	assert_int_equal(dom("sip:alice@acme.example", out, 12), -1);
	assert_int_equal(dom("sip:alice@acme.example", out, 13), 0);
	assert_string_equal(out, "acme.example");
	memcpy(longid, "sip:a@", 6);
	memset(longid + 6, 'x', 200);
	longid[206] = '\0';
	assert_int_equal(dom(longid, out, sizeof(out)), -1);
	assert_int_equal(tpid_id_domain(NULL, 0, out, sizeof(out)), -1);
}

/* The enterprise file speaks the one identity grammar: each domain and
 * api_root alone in an otherwise valid entry, accepted or refused. */
typedef struct ent_row
{
	const char *domain;
	const char *api_root;
	int ok;
} ent_row_t;

static const ent_row_t ent_rows[] = {
		{"acme.example", "https://a.example", 0},
		{"ACME.Example", "https://127.0.0.1:8443/acme/", 0},
		{"a-b.example", "https://[::1]:8443/x/y%41", 0},
		{"a-b.example", "https://[::1]:8443/x/y%2F", -1},
		{"acme.example", "HTTPS://Hook.Example/v1", 0},
		{"a..example", "https://a.example", -1},
		{".acme.example", "https://a.example", -1},
		{"acme.example.", "https://a.example", -1},
		{"-acme.example", "https://a.example", -1},
		{"acme-.example", "https://a.example", -1},
		{"10.0.0.1", "https://a.example", -1},
		{"acme.123", "https://a.example", -1},
		{"acme.ex\u00e4mple", "https://a.example", -1},
		{"acme.example", "https://u:p@a.example/x", -1},
		{"acme.example", "https://a.example/x?q=1", -1},
		{"acme.example", "https://a.example/x#f", -1},
		{"acme.example", "https://a.example/a/../b", -1},
		{"acme.example", "https://a.example/a/%2e/b", -1},
		{"acme.example", "https://a..example/x", -1},
		{"acme.example", "https://a.example:0/x", -1},
		{"acme.example", "https://a.example:99999/x", -1},
		{"acme.example", "https://a.example/\u00e4", -1},
		{"acme.example", "https://a.example/a\\b", -1},
		{"acme.example", "https://a.example/a\\u0000b", -1},
		{"acme.example", "https://a.example/a\"b", -1},
		{"acme.example", "https://a.example/\r\n", -1},
};

static void test_load_grammar_table(void **state)
{
	tpid_enterprise_set_t set = {0, NULL};
	char json[512], err[256];
	size_t i;
	int rc;

	(void)state;
	for(i = 0; i < sizeof(ent_rows) / sizeof(ent_rows[0]); i++) {
		snprintf(json, sizeof(json),
				"{\"enterprises\":[{\"domain\":\"%s\",\"api_root\":\"%s\","
				"\"ca_file\":\"@/ca.pem\"}]}",
				ent_rows[i].domain, ent_rows[i].api_root);
		rc = load(&set, err, sizeof(err), json);
		if(rc != ent_rows[i].ok)
			fail_msg("'%s' '%s': %d (%s)", ent_rows[i].domain,
					ent_rows[i].api_root, rc, err);
		if(rc == 0)
			tpid_enterprise_free(&set);
	}
}

/* ID domains: the host of a sip/sips URI with a user, by the grammar. */
static const struct
{
	const char *id;
	const char *domain; /* NULL: refused */
} id_rows[] = {
		{"sip:e1@Sales.ACME.example", "sales.acme.example"},
		{"sips:e1@acme.example;transport=tls", "acme.example"},
		{"<sip:e1@acme.example;user=phone>", NULL},
		{"sip:+1@acme.example;user=phone", "acme.example"},
		{"sip:e1@[2001:db8::1]", "[2001:db8::1]"},
		{"sip:e1@acme..example", NULL},
		{"sip:e1@acme.example.", NULL},
		{"sip:e1@-acme.example", NULL},
		{"sip:e1@acme.123", NULL},
		{"sip:e1:pw@acme.example", NULL},
		{"sip:e1@acme.example?h=v", NULL},
		{"sip:e\xc3\xa4@acme.example", NULL},
		{"sip:e1@acme.ex\x7f"
		 "ample",
				NULL},
		{"sip:e\"1@acme.example", NULL},
		{"sip:e1@acme.example;lr", "acme.example"},
		{"sip:e1@acme.example;", NULL},
		{"tel:1234;phone-context=acme.example", NULL},
};

static void test_id_domain_table(void **state)
{
	char out[TPID_MAX_DOMAIN];
	size_t i;
	int rc;

	(void)state;
	for(i = 0; i < sizeof(id_rows) / sizeof(id_rows[0]); i++) {
		rc = dom(id_rows[i].id, out, sizeof(out));
		if(rc != (id_rows[i].domain ? 0 : -1))
			fail_msg("'%s': %d", id_rows[i].id, rc);
		if(rc == 0)
			assert_string_equal(out, id_rows[i].domain);
	}
}

/* The avatar repositories' file: the same entries under "bars", one of
 * them may be the default "*"; the enterprise file may not have one. */
static void test_load_bar_file(void **state)
{
	tpid_enterprise_set_t set = {0, NULL};
	char err[256];
	(void)state;

	assert_int_equal(load(&set, err, sizeof(err), "{\"bars\":[]}"), -1);
	assert_int_equal(
			tpid_enterprise_load_dir(conf, "bars", 1, &set, err, sizeof(err)),
			0);
	assert_int_equal(set.n, 0);
	tpid_enterprise_free(&set);
	load(&set, err, sizeof(err),
			"{\"bars\":[{\"domain\":\"*\",\"api_root\":\"https://"
			"127.0.0.1:8480\",\"ca_file\":\"@/ca.pem\",\"bearer_token_file\":"
			"\"@/token\"},{\"domain\":\"ims.example\",\"api_root\":"
			"\"https://bar.ims.example/x\",\"ca_file\":\"@/ca.pem\"}]}");
	assert_int_equal(
			tpid_enterprise_load_dir(conf, "bars", 1, &set, err, sizeof(err)),
			0);
	assert_int_equal(set.n, 2);
	assert_string_equal(set.items[0].domain, "*");
	assert_string_equal(set.items[0].bearer_token, "s3cr3t-Token.x");
	tpid_enterprise_free(&set);
	/* "*" only where a default is allowed, and only once */
	assert_int_equal(
			tpid_enterprise_load_dir(conf, "bars", 0, &set, err, sizeof(err)),
			-1);
	assert_non_null(strstr(err, "bar_file"));
	assert_non_null(strstr(err, "invalid"));
	load(&set, err, sizeof(err),
			"{\"bars\":[{\"domain\":\"*\",\"api_root\":\"https://a.example\","
			"\"ca_file\":\"@/ca.pem\"},{\"domain\":\"*\",\"api_root\":"
			"\"https://b.example\",\"ca_file\":\"@/ca.pem\"}]}");
	assert_int_equal(
			tpid_enterprise_load_dir(conf, "bars", 1, &set, err, sizeof(err)),
			-1);
	assert_non_null(strstr(err, "duplicate domain"));
	/* no wildcard pattern beyond the lone "*" */
	load(&set, err, sizeof(err),
			"{\"bars\":[{\"domain\":\"*.example\",\"api_root\":"
			"\"https://a.example\",\"ca_file\":\"@/ca.pem\"}]}");
	assert_int_equal(
			tpid_enterprise_load_dir(conf, "bars", 1, &set, err, sizeof(err)),
			-1);
	/* the other directory's key is an unknown key */
	load(&set, err, sizeof(err), "{\"enterprises\":[]}");
	assert_int_equal(
			tpid_enterprise_load_dir(conf, "bars", 1, &set, err, sizeof(err)),
			-1);
	assert_non_null(strstr(err, "unknown key 'enterprises'"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_load_valid),
			cmocka_unit_test(test_load_bar_file),
			cmocka_unit_test(test_load_empty_list),
			cmocka_unit_test(test_load_missing_file),
			cmocka_unit_test(test_load_invalid_json),
			cmocka_unit_test(test_load_unknown_key),
			cmocka_unit_test(test_load_duplicate_domain),
			cmocka_unit_test(test_load_bad_domain),
			cmocka_unit_test(test_load_non_https),
			cmocka_unit_test(test_load_unreadable_ca),
			cmocka_unit_test(test_load_client_cert_pair),
			cmocka_unit_test(test_load_bad_timeouts),
			cmocka_unit_test(test_load_bearer_token),
			cmocka_unit_test(test_load_error_leaves_out),
			cmocka_unit_test(test_load_allow_private),
			cmocka_unit_test(test_find),
			cmocka_unit_test(test_id_domain_ok),
			cmocka_unit_test(test_id_domain_refused),
			cmocka_unit_test(test_load_grammar_table),
			cmocka_unit_test(test_id_domain_table),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
