# SPDX-License-Identifier: GPL-2.0-or-later
"""Black-box checks of a call through the stack, shared by the test files: what the
callee received, the reason the cfg logged (WITH_CALL_LOG), the counters; and the
small encodings the tests need (base64url, SRI digests, a free port)."""
import base64
import hashlib
import os
import re
import socket
import time

PRESENT = "P-Verified-Third-Party-ID"
AV_PRESENT = "P-Verified-Avatar-ID"


def rcd_identities(call):
    """The third-party (ppt=rcd) Identity headers the callee received."""
    return [v for v in call.callee_header("Identity") if re.search(r'ppt="?rcd"?', v)]


def avatar_identities(call):
    """The avatar (ppt=avatar) Identity headers the callee received."""
    return [v for v in call.callee_header("Identity") if re.search(r'ppt="?avatar"?', v)]


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
    return parse_stats(st.rpc(name, "stats.get_statistics", "tpid_assert:"))


def parse_stats(out):
    """kamcmd's "tpid_assert:name = value" lines, by short name."""
    vals = {}
    for line in out.splitlines():
        k, _, v = line.partition(" = ")
        if k.strip().startswith("tpid_assert:"):
            vals[k.strip()[len("tpid_assert:"):]] = int(v)
    return vals


def b64u_dec(s):
    """base64url without padding, decoded."""
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def b64u_enc(b):
    """base64url without padding."""
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def sri(data):
    """The SRI form of the SHA-256 of data, as the avatar claims carry it."""
    return "sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode()


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
