/*
 * tpid_assert - libFuzzer target for the Ms client (tpid_ms.c): the
 * STI-AS's answer (tpid_ms_sign_result), the STI-VS's answer
 * (tpid_ms_verify_result), and verstat on a URI or a P-Asserted-Identity.
 * The first byte picks the function (bits 0-1), the engine's class for the
 * body (bit 2: a 4xx/5xx instead of a 200) and the verstat (bits 3-5);
 * the rest is the body or the text.
 *
 * Oracles: a signed header that is accepted parses with the module's own
 * parser to exactly the claims asked for (and x5u an https URL); a refused
 * one leaves "" and the claims untouched, with an Ms reason. A pass of the
 * STI-VS is for the very token sent (its x5u and its payload); a failure
 * maps to the reason of its reasonCode. Texts stay log-safe. A URI with
 * verstat added is still the same identity of the one grammar, with one
 * verstat parameter, the one asked for.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "tpid_ident.h"
#include "tpid_ms.h"
#include "tpid_reason.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define ORIGID "123e4567-e89b-42d3-a456-426614174000"
#define X5U "https://sti.example/certs/sti.pem"

static tpid_claims_t asked;			/* what was asked to be signed */
static char sent[TPID_MAX_HDR_LEN]; /* the token sent to be verified */
static char *asked_payload;

/* The fixtures: the claims of the seeds in tests/fuzz/corpus/ms. */
static void setup(void)
{
	unsigned char sig[TPID_ES256_SIG_LEN];
	char *h, *p, *hb, *pb, *sb;

	memset(&asked, 0, sizeof(asked));
	strcpy(asked.ppt, "rcd");
	strcpy(asked.x5u, X5U);
	asked.iat = 1760000000;
	asked.orig.is_tn = 1;
	strcpy(asked.orig.value, "4961519876543");
	asked.ndest = 1;
	asked.dest[0].is_tn = 1;
	strcpy(asked.dest[0].value, "4961511234567");
	strcpy(asked.name, "Alice");
	strcpy(asked.id, "sip:e102938@acme.example");
	strcpy(asked.iss, "acme.example");
	asked.exp = 1760003600;
	memset(sig, 0x5a, sizeof(sig));
	h = tpid_passport_header_json(&asked);
	p = tpid_passport_payload_json(&asked);
	if(h == NULL || p == NULL)
		abort();
	hb = tpid_b64u_dup((const unsigned char *)h, strlen(h));
	pb = tpid_b64u_dup((const unsigned char *)p, strlen(p));
	sb = tpid_b64u_dup(sig, sizeof(sig));
	if(hb == NULL || pb == NULL || sb == NULL)
		abort();
	snprintf(sent, sizeof(sent), "%s.%s.%s;info=<%s>;alg=ES256;ppt=rcd", hb, pb,
			sb, X5U);
	asked_payload = p;
	free(h);
	free(hb);
	free(pb);
	free(sb);
}

static void log_safe(const char *s, size_t size)
{
	size_t i, n = strnlen(s, size);

	if(n >= size)
		abort();
	for(i = 0; i < n; i++) {
		if((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			abort();
	}
}

static int ms_reason(int rc)
{
	return rc == TPID_R_MS_BAD_ANSWER || rc == TPID_R_MS_SERVICE_ERROR
		   || rc == TPID_R_MS_POLICY_ERROR || rc == TPID_R_MS_HTTP;
}

static void check_sign(const tpid_https_result_t *r)
{
	static tpid_claims_t got, sentinel;
	static char hdr[TPID_MAX_HDR_LEN + 1];
	char text[TPID_MS_MAX_TEXT], *pj;
	tpid_passport_t t;
	tpid_url_t url;
	size_t i;
	int rc;

	memset(&got, 0xa5, sizeof(got));
	memset(&sentinel, 0xa5, sizeof(sentinel));
	rc = tpid_ms_sign_result(
			r, &asked, ORIGID, hdr, sizeof(hdr), &got, text, sizeof(text));
	log_safe(text, sizeof(text));
	if(rc != TPID_OK) {
		if(!ms_reason(rc) || hdr[0] != '\0'
				|| memcmp(&got, &sentinel, sizeof(got)) != 0)
			abort();
		return;
	}
	for(i = 0; hdr[i]; i++) {
		if((unsigned char)hdr[i] < 0x20 || (unsigned char)hdr[i] >= 0x7f)
			abort(); /* fit for a SIP header as it is */
	}
	if(tpid_passport_parse(hdr, strlen(hdr), "rcd", &t) != TPID_OK
			|| t.sig_len != TPID_ES256_SIG_LEN
			|| strcmp(t.claims.x5u, got.x5u) != 0
			|| tpid_url_parse(got.x5u, strlen(got.x5u), &url) < 0)
		abort();
	/* exactly the claims asked for */
	pj = tpid_passport_payload_json(&got);
	if(pj == NULL || strcmp(pj, asked_payload) != 0)
		abort();
	free(pj);
}

static void check_verify(const tpid_https_result_t *r)
{
	static tpid_ms_verification_t v;
	char *pj;
	int rc;

	rc = tpid_ms_verify_result(r, sent, strlen(sent), &v);
	log_safe(v.reason_text, sizeof(v.reason_text));
	if(v.verstat < TPID_VERSTAT_NONE || v.verstat > TPID_VERSTAT_NO_TN)
		abort();
	if(rc == TPID_OK) {
		pj = tpid_passport_payload_json(&v.claims);
		if(v.verstat != TPID_VERSTAT_PASSED || strcmp(v.x5u, X5U) != 0
				|| pj == NULL || strcmp(pj, asked_payload) != 0)
			abort();
		free(pj);
		return;
	}
	if(v.x5u[0] != '\0' || v.claims.ppt[0] != '\0')
		abort(); /* nothing of a refused pass is kept */
	if(v.verstat == TPID_VERSTAT_NO_TN && rc != TPID_R_MS_NO_VALIDATION)
		abort();
	if(v.verstat == TPID_VERSTAT_FAILED && rc != TPID_R_CERT_FETCH
			&& rc != TPID_R_CERT_INVALID && rc != TPID_R_BAD_SIGNATURE
			&& rc != TPID_R_IAT_STALE && rc != TPID_R_MS_VERIFY_FAILED
			&& rc != TPID_R_MS_BAD_ANSWER)
		abort();
	if(v.verstat != TPID_VERSTAT_FAILED && v.verstat != TPID_VERSTAT_NO_TN
			&& !ms_reason(rc))
		abort();
}

/* How many ";verstat=" (any case) s holds. */
static int verstats(const char *s)
{
	int n = 0;

	for(; *s; s++)
		n += strncasecmp(s, ";verstat=", 9) == 0;
	return n;
}

static void check_verstat_uri(const char *in, size_t len, int verstat)
{
	char out[TPID_MAX_URI + 64], a[TPID_MAX_URI + 64], b[TPID_MAX_URI + 64];
	tpid_uri_t u, w;
	int n = tpid_ms_verstat_uri(in, len, verstat, out, sizeof(out));

	if(n < 0) {
		if(out[0] != '\0')
			abort();
		return;
	}
	if((size_t)n != strlen(out) || verstats(out) != 1
			|| strstr(out, tpid_ms_verstat_name(verstat)) == NULL)
		abort();
	if((size_t)n >= TPID_MAX_URI)
		return; /* longer than the grammar takes: nothing more to compare */
	if(tpid_uri_parse(in, len, &u) < 0 || tpid_uri_parse(out, (size_t)n, &w) < 0
			|| !w.is_phone || tpid_uri_canon(&u, a, sizeof(a)) < 0
			|| tpid_uri_canon(&w, b, sizeof(b)) < 0 || strcmp(a, b) != 0)
		abort();
}

/* 1 if a header parameter named verstat follows the URI's '>' at s:
 * ';', blanks, then the name, outside quoted strings. */
static int tail_verstat(const char *s)
{
	const char *p;
	int q = 0;

	for(; *s; s++) {
		if(q && *s == '\\' && s[1] != '\0')
			s++;
		else if(*s == '"')
			q = !q;
		else if(!q && *s == ';') {
			for(p = s + 1; *p == ' ' || *p == '\t'; p++)
				;
			if(strncasecmp(p, "verstat", 7) == 0
					&& strchr("= \t;", p[7]) != NULL)
				return 1; /* strchr finds the NUL too: a bare ";verstat" */
		}
	}
	return 0;
}

static void check_verstat_pai(const char *in, size_t len, int verstat)
{
	char out[TPID_NAME_ADDR_MAX + 128], uri[TPID_MAX_URI + 64];
	size_t off, n, ooff, on;
	int m = tpid_ms_verstat_pai(in, len, verstat, out, sizeof(out));

	if(m < 0) {
		if(out[0] != '\0')
			abort();
		return;
	}
	/* the URI within is the one verstat_uri makes of the input's URI, in
	 * <>, and no verstat header parameter follows */
	if(tpid_uri_name_addr_at(in, len, &off, &n) < 0
			|| tpid_ms_verstat_uri(in + off, n, verstat, uri, sizeof(uri)) < 0)
		abort();
	if((size_t)m >= TPID_NAME_ADDR_MAX || strlen(uri) >= TPID_MAX_URI)
		return; /* longer than the grammar takes */
	if(tpid_uri_name_addr_at(out, (size_t)m, &ooff, &on) < 0
			|| on != strlen(uri) || memcmp(out + ooff, uri, on) != 0
			|| ooff == 0 || out[ooff - 1] != '<' || out[ooff + on] != '>'
			|| tail_verstat(out + ooff + on + 1))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	tpid_https_result_t r;
	char *body;
	int mode, verstat;

	if(!ready) {
		setup();
		ready = 1;
	}
	if(size < 1)
		return 0;
	mode = data[0] & 3;
	verstat = (data[0] >> 3) % 5;
	data++;
	size--;
	/* a private copy: the sanitizers see any read past the body's end */
	body = malloc(size + 1);
	if(body == NULL)
		return 0;
	memcpy(body, data, size);
	body[size] = '\0';
	memset(&r, 0, sizeof(r));
	r.cls = (data[-1] & 4) ? TPID_HTTPS_HTTP : TPID_HTTPS_OK;
	r.status = (data[-1] & 4) ? 500 : 200;
	r.body = body;
	r.body_len = size;
	if(mode == 0)
		check_sign(&r);
	else if(mode == 1)
		check_verify(&r);
	else if(mode == 2)
		check_verstat_uri(body, size, verstat);
	else
		check_verstat_pai(body, size, verstat);
	free(body);
	return 0;
}
