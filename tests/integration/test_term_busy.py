# SPDX-License-Identifier: GPL-2.0-or-later
"""The terminating side at its bound of suspended INVITEs (max_inflight) while a
certificate is fetched: the next call is not suspended and not queued; it is refused
at once as a call whose certificate is not at hand (CERT_UNAVAILABLE, 436 Bad
Identity Info), not with the originating side's "500 Enterprise Busy".

The terminating cfg runs in its own Kamailio (solo.py) with max_inflight 1; the
first call waits for a certificate the repository serves too late (/slow/)."""
import os
import time
from concurrent.futures import ThreadPoolExecutor

import stack as S
from conftest import sign
from solo import Solo, q

PORT = 5995


def test_bound_reached_while_fetching_refuses_at_once_with_436(stack, tmp_path):
    solo = Solo(tmp_path, "term-scscf.cfg", PORT, {
        "CA_FILE": q(os.path.join(S.PKI, "sign-ca.pem")),
        "X5U_CERT": q(S.SIGN_X5U + "=" + os.path.join(S.PKI, "sign.pem")),
        "X5U_ALLOW2": q(S.CERT_URL), "X5U_SIGNER2": q(S.CERT_URL + "=acme.example"),
        "X5U_CA_FILE": q(os.path.join(S.PKI, "hook-ca.pem")), "X5U_ALLOW_PRIVATE": "1",
        "WITH_CALL_LOG": "1"},
        edits=[(r'^(modparam\("tpid_assert", "ca_file", CA_FILE\))$',
                r'\1\nmodparam("tpid_assert", "max_inflight", 1)')])
    url = S.CERT_URL + "slow/sign.pem"
    token = sign(x5u=url)

    def call(delay):
        time.sleep(delay)
        t0 = time.time()
        c = stack.place_call(served=S.ALICE, claim=None, to_port=PORT, expect=436,
                             extra_headers=["Identity: " + token])
        return c, time.time() - t0

    try:
        solo.start()
        with ThreadPoolExecutor(max_workers=2) as ex:
            first, second = list(ex.map(call, (0.0, 0.5)))
        (c1, d1), (c2, d2) = first, second
        assert c1.code == 436 and solo.call_reason(c1.call_id, "term") == "CERT_FETCH"
        assert c2.code == 436 and solo.call_reason(c2.call_id, "term") == "CERT_UNAVAILABLE"
        assert d2 < 1.0 < d1                   # not queued behind the fetch
        st = solo.stats()
        assert st["cert_unavailable"] == 1 and st["hook_busy"] == 0, st
        assert st["inflight"] == 0, st
    finally:
        solo.stop()
