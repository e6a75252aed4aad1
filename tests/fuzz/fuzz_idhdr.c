/*
 * tpid_assert - libFuzzer target for the Identity header tokenizer, with a
 * differential oracle: tpid_idhdr_is_ours() must say what tpid_idhdr_split()
 * plus the ppt it yields (the parameter, else the JWS header decoded here
 * without tpid_idhdr) say. abort() when they disagree, or when a split
 * header's spans leave the input.
 *
 * The first input byte picks the ppt asked for; the rest is the header.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "tpid_idhdr.h"
#include "tpid_jose.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const tpid_fuzz_ppts[] = {"rcd", "shaken", "div", ""};

/* 1 if the JWS header of h holds "ppt" equal to ppt */
static int jws_ppt_is(const tpid_idhdr_t *h, const char *ppt)
{
	static unsigned char bin[TPID_MAX_HDR_LEN];
	json_t *j, *v;
	int n, eq = 0;

	n = tpid_b64u_decode(h->part[0].s, h->part[0].n, bin, sizeof(bin));
	if(n <= 0 || memchr(bin, '\0', (size_t)n) != NULL)
		return 0;
	j = json_loadb((const char *)bin, (size_t)n, JSON_REJECT_DUPLICATES, NULL);
	v = json_object_get(j, "ppt");
	if(json_is_string(v) && json_string_length(v) == strlen(ppt)
			&& memcmp(json_string_value(v), ppt, strlen(ppt)) == 0)
		eq = 1;
	json_decref(j);
	return eq;
}

static int inside(const tpid_idhdr_span_t *sp, const char *s, size_t n)
{
	return sp->s >= s && sp->n <= n && sp->s + sp->n <= s + n;
}

static void check_spans(const tpid_idhdr_t *h, const char *s, size_t n)
{
	int i;

	if(!inside(&h->jws, s, n) || (h->has_info && !inside(&h->info, s, n))
			|| h->nparams > TPID_IDHDR_MAX_PARAMS)
		abort();
	for(i = 0; i < 3; i++) {
		if(h->part[i].n == 0 || !inside(&h->part[i], s, n))
			abort();
	}
	for(i = 0; i < h->nparams; i++) {
		if(!inside(&h->param[i].name, s, n)
				|| (h->param[i].has_value && !inside(&h->param[i].value, s, n)))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static tpid_idhdr_t h;
	const char *s = (const char *)data + 1, *ppt;
	size_t n;
	int want;

	if(size == 0)
		return 0;
	ppt = tpid_fuzz_ppts[data[0] % 4];
	n = size - 1;
	if(tpid_idhdr_split(s, n, &h) != TPID_OK)
		want = 1;
	else {
		check_spans(&h, s, n);
		want = (h.ppt.present && tpid_idhdr_val_eq(&h.ppt, ppt))
			   || jws_ppt_is(&h, ppt);
	}
	if(tpid_idhdr_is_ours(s, n, ppt) != want)
		abort();
	return 0;
}
