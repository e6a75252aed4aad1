/*
 * tpid_assert - Kamailio glue: avatar calls
 *
 * Originating: strip any avatar token or presentation the UE sent, read
 * the claimed Avatar-ID, ask the avatar repository (BAR) of the served
 * user's domain whether this user may use it (decision cache, else an
 * asynchronous query, tpid_assert_query.h), and sign a ppt=avatar Identity
 * header with the representation the BAR named; or apply the avatar deny /
 * failure policy. Terminating: the avatar token is a kind of the
 * verification pipeline (tpid_assert_term.h) with its own claim rules,
 * presentation, result and policy.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/dprint.h"

#include "tpid_assert_avatar.h"
#include "tpid_assert_cfg.h"
#include "tpid_assert_dir.h"
#include "tpid_assert_signer.h"
#include "tpid_assert_sip.h"
#include "tpid_assert_stats.h"
#include "tpid_assert_term.h"
#include "tpid_avatar.h"
#include "tpid_bar.h"
#include "tpid_signers.h"

/* ---- the cached representation: "<digest> <fmt> <url>" ------------------ */

/* The three fields passed their grammar (no blank in any of them). */
static void tpid_av_pack(const char *digest, const char *fmt, const char *url,
		char *out, size_t outsize)
{
	if(snprintf(out, outsize, "%s %s %s", digest, fmt, url) >= (int)outsize)
		out[0] = '\0';
}

static int tpid_av_unpack(const char *v, tpid_claims_t *c)
{
	const char *a = strchr(v, ' '), *b;

	if(a == NULL || (b = strchr(a + 1, ' ')) == NULL)
		return -1;
	if((size_t)(a - v) >= sizeof(c->digest)
			|| (size_t)(b - a - 1) >= sizeof(c->fmt)
			|| strlen(b + 1) >= sizeof(c->bar))
		return -1;
	memcpy(c->digest, v, a - v);
	c->digest[a - v] = '\0';
	memcpy(c->fmt, a + 1, b - a - 1);
	c->fmt[b - a - 1] = '\0';
	strcpy(c->bar, b + 1);
	return 0;
}

/* ---- originating ------------------------------------------------------------ */

static int tpid_av_is_denial(int reason)
{
	switch(reason) {
		case TPID_R_AVATAR_BAD_ID:
		case TPID_R_NO_SERVED_USER:
		case TPID_R_AVATAR_NO_BAR:
		case TPID_R_AVATAR_DENIED:
		case TPID_R_AVATAR_UNKNOWN:
			return 1;
		default:
			return 0;
	}
}

/* The avatar is not signed: the deny or failure policy decides whether
 * the call goes on without it. */
static int tpid_av_refuse(sip_msg_t *msg, int reason)
{
	int deny = tpid_av_is_denial(reason);

	return tpid_sip_refuse(msg, &tpid_avres, reason,
			deny ? tpid_cfg.avatar_deny_policy : tpid_cfg.avatar_fail_policy,
			deny ? tpid_cfg.avatar_deny_code : tpid_cfg.avatar_fail_code,
			"avatar");
}

int tpid_avatar_claims(const tpid_claims_t *claims,
		const tpid_query_outcome_t *o, int64_t iat, tpid_claims_t *c)
{
	*c = *claims;
	c->iat = iat;
	/* what the BAR named goes into a signed token: its grammar again */
	if(tpid_av_unpack(o->value, c) < 0
			|| tpid_avatar_check_claims(c) != TPID_OK)
		return TPID_R_BAR_BAD_ANSWER;
	return TPID_OK;
}

int tpid_avatar_apply(sip_msg_t *msg, const tpid_claims_t *claims,
		const tpid_query_outcome_t *o)
{
	tpid_claims_t *c = &tpid_avres.claims;
	int rc;

	*c = *claims;
	tpid_avres.hook_ms = o->hook_ms;
	if(o->reason != TPID_OK)
		return tpid_av_refuse(msg, o->reason);
	rc = tpid_avatar_claims(claims, o, (int64_t)time(NULL), c);
	if(rc != TPID_OK)
		return tpid_av_refuse(msg, rc);
	rc = tpid_signer_add_identity(msg, c);
	if(rc != TPID_OK)
		return tpid_av_refuse(msg, rc);
	update_stat(tpid_st_avatar_signed, 1);
	tpid_avres.reason = TPID_OK;
	tpid_avres.ret = TPID_RET_ASSERTED;
	return tpid_avres.ret;
}

static int tpid_av_start(
		tpid_https_t *eng, const tpid_query_job_t *q, tpid_async_job_t *job)
{
	const char *dests[1] = {q->dest};
	tpid_bar_query_t bq;

	memset(&bq, 0, sizeof(bq));
	bq.served_user = q->served;
	bq.avatar_id = q->id;
	bq.dest = dests;
	bq.ndest = 1;
	bq.call_id = q->callid;
	bq.time = q->time;
	return tpid_bar_add(eng, &q->ent, &bq, tpid_cfg.hook_max_body, job)
						   == TPID_OK
				   ? 0
				   : -1;
}

/* The BAR's answer as a reason; the representation is the value cached
 * with an authorization. */
static void tpid_av_answer(
		const tpid_https_result_t *res, tpid_query_answer_t *qa)
{
	static tpid_bar_answer_t a; /* large: off the worker's stack */

	memset(&a, 0, sizeof(a));
	qa->reason = res != NULL ? tpid_bar_result(res, &a) : TPID_R_INTERNAL;
	qa->http_status = a.http_status;
	snprintf(qa->text, sizeof(qa->text), "%s", a.text);
	if(qa->reason != TPID_OK && qa->reason != TPID_R_AVATAR_DENIED
			&& qa->reason != TPID_R_AVATAR_UNKNOWN)
		return;
	qa->answered = 1;
	qa->ttl = a.ttl;
	qa->elapsed_ms = a.elapsed_ms;
	if(qa->reason == TPID_OK)
		tpid_av_pack(
				a.digest, a.media_type, a.url, qa->value, sizeof(qa->value));
}

static tpid_query_role_t tpid_av_role = {"avatar repository", &tpid_bars,
		TPID_R_BAR_TIMEOUT, TPID_R_BAR_BUSY, tpid_av_start, tpid_av_answer,
		&tpid_st_avatar_queries, &tpid_st_avatar_coalesced, -1};

tpid_query_role_t *tpid_avatar_role(void)
{
	return &tpid_av_role;
}

int tpid_avatar_strip(sip_msg_t *msg)
{
	if(tpid_sip_remove_identity(msg, TPID_PPT_AVATAR, 0) < 0
			|| tpid_sip_remove_headers(msg, &tpid_cfg.avatar_present_header)
					   < 0)
		return -1;
	return 0;
}

int tpid_avatar_prepare(sip_msg_t *msg, const tpid_ident_t *served_id,
		const tpid_ident_t *dest_id, const char *served, int users,
		tpid_query_part_t *p, tpid_enterprise_t *bar)
{
	char domain[TPID_MAX_DOMAIN];
	tpid_claims_t *c = &p->c;
	tpid_cache_view_t view;
	int64_t now = (int64_t)time(NULL);
	int n;

	p->state = TPID_PART_NONE;
	n = tpid_sip_get_header(
			msg, &tpid_cfg.avatar_header, c->aid, sizeof(c->aid));
	if(tpid_sip_remove_headers(msg, &tpid_cfg.avatar_header) < 0)
		return -1;
	if(n == 0)
		return 0;
	if(n < 0 || !tpid_avatar_id_ok(c->aid, (size_t)n)) {
		c->aid[0] = '\0';
		tpid_query_part_done(p, TPID_R_AVATAR_BAD_ID, NULL, 0);
		return 0;
	}
	if(users != TPID_OK) {
		tpid_query_part_done(p, users, NULL, 0);
		return 0;
	}
	snprintf(c->ppt, sizeof(c->ppt), "%s", TPID_PPT_AVATAR);
	c->orig = *served_id;
	c->ndest = 1;
	c->dest[0] = *dest_id;
	/* The served user's domain names its BAR; a tel: user (or a SIP URI
	 * without a host part) is served by the default ("*") entry. */
	if(tpid_id_domain(served, strlen(served), domain, sizeof(domain)) < 0)
		domain[0] = '\0';
	if(tpid_dir_get(&tpid_bars, domain, bar) < 0) {
		tpid_query_part_done(p, TPID_R_AVATAR_NO_BAR, NULL, 0);
		return 0;
	}
	if(tpid_cache_lookup(tpid_bars.cache, served, c->aid, bar->domain, now, 0,
			   NULL, &view)
			== TPID_CACHE_HIT) {
		update_stat(tpid_st_avatar_cache_hits, 1);
		tpid_query_part_done(p, view.reason, view.value, view.expires);
		return 0;
	}
	update_stat(tpid_st_avatar_cache_misses, 1);
	p->state = TPID_PART_ASK;
	return 0;
}

/* ---- terminating -------------------------------------------------------------- */

/* The avatar claims keep their grammar, and the signer may assert avatars
 * (x5u_signer ... "avatar"). */
static int tpid_av_check(const tpid_passport_t *t)
{
	int rc = tpid_avatar_check_claims(&t->claims);

	if(rc != TPID_OK)
		return rc;
	return tpid_signers_may_avatar(tpid_cfg.signers, t->claims.x5u)
				   ? TPID_OK
				   : TPID_R_AVATAR_NOT_ALLOWED;
}

/* Every value passed its grammar: no quote, backslash, blank or control
 * can reach the header. */
static int tpid_av_present(sip_msg_t *msg, const tpid_claims_t *c)
{
	char value[TPID_MAX_AID + TPID_MAX_URI + TPID_MAX_FMT + TPID_MAX_SRI + 64];

	snprintf(value, sizeof(value),
			"\"%s\";bar=\"%s\";fmt=\"%s\";digest=\"%s\";verified=yes", c->aid,
			c->bar, c->fmt, c->digest);
	if(tpid_sip_add_header(msg, &tpid_cfg.avatar_present_header, value) < 0)
		return TPID_R_INTERNAL;
	return TPID_OK;
}

static tpid_term_kind_t tpid_av_kind = {"avatar Identity", TPID_PPT_AVATAR,
		&tpid_avres, &tpid_cfg.avatar_term_policy, TPID_R_NO_AVATAR, NULL,
		&tpid_cfg.avatar_present_header, &tpid_cfg.avatar_header, tpid_av_check,
		tpid_av_present, &tpid_st_avatar_verified, &tpid_st_avatar_refused, -1};

struct tpid_term_kind *tpid_avatar_kind(void)
{
	return &tpid_av_kind;
}

int tpid_avatar_mod_init(void)
{
	if(tpid_dir_init(
			   &tpid_bars, tpid_cfg.avatar_cache_size, tpid_cfg.cache_locks)
					< 0
			|| tpid_query_register(&tpid_av_role) < 0
			|| tpid_term_register(&tpid_av_kind) < 0)
		return -1;
	return 0;
}
