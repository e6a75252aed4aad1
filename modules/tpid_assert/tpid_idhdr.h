/*
 * tpid_assert - the one tokenizer of an Identity header value (RFC 8224):
 *
 *   signed-identity-digest *( SEMI ident-info-params )
 *
 * where info is "<" absoluteURI ">" and every other parameter is a
 * generic-param: token [ EQUAL ( token / host / quoted-string ) ].
 * Picking our header among several, stripping and verifying all go
 * through it, so that they agree on every input.
 *
 * Plain C, no Kamailio dependency.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_IDHDR_H
#define TPID_IDHDR_H

#include <stddef.h>

#include "tpid_reason.h"

#define TPID_MAX_HDR_LEN 8192	 /* longest Identity header value accepted */
#define TPID_MAX_PPT 32			 /* longest ppt value (and alg value) */
#define TPID_IDHDR_MAX_PARAMS 32 /* parameters per header */

/* A piece of the header, not NUL-terminated. */
typedef struct tpid_idhdr_span
{
	const char *s;
	size_t n;
} tpid_idhdr_span_t;

/* One parameter: value is the inside of "..." or <...>, quoted-pairs not
 * resolved; has_value is 0 for a bare ";name". */
typedef struct tpid_idhdr_param
{
	tpid_idhdr_span_t name;
	tpid_idhdr_span_t value;
	int has_value;
	int quoted; /* value was a quoted-string */
	int angled; /* value was <...> (info only) */
} tpid_idhdr_param_t;

/* The ppt or alg parameter, quotes removed, quoted-pairs resolved. */
typedef struct tpid_idhdr_val
{
	int present;
	int quoted; /* a quoted-string compares exactly, a token without case */
	char v[TPID_MAX_PPT];
} tpid_idhdr_val_t;

/* A split Identity header: spans point into the caller's buffer. */
typedef struct tpid_idhdr
{
	tpid_idhdr_span_t jws;			 /* header.payload.signature */
	tpid_idhdr_span_t part[3];		 /* each part (base64url, not empty) */
	tpid_idhdr_span_t signing_input; /* header "." payload */
	int nparams;
	tpid_idhdr_param_t param[TPID_IDHDR_MAX_PARAMS];
	int has_info;
	tpid_idhdr_span_t info; /* the info URI without <> */
	tpid_idhdr_val_t alg;
	tpid_idhdr_val_t ppt;
} tpid_idhdr_t;

/* Splits an Identity header value of len bytes (no NUL inside, at most
 * TPID_MAX_HDR_LEN, LWS allowed around ';' and '='). TPID_OK, or
 * TPID_R_BAD_SYNTAX for anything off the grammar, among them: a JWS that
 * is not three non-empty base64url parts, an empty or nameless parameter,
 * an unterminated quote or <, <> on any parameter but info, info without
 * <>, info/alg/ppt twice or without a value, alg/ppt longer than
 * TPID_MAX_PPT - 1, more than TPID_IDHDR_MAX_PARAMS parameters. Parameter
 * names are case-insensitive. On failure out holds nothing usable. */
int tpid_idhdr_split(const char *hdr, size_t len, tpid_idhdr_t *out);

/* 1 if v is present and equals want: exactly when v was a quoted-string,
 * regardless of case when it was a token (RFC 3261 section 7.3.1). */
int tpid_idhdr_val_eq(const tpid_idhdr_val_t *v, const char *want);

/* Copies the "ppt" of the JWS header (base64url-decoded JSON) of a split
 * header into out. 0, or -1 when the JWS header is not a JSON object, has
 * no string "ppt" or it does not fit. */
int tpid_idhdr_jws_ppt(const tpid_idhdr_t *h, char *out, size_t outsize);

/* Whether an Identity header value is ours to pick, strip and verify:
 * 1 when it does not split (garbage is refused, never passed on), or its
 * ppt parameter equals ppt (tpid_idhdr_val_eq), or its JWS header has
 * "ppt" equal to ppt (decoded only when the parameter did not already
 * decide); 0 otherwise. Either one naming ppt is enough: a token signed as
 * ppt behind another parameter is ours, and refused as BAD_PPT. */
int tpid_idhdr_is_ours(const char *hdr, size_t len, const char *ppt);

/* 1 if s/n may stand inside <> as the info URI: not empty, no control,
 * space, '<', '>', '"' or byte >= 0x7f (what would break out of the <> or
 * the header; the URL itself is judged by the allowlist, on the one URL
 * grammar of tpid_ident.h). */
int tpid_idhdr_info_ok(const char *s, size_t n);

#endif
