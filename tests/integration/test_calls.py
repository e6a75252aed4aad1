# SPDX-License-Identifier: GPL-2.0-or-later
"""End to end through real processes: SIPp caller -> originating Kamailio ->
terminating Kamailio -> SIPp callee, with the reference enterprise hook.

Each test asserts what comes back to the caller (SIP code) and what the
callee received (the presentation header, the Identity header), and the
reason the module logged."""
import json
import os

import pytest

from conftest import now, sign
import stack as S
from callcheck import PRESENT, b64u_dec, b64u_enc, log_reason, rcd_identities


def alter_payload(identity, change):
    """What an intermediary would do: rewrite a claim, keep the signature."""
    jws, params = identity.split(";", 1)
    h, p, sig = jws.split(".")
    payload = json.loads(b64u_dec(p))
    change(payload)
    p2 = b64u_enc(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode())
    return f"{h}.{p2}.{sig};{params}"


# ---- originating side, through both proxies ---------------------------------

def test_authorized_id_is_presented_verified(stack):
    c = stack.place_call(served=S.ALICE, claim=S.ALICE_ID)
    assert c.code == 200, c.output
    assert c.callee_header(PRESENT) == [
        '"Alice Example (ACME Corp.)" <sip:e102938@acme.example>;verified=yes;iss=acme.example']
    assert len(rcd_identities(c)) == 1
    # the unverified claim does not travel
    assert c.callee_header("P-Third-Party-ID") == []
    assert log_reason(stack, c.call_id) == "OK"
    assert log_reason(stack, c.call_id, log="term", role="term") == "OK"


def test_second_employee_gets_own_name(stack):
    c = stack.place_call(served=S.BOB, claim=S.BOB_ID)
    assert c.code == 200
    assert c.callee_header(PRESENT)[0].startswith('"Bob Builder (ACME Corp.)" <sip:e554433@acme.example>')


def test_denied_id_is_rejected_403(stack):
    # Mallory claims Alice's employee ID: the enterprise says denied.
    c = stack.place_call(served=S.MALLORY, claim=S.ALICE_ID, expect=403)
    assert c.code == 403
    assert c.phrase == "Third-Party ID Not Authorized"
    assert c.callee is None
    assert log_reason(stack, c.call_id) == "DENIED"


def test_unknown_id_is_rejected_403(stack):
    c = stack.place_call(served=S.ALICE, claim="sip:e000000@acme.example", expect=403)
    assert c.code == 403
    assert c.callee is None
    assert log_reason(stack, c.call_id) == "UNKNOWN_ID"


def test_no_claim_passes_without_third_party_id(stack):
    c = stack.place_call(served=S.ALICE, claim=None)
    assert c.code == 200
    assert c.callee_header(PRESENT) == []
    assert rcd_identities(c) == []
    assert log_reason(stack, c.call_id) == "NO_CLAIM"


def test_forged_identity_from_ue_is_stripped(stack):
    # The UE inserts a well-formed token signed with its own key, and a
    # presentation header, and claims no ID: the callee sees none of it.
    forged = sign(key=os.path.join(S.PKI, "rogue.key"), name="ACME CEO")
    c = stack.place_call(served=S.MALLORY, claim=None, extra_headers=[
        "Identity: " + forged, f'{PRESENT}: "ACME CEO" <sip:ceo@acme.example>;verified=yes'])
    assert c.code == 200
    assert rcd_identities(c) == []
    assert c.callee_header(PRESENT) == []


def test_forged_identity_beside_a_real_claim_is_replaced(stack):
    forged = sign(key=os.path.join(S.PKI, "rogue.key"), name="ACME CEO")
    c = stack.place_call(served=S.ALICE, claim=S.ALICE_ID, extra_headers=["Identity: " + forged])
    assert c.code == 200
    ids = rcd_identities(c)
    assert len(ids) == 1 and ids[0] != forged
    assert c.callee_header(PRESENT)[0].startswith('"Alice Example (ACME Corp.)"')


def test_shaken_identity_is_left_alone(stack):
    shaken = "eyJhbGciOiJFUzI1NiJ9.e30.c2ln;info=<https://sti.example/c.pem>;alg=ES256;ppt=shaken"
    c = stack.place_call(served=S.ALICE, claim=S.ALICE_ID, extra_headers=["Identity: " + shaken])
    assert c.code == 200
    assert shaken in c.callee_header("Identity")
    assert len(rcd_identities(c)) == 1


def test_enterprise_down_strips_claim_and_call_goes_on(stack):
    c = stack.place_call(served=S.ALICE, claim="sip:e1@down.example")
    assert c.code == 200
    assert c.callee_header(PRESENT) == []
    assert rcd_identities(c) == []
    assert c.callee_header("P-Third-Party-ID") == []
    assert log_reason(stack, c.call_id) == "HOOK_CONNECT"


def test_domain_without_enterprise_is_rejected(stack):
    c = stack.place_call(served=S.ALICE, claim="sip:e1@nowhere.example", expect=403)
    assert c.code == 403
    assert c.callee is None
    assert log_reason(stack, c.call_id) == "NO_ENTERPRISE"


def test_malformed_claim_is_rejected(stack):
    c = stack.place_call(served=S.ALICE, claim="not a uri", expect=403)
    assert c.code == 403
    assert c.phrase == "Invalid Third-Party ID"
    assert log_reason(stack, c.call_id) == "BAD_CLAIM"


def test_missing_served_user_is_rejected(stack):
    c = stack.place_call(served=None, claim=S.ALICE_ID, expect=403)
    assert c.code == 403
    assert c.phrase == "No Served User"
    assert log_reason(stack, c.call_id) == "NO_SERVED_USER"


# ---- terminating side: tokens sent straight to it ---------------------------

def test_valid_token_direct_to_term_is_presented(stack):
    c = stack.place_call(served=S.ALICE, claim=None, to_port=S.TERM_PORT,
                         extra_headers=["Identity: " + sign()])
    assert c.code == 200
    assert c.callee_header(PRESENT)[0].startswith('"Alice Example (ACME Corp.)"')


def test_tampered_token_is_refused_438(stack):
    token = alter_payload(sign(), lambda p: p["rcd"].update(nam="ACME CEO"))
    c = stack.place_call(served=S.ALICE, claim=None, to_port=S.TERM_PORT,
                         extra_headers=["Identity: " + token], expect=438)
    assert (c.code, c.phrase) == (438, "Invalid Identity Header")
    assert c.callee is None
    assert log_reason(stack, c.call_id, log="term", role="term") == "BAD_SIGNATURE"


def with_quoted_pair(identity):
    # A generic parameter whose quoted-string holds an escaped quote, before ppt.
    jws, params = identity.split(";", 1)
    return jws + ';x="a\\"b";' + params


def test_token_behind_a_quoted_pair_is_verified(stack):
    c = stack.place_call(served=S.ALICE, claim=None, to_port=S.TERM_PORT,
                         extra_headers=["Identity: " + with_quoted_pair(sign())])
    assert c.code == 200
    assert c.callee_header(PRESENT)[0].startswith('"Alice Example (ACME Corp.)"')


def test_tampered_token_behind_a_quoted_pair_is_refused_438(stack):
    token = alter_payload(sign(), lambda p: p["rcd"].update(nam="ACME CEO"))
    c = stack.place_call(served=S.ALICE, claim=None, to_port=S.TERM_PORT,
                         extra_headers=["Identity: " + with_quoted_pair(token)],
                         expect=438)
    assert (c.code, c.phrase) == (438, "Invalid Identity Header")
    assert c.callee is None


def test_token_from_orig_altered_in_transit_is_refused(stack):
    # Take a real token the originating side signed, change the ID on the way.
    ok = stack.place_call(served=S.ALICE, claim=S.ALICE_ID)
    token = rcd_identities(ok)[0]
    bad = alter_payload(token, lambda p: p["tpid"].update(id="sip:ceo@acme.example"))
    c = stack.place_call(served=S.ALICE, claim=None, to_port=S.TERM_PORT,
                         extra_headers=["Identity: " + bad], expect=438)
    assert c.code == 438
    assert c.callee is None
    assert log_reason(stack, c.call_id, log="term", role="term") == "BAD_SIGNATURE"


def test_replayed_token_with_stale_iat_is_refused_403(stack):
    c = stack.place_call(served=S.ALICE, claim=None, to_port=S.TERM_PORT,
                         extra_headers=["Identity: " + sign(iat=now() - 120)], expect=403)
    assert (c.code, c.phrase) == (403, "Stale Date")
    assert c.callee is None
    assert log_reason(stack, c.call_id, log="term", role="term") == "IAT_STALE"


def test_token_from_the_future_is_refused_403(stack):
    c = stack.place_call(served=S.ALICE, claim=None, to_port=S.TERM_PORT,
                         extra_headers=["Identity: " + sign(iat=now() + 300)], expect=403)
    assert (c.code, c.phrase) == (403, "Stale Date")
    assert log_reason(stack, c.call_id, log="term", role="term") == "IAT_FUTURE"


def test_expired_authorization_is_refused(stack):
    c = stack.place_call(served=S.ALICE, claim=None, to_port=S.TERM_PORT,
                         extra_headers=["Identity: " + sign(exp=now() - 1)], expect=403)
    assert c.code == 403
    assert log_reason(stack, c.call_id, log="term", role="term") == "TPID_EXPIRED"


def test_dest_mismatch_is_refused_438(stack):
    token = sign(dest="4961510000000")
    c = stack.place_call(served=S.ALICE, claim=None, to_port=S.TERM_PORT,
                         extra_headers=["Identity: " + token], expect=438)
    assert (c.code, c.phrase) == (438, "Invalid Identity Header")
    assert c.callee is None
    assert log_reason(stack, c.call_id, log="term", role="term") == "DEST_MISMATCH"


def test_orig_mismatch_is_refused_438(stack):
    c = stack.place_call(served=S.MALLORY, claim=None, to_port=S.TERM_PORT,
                         extra_headers=["Identity: " + sign()], expect=438)
    assert c.code == 438
    assert log_reason(stack, c.call_id, log="term", role="term") == "ORIG_MISMATCH"


def test_token_signed_by_untrusted_key_is_refused(stack):
    token = sign(key=os.path.join(S.PKI, "rogue.key"))
    c = stack.place_call(served=S.ALICE, claim=None, to_port=S.TERM_PORT,
                         extra_headers=["Identity: " + token], expect=438)
    assert c.code == 438
    assert log_reason(stack, c.call_id, log="term", role="term") == "BAD_SIGNATURE"


def test_x5u_not_on_allowlist_is_refused_436(stack):
    token = sign(x5u="https://evil.example/tpid.pem")
    c = stack.place_call(served=S.ALICE, claim=None, to_port=S.TERM_PORT,
                         extra_headers=["Identity: " + token], expect=436)
    assert (c.code, c.phrase) == (436, "Bad Identity Info")
    assert log_reason(stack, c.call_id, log="term", role="term") == "X5U_NOT_ALLOWED"


def test_x5u_different_from_info_is_refused_436(stack):
    token = sign().replace("info=<https://cert.example.net/tpid.pem>",
                           "info=<https://cert.example.net/other.pem>")
    c = stack.place_call(served=S.ALICE, claim=None, to_port=S.TERM_PORT,
                         extra_headers=["Identity: " + token], expect=436)
    assert c.code == 436
    assert log_reason(stack, c.call_id, log="term", role="term") == "X5U_MISMATCH"


def test_garbage_identity_is_refused_438(stack):
    c = stack.place_call(served=S.ALICE, claim=None, to_port=S.TERM_PORT,
                         extra_headers=["Identity: !!!.???.###;info=<https://cert.example.net/tpid.pem>;alg=ES256;ppt=rcd"],
                         expect=438)
    assert c.code == 438
    assert log_reason(stack, c.call_id, log="term", role="term") == "BAD_SYNTAX"


def test_presentation_from_network_is_never_passed_on(stack):
    # No token, but a presentation header from upstream: the callee sees none.
    c = stack.place_call(served=S.ALICE, claim=None, to_port=S.TERM_PORT,
                         extra_headers=[f'{PRESENT}: "ACME CEO" <sip:ceo@acme.example>;verified=yes'])
    assert c.code == 200
    assert c.callee_header(PRESENT) == []


# The terminating claim rules: tpid.id of the identity grammar, tpid.iss a DNS
# name, the host of a SIP tpid.id equal to iss or under it. A valid signature
# alone does not let a signer present an ID of another enterprise.
@pytest.mark.parametrize("tpid_id,iss,reason", [
    ("sip:e102938@evilacme.example", "acme.example", "ISS_MISMATCH"),
    ("sip:e102938@acme.example", "sub.acme.example", "ISS_MISMATCH"),
    ("sip:e102938@acme..example", "example", "BAD_TPID_ID"),
    ("sip:e1;x=\"y\"@acme.example", "acme.example", "BAD_TPID_ID"),
    ("sip:e102938@acme.example", "acme.example;x=1", "BAD_TPID_ISS"),
    ("sip:e102938@acme.example", "acme.example.", "BAD_TPID_ISS"),
])
def test_claim_rules_refuse_438(stack, tpid_id, iss, reason):
    c = stack.place_call(served=S.ALICE, claim=None, to_port=S.TERM_PORT,
                         extra_headers=["Identity: " + sign(id=tpid_id, iss=iss)],
                         expect=438)
    assert c.code == 438 and c.callee is None
    assert log_reason(stack, c.call_id, log="term", role="term") == reason


def test_claim_of_a_subdomain_is_presented(stack):
    c = stack.place_call(served=S.ALICE, claim=None, to_port=S.TERM_PORT,
                         extra_headers=["Identity: " + sign(id="sip:e1@Sales.Acme.example")])
    assert c.code == 200
    assert "<sip:e1@Sales.Acme.example>;verified=yes;iss=acme.example" in c.callee_header(PRESENT)[0]
