/*
 * tpid_assert - the Ms client: the HTTP interface between the S-CSCF and
 * the operator's signing and verification services (STI-AS / STI-VS,
 * TS 24.229 Annex V.2), and the verstat parameter (TS 24.229).
 *
 *   POST {root}/stir/v1/signing
 *     {"signingRequest":{<the PASSporT payload>,"origid":"<uuid>",
 *                        "ppt":"rcd"|"avatar"}}
 *   200 {"signingResponse":{"identityHeader":"..."}}
 *
 *   POST {root}/stir/v1/verification
 *     {"verificationRequest":{"from":{"tn":".."}|{"uri":".."},
 *       "identityHeader":"<as received>","time":N,
 *       "to":{"tn":[..],"uri":[..]}}}
 *   200 {"verificationResponse":{"verstatValue":"TN-Validation-Passed"|
 *       "TN-Validation-Failed"|"No-TN-Validation","reasonCode":N,
 *       "reasonText":"..","x5u":"..","payload":{..}}}
 *
 *   4xx/5xx {"requestError":{"serviceException"|"policyException":
 *       {"messageId":"..","text":"..","variables":[..]}}}
 *
 * Request bodies are canonical JSON (keys sorted, no whitespace). Only the
 * ES256 work moves to the services: an answer counts only when it is the
 * token asked for (signing) or vouches for the token sent (verification).
 * The service is one entry of the enterprise file's shape (the same HTTPS
 * settings and rules as the enterprise hook). Plain C (jansson, OpenSSL).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_MS_H
#define TPID_MS_H

#include <stddef.h>
#include <stdint.h>

#include "tpid_enterprise.h"
#include "tpid_https.h"
#include "tpid_passport.h"

#define TPID_MS_SIGN_PATH "/stir/v1/signing"
#define TPID_MS_VERIFY_PATH "/stir/v1/verification"

/* Room for any request body these functions build: a verification request
 * carries an Identity header of up to TPID_MAX_HDR_LEN bytes, each of
 * which JSON may escape into two. */
#define TPID_MS_MAX_REQUEST (2 * TPID_MAX_HDR_LEN + 2048)

#define TPID_MS_ORIGID_LEN 37 /* a UUID and its NUL */
#define TPID_MS_MAX_TEXT 256  /* a service's text kept for the logs */

/* verstat values (TS 24.229); NONE: the service gave none. */
#define TPID_VERSTAT_NONE 0
#define TPID_VERSTAT_PASSED 1 /* "TN-Validation-Passed" */
#define TPID_VERSTAT_FAILED 2 /* "TN-Validation-Failed" */
#define TPID_VERSTAT_NO_TN 3  /* "No-TN-Validation" */

/* ---- the service -------------------------------------------------------- */

/* Loads ms_file: {"ms": [ one entry of the enterprise file's shape, with
 * the domain "*" ]} (api_root, ca_file, client_cert/client_key,
 * bearer_token_file, connect_timeout_ms, timeout_ms,
 * allow_private_address), parsed and checked by tpid_enterprise.c. 0 with
 * *svc filled, or -1 with *svc untouched and a one-line reason in err. */
int tpid_ms_load(
		const char *path, tpid_enterprise_t *svc, char *err, size_t errsize);

/* Starts one request on the engine: a POST of body (len bytes, copied) to
 * {api_root}{path} with the service's CA, client certificate, bearer
 * token, timeouts and address policy; answers over max_body
 * (0: TPID_HOOK_MAX_BODY) fail. user comes back from tpid_https_next().
 * TPID_OK or TPID_R_INTERNAL. */
int tpid_ms_add(tpid_https_t *eng, const tpid_enterprise_t *svc,
		const char *path, const char *body, size_t len, size_t max_body,
		void *user);

/* ---- signing (STI-AS) ------------------------------------------------- */

/* A random (version 4) UUID in lower case, for origid. 0, or -1 (out
 * under TPID_MS_ORIGID_LEN bytes, no randomness). */
int tpid_ms_origid(char *out, size_t outsize);

/* The signing request for the claims c (ppt "rcd" or "avatar"; x5u is
 * not sent, the STI-AS has its own) with origid (a UUID in lower case),
 * into out: its length, or -1 (claims that make no payload, another ppt,
 * a malformed origid, out too small; out then holds ""). */
int tpid_ms_sign_request(
		const tpid_claims_t *c, const char *origid, char *out, size_t outsize);

/* The STI-AS's answer to tpid_ms_sign_request(asked, origid). TPID_OK with
 * the Identity header value in hdr (NUL-terminated) and, when signed_c is
 * not NULL, the claims as signed in *signed_c (asked's, with the STI-AS's
 * x5u; signed_c may be asked itself). Otherwise hdr holds "", *signed_c is
 * untouched and the reason is one of
 *   MS_CONNECT, MS_TIMEOUT, MS_TLS, MS_TOO_BIG  the engine's classes
 *   MS_SERVICE_ERROR, MS_POLICY_ERROR  an Ms error object (any status)
 *   MS_HTTP        another status than 200 without one
 *   MS_BAD_ANSWER  not {"signingResponse":{"identityHeader":<string>}}, a
 *                  header of more than TPID_MAX_HDR_LEN bytes (or hdrsize
 *                  - 1) or with a byte outside printable ASCII, or a header
 *                  that is not the token asked for: it must parse with the
 *                  module's own parser (tpid_passport_parse) with the ppt
 *                  asked, the alg parameter present, x5u an https URL (equal
 *                  to info: the parser's), a 64-byte signature, and a
 *                  payload whose claims are exactly the ones asked for
 *                  (orig, dest, iat, the ppt's claims; origid absent or
 *                  equal; nothing else). The signature is not verified
 *                  here (the terminating side does).
 *   INTERNAL       bad arguments.
 * text (may be NULL) gets a log-safe explanation of a failure: the
 * service's messageId and text, curl's words, or what was wrong. */
int tpid_ms_sign_result(const tpid_https_result_t *res,
		const tpid_claims_t *asked, const char *origid, char *hdr,
		size_t hdrsize, tpid_claims_t *signed_c, char *text, size_t textsize);

/* ---- verification (STI-VS) -------------------------------------------- */

/* The verification request for the Identity header value hdr (len bytes,
 * as received: no NUL, valid UTF-8, at most TPID_MAX_HDR_LEN), from (the
 * orig form of the caller) and to (nto >= 1 identities, dest form) at
 * time now (seconds, >= 0), into out: its length, or -1 (out then ""). */
int tpid_ms_verify_request(const char *hdr, size_t len,
		const tpid_ident_t *from, const tpid_ident_t *to, int nto, int64_t now,
		char *out, size_t outsize);

/* What the STI-VS said. */
typedef struct tpid_ms_verification
{
	int verstat;	 /* TPID_VERSTAT_*: NONE without a well-formed
					  * verificationResponse */
	int reason_code; /* reasonCode (100..699), 0 when absent */
	/* reasonText, else the Ms error's text, curl's words or what was
	 * wrong with the answer; log-safe (bounded, no control character) */
	char reason_text[TPID_MS_MAX_TEXT];
	char x5u[TPID_MAX_URI]; /* the certificate URL used (TPID_OK only) */
	tpid_claims_t claims;	/* the verified token's claims (TPID_OK only) */
	long http_status;
	double elapsed_ms;
} tpid_ms_verification_t;

/* The STI-VS's answer about the header hdr (len bytes) the module sent.
 * TPID_OK only for TN-Validation-Passed with an x5u equal to the token's
 * and a payload equal (as JSON values) to the token's own: a service that
 * vouches for another token is not believed. Otherwise:
 *   TN-Validation-Failed  by reasonCode: 436 CERT_FETCH, 437 CERT_INVALID,
 *                         438 BAD_SIGNATURE, 403 IAT_STALE, any other or
 *                         none MS_VERIFY_FAILED
 *   No-TN-Validation      MS_NO_VALIDATION
 *   a pass without x5u or payload, or with others than the token's, and
 *   anything but the documented JSON  MS_BAD_ANSWER
 *   the transport and error reasons of tpid_ms_sign_result()
 *   the parser's reason when hdr itself does not parse (BAD_SYNTAX, ...)
 *   INTERNAL (bad arguments).
 * *out is always filled (zeroed first, then whatever was read). */
int tpid_ms_verify_result(const tpid_https_result_t *res, const char *hdr,
		size_t len, tpid_ms_verification_t *out);

/* ---- verstat (TS 24.229) ------------------------------------------------ */

/* The token of a TPID_VERSTAT_* ("TN-Validation-Passed", ...); "none" for
 * NONE and any other value. */
const char *tpid_ms_verstat_name(int verstat);

/* A bare URI (len bytes) with ";verstat=<token>" where TS 24.229 puts it,
 * into out: a tel URI gets it as a parameter, a sip/sips URI with
 * user=phone in its user part:
 *   tel:+4961519876543;verstat=TN-Validation-Passed
 *   sip:+4961519876543;verstat=TN-Validation-Passed@ims.example;user=phone
 * placed as RFC 3966 orders parameters (after isub, ext and phone-context,
 * before the first other parameter whose name sorts after "verstat").
 * Every verstat already there (the number's parameters, a SIP URI's own
 * parameters) is dropped; everything else is kept as written. Returns the
 * length, or -1 (out then "") for a URI that the identity grammar refuses
 * or that holds no telephone number, verstat NONE or unknown, out too
 * small. */
int tpid_ms_verstat_uri(
		const char *uri, size_t len, int verstat, char *out, size_t outsize);

/* The same on a P-Asserted-Identity value (one name-addr or addr-spec:
 * `<uri>`, `"name" <uri>`, `uri`): its URI as above, an addr-spec put in
 * <> (its ';' parameters are the header's), and verstat header parameters
 * dropped. Returns the length, or -1. */
int tpid_ms_verstat_pai(
		const char *pai, size_t len, int verstat, char *out, size_t outsize);

#endif
