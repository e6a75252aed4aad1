/*
 * tpid_assert - libFuzzer target for the Identity header parser and the
 * URI normaliser (hostile input from the network).
 *
 * The first input byte picks a mode: raw bytes as an Identity header value
 * and as a URI, or (to reach the claim checks, which random base64url
 * seldom does) "header JSON \n payload JSON" wrapped into a well-formed
 * header. Whatever parses must re-encode without trouble.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tpid_ident.h"
#include "tpid_passport.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tpid_passport_t tok;

static void reencode(const tpid_passport_t *t)
{
	free(tpid_passport_header_json(&t->claims));
	free(tpid_passport_payload_json(&t->claims));
}

static void raw(const char *s, size_t n)
{
	tpid_ident_t id;
	tpid_uri_t u;

	if(tpid_passport_parse(s, n, "rcd", &tok) == TPID_OK) {
		reencode(&tok);
		/* what verifies as rcd must be what the picker picks */
		if(!tpid_idhdr_is_ours(s, n, "rcd"))
			abort();
	}
	if(tpid_passport_parse(s, n, NULL, &tok) == TPID_OK)
		reencode(&tok);
	if(tpid_uri_from_text(s, n, &u) == 0)
		tpid_uri_ident(&u, &id);
}

static void wrapped(const char *s, size_t n)
{
	static char hdr[TPID_MAX_HDR_LEN + 1];
	static const char tail[] =
			".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
			"AAAAAAAAAAAAAAAAAAAAAAA;info=<https://cert.example.net/tpid.pem>;"
			"alg=ES256;ppt=rcd";
	const char *nl = memchr(s, '\n', n);
	size_t hn, pn, o;
	int r;

	if(nl == NULL)
		return;
	hn = (size_t)(nl - s);
	pn = n - hn - 1;
	if(hn > 2000 || pn > 4000)
		return;
	r = tpid_b64u_encode((const unsigned char *)s, hn, hdr, sizeof(hdr));
	if(r < 0)
		return;
	o = (size_t)r;
	hdr[o++] = '.';
	r = tpid_b64u_encode(
			(const unsigned char *)nl + 1, pn, hdr + o, sizeof(hdr) - o);
	if(r < 0 || o + (size_t)r + sizeof(tail) > sizeof(hdr))
		return;
	o += (size_t)r;
	memcpy(hdr + o, tail, sizeof(tail));
	o += sizeof(tail) - 1;
	if(tpid_passport_parse(hdr, o, "rcd", &tok) == TPID_OK)
		reencode(&tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if(size == 0)
		return 0;
	if(data[0] & 1)
		wrapped((const char *)data + 1, size - 1);
	else
		raw((const char *)data + 1, size - 1);
	return 0;
}
