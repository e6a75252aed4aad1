/*
 * tpid_assert - Kamailio glue: a cluster of instances on Kamailio's DMQ
 * (enable_dmq), in the manner of htable's and dialog's DMQ replication.
 *
 * Revocations, cache flushes and reloads done by RPC on one instance are
 * done on every instance; the tokens a terminating instance accepts are
 * entered into the replay cache of every instance, so that a token replayed
 * to another one is refused; a node that joins asks the others for their
 * replay entries. Messages: tpid_cluster.h. A message from a peer is acted
 * on locally and never sent on.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <ctype.h>
#include <string.h>
#include <time.h>

#include "core/dprint.h"
#include "core/mem/mem.h"
#include "core/parser/msg_parser.h"
#include "core/parser/parse_content.h"
#include "modules/dmq/bind_dmq.h"

#include "tpid_assert_cfg.h"
#include "tpid_assert_cluster.h"
#include "tpid_assert_dir.h"
#include "tpid_assert_replay.h"

static dmq_api_t tpid_dmqb;
static dmq_peer_t *tpid_dmq_peer = NULL;
static str tpid_dmq_ct = str_init("application/json");
static str tpid_dmq_400 = str_init("Bad Request");
static str tpid_dmq_500 = str_init("Server Internal Error");

/* ---- acting locally ---------------------------------------------------- */

int tpid_cluster_act(
		tpid_cluster_op_t op, const char *arg, char *err, size_t errsize)
{
	if(errsize > 0)
		err[0] = '\0';
	switch(op) {
		case TPID_CL_REVOKE_USER:
			return tpid_cache_evict(tpid_ents.cache, arg, NULL, NULL)
				   + tpid_cache_evict(tpid_bars.cache, arg, NULL, NULL);
		case TPID_CL_REVOKE_ID:
			return tpid_cache_evict(tpid_ents.cache, NULL, arg, NULL);
		case TPID_CL_REVOKE_AVATAR:
			return tpid_cache_evict(tpid_bars.cache, NULL, arg, NULL);
		case TPID_CL_REVOKE_ENTERPRISE:
			return tpid_cache_evict(tpid_ents.cache, NULL, NULL, arg);
		case TPID_CL_CACHE_FLUSH:
			return tpid_cache_evict(tpid_ents.cache, NULL, NULL, NULL);
		case TPID_CL_AVATAR_FLUSH:
			return tpid_cache_evict(tpid_bars.cache, NULL, NULL, NULL);
		case TPID_CL_RELOAD:
			return tpid_dir_reload(
					&tpid_ents, tpid_cfg.enterprise_file, err, errsize);
		case TPID_CL_RELOAD_BARS:
			return tpid_dir_reload(&tpid_bars, tpid_cfg.bar_file, err, errsize);
		default:
			snprintf(err, errsize, "not an action");
			return -1;
	}
}

/* ---- telling the others ----------------------------------------------- */

static int tpid_dmq_resp_f(
		struct sip_msg *msg, int code, dmq_node_t *node, void *param)
{
	if(code >= 300)
		LM_WARN("a cluster peer answered %d\n", code);
	return 0;
}

static dmq_resp_cback_t tpid_dmq_resp = {&tpid_dmq_resp_f, 0};

/* node NULL: every other node. */
static void tpid_cluster_send(const tpid_cluster_msg_t *m, dmq_node_t *node)
{
	static char buf[TPID_CLUSTER_MAX_BODY + 1]; /* large: off the stack */
	str body;
	int len;

	if(tpid_dmq_peer == NULL)
		return;
	len = tpid_cluster_encode(m, buf, sizeof(buf));
	if(len < 0) {
		LM_ERR("cannot encode a cluster message (%s)\n",
				tpid_cluster_op_name(m->op));
		return;
	}
	body.s = buf;
	body.len = len;
	if((node ? tpid_dmqb.send_message(
				tpid_dmq_peer, &body, node, &tpid_dmq_resp, 1, &tpid_dmq_ct)
			 : tpid_dmqb.bcast_message(tpid_dmq_peer, &body, NULL,
					 &tpid_dmq_resp, 1, &tpid_dmq_ct))
			< 0)
		LM_ERR("cannot send a cluster message (%s)\n",
				tpid_cluster_op_name(m->op));
}

static tpid_cluster_msg_t tpid_cl_out; /* large: off the stack */

/* Only the members op uses are set: the rest of tpid_cl_out is not read. */
void tpid_cluster_share(tpid_cluster_op_t op, const char *arg)
{
	if(tpid_dmq_peer == NULL)
		return;
	tpid_cl_out.op = op;
	snprintf(tpid_cl_out.arg, sizeof(tpid_cl_out.arg), "%s", arg ? arg : "");
	tpid_cluster_send(&tpid_cl_out, NULL);
}

int tpid_cluster_do(
		tpid_cluster_op_t op, const char *arg, char *err, size_t errsize)
{
	int n = tpid_cluster_act(op, arg, err, errsize);

	if(n >= 0)
		tpid_cluster_share(op, arg);
	return n;
}

/* On every accepted token of a clustered terminating instance. */
void tpid_cluster_share_replay(
		const unsigned char *key, const unsigned char *cid, int64_t expires)
{
	if(tpid_dmq_peer == NULL)
		return;
	tpid_cl_out.op = TPID_CL_REPLAY;
	tpid_cl_out.n = 1;
	memcpy(tpid_cl_out.e[0].key, key, TPID_REPLAY_HASH_LEN);
	memcpy(tpid_cl_out.e[0].cid, cid, TPID_REPLAY_HASH_LEN);
	tpid_cl_out.e[0].expires = expires;
	tpid_cluster_send(&tpid_cl_out, NULL);
}

/* A node asked for our replay entries: in batches, to it alone. */
static void tpid_cluster_send_sync(dmq_node_t *node)
{
	unsigned int pos = 0;

	tpid_cl_out.op = TPID_CL_REPLAY;
	while((tpid_cl_out.n = tpid_replay_export_live(
				   &pos, tpid_cl_out.e, TPID_CLUSTER_BATCH))
			> 0)
		tpid_cluster_send(&tpid_cl_out, node);
}

/* ---- hearing the others ------------------------------------------------- */

static tpid_cluster_msg_t tpid_cl_in; /* large: off the stack */

static int tpid_cluster_handle(
		struct sip_msg *msg, peer_reponse_t *resp, dmq_node_t *node)
{
	char err[256];
	str body;
	int i;

	resp->resp_code = 400;
	resp->reason = tpid_dmq_400;
	if(parse_headers(msg, HDR_EOH_F, 0) < 0 || msg->content_length == NULL) {
		LM_WARN("a cluster message without a body refused\n");
		return 0;
	}
	body.s = get_body(msg);
	body.len = body.s ? get_content_length(msg) : 0;
	if(body.s == NULL || body.len <= 0
			|| tpid_cluster_decode(body.s, (size_t)body.len, &tpid_cl_in) < 0) {
		LM_WARN("a cluster message that is not one refused\n");
		return 0;
	}
	resp->resp_code = 200;
	resp->reason.s = "OK";
	resp->reason.len = 2;
	switch(tpid_cl_in.op) {
		case TPID_CL_REPLAY:
			for(i = 0; i < tpid_cl_in.n; i++)
				tpid_replay_learn(tpid_cl_in.e[i].key, tpid_cl_in.e[i].cid,
						tpid_cl_in.e[i].expires);
			break;
		case TPID_CL_SYNC:
			tpid_cluster_send_sync(node);
			break;
		case TPID_CL_RELOAD:
		case TPID_CL_RELOAD_BARS:
			/* a terminating instance has no enterprise or BAR file: a
			 * peer's reload has nothing to do here, which is no error */
			if((tpid_cl_in.op == TPID_CL_RELOAD ? tpid_cfg.enterprise_file
												: tpid_cfg.bar_file)
					== NULL)
				break;
			/* fall through */
		default:
			if(tpid_cluster_act(tpid_cl_in.op, tpid_cl_in.arg, err, sizeof(err))
					< 0) {
				LM_ERR("cluster %s refused here: %s\n",
						tpid_cluster_op_name(tpid_cl_in.op), err);
				resp->resp_code = 500;
				resp->reason = tpid_dmq_500;
			} else {
				LM_INFO("cluster %s %s done\n",
						tpid_cluster_op_name(tpid_cl_in.op), tpid_cl_in.arg);
			}
	}
	return 0;
}

/* A node that joins asks for the replay entries it missed. */
static int tpid_cluster_request_sync(void)
{
	tpid_cluster_share(TPID_CL_SYNC, NULL);
	return 0;
}

int tpid_cluster_mod_init(void)
{
	dmq_peer_t peer;

	if(!tpid_cfg.enable_dmq)
		return 0;
	if(dmq_load_api(&tpid_dmqb) != 0) {
		LM_ERR("enable_dmq is set: the dmq module must be loaded first\n");
		return -1;
	}
	memset(&peer, 0, sizeof(peer));
	peer.callback = tpid_cluster_handle;
	peer.init_callback = tpid_cluster_request_sync;
	peer.peer_id.s = "tpid_assert";
	peer.peer_id.len = 11;
	peer.description.s = "tpid_assert";
	peer.description.len = 11;
	tpid_dmq_peer = tpid_dmqb.register_dmq_peer(&peer);
	if(tpid_dmq_peer == NULL) {
		LM_ERR("cannot register with dmq\n");
		return -1;
	}
	return 0;
}
