# SPDX-License-Identifier: GPL-2.0-or-later
"""Replay: a verified token belongs to the call it first arrived on. The same
token on another Call-ID within its freshness window is refused as REPLAY (438),
also when its ECDSA signature is swapped for the twin (r, n - s) that anyone can
compute; a second branch of the same call (same Call-ID) passes."""
import base64

from conftest import sign
from callcheck import PRESENT, log_reason, log_reasons, rcd_identities, stats
import stack as S

# order of the P-256 group
P256_N = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


def b64u(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def unb64u(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def twin(token):
    """The same token with s replaced by n - s: still a valid signature."""
    jws, sep, params = token.partition(";")
    h, p, sig = jws.split(".")
    raw = unb64u(sig)
    r, s = raw[:32], int.from_bytes(raw[32:], "big")
    return f"{h}.{p}.{b64u(r + (P256_N - s).to_bytes(32, 'big'))}{sep}{params}"


def call(st, token, **kw):
    return st.place_call(served=S.ALICE, claim=None, to_port=S.TERM_PORT,
                         extra_headers=["Identity: " + token], **kw)


def test_token_on_another_call_is_a_replay(stack):
    token = sign()
    before = stats(stack, "term")
    first = call(stack, token)
    assert first.code == 200
    assert first.callee_header(PRESENT)[0].startswith('"Alice Example (ACME Corp.)"')
    # the callee passes the token on: another Call-ID
    again = call(stack, token, expect=438)
    assert (again.code, again.phrase) == (438, "Invalid Identity Header")
    assert again.callee is None
    assert log_reason(stack, again.call_id, log="term", role="term") == "REPLAY"
    after = stats(stack, "term")
    assert after["replay"] == before.get("replay", 0) + 1
    assert after["replay_entries"] >= 1


def test_twin_signature_is_the_same_token(stack):
    token = sign()
    assert call(stack, token).code == 200
    t2 = twin(token)
    assert t2 != token
    c = call(stack, t2, expect=438)
    assert c.code == 438
    assert log_reason(stack, c.call_id, log="term", role="term") == "REPLAY"


def test_same_call_id_passes(stack):
    # a second branch of one call (a fork, or the call routed here twice)
    token = sign()
    first = call(stack, token)
    assert first.code == 200
    tag = first.call_id[:-len("-1")]
    before = stats(stack, "term")
    # SIPp's callee takes an INVITE with a Call-ID it has just finished for a
    # stray message of that call and may not answer it: what matters is that
    # term verified the token again and passed the INVITE on
    call(stack, token, call_tag=tag, timeout=6)
    assert log_reasons(stack, first.call_id, log="term", role="term",
                       count=2) == ["OK", "OK"]
    assert stats(stack, "term").get("replay", 0) == before.get("replay", 0)
    invites = [m for m in S.parse_sipp_trace(stack.uas_trace)
               if m["dir"] == "received" and m["first"].startswith("INVITE ")
               and first.call_id in m["headers"].get("call-id", [])]
    assert len(invites) >= 2
    assert all(m["headers"].get("p-verified-third-party-id") for m in invites)


def test_replay_under_reason_policy_presents_nothing(stack):
    # where unverified calls go on, a replayed token still shows nothing
    token = sign()
    assert stack.place_call(served=S.ALICE, claim=None, to_port=S.TERM_REASON_PORT,
                            extra_headers=["Identity: " + token]).code == 200
    c = stack.place_call(served=S.ALICE, claim=None, to_port=S.TERM_REASON_PORT,
                         extra_headers=["Identity: " + token])
    assert c.code == 200
    assert c.callee_header(PRESENT) == [] and rcd_identities(c) == []
    assert c.callee_header("Reason") == ['STIR;cause=438;text="Invalid Identity Header"']
    assert log_reason(stack, c.call_id, log="termr", role="term") == "REPLAY"
