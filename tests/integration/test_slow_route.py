# SPDX-License-Identifier: GPL-2.0-or-later
"""A slow continuation route does not hold up the other queries.

The originating cfg runs in its own Kamailio (solo.py, one hook worker) with one
change: the route that resumed INVITEs run (TPID_ORIG_DONE) sleeps 1.5 s for calls
claiming an ID at delay.example (whose enterprise answers after 600 ms). While that
route sleeps, a second call's query to another enterprise must be answered and its
route run at once: the shipped cfg's async_workers run resumed routes, the hook
worker only talks HTTPS."""
import os
import time

import stack as S
from solo import Caller, Solo, q

PORT = 5994
SLOW_US = 1500000


def route_logged_at(solo, call_id, wait=6.0):
    needle = f"tpid orig: call-id={call_id} "
    solo.wait_log(needle, wait)
    return time.time()


def test_slow_route_does_not_stall_other_queries(stack, tmp_path):
    solo = Solo(tmp_path, "orig-scscf.cfg", PORT, {
        "SIGN_KEY": q(os.path.join(S.PKI, "sign.key")),
        "ENTERPRISE_FILE": q(os.path.join(S.RUN, "enterprises.json")),
        "WITH_CALL_LOG": "1", "NEXT_HOP": q(f"sip:{S.HOST}:9")}, edits=[
        (r'^(route\[TPID_ORIG_DONE\] \{)$',
         f'\\1\n\tif ($tpid(id) =~ "@delay\\.example") {{ usleep("{SLOW_US}"); }}'),
        (r'^(loadmodule "kex.so")$', '\\1\nloadmodule "cfgutils.so"')])
    caller = Caller(PORT)
    try:
        solo.start()
        slow, _ = caller.invite(S.ALICE, S.extra_hook_id("delay"))
        time.sleep(0.9)      # its answer came at 600 ms: its route sleeps now
        t0 = time.time()
        fast, _ = caller.invite(S.BOB, S.BOB_ID)   # a miss: a query to acme
        fast_at = route_logged_at(solo, fast)
        slow_at = route_logged_at(solo, slow)
        # the second call did not wait for the slow route (which ends ~1.2 s later)
        assert fast_at - t0 < 0.8, fast_at - t0
        assert fast_at < slow_at
        st = solo.stats()
        assert st["queries"] == 2, st
    finally:
        caller.close()
        solo.stop()
