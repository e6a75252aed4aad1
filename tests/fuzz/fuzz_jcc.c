/*
 * tpid_assert - libFuzzer target for JWT claim constraints read from a
 * certificate (tpid_jcc_from_cert, RFC 8226 / RFC 9118) and checked
 * against a payload (tpid_jcc_check_payload_b64u): any DER is a
 * certificate or not, any extension is constraints or a refusal, and any
 * payload passes or fails them, without a crash or a leak.
 *
 * Input: a 2-byte length, that many bytes of DER certificate, then the
 * base64url payload.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <stdlib.h>

#include <openssl/x509.h>

#include "tpid_jcc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *p;
	tpid_jcc_t *jcc = NULL;
	size_t n;
	X509 *x;

	if(size < 2)
		return 0;
	n = ((size_t)data[0] << 8) | data[1];
	if(n > size - 2)
		n = size - 2;
	p = data + 2;
	x = d2i_X509(NULL, &p, (long)n);
	if(x == NULL)
		return 0;
	/* 1: parsed; 0: none (and nothing to free); -1: refused */
	if(tpid_jcc_from_cert(x, &jcc) == 1) {
		if(jcc == NULL)
			abort();
		tpid_jcc_is_enhanced(jcc);
		tpid_jcc_check_payload_b64u(
				jcc, (const char *)data + 2 + n, size - 2 - n);
		tpid_jcc_free(jcc);
	}
	X509_free(x);
	return 0;
}
