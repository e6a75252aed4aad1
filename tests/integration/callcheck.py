# SPDX-License-Identifier: GPL-2.0-or-later
"""Black-box checks of a call through the stack, shared by the test files: what the
callee received, and the reason the cfg logged (WITH_CALL_LOG)."""
import os
import re
import time

PRESENT = "P-Verified-Third-Party-ID"


def rcd_identities(call):
    """The third-party (ppt=rcd) Identity headers the callee received."""
    return [v for v in call.callee_header("Identity") if re.search(r'ppt="?rcd"?', v)]


def log_reason(st, call_id, log="orig", role="orig", wait=1.0):
    """The reason name the cfg logged for this call ("tpid <role>: call-id=... reason=X"
    in build/run/<log>.log), or None. The trunk instance runs the orig cfg: its lines
    say "tpid orig:" in trunk.log."""
    deadline = time.time() + wait
    while True:
        with open(os.path.join(st.run, log + ".log"), errors="replace") as f:
            for line in f:
                if f"tpid {role}: call-id={call_id} " in line:
                    return re.search(r"reason=(\S+)", line).group(1)
        if time.time() >= deadline:
            return None
        time.sleep(0.1)


def assert_no_third_party_id(call):
    """The callee got the call, and nothing third-party: no presentation, no
    ppt=rcd Identity, not the unverified claim."""
    assert call.callee is not None, "the callee got no INVITE"
    assert call.callee_header(PRESENT) == []
    assert rcd_identities(call) == []
    assert call.callee_header("P-Third-Party-ID") == []
