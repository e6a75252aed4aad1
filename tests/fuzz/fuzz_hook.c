/*
 * tpid_assert - libFuzzer target for the enterprise hook's answer
 * (tpid_hook_parse_answer) and request (tpid_hook_request_json), with
 * oracles: an accepted answer has a known result, a ttl within bounds and
 * a display name that can go into a SIP header (no control character,
 * under TPID_MAX_NAME); a refused one leaves the answer untouched; a
 * request built from any strings is JSON that reads back to the same
 * strings, or is not built at all.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tpid_hook.h"
#include "tpid_reason.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_request(const uint8_t *data, size_t size)
{
	char a[64], b[64];
	const char *dest[1] = {b};
	tpid_hook_query_t q = {a, b, dest, 1, a, 1760000000};
	size_t n = size < 63 ? size : 63, m = size - n < 63 ? size - n : 63;
	json_t *root, *req;
	char *s;

	memcpy(a, data, n);
	a[n] = '\0';
	memcpy(b, data + n, m);
	b[m] = '\0';
	s = tpid_hook_request_json(&q);
	if(s == NULL)
		return; /* not UTF-8: not sent */
	root = json_loads(s, 0, NULL);
	req = json_object_get(root, "tpidVerificationRequest");
	if(req == NULL
			|| strcmp(json_string_value(json_object_get(req, "servedUser")), a)
					   != 0
			|| strcmp(json_string_value(json_object_get(req, "tpid")), b) != 0)
		abort();
	json_decref(root);
	free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tpid_hook_answer_t a, before;
	size_t i;
	int rc;

	memset(&a, 0x5a, sizeof(a));
	before = a;
	rc = tpid_hook_parse_answer((const char *)data, size, &a);
	if(rc != TPID_OK) {
		if(rc != TPID_R_HOOK_BAD_ANSWER || memcmp(&a, &before, sizeof(a)) != 0)
			abort();
	} else {
		if(a.result < TPID_HOOK_AUTHORIZED || a.result > TPID_HOOK_UNKNOWN
				|| a.ttl < -1 || a.ttl > 86400
				|| strlen(a.display_name) >= TPID_MAX_NAME)
			abort();
		for(i = 0; a.display_name[i]; i++) {
			unsigned char ch = (unsigned char)a.display_name[i];
			if(ch < 0x20 || ch == 0x7f)
				abort();
		}
		for(i = 0; a.reason[i]; i++) {
			unsigned char ch = (unsigned char)a.reason[i];
			if(ch < 0x20 || ch == 0x7f)
				abort(); /* log-safe */
		}
	}
	check_request(data, size);
	return 0;
}
