# SPDX-License-Identifier: GPL-2.0-or-later
"""Avatar calls end to end: real Kamailio (orig and term), SIPp and the reference
avatar repository (tools/bar_service.py on the stack's port 8480).

The study's avatar threats, each with the behaviour that answers it:
- impersonation: an Avatar-ID that is not the caller's is refused at orig;
- tampering in transit: a changed aid, URL or digest under the same signature is
  refused at term, nothing of it presented;
- object integrity: a representation replaced at the repository after signing is
  caught by the callee's check of the signed digest (tpid-token avatar-fetch);
- stored objects: downloads without credentials, by the wrong user or with an expired
  credential get 401/403 and never the bytes.
"""
import base64
import json
import os
import subprocess
import time

import pytest

from callcheck import AV_PRESENT, PRESENT, avatar_identities, b64u_dec, log_reason, rcd_identities, sri, stats
import stack as S

ALICE_AV, BOB_AV = "alice-01", "bob-01"
CRED = json.load(open(S.BAR_DATA))["credentials"]
TOKEN_OF = {c["user"]: c["token"] for c in CRED if "expires" not in c}
EXPIRED = [c["token"] for c in CRED if "expires" in c][0]
CALLEE_URI = "tel:+" + S.CALLEE


def demo_bytes(aid):
    with open(os.path.join(S.ROOT, "tools", "demo-avatars", aid + ".glb"), "rb") as f:
        return f.read()


def av_call(st, aid=ALICE_AV, served=S.ALICE, claim=None, **kw):
    return st.place_call(served=served, claim=claim,
                         extra_headers=[f"P-Avatar-ID: {aid}"] + kw.pop("extra", []), **kw)


def term_call(st, token, **kw):
    """Straight to the terminating side with a ready-made avatar token."""
    return st.place_call(served=S.ALICE, claim=None, to_port=S.TERM_PORT,
                         extra_headers=["Identity: " + token] + kw.pop("extra", []), **kw)


def flush(st):
    st.rpc("orig", "tpid_assert.avatar_flush")
    st.rpc("orig", "tpid_assert.cache_flush")


def fetch(token=None, cred=None, url=None, digest=None):
    """tpid-token avatar-fetch as the callee's phone: (exit code, first line)."""
    argv = [S.TPID_TOKEN, "avatar-fetch", "--ca-file", os.path.join(S.PKI, "hook-ca.pem"),
            "--allow-private", "--bearer", cred or TOKEN_OF[CALLEE_URI]]
    argv += ["--token", token] if token else ["--url", url, "--digest", digest]
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=20)
    return r.returncode, r.stdout.decode().strip()


def presented(call):
    """The P-Verified-Avatar-ID parameters as a dict (aid under "aid")."""
    vals = call.callee_header(AV_PRESENT)
    assert len(vals) == 1, vals
    head, *params = vals[0].split(";")
    out = {"aid": head.strip('"')}
    for p in params:
        k, _, v = p.partition("=")
        out[k] = v.strip('"')
    return out


# ---- the caller's own avatar ----------------------------------------------------------
def test_own_avatar_is_presented_verified(stack):
    flush(stack)
    o0, t0 = stats(stack, "orig"), stats(stack, "term")
    c = av_call(stack)
    assert c.code == 200
    p = presented(c)
    assert p["aid"] == ALICE_AV and p["verified"] == "yes"
    assert p["bar"] == f"{S.BAR_ROOT}/bar/v1/avatars/{ALICE_AV}/representation"
    assert p["fmt"] == "model/gltf-binary"
    assert p["digest"] == sri(demo_bytes(ALICE_AV))
    assert len(avatar_identities(c)) == 1
    assert c.callee_header("P-Avatar-ID") == []      # the claim does not travel
    assert rcd_identities(c) == []                    # nothing third-party claimed
    assert log_reason(stack, c.call_id, role="orig avatar") == "OK"
    assert log_reason(stack, c.call_id, log="term", role="term avatar") == "OK"
    o1, t1 = stats(stack, "orig"), stats(stack, "term")
    assert o1["avatar_signed"] == o0["avatar_signed"] + 1
    assert o1["avatar_queries"] == o0["avatar_queries"] + 1
    assert t1["avatar_verified"] == t0["avatar_verified"] + 1
    # the callee's phone gets the bytes with its own credential (a grant)
    rc, line = fetch(token=avatar_identities(c)[0])
    assert (rc, line) == (0, f"OK {len(demo_bytes(ALICE_AV))} {p['digest']}")
    # a second call is decided from the avatar cache
    c2 = av_call(stack)
    assert c2.code == 200 and presented(c2)["aid"] == ALICE_AV
    assert stats(stack, "orig")["avatar_cache_hits"] == o1["avatar_cache_hits"] + 1


def test_third_party_id_and_avatar_both_presented(stack):
    flush(stack)   # both questions miss: asked in parallel, one suspension
    c = av_call(stack, aid=BOB_AV, served=S.BOB, claim=S.BOB_ID)
    assert c.code == 200
    assert c.callee_header(PRESENT)[0].startswith(
        '"Bob Builder (ACME Corp.)" <sip:e554433@acme.example>')
    assert presented(c)["aid"] == BOB_AV
    assert len(rcd_identities(c)) == 1 and len(avatar_identities(c)) == 1
    assert log_reason(stack, c.call_id, role="orig") == "OK"
    assert log_reason(stack, c.call_id, role="orig avatar") == "OK"


# ---- impersonation ---------------------------------------------------------------------
@pytest.mark.parametrize("served,aid,phrase,reason", [
    (S.MALLORY, ALICE_AV, "Avatar-ID Not Authorized", "AVATAR_DENIED"),
    (S.ALICE, "nobody-01", "Avatar-ID Not Authorized", "AVATAR_UNKNOWN"),
    (S.ALICE, "alice 01", "Invalid Avatar-ID", "AVATAR_BAD_ID"),
    (S.ALICE, "x" * 129, "Invalid Avatar-ID", "AVATAR_BAD_ID"),
])
def test_avatar_not_theirs_is_refused(stack, served, aid, phrase, reason):
    before = stats(stack, "orig")
    c = av_call(stack, aid=aid, served=served, expect=403)
    assert (c.code, c.phrase) == (403, phrase)
    assert c.callee is None
    assert log_reason(stack, c.call_id, role="orig avatar") == reason
    counter = reason.lower()
    assert stats(stack, "orig")[counter] == before.get(counter, 0) + 1


def test_forged_avatar_presentation_and_token_from_the_ue_are_removed(stack):
    forged = sign_token(aid=ALICE_AV, orig=S.MALLORY)
    c = stack.place_call(served=S.MALLORY, claim=None, extra_headers=[
        '{}: "alice-01";bar="https://evil.example/x";verified=yes'.format(AV_PRESENT),
        "Identity: " + forged])
    assert c.code == 200
    assert c.callee_header(AV_PRESENT) == []
    assert avatar_identities(c) == []


def test_trust_boundary_strips_avatar_headers(stack):
    cid = stack.send_request("MESSAGE", headers=[
        f'{AV_PRESENT}: "alice-01";verified=yes', "P-Avatar-ID: alice-01",
        "Identity: " + sign_token()], body="hi")
    m = stack.callee_request(cid, "MESSAGE")
    assert m is not None
    for h in (AV_PRESENT, "P-Avatar-ID", "Identity"):
        assert m["headers"].get(h.lower(), []) == []


# ---- tampering between the networks -----------------------------------------------------
def sign_token(**kw):
    return S.sign_avatar(**kw)


def swap_payload(token, **changes):
    """The token with its payload edited under the same signature."""
    jws, sep, params = token.partition(";")
    h, p, s = jws.split(".")
    claims = json.loads(b64u_dec(p))
    for k, v in changes.items():
        if k == "digest":
            claims["avatari"]["/avatar/bar"] = v
        else:
            claims["avatar"][k] = v
    p2 = base64.urlsafe_b64encode(json.dumps(claims, separators=(",", ":"))
                                  .encode()).rstrip(b"=").decode()
    return f"{h}.{p2}.{s}{sep}{params}"


@pytest.mark.parametrize("change", [
    {"aid": "bob-01"},
    {"bar": "https://evil.example/bar/v1/avatars/alice-01/representation"},
    {"fmt": "image/png"},
    {"digest": sri(b"someone else's face")},
])
def test_avatar_changed_in_transit_is_refused(stack, change):
    before = stats(stack, "term")
    c = term_call(stack, swap_payload(sign_token(), **change))
    assert c.code == 200                       # avatar_term_policy "continue"
    assert c.callee_header(AV_PRESENT) == [] and avatar_identities(c) == []
    assert log_reason(stack, c.call_id, log="term", role="term avatar") == "BAD_SIGNATURE"
    after = stats(stack, "term")
    assert after["avatar_refused"] == before["avatar_refused"] + 1


@pytest.mark.parametrize("kw,reason", [
    ({"bar": "http://127.0.0.1:8480/x"}, "BAD_AVATAR"),
    ({"digest": "sha256-abc"}, "BAD_AVATAR"),
    ({"fmt": "model/gltf-binary;x=1"}, "BAD_AVATAR"),
    # a signer that may vouch for enterprises, not for avatars
    ({"key": os.path.join(S.PKI, "sign2.key"), "x5u": S.SIGN2_X5U}, "AVATAR_NOT_ALLOWED"),
    ({"dest": "4961519999999"}, "DEST_MISMATCH"),
    ({"orig": S.MALLORY}, "ORIG_MISMATCH"),
    ({"iat": int(time.time()) - 120}, "IAT_STALE"),
])
def test_avatar_token_checks(stack, kw, reason):
    c = term_call(stack, sign_token(**kw))
    assert c.code == 200
    assert c.callee_header(AV_PRESENT) == []
    assert log_reason(stack, c.call_id, log="term", role="term avatar") == reason


def test_avatar_token_replayed_into_another_call(stack):
    token = sign_token()
    first = term_call(stack, token)
    assert presented(first)["aid"] == ALICE_AV
    again = term_call(stack, token)
    assert again.callee_header(AV_PRESENT) == []
    assert log_reason(stack, again.call_id, log="term", role="term avatar") == "REPLAY"


# ---- the stored objects ------------------------------------------------------------------
def test_representation_replaced_after_signing_is_detected(stack):
    flush(stack)
    c = av_call(stack)
    token = avatar_identities(c)[0]
    assert fetch(token=token)[0] == 0
    owner = TOKEN_OF[S.ALICE]
    path = f"/bar/v1/avatars/{ALICE_AV}/representation"
    assert stack.bar_get(path, owner, method="PUT", body=b"glTF not her face")[0] == 204
    try:
        rc, line = fetch(token=token)
        assert rc == 1 and line == "AVATAR_DIGEST_MISMATCH " + sri(b"glTF not her face")
    finally:
        assert stack.bar_get(path, owner, method="PUT", body=demo_bytes(ALICE_AV))[0] == 204
    assert fetch(token=token)[0] == 0


def test_downloads_need_credentials_and_a_grant(stack):
    flush(stack)
    c = av_call(stack)
    url = presented(c)["bar"]
    assert stack.bar_get(url)[0] == 401                                # no credential
    assert stack.bar_get(url, "ue-made-up")[0] == 401                  # unknown
    assert stack.bar_get(url, EXPIRED)[0] == 401                       # expired
    status, body = stack.bar_get(url, TOKEN_OF[S.MALLORY])             # no grant
    assert status == 403 and demo_bytes(ALICE_AV) not in body
    assert stack.bar_get(url, TOKEN_OF[CALLEE_URI]) == (200, demo_bytes(ALICE_AV))
    rc, line = fetch(token=avatar_identities(c)[0], cred=TOKEN_OF[S.MALLORY])
    assert (rc, line) == (1, "AVATAR_FETCH HTTP 403")


# ---- the repository misbehaves: the call goes on without avatar ---------------------------
@pytest.mark.parametrize("fault,reason", [
    (None, "BAR_CONNECT"),                    # down
    ("http500", "BAR_HTTP"),
    ("badjson", "BAR_BAD_ANSWER"),
    ("wrongtypes", "BAR_BAD_ANSWER"),
    ("huge", "BAR_TOO_BIG"),
    ("redirect", "BAR_HTTP"),
    ("slow", "BAR_TIMEOUT"),
])
def test_bar_faults_follow_the_failure_policy(stack, fault, reason):
    stack.stop_bar()
    if fault:
        stack.start_bar("--fault", fault, "--delay-ms", "3000") if fault == "slow" \
            else stack.start_bar("--fault", fault)
    try:
        flush(stack)
        c = av_call(stack, served=S.ALICE, claim=S.ALICE_ID)
        assert c.code == 200                                   # never lost
        assert c.callee_header(AV_PRESENT) == [] and avatar_identities(c) == []
        # the third-party ID is decided on its own
        assert c.callee_header(PRESENT)
        assert log_reason(stack, c.call_id, role="orig avatar") == reason
    finally:
        stack.stop_bar()
        stack.start_bar()


def test_wrong_digest_from_the_bar_is_caught_by_the_callee(stack):
    stack.stop_bar()
    stack.start_bar("--fault", "wrongdigest")
    try:
        flush(stack)
        c = av_call(stack)
        assert c.code == 200
        token = avatar_identities(c)[0]       # signed as the BAR said
        rc, line = fetch(token=token)
        assert rc == 1 and line.startswith("AVATAR_DIGEST_MISMATCH ")
    finally:
        stack.stop_bar()
        stack.start_bar()


def test_module_requests_match_the_bar_contract(stack):
    from openapi_check import BAR_SCHEMAS, assert_valid
    flush(stack)
    c = av_call(stack, served=S.BOB, aid=BOB_AV)
    assert c.code == 200
    with open(stack.bar_bodies) as f:
        recs = [json.loads(line) for line in f]
    mine = [r for r in recs if r["request"]["avatarAuthorizationRequest"]["callId"]
            == c.call_id]
    assert len(mine) == 1
    req = mine[0]["request"]
    assert_valid(req, "AvatarAuthorizationRequest", BAR_SCHEMAS)
    assert req["avatarAuthorizationRequest"]["servedUser"] == S.BOB
    assert req["avatarAuthorizationRequest"]["avatarId"] == BOB_AV
    assert req["avatarAuthorizationRequest"]["dest"] == [CALLEE_URI]


def test_both_tokens_with_one_certificate_to_fetch_suspend_once(stack):
    """A peer operator's two tokens name the same x5u, not cached: the INVITE waits for
    one fetch, then both are verified and presented."""
    x5u = S.CERT_URL + "sign2.pem"
    key = os.path.join(S.PKI, "sign2.key")
    stack.rpc("term", "tpid_assert.x5u_flush")
    before = stats(stack, "term")
    c = term_call(stack, S.sign(key=key, x5u=x5u),
                  extra=["Identity: " + sign_token(key=key, x5u=x5u)])
    assert c.code == 200
    assert c.callee_header(PRESENT)
    assert presented(c)["aid"] == ALICE_AV
    after = stats(stack, "term")
    assert after["x5u_fetches"] == before["x5u_fetches"] + 1
    assert after["avatar_verified"] == before["avatar_verified"] + 1
    assert log_reason(stack, c.call_id, log="term", role="term") == "OK"
    assert log_reason(stack, c.call_id, log="term", role="term avatar") == "OK"


def test_two_certificates_to_fetch_are_waited_for_in_one_suspension(stack):
    """The two tokens name different uncached x5u URLs: the INVITE waits for both
    fetches (one suspension, resumed once) and both tokens are verified."""
    stack.rpc("term", "tpid_assert.x5u_flush")
    before = stats(stack, "term")
    rcd = S.sign(key=os.path.join(S.PKI, "sign2.key"), x5u=S.CERT_URL + "sign2.pem")
    # a certificate that may not carry tpid: fine for an avatar token
    av = sign_token(key=os.path.join(S.PKI, "sign-noTPID.key"),
                    x5u=S.CERT_URL + "sign-noTPID.pem")
    c = term_call(stack, rcd, extra=["Identity: " + av])
    assert c.code == 200
    assert c.callee_header(PRESENT)
    assert presented(c)["aid"] == ALICE_AV
    after = stats(stack, "term")
    assert after["x5u_fetches"] == before["x5u_fetches"] + 2
    assert log_reason(stack, c.call_id, log="term", role="term") == "OK"
    assert log_reason(stack, c.call_id, log="term", role="term avatar") == "OK"
