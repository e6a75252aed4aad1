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


def log_reasons(st, call_id, log="orig", role="orig", wait=1.0, count=1):
    """The reason names the cfg logged for this call ("tpid <role>: call-id=... reason=X"
    in build/run/<log>.log), in order, once there are count of them (or wait is over).
    The trunk instance runs the orig cfg: its lines say "tpid orig:" in trunk.log."""
    deadline = time.time() + wait
    while True:
        with open(os.path.join(st.run, log + ".log"), errors="replace") as f:
            found = [re.search(r"reason=(\S+)", line).group(1) for line in f
                     if f"tpid {role}: call-id={call_id} " in line]
        if len(found) >= count or time.time() >= deadline:
            return found
        time.sleep(0.1)


def log_reason(st, call_id, log="orig", role="orig", wait=1.0):
    """The first reason name the cfg logged for this call, or None."""
    found = log_reasons(st, call_id, log, role, wait)
    return found[0] if found else None


def assert_no_third_party_id(call):
    """The callee got the call, and nothing third-party: no presentation, no
    ppt=rcd Identity, not the unverified claim."""
    assert call.callee is not None, "the callee got no INVITE"
    assert call.callee_header(PRESENT) == []
    assert rcd_identities(call) == []
    assert call.callee_header("P-Third-Party-ID") == []


def stats(st, name="orig"):
    """The tpid_assert counters of one Kamailio of the stack, by short name."""
    out = st.rpc(name, "stats.get_statistics", "tpid_assert:")
    vals = {}
    for line in out.splitlines():
        k, _, v = line.partition(" = ")
        if k.strip().startswith("tpid_assert:"):
            vals[k.strip()[len("tpid_assert:"):]] = int(v)
    return vals
