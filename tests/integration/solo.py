# SPDX-License-Identifier: GPL-2.0-or-later
"""A Kamailio of its own, for the tests that stop, hold or kill parts of it (the
session stack of conftest.py must not be disturbed): one of the shipped cfgs, copied
with the test's edits, on its own UDP port and control socket; and a plain UDP
caller that sends what SIPp cannot time (a CANCEL into a held INVITE)."""
import os
import re
import signal
import socket
import subprocess
import time
import uuid

import stack as S
from callcheck import parse_stats

CFG_DIR = os.path.join(S.ROOT, "cfg")


def q(s):
    return f'"{s}"'


class Solo:
    def __init__(self, tmp_path, cfg, port, defines, edits=(), installed=False):
        """edits: (regex, replacement) pairs applied to the cfg text, each exactly once.
        installed: cfg is an absolute path, run in place with the cfg's own module
        path and module (an installed package's), no edits."""
        self.tmp, self.port = tmp_path, port
        name = os.path.basename(cfg)
        if installed:
            assert os.path.isabs(cfg) and not edits
            self.cfg = cfg
        else:
            text = open(os.path.join(CFG_DIR, cfg)).read()
            for pattern, repl in edits:
                text, n = re.subn(pattern, repl, text, flags=re.M)
                assert n == 1, f"{cfg}: {pattern!r} matched {n} times"
            self.cfg = tmp_path / ("solo-" + name)
            self.cfg.write_text(text)
        self.log = tmp_path / ("solo-" + name + ".log")
        self.ctl = f"unixs:{tmp_path}/solo.ctl"
        d = {"LISTEN": f"udp:{S.HOST}:{port}", "CTL_SOCKET": q(self.ctl), "CHILDREN": "2"}
        if not installed:
            d["TPID_MODULE"] = q(S.MODULE)
            if S.MOD_PATH:
                d["MOD_PATH"] = q(S.MOD_PATH)
        d.update(defines)
        # an installed package runs in Debian's own kamailio
        binary = "/usr/sbin/kamailio" if installed else S.KAMAILIO
        self.argv = [binary, "-f", str(self.cfg), "-DD", "-E", "-m", "64", "-M", "8",
                     "-Y", str(tmp_path)]
        for k, v in d.items():
            self.argv += ["-A", f"{k}={v}"]
        self.p = None

    def text(self):
        return self.log.read_text(errors="replace")

    def start(self):
        with open(self.log, "wb") as f:
            self.p = subprocess.Popen(self.argv, stdout=f, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        deadline = time.time() + 15
        while "hook worker 0 ready" not in self.text() or not self._all_forked():
            assert self.p.poll() is None, self.text()
            assert time.time() < deadline, "Kamailio did not come up:\n" + self.text()
            time.sleep(0.1)
        return self

    def _all_forked(self):
        """Every process of Kamailio's session is in its process table (core.psx).
        Kamailio forks some (tcp main) after the module's workers; a SIGTERM that
        comes while it is still forking can leave a child that never ends."""
        listed = set(re.findall(r"PID: (\d+)", self.rpc("core.psx")))
        session = set()
        for d in os.listdir("/proc"):
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if d.isdigit() and int(fields[3]) == self.p.pid:  # fields[3]: the session id
                session.add(d)
        return bool(listed) and session <= listed

    def worker_pid(self, idx=0):
        """The pid of hook worker idx, from its "ready" line."""
        m = re.search(rf"\((\d+)\) INFO: tpid_assert .*hook worker {idx} ready", self.text())
        return int(m.group(1))

    def wait_log(self, needle, wait=5.0):
        deadline = time.time() + wait
        while needle not in self.text():
            assert time.time() < deadline, f"{needle!r} not logged:\n" + self.text()[-3000:]
            time.sleep(0.1)

    def rpc(self, *command):
        """kamcmd's output of one RPC command on this instance."""
        return subprocess.run([S.KAMCMD, "-s", self.ctl, *command], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, timeout=10).stdout.decode(
                                  errors="replace")

    def stats(self):
        return parse_stats(self.rpc("stats.get_statistics", "tpid_assert:"))

    def call_reason(self, call_id, role="orig", wait=5.0):
        """The reason name the cfg's call log (WITH_CALL_LOG) gave call_id."""
        needle = f"tpid {role}: call-id={call_id} "
        self.wait_log(needle, wait)
        line = [x for x in self.text().splitlines() if needle in x][0]
        return line.split("reason=")[1].split()[0]

    def status(self):
        """tpid_assert.status's plain numbers (hook_workers_alive, inflight, ...)."""
        out = self.rpc("tpid_assert.status")
        return {k: int(v) for k, v in re.findall(r"^\t(\w+): (-?\d+)$", out, re.M)}

    def stop(self, timeout=20):
        """SIGTERM, then Kamailio's exit status (SIGKILL if it does not end)."""
        if self.p is None or self.p.poll() is not None:
            return self.p.returncode if self.p else None
        self.p.send_signal(signal.SIGTERM)
        try:
            return self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.p.pid, signal.SIGKILL)
            self.p.wait()
            return None


class Caller:
    """INVITEs (and CANCEL/ACK for them) from a plain UDP socket to one port."""

    def __init__(self, port):
        self.port = port
        self.s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.s.bind((S.HOST, 0))
        self.s.settimeout(0.2)
        self.me = self.s.getsockname()[1]

    def close(self):
        self.s.close()

    def request(self, method, call_id, branch, headers=(), to_tag=""):
        uri = f"sip:+{S.CALLEE}@{S.HOST}:{self.port};user=phone"
        lines = [f"{method} {uri} SIP/2.0",
                 f"Via: SIP/2.0/UDP {S.HOST}:{self.me};branch={branch}",
                 f"From: <sip:caller@{S.HOST}>;tag=solo1", f"To: <{uri}>{to_tag}",
                 f"Call-ID: {call_id}", f"CSeq: 1 {method}", "Max-Forwards: 70"]
        if method == "INVITE":
            lines.append(f"Contact: <sip:caller@{S.HOST}:{self.me}>")
            lines += list(headers)
        lines.append("Content-Length: 0")
        self.s.sendto(("\r\n".join(lines) + "\r\n\r\n").encode(), (S.HOST, self.port))

    def invite(self, served, claim):
        """Sends an INVITE; returns (call_id, branch)."""
        call_id, branch = "solo-" + uuid.uuid4().hex, "z9hG4bK" + uuid.uuid4().hex
        self.request("INVITE", call_id, branch,
                     (f"P-Asserted-Identity: <{served}>", f"P-Third-Party-ID: <{claim}>"))
        return call_id, branch

    def finals(self, call_id, methods, wait=5.0):
        """{method: code} of the final responses for call_id, once every method has
        one (or wait is over); the INVITE's To-tag is kept for the ACK."""
        got, deadline = {}, time.time() + wait
        self.to_tag = ""
        while time.time() < deadline and not all(m in got for m in methods):
            try:
                msg = self.s.recv(65535).decode(errors="replace")
            except socket.timeout:
                continue
            if call_id not in msg:
                continue
            code = int(msg.split(" ", 2)[1])
            method = re.search(r"^CSeq: *\d+ +(\w+)", msg, re.M | re.I).group(1)
            if code >= 200:
                got[method] = code
                m = re.search(r"^To:.*(;tag=[^;\s]+)", msg, re.M | re.I)
                if method == "INVITE" and m:
                    self.to_tag = m.group(1)
        return got
