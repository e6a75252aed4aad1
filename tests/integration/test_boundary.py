# SPDX-License-Identifier: GPL-2.0-or-later
"""The trust boundary: a third-party presentation, claim or token reaches the
callee only through tpid_assert_orig/term. Every other request (any method,
in-dialog or not, an INVITE with a made-up To-tag) loses them in both shipped
cfgs, each checked on its own (sent to the originating side, and straight to
the terminating side)."""
import pytest

from conftest import sign
import stack as S
from callcheck import PRESENT

FORGED_PRESENT = f'{PRESENT}: "ACME CEO" <sip:ceo@acme.example>;verified=yes;iss=acme.example'
FORGED_CLAIM = "P-Third-Party-ID: <sip:ceo@acme.example>"
SDP = ("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
       "m=audio 4000 RTP/AVP 0\r\n")

# method, To-tag, CSeq, body
REQUESTS = [
    ("MESSAGE", None, 1, "hello"),
    ("OPTIONS", None, 1, ""),
    ("INVITE", "reinv1", 2, SDP),      # a re-INVITE
    ("UPDATE", "upd1", 3, SDP),
    ("INFO", "info1", 4, "Signal=5\r\n"),
    ("INVITE", "forged", 1, SDP),      # an initial INVITE with a made-up To-tag
]


def forged_headers():
    # a validly signed token (it would verify) next to one with a quoted-pair
    # in front of its ppt, which once escaped the header picker
    good = sign()
    tricky = good.replace(";ppt=rcd", ';x="a\\"b";ppt=rcd')
    return [f"P-Asserted-Identity: <{S.ALICE}>", FORGED_PRESENT, FORGED_CLAIM,
            "Identity: " + good, "Identity: " + tricky]


def third_party(m):
    h = m["headers"]
    rcd = [v for v in h.get("identity", []) if "rcd" in v]
    return h.get(PRESENT.lower(), []) + h.get("p-third-party-id", []) + rcd


@pytest.mark.parametrize("entry", ["orig", "term"])
@pytest.mark.parametrize("method,to_tag,cseq,body", REQUESTS,
                         ids=[f"{r[0]}-{r[1] or 'nodialog'}" for r in REQUESTS])
def test_nothing_third_party_passes_outside_orig_term(stack, entry, method, to_tag, cseq, body):
    port = S.ORIG_PORT if entry == "orig" else S.TERM_PORT
    cid = stack.send_request(method, port, forged_headers(), to_tag=to_tag, cseq=cseq,
                             body=body)
    m = stack.callee_request(cid, method)
    assert m is not None, f"the callee got no {method}"
    assert third_party(m) == []
    # the rest of the request is untouched
    assert m["headers"]["p-asserted-identity"] == [f"<{S.ALICE}>"]


def test_strip_keeps_other_identity_headers(stack):
    shaken = "eyJhbGciOiJFUzI1NiJ9.e30.c2ln;info=<https://sti.example/c.pem>;alg=ES256;ppt=shaken"
    cid = stack.send_request("MESSAGE", S.TERM_PORT, ["Identity: " + shaken] + forged_headers(),
                             body="hi")
    m = stack.callee_request(cid, "MESSAGE")
    assert m is not None
    assert m["headers"]["identity"] == [shaken]


def test_kemi_originating_side_strips_too(stack):
    # through the KEMI orig instance, then the terminating side
    cid = stack.send_request("MESSAGE", S.KEMI_PORT, forged_headers(), body="hi")
    m = stack.callee_request(cid, "MESSAGE")
    assert m is not None and third_party(m) == []
