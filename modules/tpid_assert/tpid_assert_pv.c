/*
 * tpid_assert - Kamailio glue: the $tpid(key) pseudo-variable
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>

#include "core/dprint.h"

#include "tpid_assert_cfg.h"
#include "tpid_assert_pv.h"
#include "tpid_reason.h"

enum
{
	TPID_PV_RESULT = 0,
	TPID_PV_REASON,
	TPID_PV_REASON_NAME,
	TPID_PV_SIP_CODE,
	TPID_PV_SIP_REASON,
	TPID_PV_ID,
	TPID_PV_NAME,
	TPID_PV_ISS,
	TPID_PV_EXP,
	TPID_PV_IAT,
	TPID_PV_ORIG,
	TPID_PV_X5U,
	TPID_PV_HOOK_MS,
	TPID_PV_BAR,
	TPID_PV_FMT,
	TPID_PV_DIGEST
};

/* Keys of the avatar's result carry this bit. */
#define TPID_PV_AVATAR 0x100

typedef struct tpid_pv_key
{
	const char *name;
	int key;
} tpid_pv_key_t;

static const tpid_pv_key_t tpid_pv_keys[] = {{"result", TPID_PV_RESULT},
		{"reason", TPID_PV_REASON}, {"reason_name", TPID_PV_REASON_NAME},
		{"sip_code", TPID_PV_SIP_CODE}, {"sip_reason", TPID_PV_SIP_REASON},
		{"id", TPID_PV_ID}, {"name", TPID_PV_NAME}, {"iss", TPID_PV_ISS},
		{"exp", TPID_PV_EXP}, {"iat", TPID_PV_IAT}, {"orig", TPID_PV_ORIG},
		{"x5u", TPID_PV_X5U}, {"hook_ms", TPID_PV_HOOK_MS},
		{"avatar_result", TPID_PV_AVATAR | TPID_PV_RESULT},
		{"avatar_reason", TPID_PV_AVATAR | TPID_PV_REASON},
		{"avatar_reason_name", TPID_PV_AVATAR | TPID_PV_REASON_NAME},
		{"avatar_sip_code", TPID_PV_AVATAR | TPID_PV_SIP_CODE},
		{"avatar_sip_reason", TPID_PV_AVATAR | TPID_PV_SIP_REASON},
		{"avatar_id", TPID_PV_AVATAR | TPID_PV_ID},
		{"avatar_bar", TPID_PV_AVATAR | TPID_PV_BAR},
		{"avatar_fmt", TPID_PV_AVATAR | TPID_PV_FMT},
		{"avatar_digest", TPID_PV_AVATAR | TPID_PV_DIGEST},
		{"avatar_iat", TPID_PV_AVATAR | TPID_PV_IAT},
		{"avatar_orig", TPID_PV_AVATAR | TPID_PV_ORIG},
		{"avatar_x5u", TPID_PV_AVATAR | TPID_PV_X5U},
		{"avatar_bar_ms", TPID_PV_AVATAR | TPID_PV_HOOK_MS}, {NULL, 0}};

int pv_parse_tpid_name(pv_spec_p sp, str *in)
{
	int i;

	if(sp == NULL || in == NULL || in->len <= 0)
		return -1;
	for(i = 0; tpid_pv_keys[i].name; i++) {
		if(strlen(tpid_pv_keys[i].name) == (size_t)in->len
				&& strncmp(in->s, tpid_pv_keys[i].name, in->len) == 0) {
			sp->pvp.pvn.type = PV_NAME_INTSTR;
			sp->pvp.pvn.u.isname.type = 0;
			sp->pvp.pvn.u.isname.name.n = tpid_pv_keys[i].key;
			return 0;
		}
	}
	LM_ERR("unknown $tpid key: %.*s\n", in->len, in->s);
	return -1;
}

static int pv_tpid_str(
		sip_msg_t *msg, pv_param_t *param, pv_value_t *res, const char *s)
{
	if(s == NULL || *s == '\0')
		return pv_get_null(msg, param, res);
	return pv_get_strzval(msg, param, res, (char *)s);
}

int pv_get_tpid(sip_msg_t *msg, pv_param_t *param, pv_value_t *res)
{
	/* "tel:+" and the orig value: never truncated */
	static char buf[sizeof("tel:+") + TPID_MAX_URI];
	const tpid_result_t *r;
	const tpid_claims_t *c;
	int key;

	if(msg == NULL || param == NULL)
		return -1;
	key = param->pvn.u.isname.name.n;
	r = (key & TPID_PV_AVATAR) ? &tpid_avres : &tpid_res;
	c = &r->claims;
	/* No call on this message yet: nothing to report. */
	if(r->msg_id != msg->id || r->msg_pid != msg->pid)
		return pv_get_null(msg, param, res);
	switch(key & ~TPID_PV_AVATAR) {
		case TPID_PV_RESULT:
			return pv_get_sintval(msg, param, res, r->ret);
		case TPID_PV_REASON:
			return pv_get_sintval(msg, param, res, r->reason);
		case TPID_PV_REASON_NAME:
			return pv_tpid_str(msg, param, res, tpid_reason_name(r->reason));
		case TPID_PV_SIP_CODE:
			return pv_get_sintval(
					msg, param, res, tpid_reason_sip_code(r->reason));
		case TPID_PV_SIP_REASON:
			return pv_tpid_str(
					msg, param, res, tpid_reason_sip_phrase(r->reason));
		case TPID_PV_ID:
			return pv_tpid_str(
					msg, param, res, (key & TPID_PV_AVATAR) ? c->aid : c->id);
		case TPID_PV_NAME:
			return pv_tpid_str(msg, param, res, c->name);
		case TPID_PV_ISS:
			return pv_tpid_str(msg, param, res, c->iss);
		case TPID_PV_EXP:
			return pv_get_sintval(msg, param, res, (long)c->exp);
		case TPID_PV_IAT:
			return pv_get_sintval(msg, param, res, (long)c->iat);
		case TPID_PV_ORIG:
			if(c->orig.value[0] == '\0')
				return pv_get_null(msg, param, res);
			snprintf(buf, sizeof(buf), "%s%s", c->orig.is_tn ? "tel:+" : "",
					c->orig.value);
			return pv_tpid_str(msg, param, res, buf);
		case TPID_PV_X5U:
			return pv_tpid_str(msg, param, res, c->x5u);
		case TPID_PV_HOOK_MS:
			return pv_get_sintval(msg, param, res, (long)r->hook_ms);
		case TPID_PV_BAR:
			return pv_tpid_str(msg, param, res, c->bar);
		case TPID_PV_FMT:
			return pv_tpid_str(msg, param, res, c->fmt);
		case TPID_PV_DIGEST:
			return pv_tpid_str(msg, param, res, c->digest);
	}
	return pv_get_null(msg, param, res);
}
