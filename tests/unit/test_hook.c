/*
 * tpid_assert - unit tests: enterprise hook request/answer and the client's
 * failure mapping (live HTTPS answers are covered by the integration tests).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "test_net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <jansson.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "tpid_hook.h"
#include "tpid_reason.h"

static char dir[64];
static char ca[128];

/* A real (self-signed) CA file: curl refuses a CAINFO without certificates
 * before it sends anything, which would hide the failure under test. */
static int make_ca(const char *path)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	X509_NAME *n;
	FILE *f;
	int ok = 0;

	if(k == NULL || x == NULL)
		goto done;
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	n = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
			(const unsigned char *)"tpid unit test CA", -1, -1, 0);
	X509_set_issuer_name(x, n);
	X509_set_pubkey(x, k);
	if(X509_sign(x, k, EVP_sha256()) <= 0)
		goto done;
	f = fopen(path, "w");
	if(f == NULL)
		goto done;
	ok = PEM_write_X509(f, x);
	fclose(f);
done:
	X509_free(x);
	EVP_PKEY_free(k);
	return ok ? 0 : -1;
}

static int group_setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/tpid_hook_XXXXXX");
	if(mkdtemp(dir) == NULL)
		return -1;
	snprintf(ca, sizeof(ca), "%s/ca.pem", dir);
	if(make_ca(ca) < 0)
		return -1;
	return tpid_https_global_init();
}

static int group_teardown(void **state)
{
	(void)state;
	tpid_https_global_cleanup();
	unlink(ca);
	rmdir(dir);
	return 0;
}

/* ---- request ----------------------------------------------------------- */

static void test_request_json(void **state)
{
	const char *dest[] = {"tel:+4961511234567", "sip:bob@beta.example"};
	tpid_hook_query_t q = {"tel:+4961519876543", "sip:e102938@acme.example",
			dest, 2, "a84b4c76e66710@pc33", 1760000000};
	json_t *root, *req, *d;
	char *s;
	(void)state;

	s = tpid_hook_request_json(&q);
	assert_non_null(s);
	assert_null(strchr(s, '\n'));
	assert_null(strstr(s, ": ")); /* compact */
	root = json_loads(s, JSON_REJECT_DUPLICATES, NULL);
	assert_non_null(root);
	assert_int_equal(json_object_size(root), 1);
	req = json_object_get(root, "tpidVerificationRequest");
	assert_true(json_is_object(req));
	assert_int_equal(json_object_size(req), 5);
	assert_string_equal(json_string_value(json_object_get(req, "servedUser")),
			"tel:+4961519876543");
	assert_string_equal(json_string_value(json_object_get(req, "tpid")),
			"sip:e102938@acme.example");
	assert_string_equal(json_string_value(json_object_get(req, "callId")),
			"a84b4c76e66710@pc33");
	assert_true(json_is_integer(json_object_get(req, "time")));
	assert_int_equal(
			json_integer_value(json_object_get(req, "time")), 1760000000);
	d = json_object_get(req, "dest");
	assert_true(json_is_array(d));
	assert_int_equal(json_array_size(d), 2);
	assert_string_equal(
			json_string_value(json_array_get(d, 0)), "tel:+4961511234567");
	assert_string_equal(
			json_string_value(json_array_get(d, 1)), "sip:bob@beta.example");
	json_decref(root);
	free(s);
}

static void test_request_json_no_callid(void **state)
{
	const char *dest[] = {"tel:+4961511234567"};
	tpid_hook_query_t q = {"tel:+1", "sip:a@b.example", dest, 1, NULL, 5};
	char *s;
	(void)state;

	s = tpid_hook_request_json(&q);
	assert_non_null(s);
	assert_string_equal(s, "{\"tpidVerificationRequest\":{\"servedUser\":"
						   "\"tel:+1\",\"tpid\":\"sip:a@b.example\",\"dest\":"
						   "[\"tel:+4961511234567\"],\"time\":5}}");
	free(s);
}

static void test_request_json_refused(void **state)
{
	const char *dest[] = {"tel:+1", NULL};
	tpid_hook_query_t q = {"tel:+1", "sip:a@b.example", dest, 2, NULL, 5};
	(void)state;

	assert_null(tpid_hook_request_json(&q)); /* NULL dest entry */
	q.ndest = 1;
	q.served_user = NULL;
	assert_null(tpid_hook_request_json(&q));
	q.served_user = "tel:+1";
	q.tpid = "sip:\xff@b.example"; /* not UTF-8 */
	assert_null(tpid_hook_request_json(&q));
	q.tpid = "sip:a@b.example";
	q.ndest = -1;
	assert_null(tpid_hook_request_json(&q));
	assert_null(tpid_hook_request_json(NULL));
}

/* ---- answer ------------------------------------------------------------ */

static int parse(const char *body, tpid_hook_answer_t *a)
{
	memset(a, 0, sizeof(*a));
	return tpid_hook_parse_answer(body, strlen(body), a);
}

static void test_answer_authorized(void **state)
{
	tpid_hook_answer_t a;
	(void)state;
	assert_int_equal(
			parse("{\"tpidVerificationResponse\":{\"result\":\"authorized\","
				  "\"displayName\":\"Alice Example (ACME Corp.)\","
				  "\"ttl\":300,\"reason\":\"on the allowlist\"}}",
					&a),
			TPID_OK);
	assert_int_equal(a.result, TPID_HOOK_AUTHORIZED);
	assert_string_equal(a.display_name, "Alice Example (ACME Corp.)");
	assert_int_equal(a.ttl, 300);
	assert_string_equal(a.reason, "on the allowlist");
}

static void test_answer_denied_unknown(void **state)
{
	tpid_hook_answer_t a;
	(void)state;
	assert_int_equal(
			parse("{\"tpidVerificationResponse\":{\"result\":\"denied\"}}", &a),
			TPID_OK);
	assert_int_equal(a.result, TPID_HOOK_DENIED);
	assert_string_equal(a.display_name, "");
	assert_int_equal(a.ttl, -1); /* absent: the operator's default applies */
	assert_string_equal(a.reason, "");
	assert_int_equal(parse(" {\"tpidVerificationResponse\":{\"result\":"
						   "\"unknown\",\"ttl\":0,\"future\":[1]}}\n",
							 &a),
			TPID_OK);
	assert_int_equal(a.result, TPID_HOOK_UNKNOWN);
	assert_int_equal(a.ttl, 0); /* present and 0: do not cache */
}

static void test_answer_bad_result(void **state)
{
	tpid_hook_answer_t a;
	(void)state;
	assert_int_equal(
			parse("{\"tpidVerificationResponse\":{\"displayName\":\"A\"}}", &a),
			TPID_R_HOOK_BAD_ANSWER);
	assert_int_equal(
			parse("{\"tpidVerificationResponse\":{\"result\":\"Authorized\"}}",
					&a),
			TPID_R_HOOK_BAD_ANSWER);
	assert_int_equal(
			parse("{\"tpidVerificationResponse\":{\"result\":\"authorized \"}}",
					&a),
			TPID_R_HOOK_BAD_ANSWER);
	assert_int_equal(parse("{\"tpidVerificationResponse\":{\"result\":1}}", &a),
			TPID_R_HOOK_BAD_ANSWER);
	assert_int_equal(parse("{\"tpidVerificationResponse\":{\"result\":"
						   "\"authorized\\u0000x\"}}",
							 &a),
			TPID_R_HOOK_BAD_ANSWER);
	assert_int_equal(a.result, 0); /* untouched on failure */
}

static void test_answer_bad_ttl(void **state)
{
	tpid_hook_answer_t a;
	(void)state;
	assert_int_equal(parse("{\"tpidVerificationResponse\":{\"result\":"
						   "\"authorized\",\"ttl\":\"300\"}}",
							 &a),
			TPID_R_HOOK_BAD_ANSWER);
	assert_int_equal(parse("{\"tpidVerificationResponse\":{\"result\":"
						   "\"authorized\",\"ttl\":-1}}",
							 &a),
			TPID_R_HOOK_BAD_ANSWER);
	assert_int_equal(parse("{\"tpidVerificationResponse\":{\"result\":"
						   "\"authorized\",\"ttl\":300.0}}",
							 &a),
			TPID_R_HOOK_BAD_ANSWER);
	assert_int_equal(parse("{\"tpidVerificationResponse\":{\"result\":"
						   "\"authorized\",\"ttl\":86401}}",
							 &a),
			TPID_R_HOOK_BAD_ANSWER);
	assert_int_equal(parse("{\"tpidVerificationResponse\":{\"result\":"
						   "\"authorized\",\"ttl\":null}}",
							 &a),
			TPID_R_HOOK_BAD_ANSWER);
	assert_int_equal(parse("{\"tpidVerificationResponse\":{\"result\":"
						   "\"authorized\",\"ttl\":86400}}",
							 &a),
			TPID_OK);
	assert_int_equal(a.ttl, 86400);
}

static void test_answer_bad_display_name(void **state)
{
	tpid_hook_answer_t a;
	char body[1024];
	char name[TPID_MAX_NAME + 1];
	(void)state;
	assert_int_equal(parse("{\"tpidVerificationResponse\":{\"result\":"
						   "\"authorized\",\"displayName\":42}}",
							 &a),
			TPID_R_HOOK_BAD_ANSWER);
	assert_int_equal(parse("{\"tpidVerificationResponse\":{\"result\":"
						   "\"authorized\",\"displayName\":\"A\\r\\nX: y\"}}",
							 &a),
			TPID_R_HOOK_BAD_ANSWER);
	/* TPID_MAX_NAME bytes: one too many */
	memset(name, 'n', TPID_MAX_NAME);
	name[TPID_MAX_NAME] = '\0';
	snprintf(body, sizeof(body),
			"{\"tpidVerificationResponse\":{\"result\":\"authorized\","
			"\"displayName\":\"%s\"}}",
			name);
	assert_int_equal(parse(body, &a), TPID_R_HOOK_BAD_ANSWER);
	/* TPID_MAX_NAME - 1 bytes fit */
	name[TPID_MAX_NAME - 1] = '\0';
	snprintf(body, sizeof(body),
			"{\"tpidVerificationResponse\":{\"result\":\"authorized\","
			"\"displayName\":\"%s\"}}",
			name);
	assert_int_equal(parse(body, &a), TPID_OK);
	assert_int_equal(strlen(a.display_name), TPID_MAX_NAME - 1);
	/* UTF-8 is passed through */
	assert_int_equal(parse("{\"tpidVerificationResponse\":{\"result\":"
						   "\"authorized\",\"displayName\":\"J\\u00fcrgen\"}}",
							 &a),
			TPID_OK);
	assert_string_equal(a.display_name, "J\xc3\xbcrgen");
}

static void test_answer_not_object(void **state)
{
	tpid_hook_answer_t a;
	(void)state;
	assert_int_equal(parse("[]", &a), TPID_R_HOOK_BAD_ANSWER);
	assert_int_equal(parse("\"authorized\"", &a), TPID_R_HOOK_BAD_ANSWER);
	assert_int_equal(parse("", &a), TPID_R_HOOK_BAD_ANSWER);
	assert_int_equal(parse("{\"tpidVerificationResponse\":\"authorized\"}", &a),
			TPID_R_HOOK_BAD_ANSWER);
	assert_int_equal(
			parse("{\"result\":\"authorized\"}", &a), TPID_R_HOOK_BAD_ANSWER);
	assert_int_equal(
			tpid_hook_parse_answer(NULL, 5, &a), TPID_R_HOOK_BAD_ANSWER);
}

static void test_answer_error_object(void **state)
{
	tpid_hook_answer_t a;
	(void)state;
	assert_int_equal(parse("{\"error\":{\"type\":\"serviceError\",\"code\":"
						   "\"E42\",\"text\":\"backend down\"}}",
							 &a),
			TPID_R_HOOK_BAD_ANSWER);
}

static void test_answer_truncated(void **state)
{
	const char *full = "{\"tpidVerificationResponse\":{\"result\":"
					   "\"authorized\",\"ttl\":30}}";
	tpid_hook_answer_t a;
	size_t n;
	(void)state;
	for(n = 1; n < strlen(full); n++)
		assert_int_equal(
				tpid_hook_parse_answer(full, n, &a), TPID_R_HOOK_BAD_ANSWER);
	assert_int_equal(tpid_hook_parse_answer(full, strlen(full), &a), TPID_OK);
	/* trailing garbage and duplicate keys */
	assert_int_equal(parse("{\"tpidVerificationResponse\":{\"result\":"
						   "\"denied\"}}x",
							 &a),
			TPID_R_HOOK_BAD_ANSWER);
	assert_int_equal(parse("{\"tpidVerificationResponse\":{\"result\":"
						   "\"denied\",\"result\":\"authorized\"}}",
							 &a),
			TPID_R_HOOK_BAD_ANSWER);
}

static void test_answer_not_nul_terminated(void **state)
{
	const char *src = "{\"tpidVerificationResponse\":{\"result\":\"denied\"}}";
	size_t n = strlen(src);
	char *body = malloc(n); /* exactly the bytes, no terminator: ASan checks */
	tpid_hook_answer_t a;
	(void)state;
	assert_non_null(body);
	memcpy(body, src, n);
	assert_int_equal(tpid_hook_parse_answer(body, n, &a), TPID_OK);
	assert_int_equal(a.result, TPID_HOOK_DENIED);
	free(body);
}

static void test_answer_long_reason(void **state)
{
	tpid_hook_answer_t a;
	char body[2048], reason[600];
	size_t i;
	(void)state;
	/* 2-byte UTF-8 characters: the cut must not split one */
	for(i = 0; i + 2 < sizeof(reason); i += 2)
		memcpy(reason + i, "\xc3\xa9", 2);
	reason[i] = '\0';
	snprintf(body, sizeof(body),
			"{\"tpidVerificationResponse\":{\"result\":\"denied\","
			"\"reason\":\"%s\"}}",
			reason);
	assert_int_equal(parse(body, &a), TPID_OK);
	assert_int_equal(strlen(a.reason), 126);
	assert_true(((unsigned char)a.reason[125] & 0xc0) == 0x80);
	assert_int_equal(parse("{\"tpidVerificationResponse\":{\"result\":"
						   "\"denied\",\"reason\":\"a\\nb\"}}",
							 &a),
			TPID_OK);
	assert_string_equal(a.reason, "a b");
	assert_int_equal(parse("{\"tpidVerificationResponse\":{\"result\":"
						   "\"denied\",\"reason\":{}}}",
							 &a),
			TPID_R_HOOK_BAD_ANSWER);
}

/* ---- the engine's result classes as reasons ---------------------------- */

static void test_result_classes(void **state)
{
	static const struct
	{
		int cls;
		int reason;
	} map[] = {{TPID_HTTPS_CONNECT, TPID_R_HOOK_CONNECT},
			{TPID_HTTPS_ADDRESS, TPID_R_HOOK_CONNECT},
			{TPID_HTTPS_TIMEOUT, TPID_R_HOOK_TIMEOUT},
			{TPID_HTTPS_TLS, TPID_R_HOOK_TLS},
			{TPID_HTTPS_HTTP, TPID_R_HOOK_HTTP},
			{TPID_HTTPS_TOO_BIG, TPID_R_HOOK_TOO_BIG},
			{TPID_HTTPS_INTERNAL, TPID_R_INTERNAL}, {42, TPID_R_INTERNAL},
			{-1, TPID_R_INTERNAL}};
	char ok[] = "{\"tpidVerificationResponse\":{\"result\":\"denied\"}}";
	char err[] = "{\"error\":{\"text\":\"no\\u0001way\"}}";
	tpid_https_result_t r;
	tpid_hook_answer_t a;
	size_t i;
	(void)state;

	for(i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		memset(&r, 0, sizeof(r));
		r.cls = map[i].cls;
		snprintf(r.error, sizeof(r.error), "curl said\nno");
		assert_int_equal(tpid_hook_result(&r, &a), map[i].reason);
		assert_true(a.reason[0] != '\0');
		assert_null(strchr(a.reason, '\n')); /* no forged log lines */
	}
	memset(&r, 0, sizeof(r));
	r.cls = TPID_HTTPS_OK;
	r.status = 200;
	assert_int_equal(tpid_hook_result(&r, &a), TPID_R_HOOK_BAD_ANSWER);
	r.body = ok;
	r.body_len = strlen(ok);
	assert_int_equal(tpid_hook_result(&r, &a), TPID_OK);
	assert_int_equal(a.result, TPID_HOOK_DENIED);
	assert_int_equal(a.http_status, 200);
	r.cls = TPID_HTTPS_HTTP;
	r.status = 503;
	r.body = err;
	r.body_len = strlen(err);
	assert_int_equal(tpid_hook_result(&r, &a), TPID_R_HOOK_HTTP);
	assert_string_equal(a.reason, "no way");
	assert_int_equal(tpid_hook_result(NULL, &a), TPID_R_INTERNAL);
	assert_int_equal(tpid_hook_result(&r, NULL), TPID_R_INTERNAL);
}

/* ---- library initialisation ----------------------------------------- */

static void test_global_init_twice(void **state)
{
	(void)state;
	assert_int_equal(tpid_https_global_init(), 0);
	assert_int_equal(tpid_https_global_init(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_request_json),
			cmocka_unit_test(test_request_json_no_callid),
			cmocka_unit_test(test_request_json_refused),
			cmocka_unit_test(test_answer_authorized),
			cmocka_unit_test(test_answer_denied_unknown),
			cmocka_unit_test(test_answer_bad_result),
			cmocka_unit_test(test_answer_bad_ttl),
			cmocka_unit_test(test_answer_bad_display_name),
			cmocka_unit_test(test_answer_not_object),
			cmocka_unit_test(test_answer_error_object),
			cmocka_unit_test(test_answer_truncated),
			cmocka_unit_test(test_answer_not_nul_terminated),
			cmocka_unit_test(test_answer_long_reason),
			cmocka_unit_test(test_result_classes),
			cmocka_unit_test(test_global_init_twice),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
