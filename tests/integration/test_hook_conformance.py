# SPDX-License-Identifier: GPL-2.0-or-later
"""What the module sends to the enterprise hook, and what it is answered, against the
contract in docs/hook-api.yaml. The stack's main hook logs every verification request
with its answer (enterprise_service.py --log-bodies, build/run/hook-bodies.jsonl).

The calls use Carol, a directory user no other test touches, so that no decision the
module may have cached from an earlier test hides a request."""
import json
import os
import time

import pytest

from callcheck import PRESENT, log_reason
from openapi_check import assert_valid
import stack as S


def new_records(st, offset, want, wait=3.0):
    """The --log-bodies records written after offset; waits until there are want."""
    deadline = time.time() + wait
    while True:
        with open(st.hook_bodies, encoding="utf-8") as f:
            f.seek(offset)
            recs = [json.loads(line) for line in f.read().splitlines() if line]
        if len(recs) >= want or time.time() >= deadline:
            return recs
        time.sleep(0.05)


@pytest.fixture(scope="module")
def exchanges(stack):
    """An authorized, a denied and an unknown call; the hook's log records of them."""
    offset = os.path.getsize(stack.hook_bodies)
    t0 = int(time.time())
    calls = {
        "authorized": stack.place_call(served=S.CAROL, claim=S.CAROL_ID),
        "denied": stack.place_call(served=S.MALLORY, claim=S.CAROL_ID, expect=403),
        "unknown": stack.place_call(served=S.CAROL, claim="sip:e300999@acme.example",
                                    expect=403),
    }
    return t0, calls, new_records(stack, offset, len(calls))


def test_the_calls_ended_as_the_directory_says(stack, exchanges):
    _, calls, _ = exchanges
    assert calls["authorized"].code == 200
    assert calls["authorized"].callee_header(PRESENT)[0].startswith(
        '"Carol Conform (ACME Corp.)" <sip:e300001@acme.example>;verified=yes')
    assert calls["denied"].code == 403 and calls["unknown"].code == 403
    assert log_reason(stack, calls["denied"].call_id) == "DENIED"
    assert log_reason(stack, calls["unknown"].call_id) == "UNKNOWN_ID"


def test_one_request_per_call(exchanges):
    _, calls, recs = exchanges
    assert len(recs) == len(calls), recs


def test_every_request_body_is_a_tpid_verification_request(exchanges):
    _, _, recs = exchanges
    assert recs
    for r in recs:
        assert_valid(r["request"], "TpidVerificationRequest")


def test_every_answer_is_a_tpid_verification_response(exchanges):
    _, _, recs = exchanges
    assert recs
    for r in recs:
        assert r["status"] == 200, r
        assert_valid(r["answer"], "TpidVerificationResponse")


def test_requests_carry_what_the_call_says(exchanges):
    t0, calls, recs = exchanges
    by_tpid = {}
    for r in recs:
        req = r["request"]["tpidVerificationRequest"]
        by_tpid.setdefault((req["servedUser"], req["tpid"]), []).append((req, r["answer"]))
    want = {"authorized": (S.CAROL, S.CAROL_ID),
            "denied": (S.MALLORY, S.CAROL_ID),
            "unknown": (S.CAROL, "sip:e300999@acme.example")}
    for result, key in want.items():
        assert key in by_tpid, f"no request for {result} {key}: {sorted(by_tpid)}"
        (req, answer), = by_tpid[key]
        assert answer["tpidVerificationResponse"]["result"] == result
        if "callId" in req:
            assert req["callId"] == calls[result].call_id
        assert t0 - 5 <= req["time"] <= time.time() + 5
        assert any(S.CALLEE in d for d in req["dest"]), req["dest"]
