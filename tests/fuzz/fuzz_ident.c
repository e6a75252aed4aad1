/*
 * tpid_assert - libFuzzer target for the one identity grammar.
 *
 * Aborts when an invariant breaks: the canonical text of whatever parses
 * parses again to the same text and the same orig/dest form, and holds no
 * byte the grammar refuses; name-addr output parses as a URI; an accepted
 * URL has a host and a path without dot segments.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tpid_ident.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void clean_or_abort(const char *s)
{
	for(; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if(c <= 0x20 || c >= 0x7f || strchr("\"'<>\\", c) != NULL)
			abort();
	}
}

static void uri_invariants(const char *s, size_t n)
{
	tpid_uri_t u, v;
	tpid_ident_t a, b;
	char c1[TPID_MAX_URI], c2[TPID_MAX_URI];

	/* an IP literal's one spelling may be longer than the input's: such a
	 * URI does not fit and is refused, never truncated */
	if(tpid_uri_from_text(s, n, &u) < 0
			|| tpid_uri_canon(&u, c1, sizeof(c1)) < 0)
		return;
	if(tpid_uri_ident(&u, &a) < 0)
		abort();
	clean_or_abort(c1);
	if(tpid_uri_parse(c1, strlen(c1), &v) < 0
			|| tpid_uri_canon(&v, c2, sizeof(c2)) < 0 || strcmp(c1, c2) != 0
			|| tpid_uri_ident(&v, &b) < 0 || a.is_tn != b.is_tn
			|| strcmp(a.value, b.value) != 0)
		abort();
	if(u.scheme != TPID_URI_TEL && u.host[0] == '\0')
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data;
	char out[TPID_MAX_URI];
	tpid_uri_t u;
	tpid_url_t url;

	uri_invariants(s, size);
	if(tpid_uri_name_addr(s, size, out, sizeof(out)) == 0
			&& tpid_uri_parse(out, strlen(out), &u) < 0)
		abort();
	if(tpid_url_parse(s, size, &url) == 0) {
		clean_or_abort(url.path);
		if(url.host[0] == '\0' || strstr(url.path, "/../") != NULL
				|| strstr(url.path, "/./") != NULL)
			abort();
	}
	return 0;
}
