/*
 * tpid_assert - unit tests of the avatar repository client (tpid_bar.c):
 * the request body, the answer parser against hostile answers, and how the
 * engine's results map to reasons.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tpid_bar.h"
#include "tpid_reason.h"

#define URL "https://127.0.0.1:8480/bar/v1/avatars/alice-01/representation"
#define SRI "sha256-ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
#define REP                                                          \
	"\"representation\":{\"url\":\"" URL "\",\"mediaType\":\"model/" \
	"gltf-binary\",\"digest\":\"" SRI "\"}"

static int parse(const char *body, tpid_bar_answer_t *a)
{
	return tpid_bar_parse_answer(body, strlen(body), a);
}

static void test_request_json(void **state)
{
	const char *dest[2] = {"tel:+4961511234567", "sip:bob@example.net"};
	tpid_bar_query_t q = {"tel:+4961519876543", "alice-01", dest, 2,
			"a84b4c76e66710@pc33", 1760000000};
	char *s;

	(void)state;
	s = tpid_bar_request_json(&q);
	assert_non_null(s);
	assert_string_equal(s,
			"{\"avatarAuthorizationRequest\":{\"servedUser\":"
			"\"tel:+4961519876543\",\"avatarId\":\"alice-01\",\"dest\":["
			"\"tel:+4961511234567\",\"sip:bob@example.net\"],\"callId\":"
			"\"a84b4c76e66710@pc33\",\"time\":1760000000}}");
	free(s);
	/* without a Call-ID the member is left out */
	q.call_id = NULL;
	s = tpid_bar_request_json(&q);
	assert_non_null(s);
	assert_null(strstr(s, "callId"));
	free(s);
	/* what cannot be a JSON string is not sent */
	q.avatar_id = "al\xffice";
	assert_null(tpid_bar_request_json(&q));
	q.avatar_id = NULL;
	assert_null(tpid_bar_request_json(&q));
	q.avatar_id = "alice-01";
	q.ndest = -1;
	assert_null(tpid_bar_request_json(&q));
	assert_null(tpid_bar_request_json(NULL));
}

static void test_answers_accepted(void **state)
{
	tpid_bar_answer_t a;

	(void)state;
	memset(&a, 0, sizeof(a));
	assert_int_equal(parse("{\"avatarAuthorizationResponse\":{\"result\":"
						   "\"authorized\",\"ttl\":300," REP "}}",
							 &a),
			TPID_OK);
	assert_int_equal(a.result, TPID_BAR_AUTHORIZED);
	assert_int_equal(a.ttl, 300);
	assert_string_equal(a.url, URL);
	assert_string_equal(a.media_type, "model/gltf-binary");
	assert_string_equal(a.digest, SRI);

	assert_int_equal(parse("{\"avatarAuthorizationResponse\":{\"result\":"
						   "\"denied\"}}",
							 &a),
			TPID_OK);
	assert_int_equal(a.result, TPID_BAR_DENIED);
	assert_int_equal(a.ttl, -1);
	assert_string_equal(a.url, "");
	assert_int_equal(parse("{\"avatarAuthorizationResponse\":{\"result\":"
						   "\"unknown\",\"ttl\":0}}",
							 &a),
			TPID_OK);
	assert_int_equal(a.result, TPID_BAR_UNKNOWN);
	assert_int_equal(a.ttl, 0);
}

static void test_answers_refused(void **state)
{
	static const char *const bad[] = {"", "null", "[]", "{}",
			"{\"avatarAuthorizationResponse\":[]}",
			"{\"avatarAuthorizationResponse\":{}}",
			"{\"avatarAuthorizationResponse\":{\"result\":\"yes\"}}",
			"{\"avatarAuthorizationResponse\":{\"result\":1}}",
			"{\"avatarAuthorizationResponse\":{\"result\":\"Authorized\"," REP
			"}}",
			/* authorized needs a well-formed representation */
			"{\"avatarAuthorizationResponse\":{\"result\":\"authorized\"}}",
			"{\"avatarAuthorizationResponse\":{\"result\":\"authorized\","
			"\"representation\":\"x\"}}",
			"{\"avatarAuthorizationResponse\":{\"result\":\"authorized\","
			"\"representation\":{\"url\":\"" URL
			"\",\"mediaType\":\"model/gltf-binary\"}}}",
			"{\"avatarAuthorizationResponse\":{\"result\":\"authorized\","
			"\"representation\":{\"url\":\"http://bar.example/x\","
			"\"mediaType\":\"a/b\",\"digest\":\"" SRI "\"}}}",
			"{\"avatarAuthorizationResponse\":{\"result\":\"authorized\","
			"\"representation\":{\"url\":\"https://u@bar.example/x\","
			"\"mediaType\":\"a/b\",\"digest\":\"" SRI "\"}}}",
			"{\"avatarAuthorizationResponse\":{\"result\":\"authorized\","
			"\"representation\":{\"url\":\"" URL "\","
			"\"mediaType\":\"a/b;x=1\",\"digest\":\"" SRI "\"}}}",
			"{\"avatarAuthorizationResponse\":{\"result\":\"authorized\","
			"\"representation\":{\"url\":\"" URL "\","
			"\"mediaType\":\"a/b\",\"digest\":\"sha256-abc\"}}}",
			"{\"avatarAuthorizationResponse\":{\"result\":\"authorized\","
			"\"representation\":{\"url\":\"" URL "\","
			"\"mediaType\":\"a/b\",\"digest\":7}}}",
			/* ttl: an integer 0..86400 */
			"{\"avatarAuthorizationResponse\":{\"result\":\"denied\","
			"\"ttl\":-1}}",
			"{\"avatarAuthorizationResponse\":{\"result\":\"denied\","
			"\"ttl\":86401}}",
			"{\"avatarAuthorizationResponse\":{\"result\":\"denied\","
			"\"ttl\":1.5}}",
			"{\"avatarAuthorizationResponse\":{\"result\":\"denied\","
			"\"ttl\":\"300\"}}",
			/* a representation of the wrong type, even when not needed */
			"{\"avatarAuthorizationResponse\":{\"result\":\"denied\","
			"\"representation\":[]}}",
			/* duplicate keys */
			"{\"avatarAuthorizationResponse\":{\"result\":\"denied\","
			"\"result\":\"authorized\"}}",
			"{\"avatarAuthorizationResponse\":{\"result\":\"authorized\"," REP
			"}",
			NULL};
	tpid_bar_answer_t a;
	char big[2048];
	int i;

	(void)state;
	for(i = 0; bad[i]; i++) {
		memset(&a, 0x5a, sizeof(a));
		if(parse(bad[i], &a) != TPID_R_BAR_BAD_ANSWER)
			fail_msg("accepted: %s", bad[i]);
		/* a refused answer leaves *a alone */
		if(a.result != 0x5a5a5a5a)
			fail_msg("answer written for: %s", bad[i]);
	}
	/* a URL longer than the claim can hold is refused, not cut */
	snprintf(big, sizeof(big),
			"{\"avatarAuthorizationResponse\":{\"result\":\"authorized\","
			"\"representation\":{\"url\":\"https://bar.example/%0300d\","
			"\"mediaType\":\"a/b\",\"digest\":\"" SRI "\"}}}",
			0);
	assert_int_equal(parse(big, &a), TPID_R_BAR_BAD_ANSWER);
	assert_int_equal(tpid_bar_parse_answer(NULL, 0, &a), TPID_R_BAR_BAD_ANSWER);
	assert_int_equal(tpid_bar_parse_answer("{}", 2, NULL), TPID_R_INTERNAL);
}

static void test_result_mapping(void **state)
{
	static const struct
	{
		int cls;
		int reason;
	} map[] = {{TPID_HTTPS_CONNECT, TPID_R_BAR_CONNECT},
			{TPID_HTTPS_ADDRESS, TPID_R_BAR_CONNECT},
			{TPID_HTTPS_TIMEOUT, TPID_R_BAR_TIMEOUT},
			{TPID_HTTPS_TLS, TPID_R_BAR_TLS},
			{TPID_HTTPS_HTTP, TPID_R_BAR_HTTP},
			{TPID_HTTPS_TOO_BIG, TPID_R_BAR_TOO_BIG}};
	char body[512];
	tpid_https_result_t r;
	tpid_bar_answer_t a;
	size_t i;

	(void)state;
	for(i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		memset(&r, 0, sizeof(r));
		r.cls = map[i].cls;
		strcpy(r.error, "curl says\r\nno");
		assert_int_equal(tpid_bar_result(&r, &a), map[i].reason);
		assert_null(strchr(a.text, '\n')); /* log-safe */
	}
	/* a 4xx error object's text is kept for the log */
	memset(&r, 0, sizeof(r));
	r.cls = TPID_HTTPS_HTTP;
	r.status = 401;
	strcpy(body, "{\"error\":{\"type\":\"policyError\",\"code\":\"AUTH\","
				 "\"text\":\"node not authenticated\"}}");
	r.body = body;
	r.body_len = strlen(body);
	assert_int_equal(tpid_bar_result(&r, &a), TPID_R_BAR_HTTP);
	assert_int_equal(a.http_status, 401);
	assert_string_equal(a.text, "node not authenticated");
	/* 200: the answer decides */
	memset(&r, 0, sizeof(r));
	r.cls = TPID_HTTPS_OK;
	r.status = 200;
	r.elapsed_ms = 12.5;
	strcpy(body, "{\"avatarAuthorizationResponse\":{\"result\":\"authorized\","
				 "\"ttl\":60," REP "}}");
	r.body = body;
	r.body_len = strlen(body);
	assert_int_equal(tpid_bar_result(&r, &a), TPID_OK);
	assert_string_equal(a.digest, SRI);
	assert_true(a.elapsed_ms == 12.5);
	strcpy(body, "{\"avatarAuthorizationResponse\":{\"result\":\"denied\"}}");
	r.body_len = strlen(body);
	assert_int_equal(tpid_bar_result(&r, &a), TPID_R_AVATAR_DENIED);
	strcpy(body, "{\"avatarAuthorizationResponse\":{\"result\":\"unknown\"}}");
	r.body_len = strlen(body);
	assert_int_equal(tpid_bar_result(&r, &a), TPID_R_AVATAR_UNKNOWN);
	strcpy(body, "<html>");
	r.body_len = strlen(body);
	assert_int_equal(tpid_bar_result(&r, &a), TPID_R_BAR_BAD_ANSWER);
	assert_int_equal(tpid_bar_result(NULL, &a), TPID_R_INTERNAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
			cmocka_unit_test(test_request_json),
			cmocka_unit_test(test_answers_accepted),
			cmocka_unit_test(test_answers_refused),
			cmocka_unit_test(test_result_mapping),
	};

	return cmocka_run_group_tests_name("tpid_bar", tests, NULL, NULL);
}
