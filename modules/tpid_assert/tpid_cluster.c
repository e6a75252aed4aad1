/*
 * tpid_assert - the cluster's messages (see tpid_cluster.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "tpid_cluster.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const struct
{
	tpid_cluster_op_t op;
	const char *name;
	int has_arg;
} tpid_cl_ops[] = {{TPID_CL_REVOKE_USER, "revoke_user", 1},
		{TPID_CL_REVOKE_ID, "revoke_id", 1},
		{TPID_CL_REVOKE_AVATAR, "revoke_avatar", 1},
		{TPID_CL_REVOKE_ENTERPRISE, "revoke_enterprise", 1},
		{TPID_CL_CACHE_FLUSH, "cache_flush", 0},
		{TPID_CL_AVATAR_FLUSH, "avatar_flush", 0},
		{TPID_CL_RELOAD, "reload", 0}, {TPID_CL_RELOAD_BARS, "reload_bars", 0},
		{TPID_CL_REPLAY, "replay", 0}, {TPID_CL_SYNC, "sync", 0}};

#define TPID_CL_NOPS (sizeof(tpid_cl_ops) / sizeof(tpid_cl_ops[0]))

const char *tpid_cluster_op_name(tpid_cluster_op_t op)
{
	size_t i;

	for(i = 0; i < TPID_CL_NOPS; i++)
		if(tpid_cl_ops[i].op == op)
			return tpid_cl_ops[i].name;
	return NULL;
}

int tpid_cluster_op_has_arg(tpid_cluster_op_t op)
{
	size_t i;

	for(i = 0; i < TPID_CL_NOPS; i++)
		if(tpid_cl_ops[i].op == op)
			return tpid_cl_ops[i].has_arg;
	return 0;
}

static void tpid_cl_hex(const unsigned char *in, char out[65])
{
	static const char digits[] = "0123456789abcdef";
	int i;

	for(i = 0; i < TPID_REPLAY_HASH_LEN; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[64] = '\0';
}

static int tpid_cl_nibble(char c)
{
	if(c >= '0' && c <= '9')
		return c - '0';
	if(c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* lower case only: one spelling per key */
}

static int tpid_cl_unhex(json_t *j, unsigned char out[TPID_REPLAY_HASH_LEN])
{
	const char *s;
	int i, hi, lo;

	if(!json_is_string(j) || json_string_length(j) != 2 * TPID_REPLAY_HASH_LEN)
		return -1;
	s = json_string_value(j);
	for(i = 0; i < TPID_REPLAY_HASH_LEN; i++) {
		hi = tpid_cl_nibble(s[2 * i]);
		lo = tpid_cl_nibble(s[2 * i + 1]);
		if(hi < 0 || lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
	}
	return 0;
}

static int tpid_cl_arg_ok(const char *s, size_t len)
{
	size_t i;

	if(len == 0 || len >= TPID_MAX_URI)
		return 0;
	for(i = 0; i < len; i++)
		if((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return 0; /* URIs, Avatar-IDs and domains are visible ASCII */
	return 1;
}

int tpid_cluster_encode(const tpid_cluster_msg_t *m, char *out, size_t size)
{
	const char *name = tpid_cluster_op_name(m->op);
	json_t *o, *arr, *row;
	char k[65], c[65];
	size_t n;
	int i, rc = -1;

	if(name == NULL || size == 0)
		return -1;
	if(tpid_cluster_op_has_arg(m->op)
			&& !tpid_cl_arg_ok(m->arg, strnlen(m->arg, sizeof(m->arg))))
		return -1;
	if(m->op == TPID_CL_REPLAY && (m->n < 1 || m->n > TPID_CLUSTER_BATCH))
		return -1;
	o = json_object();
	if(o == NULL || json_object_set_new(o, "op", json_string(name)) < 0)
		goto done;
	if(tpid_cluster_op_has_arg(m->op)
			&& json_object_set_new(o, "arg", json_string(m->arg)) < 0)
		goto done;
	if(m->op == TPID_CL_REPLAY) {
		arr = json_array();
		if(json_object_set_new(o, "entries", arr) < 0)
			goto done;
		for(i = 0; i < m->n; i++) {
			tpid_cl_hex(m->e[i].key, k);
			tpid_cl_hex(m->e[i].cid, c);
			row = json_pack("[ssI]", k, c, (json_int_t)m->e[i].expires);
			if(json_array_append_new(arr, row) < 0)
				goto done;
		}
	}
	/* straight into out; n > size - 1: it does not fit */
	n = json_dumpb(o, out, size - 1, JSON_COMPACT);
	if(n > 0 && n < size) {
		out[n] = '\0';
		rc = (int)n;
	}
done:
	json_decref(o);
	return rc;
}

static int tpid_cl_decode_replay(json_t *arr, tpid_cluster_msg_t *m)
{
	json_t *row, *exp;
	size_t i;

	if(!json_is_array(arr) || json_array_size(arr) < 1
			|| json_array_size(arr) > TPID_CLUSTER_BATCH)
		return -1;
	json_array_foreach(arr, i, row)
	{
		if(!json_is_array(row) || json_array_size(row) != 3
				|| tpid_cl_unhex(json_array_get(row, 0), m->e[i].key) < 0
				|| tpid_cl_unhex(json_array_get(row, 1), m->e[i].cid) < 0)
			return -1;
		exp = json_array_get(row, 2);
		if(!json_is_integer(exp) || json_integer_value(exp) <= 0)
			return -1;
		m->e[i].expires = (int64_t)json_integer_value(exp);
	}
	m->n = (int)json_array_size(arr);
	return 0;
}

int tpid_cluster_decode(const char *body, size_t len, tpid_cluster_msg_t *m)
{
	json_t *o, *op, *arg;
	size_t i, want;
	int rc = -1;

	memset(m, 0, sizeof(*m));
	if(body == NULL || len == 0 || len > TPID_CLUSTER_MAX_BODY)
		return -1;
	o = json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL);
	if(!json_is_object(o))
		goto done;
	op = json_object_get(o, "op");
	if(!json_is_string(op))
		goto done;
	for(i = 0; i < TPID_CL_NOPS; i++)
		if(strcmp(json_string_value(op), tpid_cl_ops[i].name) == 0)
			break;
	if(i == TPID_CL_NOPS)
		goto done;
	m->op = tpid_cl_ops[i].op;
	want = 1;
	if(tpid_cl_ops[i].has_arg) {
		arg = json_object_get(o, "arg");
		if(!json_is_string(arg)
				|| !tpid_cl_arg_ok(
						json_string_value(arg), json_string_length(arg)))
			goto done;
		memcpy(m->arg, json_string_value(arg), json_string_length(arg));
		m->arg[json_string_length(arg)] = '\0';
		want++;
	}
	if(m->op == TPID_CL_REPLAY) {
		if(tpid_cl_decode_replay(json_object_get(o, "entries"), m) < 0)
			goto done;
		want++;
	}
	if(json_object_size(o) == want)
		rc = 0;
done:
	json_decref(o);
	if(rc < 0)
		memset(m, 0, sizeof(*m));
	return rc;
}
