/*
 * tpid_assert - Kamailio glue: the terminating S-CSCF
 *
 * Verify the third-party PASSporT before the callee is shown anything; on
 * success present the ID, on failure present nothing third-party and apply
 * the policy.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>
#include <time.h>

#include "core/dprint.h"
#include "core/mem/shm_mem.h"
#include "modules/tm/t_hooks.h"
#include "modules/tm/tm_load.h"

#include "tpid_assert_cfg.h"
#include "tpid_assert_ms.h"
#include "tpid_assert_replay.h"
#include "tpid_assert_sip.h"
#include "tpid_assert_stats.h"
#include "tpid_assert_term.h"
#include "tpid_assert_x5u.h"
#include "tpid_ident.h"

#define TPID_TERM_MAX_PAI 4

static struct tm_binds tpid_tmb;

/* The kinds of token verified here, by the tag their x5u waits carry. */
#define TPID_TERM_MAX_KINDS 4
static tpid_term_kind_t *tpid_term_kinds[TPID_TERM_MAX_KINDS];
static int tpid_term_nkinds = 0;

static void tpid_term_resumed(sip_msg_t *msg, int tag, int fetch_reason);

/* Not a reason: verify_mode "ms", and the STI-VS has not been asked yet. */
#define TPID_TERM_MS_MISS 1003

/* verify_mode "ms": what the STI-VS said of each kind's token, while a
 * resumed request is verified again (NULL: not asked yet). */
static const tpid_ms_verdict_t *tpid_term_verdicts = NULL;
static int tpid_term_issuer(const tpid_passport_t *t);
static int tpid_term_present(sip_msg_t *msg, const tpid_claims_t *c);

static tpid_term_kind_t tpid_term_tpid = {"third-party Identity",
		TPID_PPT_THIRD_PARTY, &tpid_res, &tpid_cfg.term_policy,
		TPID_R_NO_IDENTITY, &tpid_cfg.require_identity,
		&tpid_cfg.present_header, &tpid_cfg.claim_header, tpid_term_issuer,
		tpid_term_present, &tpid_st_verified, NULL, -1};

int tpid_term_register(tpid_term_kind_t *k)
{
	if(tpid_term_nkinds >= TPID_TERM_MAX_KINDS)
		return -1;
	k->tag = tpid_term_nkinds;
	tpid_term_kinds[tpid_term_nkinds++] = k;
	return 0;
}

int tpid_term_init(void)
{
	if(load_tm_api(&tpid_tmb) < 0) {
		LM_ERR("the tm module is required\n");
		return -1;
	}
	if(tpid_term_register(&tpid_term_tpid) != 0)
		return -1;
	return tpid_x5u_mod_init(tpid_term_resumed);
}

/* orig is bound to what the network asserts: one of the P-Asserted-Identity
 * URIs. The From URI, which the caller writes, counts only where the
 * operator trusts the previous hop to have checked it (term_orig_from). */
static int tpid_term_check_orig(sip_msg_t *msg, const tpid_claims_t *c)
{
	tpid_ident_t ids[TPID_TERM_MAX_PAI];
	int i, n;

	n = tpid_sip_pai(msg, ids, NULL, TPID_TERM_MAX_PAI);
	if(n == 0 && tpid_cfg.term_orig_from && tpid_sip_from(msg, &ids[0]) == 0)
		n = 1;
	if(n == 0)
		return TPID_R_NO_PAI;
	for(i = 0; i < n; i++) {
		if(tpid_passport_check_orig(c, &ids[i]) == TPID_OK)
			return TPID_OK;
	}
	return TPID_R_ORIG_MISMATCH;
}

/* dest is bound to the Request-URI (the To URI is the caller's text). */
static int tpid_term_check_dest(sip_msg_t *msg, const tpid_claims_t *c)
{
	tpid_ident_t id;

	if(tpid_sip_ruri(msg, &id) == 0
			&& tpid_passport_check_dest(c, &id) == TPID_OK)
		return TPID_OK;
	return TPID_R_DEST_MISMATCH;
}

/* Who may assert what: the claims are of the one grammar (tpid.id a
 * sip/sips/tel URI whose host is iss or under it, iss a DNS name), and the
 * signer is listed for iss (x5u_signer). */
static int tpid_term_issuer(const tpid_passport_t *t)
{
	int rc = tpid_claim_rules(t->claims.id, t->claims.iss);

	if(rc != TPID_OK)
		return rc;
	return tpid_signers_check(tpid_cfg.signers, t->claims.x5u, t->claims.iss);
}

/* The certificate behind x5u, validated at the token's iat: a pinned one,
 * else a fetched one (cached); TPID_X5U_MISS when it must be fetched
 * first. */
static int tpid_term_key(
		const tpid_passport_t *t, tpid_cert_t **cert, EVP_PKEY **pub)
{
	int rc;

	if(tpid_cfg.trust == NULL)
		return TPID_R_CERT_UNAVAILABLE;
	rc = tpid_trust_check_allowed(tpid_cfg.trust, t->claims.x5u);
	if(rc != TPID_OK)
		return rc;
	*cert = tpid_trust_pinned(tpid_cfg.trust, t->claims.x5u);
	if(*cert == NULL) {
		/* fetched only from where the allowlist says */
		if(tpid_trust_allow_count(tpid_cfg.trust) == 0)
			return TPID_R_CERT_UNAVAILABLE;
		rc = tpid_x5u_cert(t->claims.x5u, cert);
		if(rc != TPID_OK)
			return rc;
	}
	return tpid_trust_check_cert(tpid_cfg.trust, *cert, t->claims.iat, pub);
}

/* RFC 8226 / RFC 9118: the signing certificate's claim constraints hold
 * for the whole payload. */
static int tpid_term_check_jcc(const tpid_passport_t *t, const tpid_cert_t *c)
{
	const char *dot;

	if(c->jcc == NULL)
		return TPID_OK;
	dot = memchr(t->signing_input, '.', t->signing_input_len);
	if(dot == NULL)
		return TPID_R_CLAIM_CONSTRAINTS;
	dot++;
	return tpid_jcc_check_payload_b64u(c->jcc, dot,
			t->signing_input_len - (size_t)(dot - t->signing_input));
}

/* The checks in their documented order; the first failure wins. *x5u
 * names the certificate to fetch when the result is TPID_X5U_MISS. */
static int tpid_term_verify(const tpid_term_kind_t *k, sip_msg_t *msg,
		const char *hdr, size_t len, tpid_claims_t *out, char *x5u,
		size_t x5usize)
{
	static tpid_passport_t t; /* large: keep it off the worker's stack */
	tpid_cert_t *cert = NULL;
	EVP_PKEY *pub = NULL;
	int64_t now = (int64_t)time(NULL);
	int rc;

	rc = tpid_passport_parse(hdr, len, k->ppt, &t);
	if(rc != TPID_OK)
		return rc;
	if(tpid_cfg.verify_ms) {
		/* the certificate, its chain and constraints and the signature
		 * are the STI-VS's to check; everything else stays here */
		if(tpid_term_verdicts == NULL)
			return TPID_TERM_MS_MISS;
		rc = tpid_term_verdicts[k->tag].asked
					 ? tpid_term_verdicts[k->tag].reason
					 : TPID_R_MS_UNAVAILABLE;
		if(rc != TPID_OK)
			return rc;
	} else {
		rc = tpid_term_key(&t, &cert, &pub);
		if(rc == TPID_X5U_MISS)
			snprintf(x5u, x5usize, "%s", t.claims.x5u);
		if(rc != TPID_OK)
			return rc;
		rc = tpid_passport_verify_sig(&t, pub);
		if(rc != TPID_OK)
			return rc;
		rc = tpid_term_check_jcc(&t, cert);
		if(rc != TPID_OK)
			return rc;
	}
	rc = k->check(&t);
	if(rc != TPID_OK)
		return rc;
	rc = tpid_passport_check_time(
			&t.claims, now, tpid_cfg.iat_max_age, tpid_cfg.iat_max_future);
	if(rc != TPID_OK)
		return rc;
	rc = tpid_term_check_orig(msg, &t.claims);
	if(rc != TPID_OK)
		return rc;
	rc = tpid_term_check_dest(msg, &t.claims);
	if(rc != TPID_OK)
		return rc;
	/* Last: only a token that passed every other check is remembered. */
	rc = tpid_replay_msg(msg, &t, now);
	if(rc != TPID_OK)
		return rc;
	/* Only verified claims reach $tpid(...) and the presentation. */
	*out = t.claims;
	return TPID_OK;
}

/* Writes s as a SIP quoted-string body: quotes and backslashes escaped,
 * control characters dropped (the name comes from the network). */
static void tpid_term_quote(const char *s, char *out, size_t outsize)
{
	size_t o = 0;

	for(; *s && o + 2 < outsize; s++) {
		unsigned char ch = (unsigned char)*s;
		if(ch < 0x20 || ch == 0x7f)
			continue;
		if(ch == '"' || ch == '\\')
			out[o++] = '\\';
		out[o++] = (char)ch;
	}
	out[o] = '\0';
}

static int tpid_term_present(sip_msg_t *msg, const tpid_claims_t *c)
{
	char name[2 * TPID_MAX_NAME];
	char value[2 * TPID_MAX_NAME + 2 * TPID_MAX_URI + 32];

	/* id and iss passed tpid_claim_rules(): no quote, blank, ';' or ','
	 * can reach the header from them. */
	tpid_term_quote(c->name, name, sizeof(name));
	snprintf(value, sizeof(value), "\"%s\" <%s>;verified=yes;iss=%s", name,
			c->id, c->iss);
	if(tpid_sip_add_header(msg, &tpid_cfg.present_header, value) < 0)
		return TPID_R_INTERNAL;
	return TPID_OK;
}

/* RFC 9410: the reason an unverified call went on travels upstream in the
 * responses to the INVITE, so that the signer's side learns of it. */
static void tpid_term_reason_cb(
		struct cell *t, int type, struct tmcb_params *ps)
{
	str rname = str_init("Reason");

	if(ps->rpl == NULL || ps->rpl == FAKED_REPLY || ps->param == NULL)
		return;
	if(tpid_sip_add_header(ps->rpl, &rname, (const char *)*ps->param) < 0)
		LM_ERR("cannot add the Reason header to a %d reply\n", ps->code);
}

static void tpid_term_reason_free(void *p)
{
	shm_free(p);
}

static void tpid_term_reason_upstream(sip_msg_t *msg, const char *rsn)
{
	size_t n = strlen(rsn) + 1;
	char *p;

	if(tpid_tmb.register_tmcb == NULL)
		return;
	p = shm_malloc(n);
	if(p == NULL) {
		SHM_MEM_ERROR;
		return;
	}
	memcpy(p, rsn, n);
	/* tpid_assert_term() runs after t_newtran(): the callback goes on the
	 * transaction, and with it every reply relayed upstream. */
	if(tpid_tmb.register_tmcb(msg, 0, TMCB_RESPONSE_IN, tpid_term_reason_cb, p,
			   tpid_term_reason_free)
			<= 0) {
		LM_DBG("no transaction: the Reason goes downstream only\n");
		shm_free(p);
	}
}

static int tpid_term_refuse(
		const tpid_term_kind_t *k, sip_msg_t *msg, int reason)
{
	tpid_result_t *res = k->res;
	char rsn[128];
	str rname = str_init("Reason");

	res->reason = reason;
	/* Nothing unverified is offered to the script as a claim. */
	memset(&res->claims, 0, sizeof(res->claims));
	tpid_stats_reason(reason);
	if(k->refused != NULL)
		update_stat(*k->refused, 1);
	/* The failing token is not passed on: nothing unverified reaches the
	 * callee. */
	tpid_sip_remove_identity(msg, k->ppt, 0);
	LM_NOTICE("%s not verified: %s (%d), call-id %.*s\n", k->what,
			tpid_reason_name(reason), reason,
			msg->callid ? msg->callid->body.len : 0,
			msg->callid ? msg->callid->body.s : "");
	switch(*k->policy) {
		case TPID_POLICY_REJECT:
			res->ret = TPID_RET_REJECTED;
			if(tpid_sip_reply(msg, tpid_reason_sip_code(reason),
					   tpid_reason_sip_phrase(reason))
					< 0)
				res->ret = TPID_RET_ERROR;
			return res->ret;
		case TPID_POLICY_REASON:
			/* RFC 9410: towards the callee, and upstream in the replies. */
			snprintf(rsn, sizeof(rsn), "STIR;cause=%d;text=\"%s\"",
					tpid_reason_sip_code(reason),
					tpid_reason_sip_phrase(reason));
			tpid_sip_add_header(msg, &rname, rsn);
			tpid_term_reason_upstream(msg, rsn);
			break;
		default:
			break;
	}
	res->ret = TPID_RET_STRIPPED;
	return res->ret;
}

/* Not a reason: the kind has no token in the message. */
#define TPID_TERM_NONE 1002

/* One kind's verification, up to the point where it is presented or
 * refused: TPID_OK, a reason, TPID_TERM_NONE, or TPID_X5U_MISS (x5u names
 * the certificate to fetch). Its result holds the verified claims. */
static int tpid_term_check(
		const tpid_term_kind_t *k, sip_msg_t *msg, char *x5u, size_t x5usize)
{
	static char hdr[TPID_MAX_HDR_LEN + 1];
	tpid_result_t *res = k->res;
	int n;

	tpid_result_reset(res, msg);
	n = tpid_sip_get_identity(msg, k->ppt, hdr, sizeof(hdr));
	if(n < 0)
		return TPID_R_BAD_SYNTAX;
	if(n == 0)
		return TPID_TERM_NONE;
	return tpid_term_verify(k, msg, hdr, n, &res->claims, x5u, x5usize);
}

/* Presents what verified, or refuses. The result for the kind. */
static int tpid_term_conclude(const tpid_term_kind_t *k, sip_msg_t *msg, int rc)
{
	tpid_result_t *res = k->res;

	if(rc == TPID_TERM_NONE) {
		if(k->require != NULL && *k->require)
			return tpid_term_refuse(k, msg, k->no_token);
		res->reason = k->no_token;
		res->ret = TPID_RET_NONE;
		return res->ret;
	}
	/* Only the token just verified may reach the callee. */
	if(rc == TPID_OK && tpid_sip_remove_identity(msg, k->ppt, 1) < 0)
		rc = TPID_R_INTERNAL;
	if(rc == TPID_OK)
		rc = k->present(msg, &res->claims);
	if(rc != TPID_OK)
		return tpid_term_refuse(k, msg, rc);
	update_stat(*k->verified, 1);
	res->reason = TPID_OK;
	res->ret = TPID_RET_ASSERTED;
	return res->ret;
}

/* verify_mode "ms", first pass: the tokens of every kind go to the
 * STI-VS, the INVITE suspended once for all of them. 0 when there is
 * nothing to ask (or the request cannot wait: each such kind then fails
 * with the reason); 1 when the request was suspended or cancelled, with
 * the function's result in *ret. */
static int tpid_term_ms_ask(sip_msg_t *msg, int *rc, int route,
		const str *cbname, int resumed, int *ret)
{
	static char hdrs[TPID_TERM_MAX_KINDS][TPID_MAX_HDR_LEN + 1];
	const char *ask[TPID_TERM_MAX_KINDS];
	size_t lens[TPID_TERM_MAX_KINDS];
	tpid_result_t *res[TPID_TERM_MAX_KINDS];
	int i, n, k = 0, r;

	for(i = 0; i < tpid_term_nkinds; i++) {
		ask[i] = NULL;
		lens[i] = 0;
		res[i] = tpid_term_kinds[i]->res;
		if(rc[i] != TPID_TERM_MS_MISS)
			continue;
		n = tpid_sip_get_identity(
				msg, tpid_term_kinds[i]->ppt, hdrs[i], sizeof(hdrs[i]));
		if(n <= 0) {
			rc[i] = TPID_R_BAD_SYNTAX;
			continue;
		}
		ask[i] = hdrs[i];
		lens[i] = (size_t)n;
		k++;
	}
	if(k == 0 || resumed || (route < 0 && (cbname == NULL || cbname->len <= 0)))
		return 0;
	r = tpid_ms_verify_suspend(msg, ask, lens, tpid_term_nkinds, route, cbname);
	if(r == TPID_OK) {
		for(i = 0; i < tpid_term_nkinds; i++)
			res[i]->ret = TPID_RET_SUSPENDED;
		*ret = TPID_RET_SUSPENDED;
		return 1;
	}
	if(r == TPID_R_CANCELLED) {
		*ret = tpid_sip_cancelled(msg, res, tpid_term_nkinds);
		return 1;
	}
	for(i = 0; i < tpid_term_nkinds; i++)
		if(rc[i] == TPID_TERM_MS_MISS)
			rc[i] = r;
	return 0;
}

/* verstat (TS 24.229) on the P-Asserted-Identity the callee gets, for the
 * third-party token: passed when it verified, no validation when there was
 * none (or the STI-VS said so), failed otherwise. */
static void tpid_term_verstat(sip_msg_t *msg, int rc)
{
	int v;

	if(rc == TPID_OK)
		v = TPID_VERSTAT_PASSED;
	else if(rc == TPID_TERM_NONE
			|| (tpid_term_verdicts != NULL && tpid_term_verdicts[0].asked
					&& tpid_term_verdicts[0].verstat == TPID_VERSTAT_NO_TN))
		v = TPID_VERSTAT_NO_TN;
	else
		v = TPID_VERSTAT_FAILED;
	if(tpid_sip_pai_verstat(msg, v) < 0)
		LM_NOTICE("no verstat: no P-Asserted-Identity with a telephone "
				  "number, call-id %.*s\n",
				msg->callid ? msg->callid->body.len : 0,
				msg->callid ? msg->callid->body.s : "");
}

/* Every kind of token (the third-party ID, the avatar), verified in one
 * go: the certificates to fetch suspend the INVITE once, for all kinds
 * (tm keeps no edit made in a resumed route that suspends again). resumed: the request comes back
 * after the fetch, its foreign presentations already removed. */
static int tpid_term_run(sip_msg_t *msg, int route, const str *cbname,
		int resumed, int fetch_reason)
{
	char x5u[TPID_TERM_MAX_KINDS][TPID_MAX_URI];
	int rc[TPID_TERM_MAX_KINDS];
	int i, wait = -1, ret = TPID_RET_NONE, r;

	for(i = 0; i < tpid_term_nkinds; i++) {
		x5u[i][0] = '\0';
		tpid_result_reset(tpid_term_kinds[i]->res, msg);
	}
	/* Only what we verify now may be presented: drop whatever presentation
	 * or claim came from the network, of every kind. */
	for(i = 0; !resumed && i < tpid_term_nkinds; i++) {
		const tpid_term_kind_t *k = tpid_term_kinds[i];
		if(tpid_sip_remove_headers(msg, k->present_header) < 0
				|| tpid_sip_remove_headers(msg, k->claim_header) < 0)
			return tpid_term_refuse(tpid_term_kinds[0], msg, TPID_R_INTERNAL);
	}
	for(i = 0; i < tpid_term_nkinds; i++) {
		rc[i] = tpid_term_check(tpid_term_kinds[i], msg, x5u[i], TPID_MAX_URI);
		if(rc[i] == TPID_X5U_MISS && wait < 0)
			wait = i;
	}
	if(tpid_term_ms_ask(msg, rc, route, cbname, resumed, &r))
		return r;
	if(wait >= 0 && !resumed && (route >= 0 || (cbname && cbname->len > 0))) {
		/* a second certificate to fetch is waited for in the same
		 * suspension (two kinds at most) */
		for(i = wait + 1; i < tpid_term_nkinds && i < TPID_TERM_MAX_KINDS;
				i++) {
			if(rc[i] == TPID_X5U_MISS && strcmp(x5u[i], x5u[wait]) != 0)
				break;
		}
		r = tpid_x5u_suspend(msg, x5u[wait],
				i < tpid_term_nkinds ? x5u[i] : NULL, route, cbname, 0);
		if(r == TPID_OK) {
			for(i = 0; i < tpid_term_nkinds; i++)
				tpid_term_kinds[i]->res->ret = TPID_RET_SUSPENDED;
			return TPID_RET_SUSPENDED;
		}
		if(r == TPID_R_CANCELLED) {
			tpid_result_t *res[TPID_TERM_MAX_KINDS];
			for(i = 0; i < tpid_term_nkinds; i++)
				res[i] = tpid_term_kinds[i]->res;
			return tpid_sip_cancelled(msg, res, tpid_term_nkinds);
		}
		/* it arrived meanwhile: verify again; or no suspension: its
		 * reason */
		for(i = 0; i < tpid_term_nkinds; i++) {
			if(rc[i] != TPID_X5U_MISS)
				continue;
			rc[i] = r == TPID_X5U_RETRY ? tpid_term_check(
							tpid_term_kinds[i], msg, x5u[i], TPID_MAX_URI)
										: r;
		}
	}
	for(i = 0; i < tpid_term_nkinds; i++) {
		if(rc[i] == TPID_TERM_MS_MISS)
			rc[i] = TPID_R_MS_UNAVAILABLE;
		if(rc[i] == TPID_X5U_MISS) {
			/* resumed and still missing: the fetch failed, or the entry
			 * went meanwhile; without a route: fetched for the calls that
			 * follow */
			if(!resumed)
				tpid_x5u_prefetch(x5u[i]);
			rc[i] = resumed && fetch_reason != TPID_OK
							? fetch_reason
							: TPID_R_CERT_UNAVAILABLE;
		}
		r = tpid_term_conclude(tpid_term_kinds[i], msg, rc[i]);
		if(i == 0)
			ret = r;
		if(r == TPID_RET_REJECTED || r == TPID_RET_ERROR)
			return r; /* replied: the other kinds are moot */
	}
	if(tpid_cfg.verstat)
		tpid_term_verstat(msg, rc[0]);
	return ret;
}

int tpid_term(sip_msg_t *msg, int route, const str *cbname)
{
	return tpid_term_run(msg, route, cbname, 0, TPID_OK);
}

/* A request resumed after its certificate fetch: verify again (the
 * certificate is now cached, or the fetch's failure is the reason). */
static void tpid_term_resumed(sip_msg_t *msg, int tag, int fetch_reason)
{
	tpid_term_run(msg, -1, NULL, 1, fetch_reason);
}

void tpid_term_ms_resumed(sip_msg_t *msg, const tpid_ms_verdict_t *v, int n)
{
	tpid_term_verdicts = v;
	tpid_term_run(msg, -1, NULL, 1, TPID_OK);
	tpid_term_verdicts = NULL;
}
