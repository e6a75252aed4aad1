# SPDX-License-Identifier: GPL-2.0-or-later
"""Certificates fetched from x5u: the terminating side trusts a signer whose
certificate nobody configured, by fetching it from the token's x5u (on the
allowlist) from the reference repository (tools/cert_server.py), validating it
against the anchors and caching it. Faults of the repository, SSRF attempts and
bad certificates are refused with their reasons; concurrent misses share one
fetch; failures are cached briefly; the RPC lists and flushes the cache."""
import os
import time
from concurrent.futures import ThreadPoolExecutor

from conftest import sign
from callcheck import PRESENT, log_reason, rcd_identities, stats
import stack as S


def fetches(st, path):
    """How many requests the repository got for path so far."""
    with open(os.path.join(st.run, "certs.log"), errors="replace") as f:
        return sum(1 for line in f if f" GET {path} " in line)


def call(st, x5u, key="sign.key", port=S.TERM_PORT, expect=200):
    token = sign(x5u=x5u, key=os.path.join(S.PKI, key))
    return st.place_call(served=S.ALICE, claim=None, to_port=port,
                         extra_headers=["Identity: " + token], expect=expect)


def fresh(st, *names):
    for name in names or ("term",):
        st.rpc(name, "tpid_assert.x5u_flush")


def test_fetched_certificate_verifies_and_is_cached(stack):
    fresh(stack)
    before = stats(stack, "term").get("x5u_fetches", 0)
    c = call(stack, S.CERT_URL + "sign.pem")
    assert c.code == 200
    assert c.callee_header(PRESENT)[0].startswith('"Alice Example (ACME Corp.)"')
    assert log_reason(stack, c.call_id, log="term", role="term") == "OK"
    n = fetches(stack, "/sign.pem")
    assert n >= 1
    # the next calls use the cache
    for _ in range(2):
        assert call(stack, S.CERT_URL + "sign.pem").code == 200
    assert fetches(stack, "/sign.pem") == n
    assert stats(stack, "term")["x5u_fetches"] == before + 1
    listing = stack.rpc("term", "tpid_assert.x5u_list")
    assert S.CERT_URL + "sign.pem" in listing and "good" in listing


def test_concurrent_misses_share_one_fetch(stack):
    fresh(stack)
    url = S.CERT_URL + "lag/sign.pem"
    n = fetches(stack, "/lag/sign.pem")
    with ThreadPoolExecutor(max_workers=4) as ex:
        calls = list(ex.map(lambda _: call(stack, url), range(4)))
    assert [c.code for c in calls] == [200] * 4
    assert fetches(stack, "/lag/sign.pem") == n + 1


def test_rpc_flush_fetches_again(stack):
    fresh(stack)
    url = S.CERT_URL + "maxage/300/sign.pem"
    assert call(stack, url).code == 200
    n = fetches(stack, "/maxage/300/sign.pem")
    assert call(stack, url).code == 200
    assert fetches(stack, "/maxage/300/sign.pem") == n
    assert stack.rpc("term", "tpid_assert.x5u_flush", url).strip() == "1"
    assert call(stack, url).code == 200
    assert fetches(stack, "/maxage/300/sign.pem") == n + 1


def test_max_age_is_honoured(stack):
    # the stack sets x5u_min_ttl 1: max-age=1 expires after a second
    fresh(stack)
    url = S.CERT_URL + "maxage/1/sign.pem"
    assert call(stack, url).code == 200
    n = fetches(stack, "/maxage/1/sign.pem")
    time.sleep(2.2)
    assert call(stack, url).code == 200
    assert fetches(stack, "/maxage/1/sign.pem") == n + 1


# Repository faults: each is CERT_FETCH (436), nothing presented.
FAULTS = ["404/sign.pem", "redirect/sign.pem", "huge/sign.pem", "notpem/sign.pem",
          "garbage/sign.pem", "close/sign.pem", "nosuch.pem"]


def test_repository_faults(stack):
    fresh(stack)
    for path in FAULTS:
        c = call(stack, S.CERT_URL + path, expect=436)
        assert (c.code, c.phrase) == (436, "Bad Identity Info"), path
        assert c.callee is None, path
        assert log_reason(stack, c.call_id, log="term", role="term") == "CERT_FETCH", path


def test_repository_down_and_slow(stack):
    fresh(stack)
    c = call(stack, S.CERT_DOWN_URL + "sign.pem", expect=436)
    assert c.code == 436
    assert log_reason(stack, c.call_id, log="term", role="term") == "CERT_FETCH"
    t0 = time.time()
    c = call(stack, S.CERT_URL + "slow/sign.pem", expect=436)
    assert c.code == 436
    assert log_reason(stack, c.call_id, log="term", role="term") == "CERT_FETCH"
    assert time.time() - t0 < S.CERT_SLOW_MS / 1000.0  # the timeout, not the answer


def test_failure_is_cached_briefly(stack):
    fresh(stack)
    url = S.CERT_URL + "404/sign2.pem"
    n = fetches(stack, "/404/sign2.pem")
    for _ in range(3):
        c = call(stack, url, key="sign2.key", expect=436)
        assert c.code == 436
    assert fetches(stack, "/404/sign2.pem") == n + 1
    assert "bad" in stack.rpc("term", "tpid_assert.x5u_list")


def test_redirect_is_not_followed(stack):
    # the repository answers 302 to a cloud metadata address: never fetched
    fresh(stack)
    c = call(stack, S.CERT_URL + "redirect/sign.pem", expect=436)
    assert c.code == 436
    with open(os.path.join(stack.run, "term.log"), errors="replace") as f:
        log = f.read()
    assert "x5u " + S.CERT_URL + "redirect/sign.pem: fetch failed: HTTP, http status 302" in log


def test_bad_certificates(stack):
    fresh(stack)
    for pem, key in (("sign-expired.pem", "sign-expired.key"),   # expired
                     ("rogue.pem", "rogue.key"),                # wrong chain
                     ("sign-noDS.pem", "sign-noDS.key")):       # no digitalSignature
        c = call(stack, S.CERT_URL + pem, key=key, expect=437)
        assert (c.code, c.phrase) == (437, "Unsupported Credential"), pem
        assert log_reason(stack, c.call_id, log="term", role="term") == "CERT_INVALID", pem


def test_claim_constraints_of_the_certificate(stack):
    fresh(stack)
    # RFC 9118 mustExclude ["tpid"]: this operator may not assert third-party IDs
    c = call(stack, S.CERT_URL + "sign-noTPID.pem", key="sign-noTPID.key", expect=438)
    assert c.code == 438
    assert log_reason(stack, c.call_id, log="term", role="term") == "CLAIM_CONSTRAINTS"
    # RFC 8226 mustInclude ["rcd"]: our tokens carry rcd, they pass
    c = call(stack, S.CERT_URL + "sign-pinrcd.pem", key="sign-pinrcd.key")
    assert c.code == 200
    assert c.callee_header(PRESENT)


def test_ssrf_attempts_are_refused(stack):
    fresh(stack, "term", "termr")
    # loopback where private addresses are not allowed (termr): refused after
    # DNS, before any connection
    n = fetches(stack, "/sign.pem")
    c = call(stack, S.CERT_URL + "sign.pem", port=S.TERM_REASON_PORT)
    assert c.code == 200 and c.callee_header(PRESENT) == [] and rcd_identities(c) == []
    assert log_reason(stack, c.call_id, log="termr", role="term") == "CERT_FETCH"
    assert fetches(stack, "/sign.pem") == n
    with open(os.path.join(stack.run, "termr.log"), errors="replace") as f:
        assert "fetch failed: ADDRESS" in f.read()
    # not on the allowlist, or not a URL the grammar accepts: never fetched
    for x5u in ("https://169.254.169.254/latest/meta-data/", "file:///etc/passwd",
                "http://127.0.0.1:8470/sign.pem",
                "https://127.0.0.1:8470@169.254.169.254/sign.pem",
                "https://127.0.0.1:8470/../sign.pem",
                "https://127.0.0.1:8470/sign.pem?x=1"):
        c = call(stack, x5u, expect=436)
        assert c.code == 436, x5u
        assert log_reason(stack, c.call_id, log="term", role="term") == "X5U_NOT_ALLOWED", x5u


def test_revoked_certificate_with_crl(stack):
    # termr loads sign-ca's CRL; the pinned sign-revoked is on it
    c = call(stack, S.REVOKED_X5U, key="sign-revoked.key", port=S.TERM_REASON_PORT)
    assert c.code == 200 and c.callee_header(PRESENT) == []
    assert log_reason(stack, c.call_id, log="termr", role="term") == "CERT_INVALID"
    # the same CRL leaves sign.pem alone
    c = call(stack, S.SIGN_X5U, port=S.TERM_REASON_PORT)
    assert c.callee_header(PRESENT)
