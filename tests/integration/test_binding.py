# SPDX-License-Identifier: GPL-2.0-or-later
"""What a token is bound to on the terminating side: orig to the network-asserted
P-Asserted-Identity (From only where the operator says so), dest to the
Request-URI; and RFC 9410: when the policy lets an unverified call go on, the
Reason travels upstream in the replies too."""
from conftest import sign
from callcheck import PRESENT, log_reason, rcd_identities
import stack as S

STIR_438 = 'STIR;cause=438;text="Invalid Identity Header"'


def test_no_pai_is_its_own_reason(stack):
    # From carries the right number, but the caller writes From: not enough
    c = stack.place_call(served=None, claim=None, to_port=S.TERM_PORT,
                         from_uri=S.ALICE, extra_headers=["Identity: " + sign()],
                         expect=438)
    assert (c.code, c.phrase) == (438, "Invalid Identity Header")
    assert c.callee is None
    assert log_reason(stack, c.call_id, log="term", role="term") == "NO_PAI"


def test_from_stands_in_only_where_configured(stack):
    # the lenient instance has term_orig_from 1: From counts without PAI
    c = stack.place_call(served=None, claim=None, to_port=S.TERM_REASON_PORT,
                         from_uri=S.ALICE, extra_headers=["Identity: " + sign()])
    assert c.code == 200
    assert c.callee_header(PRESENT)[0].startswith('"Alice Example (ACME Corp.)"')
    assert log_reason(stack, c.call_id, log="termr", role="term") == "OK"


def test_pai_wins_over_a_matching_from(stack):
    # PAI says Mallory, From says Alice: the token (Alice) does not bind
    c = stack.place_call(served=S.MALLORY, claim=None, to_port=S.TERM_PORT,
                         from_uri=S.ALICE, extra_headers=["Identity: " + sign()],
                         expect=438)
    assert c.code == 438
    assert log_reason(stack, c.call_id, log="term", role="term") == "ORIG_MISMATCH"


def test_dest_binds_to_the_request_uri_not_to(stack):
    # the token names the callee's number; the R-URI goes elsewhere
    c = stack.place_call(served=S.ALICE, claim=None, to_port=S.TERM_PORT,
                         dest="4961510000000", extra_headers=["Identity: " + sign()],
                         expect=438)
    assert c.code == 438
    assert log_reason(stack, c.call_id, log="term", role="term") == "DEST_MISMATCH"


def test_rfc9410_reason_travels_upstream(stack):
    forged = sign(key=f"{S.PKI}/rogue.key")
    c = stack.place_call(served=S.ALICE, claim=None, to_port=S.TERM_REASON_PORT,
                         extra_headers=["Identity: " + forged])
    assert c.code == 200
    # towards the callee: no ID, the Reason
    assert c.callee_header(PRESENT) == [] and rcd_identities(c) == []
    assert c.callee_header("Reason") == [STIR_438]
    # and back to the caller, in the 200
    assert c.final["headers"].get("reason") == [STIR_438]
    assert log_reason(stack, c.call_id, log="termr", role="term") == "BAD_SIGNATURE"


def test_verified_call_carries_no_reason_upstream(stack):
    c = stack.place_call(served=S.ALICE, claim=None, to_port=S.TERM_REASON_PORT,
                         extra_headers=["Identity: " + sign()])
    assert c.code == 200
    assert "reason" not in c.final["headers"]


def test_signer_may_assert_only_its_listed_enterprises(stack):
    # a valid signature by the test operator, for an enterprise it is not
    # listed for (x5u_signer): nothing is presented
    token = sign(id="sip:ceo@globex.example", iss="globex.example", name="Globex CEO")
    c = stack.place_call(served=S.ALICE, claim=None, to_port=S.TERM_PORT,
                         extra_headers=["Identity: " + token], expect=437)
    assert (c.code, c.phrase) == (437, "Unsupported Credential")
    assert c.callee is None
    assert log_reason(stack, c.call_id, log="term", role="term") == "ISSUER_NOT_ALLOWED"


def test_listed_enterprise_passes(stack):
    # the positive control: the same signer for an enterprise it is listed for
    token = sign(id="sip:e102938@" + S.extra_hook_id("slow").split("@")[1],
                 iss="slow.example")
    c = stack.place_call(served=S.ALICE, claim=None, to_port=S.TERM_PORT,
                         extra_headers=["Identity: " + token])
    assert c.code == 200
    assert "<sip:e102938@slow.example>" in c.callee_header(PRESENT)[0]
