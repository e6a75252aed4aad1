/*
 * tpid_assert - libFuzzer target for the PEM chain parser
 * (tpid_trust_parse_pem). abort() when a chain it accepts breaks its own
 * contract: more certificates than asked, or bytes outside the grammar.
 *
 * The first input byte picks max_certs (1..8); the rest is the PEM text.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tpid_reason.h"
#include "tpid_trust.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Only the PEM alphabet, the markers' letters and white space may pass. */
static int allowed(const char *s, size_t n)
{
	static const char extra[] = "-= \t\r\n+/ABCDEFGHIJKLMNOPQRSTUVWXYZ"
								"abcdefghijklmnopqrstuvwxyz0123456789";
	size_t i;

	for(i = 0; i < n; i++) {
		if(s[i] == '\0' || strchr(extra, s[i]) == NULL)
			return 0;
	}
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	STACK_OF(X509) *chain = NULL;
	const char *pem;
	int max, rc;

	if(size < 1)
		return 0;
	max = 1 + data[0] % 8;
	pem = (const char *)data + 1;
	rc = tpid_trust_parse_pem(pem, size - 1, max, &chain);
	if(rc != TPID_OK) {
		if(rc != TPID_R_CERT_INVALID || chain != NULL)
			abort();
		return 0;
	}
	if(chain == NULL || sk_X509_num(chain) < 1 || sk_X509_num(chain) > max
			|| size - 1 > TPID_TRUST_MAX_PEM || !allowed(pem, size - 1))
		abort();
	sk_X509_pop_free(chain, X509_free);
	return 0;
}
