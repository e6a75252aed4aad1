/*
 * tpid_assert - Kamailio glue: reading and editing the SIP message
 *
 * Header bodies are copied, bounded and NUL-terminated, before they reach
 * the token core: a header body inside the SIP buffer is not terminated.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>

#include "core/data_lump.h"
#include "core/dprint.h"
#include "core/mem/mem.h"
#include "core/parser/parse_from.h"
#include "core/parser/parse_ppi_pai.h"
#include "core/parser/parse_to.h"
#include "core/strutils.h"
#include "core/trim.h"
#include "core/ut.h"

#include "tpid_assert_cfg.h"
#include "tpid_assert_sip.h"
#include "tpid_ms.h"
#include "tpid_assert_stats.h"
#include "tpid_reason.h"

static int tpid_sip_name_is(hdr_field_t *hf, const str *name)
{
	return hf->name.len == name->len
		   && strncasecmp(hf->name.s, name->s, name->len) == 0;
}

static int tpid_sip_body_copy(hdr_field_t *hf, char *out, size_t outsize)
{
	str b = hf->body;

	trim(&b);
	if(b.len < 0 || (size_t)b.len >= outsize)
		return -1;
	memcpy(out, b.s, b.len);
	out[b.len] = '\0';
	return b.len;
}

/* An Identity header that tpid_idhdr_is_ours() claims for ppt: picking,
 * stripping and verifying all ask it. The body is read in place (the
 * tokenizer is bounded by the length); an empty one claims nothing. */
static int tpid_sip_identity_is_ours(hdr_field_t *hf, const char *ppt)
{
	str identity = str_init(TPID_IDENTITY_HDR);
	str b;

	if(hf->type != HDR_IDENTITY_T && !tpid_sip_name_is(hf, &identity))
		return 0;
	b = hf->body;
	trim(&b);
	if(b.len <= 0)
		return 0;
	/* over TPID_MAX_HDR_LEN it does not split: ours, and refused */
	return tpid_idhdr_is_ours(b.s, (size_t)b.len, ppt);
}

static int tpid_sip_parse_all(sip_msg_t *msg)
{
	if(parse_headers(msg, HDR_EOH_F, 0) < 0) {
		LM_ERR("cannot parse the SIP headers\n");
		return -1;
	}
	return 0;
}

static int tpid_sip_del(sip_msg_t *msg, hdr_field_t *hf)
{
	if(del_lump(msg, hf->name.s - msg->buf, hf->len, 0) == NULL) {
		LM_ERR("cannot remove header %.*s\n", hf->name.len, hf->name.s);
		return -1;
	}
	return 0;
}

int tpid_sip_remove_headers(sip_msg_t *msg, const str *name)
{
	hdr_field_t *hf;
	int n = 0;

	if(tpid_sip_parse_all(msg) < 0)
		return -1;
	for(hf = msg->headers; hf; hf = hf->next) {
		if(tpid_sip_name_is(hf, name)) {
			if(tpid_sip_del(msg, hf) < 0)
				return -1;
			n++;
		}
	}
	return n;
}

int tpid_sip_remove_identity(sip_msg_t *msg, const char *ppt, int keep_first)
{
	hdr_field_t *hf;
	int n = 0;

	if(tpid_sip_parse_all(msg) < 0)
		return -1;
	for(hf = msg->headers; hf; hf = hf->next) {
		if(tpid_sip_identity_is_ours(hf, ppt)) {
			if(keep_first) {
				keep_first = 0;
				continue;
			}
			if(tpid_sip_del(msg, hf) < 0)
				return -1;
			n++;
		}
	}
	return n;
}

int tpid_sip_add_header(sip_msg_t *msg, const str *name, const char *value)
{
	struct lump *anchor;
	size_t vlen = strlen(value);
	int len = name->len + 2 + (int)vlen + 2;
	char *s;

	if(tpid_sip_parse_all(msg) < 0)
		return -1;
	s = pkg_malloc(len);
	if(s == NULL) {
		PKG_MEM_ERROR;
		return -1;
	}
	memcpy(s, name->s, name->len);
	memcpy(s + name->len, ": ", 2);
	memcpy(s + name->len + 2, value, vlen);
	memcpy(s + len - 2, "\r\n", 2);
	anchor = anchor_lump(msg, msg->unparsed - msg->buf, 0, 0);
	if(anchor == NULL || insert_new_lump_before(anchor, s, len, 0) == NULL) {
		LM_ERR("cannot add header %.*s\n", name->len, name->s);
		pkg_free(s);
		return -1;
	}
	return 0;
}

int tpid_sip_get_header(sip_msg_t *msg, str *name, char *out, size_t outsize)
{
	hdr_field_t *hf;

	if(tpid_sip_parse_all(msg) < 0)
		return -1;
	for(hf = msg->headers; hf; hf = hf->next) {
		if(tpid_sip_name_is(hf, name))
			return tpid_sip_body_copy(hf, out, outsize);
	}
	return 0;
}

int tpid_sip_get_identity(
		sip_msg_t *msg, const char *ppt, char *out, size_t outsize)
{
	hdr_field_t *hf;

	if(tpid_sip_parse_all(msg) < 0)
		return -1;
	for(hf = msg->headers; hf; hf = hf->next) {
		if(tpid_sip_identity_is_ours(hf, ppt))
			return tpid_sip_body_copy(hf, out, outsize);
	}
	return 0;
}

/* A URI Kamailio parsed out of a header or the R-URI, by the one
 * grammar, into the orig/dest form. */
static int tpid_sip_norm(str *uri, tpid_ident_t *id)
{
	tpid_uri_t u;

	memset(id, 0, sizeof(*id));
	if(uri->s == NULL || uri->len <= 0
			|| tpid_uri_from_text(uri->s, (size_t)uri->len, &u) < 0)
		return -1;
	return tpid_uri_ident(&u, id);
}

int tpid_sip_pai(
		sip_msg_t *msg, tpid_ident_t *ids, char (*raw)[TPID_MAX_URI], int max)
{
	p_id_body_t *pb;
	int i, n = 0;

	if(parse_pai_header(msg) < 0 || msg->pai == NULL)
		return 0;
	for(pb = get_pai(msg); pb && n < max; pb = pb->next) {
		for(i = 0; i < pb->num_ids && n < max; i++) {
			str *u = &pb->id[i].uri;
			if(tpid_sip_norm(u, &ids[n]) < 0)
				continue;
			if(raw) {
				if(u->len >= TPID_MAX_URI)
					continue;
				memcpy(raw[n], u->s, u->len);
				raw[n][u->len] = '\0';
			}
			n++;
		}
	}
	return n;
}

int tpid_sip_pai_verstat(sip_msg_t *msg, int verstat)
{
	char uri[TPID_MAX_URI + 64];
	p_id_body_t *pb;
	struct lump *l;
	char *s;
	int i, n;

	if(parse_pai_header(msg) < 0 || msg->pai == NULL)
		return -1;
	for(pb = get_pai(msg); pb; pb = pb->next) {
		for(i = 0; i < pb->num_ids; i++) {
			str *u = &pb->id[i].uri;
			n = tpid_ms_verstat_uri(u->s, u->len, verstat, uri, sizeof(uri));
			if(n < 0)
				continue; /* not a telephone number */
			s = pkg_malloc(n);
			if(s == NULL) {
				PKG_MEM_ERROR;
				return -1;
			}
			memcpy(s, uri, n);
			/* the URI in place: the header keeps its position and name */
			l = del_lump(msg, u->s - msg->buf, u->len, HDR_PAI_T);
			if(l == NULL || insert_new_lump_after(l, s, n, HDR_PAI_T) == NULL) {
				pkg_free(s);
				return -1;
			}
			return 0;
		}
	}
	return -1;
}

int tpid_sip_from(sip_msg_t *msg, tpid_ident_t *id)
{
	if(parse_from_header(msg) < 0)
		return -1;
	return tpid_sip_norm(&get_from(msg)->uri, id);
}

int tpid_sip_to(sip_msg_t *msg, tpid_ident_t *id)
{
	if(parse_to_header(msg) < 0 || msg->to == NULL)
		return -1;
	return tpid_sip_norm(&get_to(msg)->uri, id);
}

int tpid_sip_ruri(sip_msg_t *msg, tpid_ident_t *id)
{
	str *ruri = GET_RURI(msg);
	return tpid_sip_norm(ruri, id);
}

void tpid_sip_ident_uri(const tpid_ident_t *id, char *out, size_t outsize)
{
	if(tpid_ident_text(id, out, outsize) < 0 && outsize > 0)
		out[0] = '\0';
}

int tpid_sip_reply(sip_msg_t *msg, int code, const char *phrase)
{
	str r;

	r.s = (char *)phrase;
	r.len = strlen(phrase);
	if(tpid_slb.freply(msg, code, &r) < 0) {
		LM_ERR("cannot send %d reply\n", code);
		return -1;
	}
	return 0;
}

int tpid_sip_refuse(sip_msg_t *msg, tpid_result_t *res, int reason, int policy,
		int code, const char *what)
{
	res->reason = reason;
	memset(&res->claims, 0, sizeof(res->claims));
	tpid_stats_reason(reason);
	LM_NOTICE("%s refused: %s (%d), call-id %.*s\n", what,
			tpid_reason_name(reason), reason,
			msg->callid ? msg->callid->body.len : 0,
			msg->callid ? msg->callid->body.s : "");
	if(policy == TPID_POLICY_REJECT) {
		res->ret = TPID_RET_REJECTED;
		if(tpid_sip_reply(msg, code, tpid_reason_sip_phrase(reason)) < 0)
			res->ret = TPID_RET_ERROR;
		return res->ret;
	}
	res->ret = TPID_RET_STRIPPED;
	return res->ret;
}

int tpid_sip_cancelled(sip_msg_t *msg, tpid_result_t **res, int n)
{
	int i;

	for(i = 0; i < n; i++) {
		res[i]->reason = TPID_R_CANCELLED;
		res[i]->ret = TPID_RET_REJECTED;
		memset(&res[i]->claims, 0, sizeof(res[i]->claims));
	}
	tpid_stats_reason(TPID_R_CANCELLED);
	LM_NOTICE("CANCELed before it could wait: nothing done, call-id %.*s\n",
			msg->callid ? msg->callid->body.len : 0,
			msg->callid ? msg->callid->body.s : "");
	return TPID_RET_REJECTED;
}
