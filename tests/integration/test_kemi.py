# SPDX-License-Identifier: GPL-2.0-or-later
"""The KEMI exports: the originating side routed in Python (app_python3,
cfg/orig-scscf-kemi.py). A miss suspends the INVITE and the answer resumes
it in the named Python method (t_continue_cb); a hit runs inline."""
import os

import pytest

import stack as S
from callcheck import AV_PRESENT, PRESENT, log_reason, stats



@pytest.fixture(autouse=True)
def no_script_errors(stack):
    """Whatever a test asserts, the Python routing must not have failed."""
    log = os.path.join(stack.run, "kemi.log")
    start = os.path.getsize(log)
    yield
    with open(log, errors="replace") as f:
        f.seek(start)
        new = f.read()
    assert "Traceback" not in new and "ERROR: app_python3" not in new, new[-2000:]


def test_kemi_miss_then_hit_both_presented(stack):
    stack.rpc("kemi", "tpid_assert.cache_flush")
    for expect_reason in ("OK", "OK"):
        c = stack.place_call(served=S.ALICE, claim=S.ALICE_ID, to_port=S.KEMI_PORT)
        assert c.code == 200, c.output
        assert c.callee_header(PRESENT)[0].startswith('"Alice Example (ACME Corp.)"')
        assert log_reason(stack, c.call_id, log="kemi") == expect_reason
    st = stats(stack, "kemi")
    assert st["queries"] == 1 and st["cache_hits"] == 1, st


def test_kemi_denied_is_rejected(stack):
    c = stack.place_call(served=S.MALLORY, claim=S.ALICE_ID, to_port=S.KEMI_PORT,
                         expect=403)
    assert c.code == 403 and c.callee is None
    assert log_reason(stack, c.call_id, log="kemi") == "DENIED"


def test_kemi_enterprise_down_strips(stack):
    c = stack.place_call(served=S.ALICE, claim="sip:e1@down.example", to_port=S.KEMI_PORT)
    assert c.code == 200
    assert c.callee_header(PRESENT) == []
    assert log_reason(stack, c.call_id, log="kemi") == "HOOK_CONNECT"


def test_kemi_third_party_id_and_avatar_in_one_suspension(stack):
    stack.rpc("kemi", "tpid_assert.cache_flush")
    stack.rpc("kemi", "tpid_assert.avatar_flush")
    c = stack.place_call(served=S.BOB, claim=S.BOB_ID, to_port=S.KEMI_PORT,
                         extra_headers=["P-Avatar-ID: bob-01"])
    assert c.code == 200, c.output
    assert c.callee_header(PRESENT)[0].startswith('"Bob Builder (ACME Corp.)"')
    assert c.callee_header(AV_PRESENT)[0].startswith('"bob-01";')
    assert log_reason(stack, c.call_id, log="kemi") == "OK"
    assert log_reason(stack, c.call_id, log="kemi", role="orig avatar") == "OK"
    c = stack.place_call(served=S.MALLORY, claim=None, to_port=S.KEMI_PORT,
                         extra_headers=["P-Avatar-ID: bob-01"], expect=403)
    assert (c.code, c.phrase) == (403, "Avatar-ID Not Authorized")
    assert log_reason(stack, c.call_id, log="kemi", role="orig avatar") == "AVATAR_DENIED"
