# SPDX-License-Identifier: GPL-2.0-or-later
"""The stack runs the Kamailio the run asked for: Debian's 5.6 by default, the one
TPID_KAMAILIO names otherwise (make test-asan, make test-k6). Both proxies report,
over RPC, the version the binary reports on its command line."""
import re
import subprocess

import stack as S


def test_both_proxies_run_the_requested_kamailio(stack):
    out = subprocess.run([S.KAMAILIO, "-v"], stdout=subprocess.PIPE, timeout=10).stdout.decode()
    want = re.search(r"version: kamailio (\S+)", out).group(1)
    for name in ("orig", "term"):
        assert want in stack.rpc(name, "core.version"), name
    assert want.startswith("6.0.") if "/k6/" in S.KAMAILIO else want.startswith("5.6.")
