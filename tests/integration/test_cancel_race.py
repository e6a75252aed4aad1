# SPDX-License-Identifier: GPL-2.0-or-later
"""A CANCEL that wins the race against the suspension.

The originating cfg runs in its own Kamailio (solo.py, 2 workers) with one change:
the worker holds the INVITE for 400 ms between t_newtran() and tpid_assert_orig().
The CANCEL sent meanwhile is handled by the other worker: tm answers the INVITE 487.
When tpid_assert_orig() then tries to suspend, tm says the transaction is cancelled:
the module must not ask the enterprise, not apply a policy and not reply; it reports
CANCELLED, and no in-flight slot is left taken."""
import os
import time

import stack as S
from solo import Caller, Solo, q

PORT = 5993
HOLD_US = 400000


def test_cancel_before_the_suspension(stack, tmp_path):
    solo = Solo(tmp_path, "orig-scscf.cfg", PORT, {
        "SIGN_KEY": q(os.path.join(S.PKI, "sign.key")),
        "ENTERPRISE_FILE": q(os.path.join(S.RUN, "enterprises.json")),
        "NEXT_HOP": q(f"sip:{S.HOST}:9")}, edits=[
        (r'^(\t\ttpid_assert_orig\("TPID_ORIG_DONE"\);)$', f'\t\tusleep("{HOLD_US}");\n\\1'),
        (r'^(loadmodule "kex.so")$', '\\1\nloadmodule "cfgutils.so"')])
    caller = Caller(PORT)
    try:
        solo.start()
        call_id, branch = caller.invite(S.ALICE, S.ALICE_ID)
        time.sleep(0.1)      # the INVITE is held by its worker now
        caller.request("CANCEL", call_id, branch)
        assert caller.finals(call_id, ("INVITE", "CANCEL")) == {"INVITE": 487, "CANCEL": 200}
        caller.request("ACK", call_id, branch, to_tag=caller.to_tag)
        # the held worker wakes up and calls tpid_assert_orig()
        solo.wait_log("CANCELed before it could wait")
        st = solo.stats()
        assert st["cancelled"] == 1, st
        assert st["queries"] == 0, st           # the enterprise was not asked
        assert st["inflight"] == 0, st          # no slot left taken
        assert st["hook_timeout"] == 0 and st["internal"] == 0, st
        assert "cannot suspend" not in solo.text()
    finally:
        caller.close()
        solo.stop()
