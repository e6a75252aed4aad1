# SPDX-License-Identifier: GPL-2.0-or-later
"""Clean shutdown: at module destroy the module gives back what it took from
Kamailio's shared memory (decision caches and their locks, directories, replay and
certificate caches, the hook workers' pipes and counters, the signer's state).

Each shipped cfg runs in its own Kamailio (its own ports and control socket), with
Kamailio's shutdown report of the shared-memory fragments still allocated
(`mem_summary=2`), and is stopped with SIGTERM: no fragment may name a file of the
module, and the main process exits 0."""
import os
import re
import signal
import subprocess
import time

import pytest

import stack as S

CFG = os.path.join(S.ROOT, "cfg")


def run_and_stop(tmp_path, cfg, defines, port):
    text = open(os.path.join(CFG, cfg)).read()
    # the report of what is left in shared memory when Kamailio ends, printed
    text = re.sub(r"^memlog=\d+$", "memlog=1\nmem_summary=2", text, flags=re.M)
    path = tmp_path / cfg
    path.write_text(text)
    d = {"TPID_MODULE": f'"{S.MODULE}"', "LISTEN": f"udp:127.0.0.1:{port}",
         "CTL_SOCKET": f'"unixs:{tmp_path}/{cfg}.ctl"', "CHILDREN": "2", **defines}
    argv = [S.KAMAILIO, "-f", str(path), "-DD", "-E", "-m", "64", "-M", "8",
            "-Y", str(tmp_path)]
    for k, v in d.items():
        argv += ["-A", f"{k}={v}"]
    log = tmp_path / (cfg + ".log")
    with open(log, "wb") as f:
        p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT,
                             start_new_session=True)
    try:
        deadline = time.time() + 15
        while "hook worker 0 ready" not in log.read_text(errors="replace"):
            assert p.poll() is None, log.read_text(errors="replace")
            assert time.time() < deadline, "Kamailio did not come up"
            time.sleep(0.1)
        p.send_signal(signal.SIGTERM)
        rc = p.wait(timeout=20)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait()
    return rc, log.read_text(errors="replace")


def q(s):
    return f'"{s}"'


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
    rc, log = run_and_stop(tmp_path, cfg, CASES[cfg], port)
    assert rc == 0, log[-3000:]
    assert "dumping all alloc'ed. fragments" in log, "no shutdown report:\n" + log[-3000:]
    left = re.findall(r"alloc'd from (tpid_assert: .*)", log)
    assert left == [], "shared memory the module did not give back:\n" + "\n".join(left)
