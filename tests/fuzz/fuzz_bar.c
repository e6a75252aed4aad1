/*
 * tpid_assert - libFuzzer target for the avatar repository's answer
 * (tpid_bar_parse_answer) and the avatar grammar, with oracles: an accepted
 * authorization names a representation whose URL, media type and digest
 * pass the same grammar the terminating side applies (tpid_avatar_check_claims),
 * so nothing the BAR says can be signed into a token term would refuse;
 * a refused answer leaves the answer struct untouched; the SRI helpers agree
 * with each other.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tpid_avatar.h"
#include "tpid_bar.h"
#include "tpid_reason.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tpid_bar_answer_t a, before;
	tpid_claims_t c;
	char sri[TPID_MAX_SRI];
	int rc;

	memset(&a, 0xa5, sizeof(a));
	before = a;
	rc = tpid_bar_parse_answer((const char *)data, size, &a);
	if(rc != TPID_OK) {
		if(rc != TPID_R_BAR_BAD_ANSWER || memcmp(&a, &before, sizeof(a)) != 0)
			abort();
	} else if(a.result == TPID_BAR_AUTHORIZED) {
		memset(&c, 0, sizeof(c));
		strcpy(c.aid, "fuzz-01");
		strcpy(c.bar, a.url);
		strcpy(c.fmt, a.media_type);
		strcpy(c.digest, a.digest);
		if(tpid_avatar_check_claims(&c) != TPID_OK)
			abort();
	} else if(a.result != TPID_BAR_DENIED && a.result != TPID_BAR_UNKNOWN) {
		abort();
	}
	/* the input as an Avatar-ID, a media type, a digest: no crash, and a
	 * digest computed here is always well-formed and matches its bytes */
	tpid_avatar_id_ok((const char *)data, size);
	tpid_avatar_fmt_ok((const char *)data, size);
	tpid_sri_ok((const char *)data, size);
	if(tpid_sri_sha256(data, size, sri, sizeof(sri)) != 0
			|| !tpid_sri_ok(sri, strlen(sri))
			|| !tpid_sri_match(sri, data, size))
		abort();
	return 0;
}
