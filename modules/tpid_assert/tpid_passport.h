/*
 * tpid_assert - PASSporT (RFC 8225, ppt=rcd with the private tpid claim):
 * claims, header and payload JSON, signing into an Identity header value,
 * parsing one back (through the tokenizer of tpid_idhdr.h), time and
 * orig/dest checks.
 *
 * Plain C (OpenSSL 3 EVP + jansson), no Kamailio dependency: the module, the
 * tpid-token tool, the unit tests and the fuzz targets all link this file.
 * All inputs are treated as hostile: lengths are checked before copying,
 * every failure returns a tpid_reason_t.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_PASSPORT_H
#define TPID_PASSPORT_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>

#include "tpid_idhdr.h"
#include "tpid_jose.h"
#include "tpid_reason.h"

/* ---- identities ------------------------------------------------------------ */
/* Kept first here because tpid_claims_t holds tpid_ident_t values (their
 * grammar is tpid_ident.h's). */

#define TPID_MAX_URI 256 /* orig/dest/id/x5u and other URIs */

/* An identity as carried in orig/dest: a telephone number (digits only,
 * no '+') or a URI. */
typedef struct tpid_ident
{
	int is_tn; /* 1: value is digits ("tn"), 0: value is a URI ("uri") */
	char value[TPID_MAX_URI];
} tpid_ident_t;

/* ---- claims ------------------------------------------------------------- */

#define TPID_MAX_NAME 256 /* display name (UTF-8 bytes) */
#define TPID_MAX_DEST 8	  /* dest entries kept */
#define TPID_MAX_AID 128  /* Avatar-ID characters */
#define TPID_MAX_FMT 128  /* media type bytes, NUL included */
#define TPID_MAX_SRI 64	  /* "sha256-" + 44 base64 characters, NUL included */

/* The ppt of an avatar token (avatar and avatari claims). */
#define TPID_PPT_AVATAR "avatar"

/* The claims of a ppt=rcd third-party PASSporT or of a ppt=avatar one. */
typedef struct tpid_claims
{
	char ppt[TPID_MAX_PPT]; /* "rcd" */
	char x5u[TPID_MAX_URI]; /* certificate URL (header x5u == info) */
	int64_t iat;			/* issued at, seconds since the epoch */
	tpid_ident_t orig;		/* served user */
	int ndest;				/* 1..TPID_MAX_DEST */
	tpid_ident_t dest[TPID_MAX_DEST];
	char name[TPID_MAX_NAME]; /* rcd.nam, display text; may be empty */
	char id[TPID_MAX_URI];	  /* tpid.id, the third-party ID URI */
	char iss[TPID_MAX_URI];	  /* tpid.iss, the enterprise domain */
	int64_t exp;			  /* tpid.exp, end of the authorization */
	/* ppt=avatar */
	char aid[TPID_MAX_AID + 1]; /* avatar.aid, the Avatar-ID */
	char bar[TPID_MAX_URI];		/* avatar.bar, the representation's URL */
	char fmt[TPID_MAX_FMT];		/* avatar.fmt, its media type */
	char digest[TPID_MAX_SRI];	/* avatari["/avatar/bar"], sha256-<b64> */
} tpid_claims_t;

/* JSON header and payload of the PASSporT, canonical: keys sorted at every
 * level, no whitespace, UTF-8 unescaped. With ppt "avatar" the payload
 * carries avatar {aid, bar, fmt} and avatari {"/avatar/bar": digest}
 * instead of rcd and tpid. Returns malloc()ed strings (free() them) or
 * NULL. */
char *tpid_passport_header_json(const tpid_claims_t *c);
char *tpid_passport_payload_json(const tpid_claims_t *c);

/* The same payload as a JSON object (a new reference: json_decref() it),
 * or NULL. */
json_t *tpid_passport_payload_obj(const tpid_claims_t *c);

/* The orig form of one identity, {"tn":"<digits>"} or {"uri":"<uri>"},
 * and the dest form of n >= 1, {"tn":[...],"uri":[...]} (grouped by kind,
 * the order kept within a kind). New references, or NULL for an identity
 * that is empty, not NUL-terminated, or a tn that is not all digits. */
json_t *tpid_passport_orig_json(const tpid_ident_t *id);
json_t *tpid_passport_dest_json(const tpid_ident_t *ids, int n);

/* ---- signing ------------------------------------------------------------ */

/* Signs the claims with an EC P-256 private key and writes the complete
 * Identity header value:
 *   <b64u(H)>.<b64u(P)>.<b64u(sig)>;info=<x5u>;alg=ES256;ppt=rcd
 * Returns TPID_OK, TPID_R_SIGN_FAILED (bad key) or TPID_R_INTERNAL (out
 * too small, JSON failure). */
int tpid_passport_sign(
		const tpid_claims_t *c, EVP_PKEY *key, char *out, size_t outsize);

/* ---- parsing and verification ------------------------------------------- */

/* A parsed, not yet verified Identity header. */
typedef struct tpid_passport
{
	tpid_claims_t claims;
	char info[TPID_MAX_URI];	  /* the info parameter, without <> */
	char alg_param[TPID_MAX_PPT]; /* the alg parameter ("" if absent) */
	char ppt_param[TPID_MAX_PPT]; /* the ppt parameter, unquoted ("" if
									* absent) */
	char hdr_alg[16];			  /* alg of the JWS header */
	char hdr_typ[16];			  /* typ of the JWS header */
	/* signing input (b64u header "." b64u payload) and raw signature */
	char signing_input[TPID_MAX_HDR_LEN];
	size_t signing_input_len;
	unsigned char sig[TPID_ES256_SIG_LEN];
	size_t sig_len;
} tpid_passport_t;

/* Parses an Identity header value (full form), split by
 * tpid_idhdr_split(). Checks, in order, and returns the first failure:
 *   BAD_SYNTAX  structure, base64url, JSON, parameters, lengths
 *   BAD_PPT     ppt parameter / header ppt missing or != expect_ppt
 *   BAD_ALG     alg (header or parameter) other than ES256
 *   BAD_TYP     typ other than "passport"
 *   X5U_MISMATCH x5u differs from info
 *   BAD_CLAIMS  required claim missing or of the wrong type
 * expect_ppt is "rcd" for third-party tokens; "" demands a token without
 * any ppt; NULL accepts any ppt as long as parameter and header agree.
 * Parameter values compare as tpid_idhdr_val_eq() says (a token without
 * case), JWS header values exactly.
 * tpid (id, iss, exp) is required when the ppt is "rcd", rcd.nam too;
 * with ppt "avatar", avatar (aid, bar, fmt: strings) and avatari (an
 * object whose only member is the string "/avatar/bar") are, and rcd and
 * tpid are not read. Their grammar is tpid_avatar_check_claims()'s.
 * The signature's length is not judged here: tpid_passport_verify_sig()
 * refuses anything but 64 bytes (a DER signature) as BAD_SIGNATURE. */
int tpid_passport_parse(const char *hdr, size_t len, const char *expect_ppt,
		tpid_passport_t *t);

/* Verifies the raw r||s ES256 signature with a public key (any EVP_PKEY
 * holding an EC P-256 key). TPID_OK or TPID_R_BAD_SIGNATURE. */
int tpid_passport_verify_sig(const tpid_passport_t *t, EVP_PKEY *pub);

/* Time checks: IAT_STALE if iat < now - max_age, IAT_FUTURE if
 * iat > now + max_future, TPID_EXPIRED if exp <= now (exp is only
 * checked when the token has a tpid claim, i.e. c->id is not empty). */
int tpid_passport_check_time(
		const tpid_claims_t *c, int64_t now, int max_age, int max_future);

/* orig must equal expect (same kind and value); expect_dest must be one of
 * dest. ORIG_MISMATCH / DEST_MISMATCH. A NULL expectation is not checked. */
int tpid_passport_check_orig(
		const tpid_claims_t *c, const tpid_ident_t *expect);
int tpid_passport_check_dest(
		const tpid_claims_t *c, const tpid_ident_t *expect);

#endif
