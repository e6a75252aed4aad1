/*
 * tpid_assert - Kamailio glue: reading and editing the SIP message
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef TPID_ASSERT_SIP_H
#define TPID_ASSERT_SIP_H

#include "core/parser/msg_parser.h"
#include "core/str.h"

#include "tpid_assert_cfg.h"
#include "tpid_ident.h"
#include "tpid_passport.h"

#define TPID_IDENTITY_HDR "Identity"

/* Which Identity headers tpid_sip_remove_identity() removes. */
#define TPID_PPT_THIRD_PARTY "rcd"

/* Removes every header named name; returns how many, -1 on error. */
int tpid_sip_remove_headers(sip_msg_t *msg, const str *name);

/* Removes the Identity headers whose ppt is ppt (SHAKEN and others stay);
 * with keep_first, all but the first of them (the one just verified). */
int tpid_sip_remove_identity(sip_msg_t *msg, const char *ppt, int keep_first);

/* Appends "name: value\r\n" to the headers. 0 or -1. */
int tpid_sip_add_header(sip_msg_t *msg, const str *name, const char *value);

/* Copies the body of the first header named name, trimmed, NUL-terminated.
 * Returns its length, 0 if absent, -1 if longer than outsize - 1. */
int tpid_sip_get_header(sip_msg_t *msg, str *name, char *out, size_t outsize);

/* Copies the body of the first Identity header whose ppt is ppt. Same
 * returns as tpid_sip_get_header. */
int tpid_sip_get_identity(
		sip_msg_t *msg, const char *ppt, char *out, size_t outsize);

/* The URIs of the P-Asserted-Identity headers, at most max, each
 * read by the one grammar (tpid_ident.h) into the orig/dest form; raw copies into raw[i] when raw is not NULL. Returns how many
 * (0 when there is no usable PAI). */
int tpid_sip_pai(
		sip_msg_t *msg, tpid_ident_t *ids, char (*raw)[TPID_MAX_URI], int max);

/* The From URI, normalised. 0 or -1. */
/* TS 24.229 verstat (a TPID_VERSTAT_*) on the first P-Asserted-Identity
 * URI holding a telephone number, replacing one the network sent. 0, or -1
 * when there is no such URI or the edit failed. */
int tpid_sip_pai_verstat(sip_msg_t *msg, int verstat);

int tpid_sip_from(sip_msg_t *msg, tpid_ident_t *id);

/* The Request-URI and the To URI, normalised. 0 or -1. */
int tpid_sip_ruri(sip_msg_t *msg, tpid_ident_t *id);
int tpid_sip_to(sip_msg_t *msg, tpid_ident_t *id);

/* Formats an identity back into a URI: tel:+<digits> or the uri (""
 * if it does not fit). */
void tpid_sip_ident_uri(const tpid_ident_t *id, char *out, size_t outsize);

/* An originating refusal: res gets the reason and no claims (only what
 * was signed is named), the reason is counted and logged ("<what>
 * refused: NAME (N), call-id ..."), then policy: reject replies code with
 * the reason's phrase (result -1), strip lets the call go on (3). */
/* The INVITE was CANCELed before it could wait (TPID_R_CANCELLED): tm has
 * answered it. Every result given says so and "replied" (the script
 * exits); no policy, no reply. */
int tpid_sip_cancelled(sip_msg_t *msg, tpid_result_t **res, int n);

int tpid_sip_refuse(sip_msg_t *msg, tpid_result_t *res, int reason, int policy,
		int code, const char *what);

/* Sends a stateless (or transaction, if one exists) reply. 0 or -1. */
int tpid_sip_reply(sip_msg_t *msg, int code, const char *phrase);

#endif
