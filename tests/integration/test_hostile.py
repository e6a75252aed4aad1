# SPDX-License-Identifier: GPL-2.0-or-later
"""Hostile headers: oversized, repeated and malformed input gets a clear
reason and a defined SIP outcome, and no process dies (the autouse fixture
in conftest.py fails any test after which a stack process is gone)."""

from conftest import sign
import stack as S
from callcheck import PRESENT, log_reason, rcd_identities


def test_oversized_identity_is_refused_438(stack):
    big = "A" * 9000 + ".B.C;info=<https://cert.example.net/tpid.pem>;alg=ES256;ppt=rcd"
    c = stack.place_call(served=S.ALICE, claim=None, to_port=S.TERM_PORT,
                         extra_headers=["Identity: " + big], expect=438)
    assert c.code == 438 and c.callee is None
    assert log_reason(stack, c.call_id, log="term", role="term") == "BAD_SYNTAX"


def test_oversized_identity_from_the_ue_is_stripped(stack):
    big = "A" * 9000 + ".B.C;info=<https://cert.example.net/tpid.pem>;alg=ES256;ppt=rcd"
    c = stack.place_call(served=S.ALICE, claim=S.ALICE_ID, extra_headers=["Identity: " + big])
    assert c.code == 200
    ids = rcd_identities(c)
    assert len(ids) == 1 and len(ids[0]) < 2000  # ours, not the UE's


def test_many_tokens_only_the_verified_one_reaches_the_callee(stack):
    good = sign()
    forged = sign(key=f"{S.PKI}/rogue.key", name="ACME CEO")
    shaken = "eyJhbGciOiJFUzI1NiJ9.e30.c2ln;info=<https://sti.example/c.pem>;alg=ES256;ppt=shaken"
    headers = ["Identity: " + good] + ["Identity: " + forged] * 10 + ["Identity: " + shaken] * 5
    c = stack.place_call(served=S.ALICE, claim=None, to_port=S.TERM_PORT, extra_headers=headers)
    assert c.code == 200
    assert rcd_identities(c) == [good]
    assert c.callee_header("Identity").count(shaken) == 5
    assert c.callee_header(PRESENT)[0].startswith('"Alice Example (ACME Corp.)"')


def test_first_token_forged_is_refused_even_if_a_good_one_follows(stack):
    # The first third-party token is the one checked: a forged one in front
    # cannot be skipped by adding a good one behind it.
    forged = sign(key=f"{S.PKI}/rogue.key")
    c = stack.place_call(served=S.ALICE, claim=None, to_port=S.TERM_PORT,
                         extra_headers=["Identity: " + forged, "Identity: " + sign()],
                         expect=438)
    assert c.code == 438 and c.callee is None
    assert log_reason(stack, c.call_id, log="term", role="term") == "BAD_SIGNATURE"


def test_oversized_claim_is_refused(stack):
    claim = "sip:" + "e" * 5000 + "@acme.example"
    c = stack.place_call(served=S.ALICE, claim=claim, expect=403)
    assert (c.code, c.phrase) == (403, "Invalid Third-Party ID")
    assert log_reason(stack, c.call_id) == "BAD_CLAIM"


def test_garbage_pai_is_no_served_user(stack):
    c = stack.place_call(served="mailto:<<<>>>", claim=S.ALICE_ID, expect=403)
    assert (c.code, c.phrase) == (403, "No Served User")
    assert log_reason(stack, c.call_id) == "NO_SERVED_USER"


def test_claim_with_header_injection_characters_is_refused(stack):
    # quotes, blanks, <> anywhere in the ID: refused before any enterprise query
    for claim in ('sip:e1"x@acme.example', 'sip:e1 x@acme.example',
                  'sip:e102938@acme.example;x="y'):
        c = stack.place_call(served=S.ALICE, claim=claim, expect=403)
        assert (c.code, c.phrase) == (403, "Invalid Third-Party ID"), claim
        assert log_reason(stack, c.call_id) == "BAD_CLAIM", claim


def test_display_name_is_quoted_safely(stack):
    # a token whose name tries to break out of the quoted string
    token = sign(name='Evil" <sip:ceo@acme.example>;verified=yes;x="')
    c = stack.place_call(served=S.ALICE, claim=None, to_port=S.TERM_PORT,
                         extra_headers=["Identity: " + token])
    assert c.code == 200
    present = c.callee_header(PRESENT)
    assert len(present) == 1
    assert present[0].startswith('"Evil\\" <sip:ceo@acme.example>;verified=yes;x=\\""')
    assert present[0].endswith("<sip:e102938@acme.example>;verified=yes;iss=acme.example")
    assert log_reason(stack, c.call_id, log="term", role="term") == "OK"
