# SPDX-License-Identifier: GPL-2.0-or-later
"""Signing and verifying through the operator's STI-AS / STI-VS over Ms
(tools/sti_service.py), end to end through real Kamailio instances and SIPp.

Four instances of the shipped cfgs beside the session stack, each its own port:

  orig-ms     sign_mode "ms"      -> the session's term (verifies locally)
  orig-local  sign_mode "local"   -> term-ms
  orig-both   sign_mode "ms"      -> term-ms
  term-ms     verify_mode "ms", verstat 1, term_policy "continue" -> the callee

so the three combinations (Ms signing, Ms verification, both) run side by side. The
service's faults are switched at run time (Stack.set_sti_fault); every fault must
follow the failure policy (orig: fail_policy "strip", the call goes on without
third-party ID; term: term_policy "continue", the call goes on without presentation
and with verstat TN-Validation-Failed) with the reason named, and no call lost. The
tokens the STI-AS signs are checked with PyJWT, independently of the module."""
import json
import os
import re
import time

import jwt
import pytest
from cryptography import x509

import stack as S
from callcheck import PRESENT, assert_no_third_party_id, parse_stats, rcd_identities
from solo import Solo, q

PORTS = {"orig-ms": 5961, "orig-local": 5962, "orig-both": 5963, "term-ms": 5964}
VERIFIED = f'"Alice Example (ACME Corp.)" <{S.ALICE_ID}>;verified=yes;iss=acme.example'
# the service's timeout_ms in ms.json: its "slow" fault answers later
MS_TIMEOUT_MS, SLOW_MS = 1000, 2500


def ms_file(tmp):
    path = tmp / "ms.json"
    path.write_text(json.dumps({"ms": [{
        "domain": "*", "api_root": S.STI_ROOT, "ca_file": os.path.join(S.PKI, "hook-ca.pem"),
        "connect_timeout_ms": 500, "timeout_ms": MS_TIMEOUT_MS}]}))
    return str(path)


@pytest.fixture(scope="module")
def ms(stack, tmp_path_factory):
    """The STI service on the session stack, and the four instances."""
    tmp = tmp_path_factory.mktemp("ms")
    if "sti" not in stack.procs or stack.procs["sti"].poll() is not None:
        stack.start_sti()
    stack.set_sti_fault("none")
    msf = ms_file(tmp)
    orig = {"ENTERPRISE_FILE": q(os.path.join(S.RUN, "enterprises.json")),
            "WITH_CALL_LOG": "1"}
    local_key = {"SIGN_KEY": q(os.path.join(S.PKI, "sign.key")),
                 "SIGN_X5U": q(S.SIGN_X5U)}
    term_ms = f"sip:{S.HOST}:{PORTS['term-ms']}"
    nodes = {}
    specs = {
        "orig-ms": ("orig-scscf.cfg", {**orig, "MS_FILE": q(msf),
                                       "NEXT_HOP": q(f"sip:{S.HOST}:{S.TERM_PORT}")}),
        "orig-local": ("orig-scscf.cfg", {**orig, **local_key, "NEXT_HOP": q(term_ms)}),
        "orig-both": ("orig-scscf.cfg", {**orig, "MS_FILE": q(msf), "NEXT_HOP": q(term_ms)}),
        "term-ms": ("term-scscf.cfg", {
            "MS_FILE": q(msf), "VERSTAT": "1", "TERM_POLICY": q("continue"),
            "WITH_CALL_LOG": "1", "CA_FILE": q(os.path.join(S.PKI, "sign-ca.pem")),
            "X5U_CERT": q(S.SIGN_X5U + "=" + os.path.join(S.PKI, "sign.pem")),
            # who may assert what stays here: the test operator's signer and the STI-AS
            "X5U_SIGNER": q("https://cert.example.net/=" + S.DOMAINS + ",avatar"),
            "X5U_SIGNER2": q(S.CERT_URL + "=" + S.DOMAINS + ",avatar")}),
    }
    try:
        for name, (cfg, defines) in specs.items():
            d = tmp / name
            d.mkdir()
            nodes[name] = Solo(d, cfg, PORTS[name], defines).start()
        yield nodes
    finally:
        for n in nodes.values():
            n.stop()
        stack.set_sti_fault("none")
        stack.stop_sti()   # test_ms_api starts its own on the same port


def call(stack, via, **kw):
    return stack.place_call(served=S.ALICE, claim=S.ALICE_ID, to_port=PORTS[via], **kw)


def sti_public_key():
    with open(os.path.join(S.PKI, "sti.pem"), "rb") as f:
        return x509.load_pem_x509_certificate(f.read()).public_key()


def jws_of(identity):
    return identity.split(";", 1)[0]


def verstat_of(call):
    pai = call.callee_header("P-Asserted-Identity")
    assert pai, "the callee got no P-Asserted-Identity"
    m = re.search(r"verstat=([A-Za-z-]+)", pai[0])
    return m.group(1) if m else None


def sti_requests(stack, member):
    """The requests the STI service got whose body holds member ("signingRequest",
    "verificationRequest"): its --log-bodies record."""
    with open(stack.sti_bodies) as f:
        recs = [json.loads(line) for line in f if line.strip()]
    return [r["request"][member] for r in recs if member in (r.get("request") or {})]


# ---- the three combinations -----------------------------------------------------

def test_sti_as_signs_term_verifies_locally(stack, ms):
    before = ms["orig-ms"].stats()
    c = call(stack, "orig-ms")
    assert c.code == 200, c.output
    assert c.callee_header(PRESENT) == [VERIFIED]
    ids = rcd_identities(c)
    assert len(ids) == 1 and f"info=<{S.STI_X5U}>" in ids[0]
    # the STI-AS's token, checked by independent code with its certificate's key
    payload = jwt.decode(jws_of(ids[0]), sti_public_key(), algorithms=["ES256"],
                         options={"verify_aud": False})
    assert payload["tpid"] == {"exp": payload["tpid"]["exp"], "id": S.ALICE_ID,
                               "iss": "acme.example"}
    assert payload["rcd"] == {"nam": "Alice Example (ACME Corp.)"}
    assert payload["orig"] == {"tn": S.ALICE.split("+", 1)[1]}
    assert jwt.get_unverified_header(jws_of(ids[0]))["x5u"] == S.STI_X5U
    after = ms["orig-ms"].stats()
    assert after["ms_requests"] - before.get("ms_requests", 0) == 1
    assert after["signed"] - before.get("signed", 0) == 1
    assert ms["orig-ms"].call_reason(c.call_id, "orig") == "OK"
    # the session's term fetched the STI-AS's certificate from its x5u and verified
    assert re.search(rf"tpid term: call-id={re.escape(c.call_id)} .*reason=OK ",
                     open(os.path.join(stack.run, "term.log"), errors="replace").read())


def test_local_signature_sti_vs_verifies(stack, ms):
    before = ms["term-ms"].stats()
    c = call(stack, "orig-local")
    assert c.code == 200, c.output
    assert c.callee_header(PRESENT) == [VERIFIED]
    assert verstat_of(c) == "TN-Validation-Passed"
    assert ms["term-ms"].call_reason(c.call_id, "term") == "OK"
    after = ms["term-ms"].stats()
    assert after["ms_requests"] - before.get("ms_requests", 0) == 1
    assert after["verified"] - before.get("verified", 0) == 1
    asked = [r for r in sti_requests(stack, "verificationRequest")
             if f"info=<{S.SIGN_X5U}>" in r["identityHeader"]]
    assert asked, "the STI-VS was not asked"


def test_both_through_ms(stack, ms):
    c = call(stack, "orig-both")
    assert c.code == 200, c.output
    assert c.callee_header(PRESENT) == [VERIFIED]
    assert verstat_of(c) == "TN-Validation-Passed"
    ids = rcd_identities(c)
    assert len(ids) == 1 and f"info=<{S.STI_X5U}>" in ids[0]
    jwt.decode(jws_of(ids[0]), sti_public_key(), algorithms=["ES256"])


def test_no_token_is_no_tn_validation(stack, ms):
    """verstat says what was checked: a call without third-party ID was not."""
    c = stack.place_call(served=S.ALICE, claim=None, to_port=PORTS["orig-both"])
    assert c.code == 200, c.output
    assert verstat_of(c) == "No-TN-Validation"
    assert c.callee_header(PRESENT) == []


def test_forged_verstat_from_the_network_is_replaced(stack, ms):
    c = stack.place_call(served=S.ALICE + ";verstat=TN-Validation-Passed", claim=None,
                         to_port=PORTS["orig-both"])
    assert c.code == 200, c.output
    pai = c.callee_header("P-Asserted-Identity")[0]
    assert pai.count("verstat=") == 1 and "verstat=No-TN-Validation" in pai


# ---- the service misbehaves: the failure policy, the reason, no call lost ---------

# fault -> the reason orig gives (fail_policy "strip": the call goes on without ID)
SIGN_FAULTS = {
    "down": "MS_TLS",               # hangs up before the TLS handshake
    "slow": "MS_TIMEOUT",
    "5xx": "MS_SERVICE_ERROR",
    "garbage": "MS_BAD_ANSWER",
    "wrongshape": "MS_BAD_ANSWER",
    "claims": "MS_BAD_ANSWER",      # a token with other claims than asked for
    "wrongcall": "MS_BAD_ANSWER",   # a token for another call (iat, orig)
}


def call_under_fault(stack, node, fault):
    """(the call through node with the STI service misbehaving as fault, seconds it
    took); the service is well again afterwards."""
    stack.set_sti_fault(fault, SLOW_MS if fault == "slow" else None)
    try:
        t0 = time.monotonic()
        c = call(stack, node)
        return c, time.monotonic() - t0
    finally:
        stack.set_sti_fault("none")


@pytest.mark.parametrize("fault", SIGN_FAULTS)
def test_sign_fault_follows_fail_policy(stack, ms, fault):
    c, took = call_under_fault(stack, "orig-ms", fault)
    assert c.code == 200, c.output
    assert_no_third_party_id(c)
    assert ms["orig-ms"].call_reason(c.call_id, "orig") == SIGN_FAULTS[fault]
    assert took < SLOW_MS / 1000.0 + 1, f"the call took {took:.2f} s"
    # and the next call is signed again
    c = call(stack, "orig-ms")
    assert c.code == 200 and c.callee_header(PRESENT) == [VERIFIED], c.output


def test_token_signed_with_another_key_fails_at_term(stack, ms):
    """orig cannot tell (it has no STI-AS certificate); the terminating side can."""
    c, _ = call_under_fault(stack, "orig-ms", "otherkey")
    # the session's term rejects (term_policy "reject"): 438 Invalid Identity Header
    assert c.code == 438, c.output
    assert ms["orig-ms"].call_reason(c.call_id, "orig") == "OK"


# fault -> the reason term gives (term_policy "continue": the call goes on, verstat
# TN-Validation-Failed, no presentation)
VERIFY_FAULTS = {
    "down": "MS_TLS",               # hangs up before the TLS handshake
    "slow": "MS_TIMEOUT",
    "5xx": "MS_SERVICE_ERROR",
    "garbage": "MS_BAD_ANSWER",
    "wrongshape": "MS_BAD_ANSWER",
    "nopayload": "MS_BAD_ANSWER",   # a pass without the verified claims
    "claims": "MS_BAD_ANSWER",      # a pass for other claims than the token's
    "failverify": "BAD_SIGNATURE",  # TN-Validation-Failed, reasonCode 438
}


@pytest.mark.parametrize("fault", VERIFY_FAULTS)
def test_verify_fault_follows_term_policy(stack, ms, fault):
    c, _ = call_under_fault(stack, "orig-local", fault)
    assert c.code == 200, c.output
    assert_no_third_party_id(c)
    assert verstat_of(c) == "TN-Validation-Failed"
    assert ms["term-ms"].call_reason(c.call_id, "term") == VERIFY_FAULTS[fault]
    c = call(stack, "orig-local")
    assert c.code == 200 and c.callee_header(PRESENT) == [VERIFIED], c.output


def test_replay_check_stays_in_the_module(stack, ms):
    """The STI-VS passes a valid token twice; the module's replay cache does not."""
    first = call(stack, "orig-both")
    assert first.code == 200
    token = rcd_identities(first)[0]
    c = stack.place_call(served=S.ALICE, claim=None, to_port=PORTS["term-ms"],
                         extra_headers=[f"Identity: {token}"])
    assert c.code == 200, c.output
    assert c.callee_header(PRESENT) == []
    assert ms["term-ms"].call_reason(c.call_id, "term") == "REPLAY"
    assert verstat_of(c) == "TN-Validation-Failed"


def test_counters_name_the_ms_reasons(stack, ms):
    vals = parse_stats(ms["orig-ms"].rpc("stats.get_statistics", "tpid_assert:"))
    assert vals.get("ms_requests", 0) > 0
    assert any(k.startswith("ms_latency_") and v > 0 for k, v in vals.items())
