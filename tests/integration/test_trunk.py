# SPDX-License-Identifier: GPL-2.0-or-later
"""A SIP trunk from an enterprise PBX: the originating cfg with -A TRUNK (tools/stack.py
runs it on udp 127.0.0.1:5062). The network asserts the PBX line in P-Asserted-Identity
(the served user); the third-party ID the PBX claims for the call is its From URI,
handed to tpid_assert_orig_id("$fu")."""
from callcheck import PRESENT, assert_no_third_party_id, log_reason, rcd_identities
import stack as S

PBX = S.ALICE   # the directory lets this line use Alice's employee ID


def trunk_call(**kw):
    kw.setdefault("served", PBX)
    return dict(to_port=S.TRUNK_PORT, claim=None, **kw)


def test_pbx_id_in_from_is_presented_verified(stack):
    c = stack.place_call(**trunk_call(from_uri=S.ALICE_ID))
    assert c.code == 200, c.output
    assert c.callee_header(PRESENT) == [
        '"Alice Example (ACME Corp.)" <sip:e102938@acme.example>;verified=yes;iss=acme.example']
    assert len(rcd_identities(c)) == 1
    assert log_reason(stack, c.call_id, log="trunk") == "OK"
    assert log_reason(stack, c.call_id, log="term", role="term") == "OK"


def test_id_the_pbx_may_not_use_is_rejected_403(stack):
    # Bob's employee ID: the directory gives it to another line.
    c = stack.place_call(**trunk_call(from_uri=S.BOB_ID, expect=403))
    assert (c.code, c.phrase) == (403, "Third-Party ID Not Authorized")
    assert c.callee is None
    assert log_reason(stack, c.call_id, log="trunk") == "DENIED"


def test_unknown_id_in_from_is_rejected_403(stack):
    c = stack.place_call(**trunk_call(from_uri="sip:e000000@acme.example", expect=403))
    assert c.code == 403
    assert c.callee is None
    assert log_reason(stack, c.call_id, log="trunk") == "UNKNOWN_ID"


def test_trunk_without_pai_is_rejected_403(stack):
    c = stack.place_call(**trunk_call(served=None, from_uri=S.ALICE_ID, expect=403))
    assert (c.code, c.phrase) == (403, "No Served User")
    assert c.callee is None
    assert log_reason(stack, c.call_id, log="trunk") == "NO_SERVED_USER"


def test_trunk_takes_the_id_from_from_not_from_the_claim_header(stack):
    # A P-Third-Party-ID from the PBX is not what a trunk is asked about, and does not
    # travel on; the verified ID is the From's.
    c = stack.place_call(**trunk_call(from_uri=S.ALICE_ID,
                                      extra_headers=[f"P-Third-Party-ID: <{S.BOB_ID}>"]))
    assert c.code == 200, c.output
    assert c.callee_header(PRESENT)[0].startswith('"Alice Example (ACME Corp.)" <sip:e102938@')
    assert c.callee_header("P-Third-Party-ID") == []


def test_trunk_enterprise_down_strips_and_call_goes_on(stack):
    c = stack.place_call(**trunk_call(from_uri="sip:e102938@down.example"))
    assert c.code == 200, c.output
    assert_no_third_party_id(c)
    assert log_reason(stack, c.call_id, log="trunk") == "HOOK_CONNECT"
