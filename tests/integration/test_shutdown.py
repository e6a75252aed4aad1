# SPDX-License-Identifier: GPL-2.0-or-later
"""Clean shutdown: at module destroy the module gives back what it took from
Kamailio's shared memory (decision caches and their locks, directories, replay and
certificate caches, the hook workers' pipes and counters, the signer's state).

Each shipped cfg runs in its own Kamailio (solo.py), with Kamailio's shutdown report
of the shared-memory fragments still allocated (`mem_summary=2`), and is stopped with
SIGTERM: no fragment may name a file of the module, and the main process exits 0."""
import os
import re

import pytest

import stack as S
from solo import Solo, q

CASES = {
    # signing key, enterprises and avatar repositories (two directories, two caches)
    "orig-scscf.cfg": {"SIGN_KEY": q(os.path.join(S.PKI, "sign.key")),
                       "ENTERPRISE_FILE": q(os.path.join(S.RUN, "enterprises.json")),
                       "BAR_FILE": q(os.path.join(S.RUN, "bars.json"))},
    # trust store, replay cache, certificate cache (x5u fetching on)
    "term-scscf.cfg": {"CA_FILE": q(os.path.join(S.PKI, "sign-ca.pem")),
                       "X5U_CERT": q(S.SIGN_X5U + "=" + os.path.join(S.PKI, "sign.pem")),
                       "X5U_ALLOW2": q(S.CERT_URL),
                       "X5U_CA_FILE": q(os.path.join(S.PKI, "hook-ca.pem"))},
}


@pytest.mark.parametrize("cfg", sorted(CASES))
def test_module_destroy_frees_its_shared_memory(stack, tmp_path, cfg):
    # `stack` wrote the enterprise and avatar repository files this uses
    port = 5990 + sorted(CASES).index(cfg)
    # the report of what is left in shared memory when Kamailio ends, printed
    solo = Solo(tmp_path, cfg, port, CASES[cfg],
                edits=[(r"^memlog=\d+$", "memlog=1\nmem_summary=2")])
    try:
        solo.start()
    finally:
        rc = solo.stop()
    log = solo.text()
    assert rc == 0, log[-3000:]
    assert "dumping all alloc'ed. fragments" in log, "no shutdown report:\n" + log[-3000:]
    left = re.findall(r"alloc'd from (tpid_assert: .*)", log)
    assert left == [], "shared memory the module did not give back:\n" + "\n".join(left)
