/*
 * tpid_assert - Kamailio glue: RPC commands
 *
 * Revocation must not wait for a TTL when the enterprise says an employee
 * has left: evict one ID, one served user, one enterprise or everything.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <ctype.h>
#include <string.h>
#include <time.h>

#include "core/dprint.h"
#include "core/rpc.h"
#include "core/rpc_lookup.h"

#include "tpid_assert_async.h"
#include "tpid_assert_cfg.h"
#include "tpid_assert_cluster.h"
#include "tpid_assert_dir.h"
#include "tpid_assert_rpc.h"
#include "tpid_assert_signer.h"
#include "tpid_assert_x5u.h"
#include "tpid_avatar.h"
#include "tpid_ident.h"

typedef struct tpid_rpc_walk
{
	rpc_t *rpc;
	void *ctx;
	void *arr;
	int64_t now;
	tpid_dir_t *dir;
} tpid_rpc_walk_t;

static const char *tpid_rpc_result(const tpid_cache_view_t *v)
{
	if(v->state == TPID_CACHE_PENDING)
		return "pending";
	switch(v->reason) {
		case TPID_OK:
			return "authorized";
		case TPID_R_DENIED:
		case TPID_R_AVATAR_DENIED:
			return "denied";
		default:
			return "unknown";
	}
}

static int tpid_rpc_entry(const tpid_cache_view_t *v, void *arg)
{
	tpid_rpc_walk_t *w = arg;
	void *st;

	if(w->rpc->array_add(w->arr, "{", &st) < 0)
		return 1;
	w->rpc->struct_add(st, "ssssssdd", "served", v->served, "id", v->id,
			w->dir == &tpid_bars ? "bar" : "enterprise", v->domain, "result",
			tpid_rpc_result(v),
			w->dir == &tpid_bars ? "representation" : "name", v->value, "state",
			v->state == TPID_CACHE_PENDING ? "pending" : "done", "expires_in",
			v->state == TPID_CACHE_PENDING ? 0 : (int)(v->expires - w->now),
			"hits", (int)v->hits);
	return 0;
}

static const char *tpid_rpc_cache_list_doc[] = {
		"List the cached enterprise decisions (served user, third-party ID, "
		"result, seconds left).",
		0};

static void tpid_rpc_list(rpc_t *rpc, void *ctx, tpid_dir_t *dir)
{
	tpid_rpc_walk_t w;
	void *th;

	if(rpc->add(ctx, "{", &th) < 0)
		return;
	memset(&w, 0, sizeof(w));
	w.rpc = rpc;
	w.ctx = ctx;
	w.dir = dir;
	w.now = (int64_t)time(NULL);
	if(rpc->struct_add(th, "d", "count", (int)tpid_cache_count(dir->cache)) < 0
			|| rpc->struct_add(th, "[", "entries", &w.arr) < 0)
		return;
	tpid_cache_walk(dir->cache, w.now, tpid_rpc_entry, &w);
}

static void tpid_rpc_cache_list(rpc_t *rpc, void *ctx)
{
	tpid_rpc_list(rpc, ctx, &tpid_ents);
}

static const char *tpid_rpc_avatar_list_doc[] = {
		"List the cached avatar repository decisions (served user, "
		"Avatar-ID, BAR, result, representation, seconds left).",
		0};

static void tpid_rpc_avatar_list(rpc_t *rpc, void *ctx)
{
	tpid_rpc_list(rpc, ctx, &tpid_bars);
}

/* An eviction here and, in a cluster, on every other instance. */
static int tpid_rpc_do(tpid_cluster_op_t op, const char *arg)
{
	char err[64];

	return tpid_cluster_do(op, arg, err, sizeof(err));
}

static void tpid_rpc_evicted(rpc_t *rpc, void *ctx, int n)
{
	void *th;

	if(rpc->add(ctx, "{", &th) < 0)
		return;
	rpc->struct_add(th, "d", "evicted", n);
}

static const char *tpid_rpc_cache_flush_doc[] = {
		"Evict every cached decision.", 0};

static void tpid_rpc_cache_flush(rpc_t *rpc, void *ctx)
{
	tpid_rpc_evicted(rpc, ctx, tpid_rpc_do(TPID_CL_CACHE_FLUSH, NULL));
}

static const char *tpid_rpc_avatar_flush_doc[] = {
		"Evict every cached avatar decision.", 0};

static void tpid_rpc_avatar_flush(rpc_t *rpc, void *ctx)
{
	tpid_rpc_evicted(rpc, ctx, tpid_rpc_do(TPID_CL_AVATAR_FLUSH, NULL));
}

/* One string parameter, NUL-terminated into buf. */
static int tpid_rpc_arg(rpc_t *rpc, void *ctx, char *buf, size_t size)
{
	str s = STR_NULL;

	if(rpc->scan(ctx, "S", &s) < 1 || s.len <= 0) {
		rpc->fault(ctx, 400, "missing parameter");
		return -1;
	}
	if((size_t)s.len >= size) {
		rpc->fault(ctx, 400, "parameter too long");
		return -1;
	}
	memcpy(buf, s.s, s.len);
	buf[s.len] = '\0';
	return 0;
}

static const char *tpid_rpc_revoke_id_doc[] = {
		"Evict every decision about one third-party ID "
		"(e.g. sip:e102938@acme.example; any spelling of it).",
		0};

static void tpid_rpc_revoke_id(rpc_t *rpc, void *ctx)
{
	char arg[TPID_MAX_URI], id[TPID_MAX_URI];

	if(tpid_rpc_arg(rpc, ctx, arg, sizeof(arg)) < 0)
		return;
	if(tpid_uri_canon_text(arg, strlen(arg), id, sizeof(id)) < 0) {
		rpc->fault(ctx, 400, "not a sip, sips or tel URI");
		return;
	}
	tpid_rpc_evicted(rpc, ctx, tpid_rpc_do(TPID_CL_REVOKE_ID, id));
}

static const char *tpid_rpc_revoke_avatar_doc[] = {
		"Evict every decision about one Avatar-ID (e.g. alice-01).", 0};

static void tpid_rpc_revoke_avatar(rpc_t *rpc, void *ctx)
{
	char aid[TPID_MAX_AID + 1];

	if(tpid_rpc_arg(rpc, ctx, aid, sizeof(aid)) < 0)
		return;
	if(!tpid_avatar_id_ok(aid, strlen(aid))) {
		rpc->fault(ctx, 400, "not an Avatar-ID");
		return;
	}
	tpid_rpc_evicted(rpc, ctx, tpid_rpc_do(TPID_CL_REVOKE_AVATAR, aid));
}

static const char *tpid_rpc_revoke_user_doc[] = {
		"Evict every decision (third-party IDs and avatars) about one "
		"served user "
		"(a tel or SIP URI, read as the cache keys it: tel:+<digits> "
		"or the canonical SIP URI).",
		0};

static void tpid_rpc_revoke_user(rpc_t *rpc, void *ctx)
{
	char arg[TPID_MAX_URI], served[TPID_MAX_URI];

	if(tpid_rpc_arg(rpc, ctx, arg, sizeof(arg)) < 0)
		return;
	if(tpid_uri_ident_text(arg, strlen(arg), served, sizeof(served)) < 0) {
		rpc->fault(ctx, 400, "not a sip, sips or tel URI");
		return;
	}
	tpid_rpc_evicted(rpc, ctx, tpid_rpc_do(TPID_CL_REVOKE_USER, served));
}

static const char *tpid_rpc_revoke_enterprise_doc[] = {
		"Evict every decision of one enterprise (its domain).", 0};

static void tpid_rpc_revoke_enterprise(rpc_t *rpc, void *ctx)
{
	char domain[TPID_MAX_DOMAIN];
	size_t i;

	if(tpid_rpc_arg(rpc, ctx, domain, sizeof(domain)) < 0)
		return;
	if(!tpid_dns_name_ok(domain, strlen(domain))) {
		rpc->fault(ctx, 400, "not a DNS name");
		return;
	}
	/* the table keeps domains lower-cased */
	for(i = 0; domain[i]; i++)
		domain[i] = (char)tolower((unsigned char)domain[i]);
	tpid_rpc_evicted(rpc, ctx, tpid_rpc_do(TPID_CL_REVOKE_ENTERPRISE, domain));
}

static const char *tpid_rpc_reload_doc[] = {
		"Reload the enterprise file. A bad file is refused and the running "
		"configuration stays.",
		0};

static void tpid_rpc_reload(rpc_t *rpc, void *ctx)
{
	char err[512];
	void *th;

	if(tpid_cluster_do(TPID_CL_RELOAD, NULL, err, sizeof(err)) < 0) {
		LM_ERR("enterprise reload refused, previous configuration kept: %s\n",
				err);
		rpc->fault(ctx, 500, "reload refused: %s", err);
		return;
	}
	LM_INFO("enterprise file reloaded (version %d)\n",
			tpid_dir_version(&tpid_ents));
	if(rpc->add(ctx, "{", &th) < 0)
		return;
	rpc->struct_add(th, "dd", "version", tpid_dir_version(&tpid_ents),
			"enterprises", tpid_dir_walk(&tpid_ents, NULL, NULL));
}

static const char *tpid_rpc_reload_bars_doc[] = {
		"Reload the avatar repository file (bar_file). A bad file is refused "
		"and the running configuration stays.",
		0};

static void tpid_rpc_reload_bars(rpc_t *rpc, void *ctx)
{
	char err[512];
	void *th;

	if(tpid_cluster_do(TPID_CL_RELOAD_BARS, NULL, err, sizeof(err)) < 0) {
		LM_ERR("avatar repository reload refused, previous configuration "
			   "kept: %s\n",
				err);
		rpc->fault(ctx, 500, "reload refused: %s", err);
		return;
	}
	LM_INFO("avatar repository file reloaded (version %d)\n",
			tpid_dir_version(&tpid_bars));
	if(rpc->add(ctx, "{", &th) < 0)
		return;
	rpc->struct_add(th, "dd", "version", tpid_dir_version(&tpid_bars), "bars",
			tpid_dir_walk(&tpid_bars, NULL, NULL));
}

static const char *tpid_rpc_reload_key_doc[] = {
		"Reload the signing key without a restart: [key_file [x5u "
		"[cert_file]]], by default the files in force (replaced in place). "
		"The key must be EC P-256, not encrypted, and match cert_file (the "
		"certificate published at x5u) when one is given; otherwise the "
		"running key stays. Calls being signed are not affected.",
		0};

static void tpid_rpc_reload_key(rpc_t *rpc, void *ctx)
{
	char key[512], x5u[TPID_MAX_URI], cert[512], err[768];
	str a[3] = {STR_NULL, STR_NULL, STR_NULL};
	char *dst[3] = {key, x5u, cert};
	size_t dsz[3] = {sizeof(key), sizeof(x5u), sizeof(cert)};
	void *th;
	int i, n, v;

	if(tpid_signer_info(x5u, sizeof(x5u), key, sizeof(key), cert, sizeof(cert))
			== 0) {
		rpc->fault(ctx, 500, "no signing key configured (sign_key)");
		return;
	}
	n = rpc->scan(ctx, "*SSS", &a[0], &a[1], &a[2]);
	for(i = 0; i < n && i < 3; i++) {
		if(a[i].len <= 0 || (size_t)a[i].len >= dsz[i]
				|| memchr(a[i].s, '\0', a[i].len) != NULL) {
			rpc->fault(ctx, 400, "argument %d: empty or too long", i + 1);
			return;
		}
		memcpy(dst[i], a[i].s, a[i].len);
		dst[i][a[i].len] = '\0';
	}
	if(tpid_signer_load(key, x5u, cert, err, sizeof(err)) < 0) {
		LM_ERR("signing key reload refused, previous key kept: %s\n", err);
		rpc->fault(ctx, 500, "reload refused: %s", err);
		return;
	}
	v = tpid_signer_info(
			x5u, sizeof(x5u), key, sizeof(key), cert, sizeof(cert));
	LM_INFO("signing key reloaded (version %d, x5u %s)\n", v, x5u);
	if(rpc->add(ctx, "{", &th) < 0)
		return;
	rpc->struct_add(th, "dsss", "version", v, "x5u", x5u, "key_file", key,
			"cert_file", cert);
}

typedef struct tpid_rpc_ent
{
	rpc_t *rpc;
	void *arr;
} tpid_rpc_ent_t;

static void tpid_rpc_ent_add(const tpid_enterprise_t *e, void *arg)
{
	tpid_rpc_ent_t *r = arg;
	void *st;

	if(r->rpc->array_add(r->arr, "{", &st) < 0)
		return;
	r->rpc->struct_add(st, "sssdddd", "domain", e->domain, "api_root",
			e->api_root, "mtls", e->client_cert[0] ? "yes" : "no",
			"connect_timeout_ms", (int)e->connect_timeout_ms, "timeout_ms",
			(int)e->timeout_ms, "ttl_cap", e->ttl_cap, "bearer",
			e->bearer_token[0] ? 1 : 0);
}

static const char *tpid_rpc_status_doc[] = {
		"Show the enterprises, the cache size, the queries in flight and "
		"the hook workers alive.",
		0};

static void tpid_rpc_status(rpc_t *rpc, void *ctx)
{
	tpid_rpc_ent_t r;
	void *th;

	if(rpc->add(ctx, "{", &th) < 0)
		return;
	rpc->struct_add(th, "ddddddd", "enterprise_version",
			tpid_dir_version(&tpid_ents), "cache_entries",
			(int)tpid_cache_count(tpid_ents.cache), "cache_size",
			tpid_cfg.cache_size, "inflight", tpid_async_inflight(),
			"max_inflight", tpid_cfg.max_inflight, "hook_workers",
			tpid_cfg.hook_workers, "hook_workers_alive",
			tpid_async_workers_alive());
	r.rpc = rpc;
	if(rpc->struct_add(th, "[", "enterprises", &r.arr) < 0)
		return;
	tpid_dir_walk(&tpid_ents, tpid_rpc_ent_add, &r);
}

static const char *tpid_rpc_x5u_list_doc[] = {
		"List the certificate cache of the terminating side: x5u URL, "
		"state (good, bad, pending), reason, bytes, expiry (Unix time), "
		"hits, generation.",
		0};

static const char *tpid_rpc_x5u_flush_doc[] = {
		"Drop the cached certificate (or failure) of one x5u URL, or all "
		"with no argument: the next call fetches again. Returns how many.",
		0};

/* clang-format off */
static rpc_export_t tpid_rpc_cmds[] = {
	{"tpid_assert.cache_list", tpid_rpc_cache_list, tpid_rpc_cache_list_doc,
		0},
	{"tpid_assert.cache_flush", tpid_rpc_cache_flush, tpid_rpc_cache_flush_doc,
		0},
	{"tpid_assert.revoke_id", tpid_rpc_revoke_id, tpid_rpc_revoke_id_doc, 0},
	{"tpid_assert.revoke_user", tpid_rpc_revoke_user,
		tpid_rpc_revoke_user_doc, 0},
	{"tpid_assert.revoke_enterprise", tpid_rpc_revoke_enterprise,
		tpid_rpc_revoke_enterprise_doc, 0},
	{"tpid_assert.reload", tpid_rpc_reload, tpid_rpc_reload_doc, 0},
	{"tpid_assert.status", tpid_rpc_status, tpid_rpc_status_doc, 0},
	{"tpid_assert.reload_key", tpid_rpc_reload_key, tpid_rpc_reload_key_doc,
		0},
	{"tpid_assert.x5u_list", tpid_x5u_rpc_list, tpid_rpc_x5u_list_doc,
		0},
	{"tpid_assert.x5u_flush", tpid_x5u_rpc_flush, tpid_rpc_x5u_flush_doc, 0},
	{"tpid_assert.avatar_list", tpid_rpc_avatar_list,
		tpid_rpc_avatar_list_doc, 0},
	{"tpid_assert.avatar_flush", tpid_rpc_avatar_flush,
		tpid_rpc_avatar_flush_doc, 0},
	{"tpid_assert.revoke_avatar", tpid_rpc_revoke_avatar,
		tpid_rpc_revoke_avatar_doc, 0},
	{"tpid_assert.reload_bars", tpid_rpc_reload_bars, tpid_rpc_reload_bars_doc,
		0},
	{0, 0, 0, 0}
};
/* clang-format on */

int tpid_rpc_register(void)
{
	if(rpc_register_array(tpid_rpc_cmds) != 0) {
		LM_ERR("cannot register the RPC commands\n");
		return -1;
	}
	return 0;
}
