#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""tpid_assert benchmark: the same SIPp load through several set-ups on this machine.

  (a) relay   orig -> term relay, tpid_assert not loaded (cfg -A NO_TPID)
  (b) warm    the full tpid path, every call the same served user and ID
              (Alice, sip:e102938@acme.example), after warm-up calls
  (c) miss    the full tpid path, the enterprise answering after --delay-ms
              (50 ms) and every call a different served user (a cache miss)
  (s) peer    the relay of (a) with Kamailio's own STIR/SHAKEN module (secsipid):
              orig signs a SHAKEN PASSporT, term verifies it with a pinned
              certificate (cfg -A NO_TPID -A WITH_SECSIPID)
  (m) scale   as (b), with a million cached decisions at orig and a million
              replay entries at term (a bench-only build of the module fills
              them through an RPC, bench/tpid_assert_benchfill.c)
  (n) Ms      as (b), but orig signs through an STI-AS and term verifies through an
              STI-VS over Ms (cfg -A MS_FILE both sides; the reference service
              with in-process ES256, bench/sti_fast.py, in its own process group)
  (d) fetched as (b), but the terminating side has no certificate configured:
              it fetched the signer's from x5u (tools/cert_server.py) once and
              verifies with it from its warm certificate cache
  (e), (f)    as (b) plus an avatar / plus the avatar's bytes only

For each: whole-machine CPU per call at a fixed rate (CPU time the machine was
busy during the SIPp run, from /proc/stat, / successful calls; the median of
--rounds fresh-stack runs, the scenarios interleaved), the INVITE-to-200 time at
the caller (p50/p99/max, SIPp's response times) and the highest rate with zero
failed calls (steps, then bisection). Beside them the physical floor: `openssl
speed` ES256, the module's own ES256 (hot, and with the caches cold) and token
code in tight loops, and with (c) the module's enterprise query alone
(bench/query_loop.c against (c)'s mock). Prints a
table with the targets and writes build/bench/result.json. Everything on 127.0.0.1; every SIPp run
is bounded in calls and wrapped in `timeout -k 5`; every process it starts is
stopped by process group. `make bench` runs it; see bench/README.md.
"""
import argparse
import csv
import datetime
import glob
import hashlib
import json
import os
import platform
import resource
import shutil
import signal
import ssl
import statistics
import subprocess
import sys
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, os.path.join(ROOT, "tools"))
import stack as stk  # noqa: E402  (paths, port checks, the demo's people)

BUILD = os.path.join(ROOT, "build")
OUT = os.path.join(BUILD, "bench")
PKI = stk.PKI
HOST = stk.HOST
ORIG_PORT, TERM_PORT, UAS_PORT, HOOK_PORT = stk.ORIG_PORT, stk.TERM_PORT, stk.UAS_PORT, stk.HOOK_PORT
UAC_PORT = 5090
KAMCMD = "/usr/sbin/kamcmd"
# SIPp's socket buffers (its default is 64 KiB): the callers and the callee are the
# testbed, their drops must not be what limits the maximum rate.
SIPP_BUFF = 1 << 20
UAC_XML = os.path.join(HERE, "uac.xml")
UAS_XML = os.path.join(stk.SCENARIOS, "uas.xml")
HOOK_MOCK = os.path.join(HERE, "hook_mock.py")
HOOK_REF = os.path.join(ROOT, "tools", "enterprise_service.py")
CLK_TCK = os.sysconf("SC_CLK_TCK")

SCENARIOS = {
    "a": "relay, tpid_assert not loaded",
    "b": "tpid path, warm cache",
    "c": "tpid path, hook 50 ms, all misses",
    "s": "peer: secsipid SHAKEN sign+verify",
    "m": "as (b), 1M decisions + replay entr.",
    "n": "as (b), signed+verified over Ms",
    "d": "as (b), certificate fetched (warm)",
    "e": "as (b), plus an avatar (two tokens)",
    "f": "as (b), plus the avatar's bytes only",
}
# the order of the table and of the rounds
ORDER = "abcsmndef"
CERT_PORT = stk.CERT_PORT
FETCH_X5U = stk.CERT_URL + "sign.pem"
BAR_PORT = stk.BAR_PORT
# (n): the STI-AS / STI-VS (the reference service, its ES256 in-process)
STI_FAST = os.path.join(HERE, "sti_fast.py")
# (e) against (b): what an avatar may add per call, as a multiple of one ES256
# signature plus one verification measured by `openssl speed` in the same run
AVATAR_MARGIN = 1.20
# (f): the bytes an avatar puts on the wire, without the avatar. In (e) the
# avatar's Identity header is 673 bytes from orig to the callee (671 + CRLF in
# `make demo`) and the callee also gets P-Verified-Avatar-ID (about 200); here
# the caller sends one header of about that size, relayed unchanged by both
# proxies (one hop more than the token travels, the presentation not added).
PAD_HEADER = "X-Bench-Pad: " + "p" * 687
# (s): Kamailio's secsipid module (Debian's kamailio-secsipid-modules, 5.6.3)
SECSIPID_SO = "/usr/lib/x86_64-linux-gnu/kamailio/modules/secsipid.so"
SECSIPID_PKG = "kamailio-secsipid-modules"
# Issue 10's targets (bench/README.md): what the tpid path may add over the relay,
# as a multiple of one ES256 sign + verify (`openssl speed`, same run) and as a
# share of what the peer adds; the miss path's Kamailio CPU and the latencies.
FLOOR_MULT = 2.0
PEER_SHARE = 0.25
MISS_KAM_MS = 0.10
P99_WARM_MS = 1.0
P99_MISS_MS = 5.0
# (m): entries filled, the cache sizes that hold them, and their targets
SCALE_N = 1000000
SCALE_CACHE_SIZE = 1100000
SCALE_CPU_RATIO = 1.05
SCALE_BYTES = 512
BENCH_FILL_C = os.path.join(HERE, "tpid_assert_benchfill.c")
# The caller's clock: SIPp reads CLOCK_MONOTONIC_COARSE (one step per kernel
# tick, 4 ms here); this LD_PRELOAD shim makes its response times precise.
SIPP_CLOCK_C = os.path.join(HERE, "sipp_clock.c")
SIPP_CLOCK = {}  # "so": the built shim, or nothing (response times in ticks)
# Ratio targets: (scenario, metric, ratio, comparison, the scenario it is a ratio of);
# the others (floor, peer, latency, scale) are in evaluate().
TARGETS = [
    ("b", "max_cps", 0.95, ">=", "a"),
    ("c", "max_cps", 0.90, ">=", "a"),
    ("d", "cpu_ms_per_call", 1.03, "<=", "b"),
    ("m", "cpu_ms_per_call", SCALE_CPU_RATIO, "<=", "b"),
]


class BenchError(RuntimeError):
    pass


class SearchCut(Exception):
    """The search cannot go on (users, time): keep what was found."""


def log(msg):
    print(time.strftime("%H:%M:%S ") + msg, flush=True)


# ---- machine ------------------------------------------------------------------

NCPU = os.cpu_count()


class CpuSample:
    """Whole-machine CPU at one instant, from /proc/stat.

    With a tickless kernel (NO_HZ_IDLE, no VIRT_CPU_ACCOUNTING) the user/system
    columns are tick samples (1/HZ each); a load made of sub-millisecond bursts,
    like a SIP proxy's, is under-counted by them (measured here: a third of the
    per-process CPU time at 400 calls/s). The idle column is precise (the nohz
    code measures idle periods), so busy time is taken as the wall time of all
    CPUs minus idle, iowait and steal. The tick-sampled busy columns are kept as
    a cross-check.
    """

    def __init__(self):
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:]]
        self.t = time.monotonic()
        user, nice, system, idle, iowait, irq, softirq = v[:7]
        self.steal = v[7] if len(v) > 7 else 0
        self.idle = idle + iowait
        self.ticks_busy = user + nice + system + irq + softirq

    def busy_s(self, start):
        """CPU seconds all CPUs were busy since start."""
        return max(0.0, NCPU * (self.t - start.t)
                   - ((self.idle - start.idle) + (self.steal - start.steal)) / CLK_TCK)

    def busy_pct(self, start):
        dt = self.t - start.t
        return 100.0 * self.busy_s(start) / (NCPU * dt) if dt > 0 else 0.0

    def ticks_busy_s(self, start):
        return (self.ticks_busy - start.ticks_busy) / CLK_TCK

    def steal_s(self, start):
        return (self.steal - start.steal) / CLK_TCK


def proc_stats():
    """(pid, ppid, pgrp, /proc/<pid>/stat fields after the command) of every live
    process; one that exits while being read is skipped."""
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                s = f.read()
        except OSError:
            continue
        rest = s[s.rfind(")") + 2:].split()
        yield int(d), int(rest[1]), int(rest[2]), rest


def procs_cpu(own_pgids):
    """CPU seconds (scheduler-precise) of every live process, split into ours (our
    process groups and this harness), kernel threads, and everyone else; a process
    counts its reaped children (cutime+cstime), so that short-lived processes of
    other tenants (compilers, tests) are seen once their parent has waited for them."""
    own = set(own_pgids)
    me = os.getpid()
    out = {"ours": 0, "kernel": 0, "foreign": 0}
    for pid, ppid, pgrp, rest in proc_stats():
        t = int(rest[11]) + int(rest[12]) + int(rest[13]) + int(rest[14])
        if pgrp in own or pid == me:
            out["ours"] += t
        elif pid == 2 or ppid == 2:
            out["kernel"] += t
        else:
            out["foreign"] += t
    return {k: v / CLK_TCK for k, v in out.items()}


def udp_rcvbuf_errors():
    """The kernel's count of UDP datagrams dropped for a full receive buffer."""
    with open("/proc/net/snmp") as f:
        rows = [line.split() for line in f if line.startswith("Udp:")]
    return int(dict(zip(rows[0][1:], rows[1][1:])).get("RcvbufErrors", 0))


PORT_NAMES = {ORIG_PORT: "orig", TERM_PORT: "term", UAS_PORT: "uas", UAC_PORT: "uac"}


def udp_socket_drops():
    """Datagrams dropped at each of our UDP sockets (/proc/net/udp "drops"), by name."""
    out = {}
    try:
        with open("/proc/net/udp") as f:
            next(f)
            for line in f:
                parts = line.split()
                port = int(parts[1].split(":")[1], 16)
                if port in PORT_NAMES:
                    name = PORT_NAMES[port]
                    out[name] = out.get(name, 0) + int(parts[-1])
    except (OSError, ValueError, IndexError, StopIteration):
        pass
    return out


def group_cpu(pgids):
    """CPU seconds (utime+stime) of the live processes in each process group."""
    out = {g: 0 for g in pgids}
    for _, _, pgrp, rest in proc_stats():
        if pgrp in out:
            out[pgrp] += (int(rest[11]) + int(rest[12])) / CLK_TCK
    return out


def machine_facts():
    model = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break

    def first_line(argv):
        try:
            r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=10)
            lines = [x.strip() for x in r.stdout.decode(errors="replace").splitlines() if x.strip()]
            return lines[0] if lines else "?"
        except (OSError, subprocess.TimeoutExpired):
            return "?"

    mem_kb = 0
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemTotal:"):
                mem_kb = int(line.split()[1])
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "kernel": platform.release(),
        "mem_gib": round(mem_kb / 1048576, 1),
        "kamailio": first_line([stk.KAMAILIO, "-v"]),
        "sipp": first_line([stk.SIPP, "-v"]),
        "python": platform.python_version(),
        "loadavg_at_start": open("/proc/loadavg").read().split()[:3],
    }


def source_facts(mod_sha):
    def git(*args):
        try:
            r = subprocess.run(["git", "-C", ROOT, *args], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, timeout=10)
            return r.stdout.decode(errors="replace").strip()
        except (OSError, subprocess.TimeoutExpired):
            return "?"
    return {"commit": git("rev-parse", "--short", "HEAD") or "?",
            "modules_cfg_dirty": bool(git("status", "--porcelain", "--", "modules", "cfg")),
            "module_sha256": mod_sha}


# ---- processes ----------------------------------------------------------------

def stop_group(p, name, why=""):
    """SIGTERM the process group of p (it leads its own session), SIGKILL after 5 s
    (why: what a slow exit is expected from, for the log)."""
    if p is None:
        return
    try:
        os.killpg(p.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        log(f"{name} (pid {p.pid}) still there 5 s after SIGTERM{why}; SIGKILL")
    # Kamailio's children may outlive the main process by a moment: kill what is left.
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        raise BenchError(f"{name} (pid {p.pid}) does not die")
    deadline = time.time() + 5
    while time.time() < deadline and _group_alive(p.pid):
        time.sleep(0.05)
    if _group_alive(p.pid):
        raise BenchError(f"process group {p.pid} ({name}) still has members")


def _group_alive(pgid):
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


def ports_busy():
    busy = [f"udp {p}" for p in (ORIG_PORT, TERM_PORT, UAS_PORT, UAC_PORT) if stk.port_busy(p, True)]
    busy += [f"tcp {p}" for p in (HOOK_PORT, CERT_PORT, BAR_PORT, stk.STI_PORT) if stk.port_busy(p, False)]
    return busy


class BenchStack:
    """One scenario's processes: hook (b, c), orig and term Kamailio, SIPp callee."""

    def __init__(self, scen, opts, run_dir, directory):
        self.scen, self.o, self.run, self.directory = scen, opts, run_dir, directory
        self.procs = {}
        self.tpid = scen in ("b", "c", "d", "e", "f", "m", "n")
        self.peer = scen == "s"

    def _spawn(self, name, argv, cwd=None):
        logf = open(os.path.join(self.run, name + ".log"), "ab")
        p = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True, cwd=cwd or self.run)
        logf.close()
        self.procs[name] = p
        return p

    def _kamailio(self, name, cfg, defines):
        module = self.o.bench_module if self.scen == "m" else self.o.module
        d = {"TPID_MODULE": f'"{module}"', "CHILDREN": str(self.o.children),
             "ASYNC_WORKERS": str(self.o.async_workers),
             "CTL_SOCKET": f'"unixs:{self.run}/{name}_ctl"'}
        if not self.tpid:
            d["NO_TPID"] = "1"
        if self.tpid or self.peer:
            d.update(defines)
        # (m) holds a million decisions (~300 bytes each) and replay entries: more shared memory
        shm = max(self.o.shm, self.o.scale_shm) if self.scen == "m" else self.o.shm
        argv = [stk.KAMAILIO, "-f", os.path.join(ROOT, "cfg", cfg), "-DD", "-E",
                "-m", str(shm), "-M", str(self.o.pkg), "-Y", self.run,
                *(["-x", self.o.mem_manager] if self.o.mem_manager else []),
                "-P", os.path.join(self.run, f"{name}-kamailio.pid")]
        for k, v in d.items():
            argv += ["-A", f"{k}={v}"]
        return self._spawn(name, argv)

    def start(self):
        busy = ports_busy()
        if busy:
            raise BenchError("ports in use (a leftover stack? `make stop`, or stop the other "
                             "instance): " + ", ".join(busy))
        if self.tpid:
            self.start_hook()
        q = lambda s: f'"{s}"'  # noqa: E731
        fetched = self.scen == "d"
        if fetched:
            self.start_cert_server()
        orig = {
            "SIGN_KEY": q(os.path.join(PKI, "sign.key")),
            "SIGN_X5U": q(FETCH_X5U if fetched else stk.SIGN_X5U),
            "ENTERPRISE_FILE": q(os.path.join(self.run, "enterprises.json")),
            # An unreachable, slow or failing hook must fail the call, not let it
            # through without its ID: a 200 at the caller then means verified.
            "FAIL_POLICY": q("reject"),
        }
        if self.scen == "e":
            orig.update({"BAR_FILE": q(self.start_bar()),
                         "AVATAR_FAIL_POLICY": q("reject")})
        if self.scen == "m":
            orig["CACHE_SIZE"] = str(SCALE_CACHE_SIZE)
        ms_file = self.start_sti() if self.scen == "n" else None
        if ms_file:
            # no signing key at orig: the STI-AS signs (its own key, its x5u)
            del orig["SIGN_KEY"], orig["SIGN_X5U"]
            orig["MS_FILE"] = q(ms_file)
        if self.peer:
            # secsipid signs with the same key; nothing of tpid_assert is loaded
            orig = {"WITH_SECSIPID": "1", "SIGN_KEY": orig["SIGN_KEY"],
                    "SIGN_X5U": orig["SIGN_X5U"]}
        self._kamailio("orig", "orig-scscf.cfg", orig)
        term = {
            "CA_FILE": q(os.path.join(PKI, "sign-ca.pem")),
            "X5U_CERT": q(stk.SIGN_X5U + "=" + os.path.join(PKI, "sign.pem")),
            "TERM_POLICY": q("reject"),
        }
        if fetched:
            # nothing pinned for FETCH_X5U: allowlisted, fetched from loopback
            term.update({"X5U_ALLOW2": q(stk.CERT_URL),
                         "X5U_SIGNER2": q(stk.CERT_URL + "=acme.example"),
                         "X5U_CA_FILE": q(os.path.join(PKI, "hook-ca.pem")),
                         "X5U_ALLOW_PRIVATE": "1"})
        if self.scen == "m":
            term["REPLAY_CACHE_SIZE"] = str(SCALE_CACHE_SIZE)
        if ms_file:
            # the STI-VS checks the signature; who may assert what stays here
            term.update({"MS_FILE": q(ms_file),
                         "X5U_SIGNER2": q(stk.CERT_URL + "=acme.example")})
        if self.peer:
            # verified with the pinned certificate, as (b) verifies with sign.pem
            term = {"WITH_SECSIPID": "1", "SECSIPID_CERT": q(os.path.join(PKI, "sign.pem"))}
        self._kamailio("term", "term-scscf.cfg", term)
        self._spawn("uas", [stk.SIPP, "-sf", UAS_XML, "-i", HOST, "-p", str(UAS_PORT),
                            "-nostdin", "-max_recv_loops", "1000", "-buff_size", str(SIPP_BUFF)])
        for name, port in (("orig", ORIG_PORT), ("term", TERM_PORT), ("uas", UAS_PORT)):
            self._wait_udp(name, port)

    def start_bar(self):
        """The reference avatar repository for (e); returns the bar_file."""
        tok = os.path.join(self.run, "bar-node.token")
        with open(tok, "w") as f:
            f.write("bench-node-token\n")
        path = os.path.join(self.run, "bars.json")
        with open(path, "w") as f:
            json.dump({"bars": [{"domain": "*", "api_root": f"https://{HOST}:{BAR_PORT}/b",
                                 "ca_file": os.path.join(PKI, "hook-ca.pem"),
                                 "bearer_token_file": tok}]}, f)
        self._spawn("bar", [stk.PY, os.path.join(ROOT, "tools", "bar_service.py"),
                            "--listen", f"{HOST}:{BAR_PORT}",
                            "--cert", os.path.join(PKI, "hook.pem"),
                            "--key", os.path.join(PKI, "hook.key"), "--data", stk.BAR_DATA,
                            "--node-token-file", tok])
        self._wait_https(f"https://{HOST}:{BAR_PORT}/healthz", "the avatar repository")
        return path

    def start_sti(self):
        """(n): the STI-AS / STI-VS on stk.STI_PORT; returns the ms_file."""
        path = os.path.join(self.run, "ms.json")
        with open(path, "w") as f:
            json.dump({"ms": [{"domain": "*", "api_root": stk.STI_ROOT,
                               "ca_file": os.path.join(PKI, "hook-ca.pem"),
                               "connect_timeout_ms": 2000, "timeout_ms": 5000}]}, f)
        self._spawn("sti", [stk.PY, STI_FAST, "--listen", f"{HOST}:{stk.STI_PORT}",
                            "--cert", os.path.join(PKI, "hook.pem"),
                            "--key", os.path.join(PKI, "hook.key"),
                            "--sign-key", os.path.join(PKI, "sti.key"),
                            "--sign-cert", os.path.join(PKI, "sti.pem"), "--x5u", stk.STI_X5U,
                            "--log", os.path.join(self.run, "sti-requests.log")])
        self._wait_https(f"https://{HOST}:{stk.STI_PORT}/healthz", "the STI service", "sti")
        return path

    def start_cert_server(self):
        certs = os.path.join(self.run, "certs")
        os.makedirs(certs, exist_ok=True)
        shutil.copyfile(os.path.join(PKI, "sign.pem"), os.path.join(certs, "sign.pem"))
        self._spawn("certs", [stk.PY, os.path.join(ROOT, "tools", "cert_server.py"),
                              "--listen", f"{HOST}:{CERT_PORT}",
                              "--cert", os.path.join(PKI, "hook.pem"),
                              "--key", os.path.join(PKI, "hook.key"), "--dir", certs,
                              "--max-age", "86400"])
        self._wait_https(FETCH_X5U, "the certificate repository", "certs")

    def _wait_https(self, url, what, name=None):
        """Until url answers over HTTPS (our test CA), for up to 10 s."""
        for _ in range(100):
            try:
                with urllib.request.urlopen(url, context=self._tls(), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise BenchError(f"{what} did not come up"
                         + (f"; see {os.path.join(self.run, name + '.log')}" if name else ""))

    def start_hook(self):
        if self.o.hook == "mock":
            argv = [stk.PY, HOOK_MOCK]
        else:
            argv = [stk.PY, HOOK_REF, "--log", os.path.join(self.run, "hook-requests.log")]
        argv += ["--listen", f"{HOST}:{HOOK_PORT}", "--cert", os.path.join(PKI, "hook.pem"),
                 "--key", os.path.join(PKI, "hook.key"), "--directory", self.directory]
        if self.scen == "c" and self.o.delay_ms:
            argv += ["--delay-ms", str(self.o.delay_ms)]
        p = self._spawn("hook", argv)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"https://{HOST}:{HOOK_PORT}/healthz",
                                            context=self._tls(), timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if p.poll() is not None:
                break
            time.sleep(0.2)
        raise BenchError("enterprise hook did not come up; see " + os.path.join(self.run, "hook.log"))

    @staticmethod
    def _tls():
        return ssl.create_default_context(cafile=os.path.join(PKI, "hook-ca.pem"))

    def _mock_get(self, path):
        """The mock hook's JSON answer to GET path (None if unknown)."""
        if not self.tpid or self.o.hook != "mock":
            return None
        try:
            with urllib.request.urlopen(f"https://{HOST}:{HOOK_PORT}{path}",
                                        context=self._tls(), timeout=5) as r:
                return json.loads(r.read())
        except (OSError, ValueError):
            return None

    def hook_answer_times(self, first):
        """The mock's own time (ms) for each verification request from the first-th on."""
        got = self._mock_get(f"/answer-times?from={first}") if first is not None else None
        return got if isinstance(got, list) else []

    def hook_counts(self):
        """(verification requests the hook has had, of them answered by the mock)
        so far, from one look at its counters; None where unknown."""
        if not self.tpid:
            return 0, None
        if self.o.hook == "mock":
            st = self._mock_get("/stats")
            return (st.get("requests"), st.get("answered")) if isinstance(st, dict) else (None, None)
        try:
            with open(os.path.join(self.run, "hook-requests.log"), errors="replace") as f:
                return sum(1 for line in f if " POST " in line), None
        except OSError:
            return None, None

    def _wait_udp(self, name, port):
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.procs[name].poll() is not None:
                raise BenchError(f"{name} exited at start; see {os.path.join(self.run, name + '.log')}")
            if stk.port_busy(port, True):
                time.sleep(0.5)  # let the workers settle
                return
            time.sleep(0.1)
        raise BenchError(f"{name} did not listen on udp {port}")

    def alive(self):
        dead = [n for n, p in self.procs.items() if p.poll() is not None]
        if dead:
            raise BenchError(f"{', '.join(dead)} died during the run; logs in {self.run}")

    def kamcmd(self, name, *args, timeout=10):
        """One RPC to orig or term over its ctl socket; its output, or None."""
        try:
            r = subprocess.run([KAMCMD, "-s", f"unixs:{self.run}/{name}_ctl", *args],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired):
            return None
        return r.stdout.decode(errors="replace") if r.returncode == 0 else None

    def module_stats(self):
        """tpid_assert's counters in orig and term (kamcmd over the ctl socket); for
        (s) the cfg's own statistics (script:secsipid_signed, script:secsipid_verified)."""
        out = {}
        if not self.tpid and not self.peer:
            return out
        group = "tpid_assert:" if self.tpid else "script:"
        for name in ("orig", "term"):
            text = self.kamcmd(name, "stats.get_statistics", group) or ""
            for line in text.splitlines():
                k, sep, v = line.strip().strip('"').partition(" = ")
                if sep and k.startswith(group) and v.strip().lstrip("-").isdigit():
                    out[f"{name}.{k.split(':', 1)[1]}"] = int(v)
        return out

    def shm(self, name):
        """Kamailio's shared memory figures (core.shmmem: total, free, used,
        real_used, max_used, fragments), bytes; {} if unknown."""
        out = {}
        for line in (self.kamcmd(name, "core.shmmem") or "").splitlines():
            k, sep, v = line.strip().partition(":")
            if sep and v.strip().isdigit():
                out[k.strip()] = int(v)
        return out

    def bench_fill(self, name, what, n):
        """(m): n synthetic entries into orig's decision cache ("decisions") or
        term's replay cache ("replay"), bench-only RPC; (inserted, ms)."""
        text = self.kamcmd(name, "tpid_assert.bench_fill", what, str(n), timeout=600)
        try:
            done, ms = (int(x) for x in (text or "").split()[:2])
        except ValueError:
            raise BenchError(f"(m) tpid_assert.bench_fill {what} {n} on {name}: {text!r}")
        return done, ms

    def pgids(self):
        return {n: p.pid for n, p in self.procs.items()}

    def stop(self):
        err = None
        for name in ("uas", "orig", "term", "hook", "certs", "bar", "sti"):
            try:
                stop_group(self.procs.pop(name, None), name)
            except BenchError as e:
                err = e
        if err:
            raise err

    def log_counts(self):
        """Lines in the Kamailio logs that mean trouble."""
        out = {}
        for name in ("orig", "term"):
            n_err = n_ref = 0
            try:
                with open(os.path.join(self.run, name + ".log"), errors="replace") as f:
                    for line in f:
                        if "refused" in line:
                            n_ref += 1
                        if ("ERROR:" in line or "CRITICAL:" in line or "ALERT:" in line) \
                                and "receive_fd(): EOF" not in line \
                                and "exited normally" not in line:
                            n_err += 1
            except OSError:
                pass
            out[name] = {"errors": n_err, "refused": n_ref}
        return out


# ---- users and SIPp ---------------------------------------------------------------

def served(i):
    return f"tel:+4970{i:08d}"


def claimed(i):
    return f"sip:u{i:08d}@acme.example"


def write_directory(path, n):
    """The (c) directory: user i may use exactly the ID sip:u<i>@acme.example."""
    users = {served(i): [{"tpid": claimed(i), "displayName": f"User {i} (ACME Corp.)",
                          "validUntil": 0}] for i in range(n)}
    with open(path, "w") as f:
        json.dump({"enterprise": "acme.example", "defaultTtl": 300, "denyTtl": 30,
                   "users": users}, f, separators=(",", ":"))


class Users:
    """Which (served user, ID) each call sends. (a)/(b): always Alice; (c): a fresh
    user for every call of the scenario, so that no lookup can be a cache hit."""

    def __init__(self, scen, run_dir, n_users):
        self.scen, self.run, self.n, self.next = scen, run_dir, n_users, 0

    def exhausted(self, calls):
        return self.scen == "c" and self.next + calls > self.n

    def csv_for(self, calls, tag):
        path = os.path.join(self.run, f"users-{tag}.csv")
        with open(path, "w") as f:
            f.write("SEQUENTIAL\n")
            # the third field is one more header line: the avatar claim in (e)
            extra = {"e": "P-Avatar-ID: alice-01", "f": PAD_HEADER}.get(self.scen, "X-Bench: -")
            if self.scen != "c":
                f.write(f"{stk.ALICE};{stk.ALICE_ID};{extra};\n")
            else:
                if self.next + calls > self.n:
                    raise BenchError(f"(c) needs more than --users {self.n} distinct users; "
                                     "raise --users")
                for i in range(self.next, self.next + calls):
                    f.write(f"{served(i)};{claimed(i)};{extra};\n")
                self.next += calls
        return path


def stat_rows(path):
    try:
        with open(path, newline="", errors="replace") as f:
            return list(csv.DictReader(f, delimiter=";"))
    except OSError:
        return []


def _int(row, key):
    try:
        return int(row.get(key, "0") or 0)
    except ValueError:
        return 0


def run_sipp(st, users, rate, calls, tag, abort_on_fail=False, budget=None):
    """One SIPp UAC run against orig. Returns a dict of figures."""
    csvf = users.csv_for(calls, tag)
    statf = os.path.join(st.run, f"uac-{tag}.csv")
    for p in (statf,):
        if os.path.exists(p):
            os.unlink(p)
    recv_timeout_ms = 5000
    limit = max(50, int(rate * 10))  # open calls allowed; a backlog beyond 10 s of calls is failure
    wall = int(calls / rate + recv_timeout_ms / 1000 * 2 + 15)
    if budget is not None:
        wall = min(wall, max(10, int(budget)))
    argv = ["timeout", "-k", "5", str(wall), stk.SIPP, f"{HOST}:{ORIG_PORT}", "-sf", UAC_XML,
            "-inf", csvf, "-i", HOST, "-p", str(UAC_PORT), "-m", str(calls), "-r", f"{rate:g}",
            "-rp", "1000", "-l", str(limit), "-nostdin", "-buff_size", str(SIPP_BUFF),
            "-recv_timeout", str(recv_timeout_ms), "-default_behaviors", "all,-abortunexp",
            "-trace_stat", "-stf", statf, "-fd", "1",
            # every call's INVITE-to-200 time (bench/uac.xml: start_rtd / rtd)
            "-trace_rtt", "-rtt_freq", "1",
            "-trace_err", "-error_file", os.path.join(st.run, f"uac-{tag}-errors.log")]
    for f in glob.glob(os.path.join(st.run, "uac_*_rtt.csv")):
        os.unlink(f)  # left by an interrupted run
    hook0, ans0 = st.hook_counts()
    ms0 = st.module_stats()
    ru0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    g0 = group_cpu(st.pgids().values())
    a0 = procs_cpu(st.pgids().values())
    u0 = udp_rcvbuf_errors()
    d0 = udp_socket_drops()
    d0["uac"] = 0  # a new socket for every run
    c0 = CpuSample()
    t0 = time.time()
    env = dict(os.environ, LD_PRELOAD=SIPP_CLOCK["so"]) if SIPP_CLOCK.get("so") else None
    with open(os.path.join(st.run, f"uac-{tag}.out"), "wb") as out:
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True, cwd=st.run, env=env)
    aborted = False
    uac_drops = 0
    try:
        while p.poll() is None:
            time.sleep(0.25)
            uac_drops = max(uac_drops, udp_socket_drops().get("uac", 0))
            if abort_on_fail:
                rows = stat_rows(statf)
                if rows and _int(rows[-1], "FailedCall(C)") > 0:
                    aborted = True
                    break
    except BaseException:
        stop_group(p, "sipp uac")  # interrupted: the caller must not outlive us
        raise
    if aborted:
        stop_group(p, "sipp uac")
    rc = p.wait()
    t1 = time.time()
    c1 = CpuSample()
    u1 = udp_rcvbuf_errors()
    d1 = udp_socket_drops()
    d1["uac"] = uac_drops  # as last seen while it ran
    a1 = procs_cpu(st.pgids().values())
    g1 = group_cpu(st.pgids().values())
    ru1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    hook1 = st.hook_counts()[0]
    hook_ms = st.hook_answer_times(ans0)
    ms1 = st.module_stats()
    st.alive()
    rows = stat_rows(statf)
    last = rows[-1] if rows else {}
    rtt = collect_rtt(st.run, tag)
    ok = _int(last, "SuccessfulCall(C)")
    failed = _int(last, "FailedCall(C)")
    created = _int(last, "TotalCallCreated")
    elapsed = t1 - t0
    res = {
        "rate": rate, "calls": calls, "successful": ok, "failed": failed, "created": created,
        "sipp_rc": rc, "aborted_on_failure": aborted, "elapsed_s": round(elapsed, 2),
        "retransmissions": _int(last, "Retransmissions(C)"),
        "udp_rcvbuf_drops": u1 - u0,
        "udp_drops_by_socket": {k: v - d0.get(k, 0) for k, v in d1.items() if v - d0.get(k, 0)},
        "unexpected_msgs": _int(last, "FailedUnexpectedMessage(C)"),
        "failed_by_reason": {k[6:-3]: _int(last, k) for k in last
                             if k.startswith("Failed") and k.endswith("(C)") and k != "FailedCall(C)"
                             and _int(last, k)},
        "busy_s": round(c1.busy_s(c0), 3), "steal_s": c1.steal_s(c0),
        "machine_busy_pct": round(c1.busy_pct(c0), 1),
        # cross-check: the tick-sampled busy columns (see CpuSample)
        "busy_ticks_s": c1.ticks_busy_s(c0),
        "procs_s": {k: round(a1[k] - a0[k], 3) for k in a0},
        "hook_requests": (hook1 - hook0) if hook0 is not None and hook1 is not None else None,
        # INVITE sent to 200 received at the caller, ms (successful calls only)
        "latency_ms": latency(rtt), "_rtt_ms": rtt,
        # the mock hook's own time per request (its request read to its answer written)
        "hook_answer_ms": latency(hook_ms), "_hook_ms": hook_ms,
        # tpid_assert's own counters over the run (non-zero deltas only)
        "module_stats": {k: v - ms0.get(k, 0) for k, v in ms1.items()
                         if v - ms0.get(k, 0) and not k.endswith(".inflight")},
    }
    pg = st.pgids()
    per = {n: round(g1.get(pid, 0) - g0.get(pid, 0), 3) for n, pid in pg.items()}
    per["uac"] = round((ru1.ru_utime + ru1.ru_stime) - (ru0.ru_utime + ru0.ru_stime), 3)
    # Other tenants of the machine (not our processes, not kernel threads): what they
    # used in the window is taken off the whole-machine figure for the net one.
    foreign = max(0.0, a1["foreign"] - a0["foreign"])
    res["foreign_s"] = round(foreign, 3)
    res["foreign_pct"] = round(100.0 * foreign / (NCPU * max(elapsed, 1e-6)), 1)
    res["net_busy_s"] = round(max(0.0, res["busy_s"] - foreign), 3)
    per["kernel"] = round(a1["kernel"] - a0["kernel"], 3)
    per["other"] = round(res["net_busy_s"] - sum(per.values()), 3)
    res["cpu_s_by_process"] = per
    if ok:
        res["cpu_ms_per_call"] = round(1000.0 * res["busy_s"] / ok, 3)
        res["net_cpu_ms_per_call"] = round(1000.0 * res["net_busy_s"] / ok, 3)
        res["cpu_ms_per_call_by_process"] = {n: round(1000.0 * v / ok, 3) for n, v in per.items()}
        # the two Kamailio instances alone (their process groups)
        res["kamailio_ms_per_call"] = round(1000.0 * (per.get("orig", 0) + per.get("term", 0)) / ok, 3)
    else:
        res["cpu_ms_per_call"] = res["net_cpu_ms_per_call"] = None
    # SIPp is open-loop: calls start at the rate whatever happens. If it could not keep
    # the rate itself (or the run was cut), the step says nothing about the stack.
    res["rate_kept"] = elapsed <= calls / rate * 1.05 + 3 + (st.o.delay_ms / 1000.0 if st.scen == "c" else 0)
    res["clean"] = (rc == 0 and failed == 0 and ok == calls and res["rate_kept"])
    return res


def collect_rtt(run_dir, tag):
    """The response times SIPp wrote (-trace_rtt: <scenario>_<pid>_rtt.csv in its
    working directory, "Date_ms;response_time_ms;rtd_no" rows), in ms; the file is
    kept as uac-<tag>-rtt.csv."""
    out = []
    for k, f in enumerate(sorted(glob.glob(os.path.join(run_dir, "uac_*_rtt.csv")))):
        with open(f, errors="replace") as fh:
            for line in fh:
                parts = line.strip().split(";")
                if len(parts) >= 2:
                    try:
                        out.append(float(parts[1]))
                    except ValueError:
                        pass  # the header
        os.replace(f, os.path.join(run_dir, f"uac-{tag}-rtt{'-' + str(k) if k else ''}.csv"))
    return out


def quantile(sorted_vals, q):
    """Nearest-rank quantile of an ascending list."""
    if not sorted_vals:
        return None
    i = max(0, min(len(sorted_vals) - 1, int(-(-q * len(sorted_vals) // 1)) - 1))
    return sorted_vals[i]


def latency(vals):
    """p50, p99, max (ms) and the number of calls they are over."""
    v = sorted(vals)
    if not v:
        return {"n": 0, "p50": None, "p99": None, "max": None}
    return {"n": len(v), "p50": round(quantile(v, 0.50), 2), "p99": round(quantile(v, 0.99), 2),
            "max": round(v[-1], 2)}


def wait_idle(max_s=8.0, below_pct=20.0):
    """Wait until the machine is quiet again (tm wait timers, UAS timewait)."""
    deadline = time.time() + max_s
    while time.time() < deadline:
        c0 = CpuSample()
        time.sleep(0.5)
        if CpuSample().busy_pct(c0) < below_pct:
            return


def wait_quiet(max_s, below_pct=10.0, quiet_s=3):
    """Before a scenario: wait (at most max_s) until the whole machine has been below
    below_pct busy for quiet_s seconds. Returns the busy % of the last second."""
    deadline = time.time() + max_s
    streak, pct = 0, 0.0
    while True:
        c0 = CpuSample()
        time.sleep(1)
        pct = CpuSample().busy_pct(c0)
        streak = streak + 1 if pct < below_pct else 0
        if streak >= quiet_s or time.time() >= deadline:
            return pct


# ---- one scenario -------------------------------------------------------------------

class Deadline:
    def __init__(self, seconds):
        self.end = time.time() + seconds

    def left(self):
        return self.end - time.time()


class Scenario:
    """One of a, b, c: its files, its users, and the stack currently running for it."""

    def __init__(self, scen, o, directory_c):
        self.scen, self.o = scen, o
        self.run_dir = os.path.join(OUT, scen)
        shutil.rmtree(self.run_dir, ignore_errors=True)
        os.makedirs(self.run_dir)
        if scen == "c":
            self.directory = directory_c
        else:
            self.directory = os.path.join(self.run_dir, "directory.json")
            shutil.copy(os.path.join(ROOT, "tools", "demo-directory.json"), self.directory)
        ents = {"enterprises": [{
            "domain": "acme.example", "api_root": f"https://{HOST}:{HOOK_PORT}/acme",
            "ca_file": os.path.join(PKI, "hook-ca.pem"),
            "connect_timeout_ms": 2000, "timeout_ms": 5000, "ttl_cap": 300}]}
        with open(os.path.join(self.run_dir, "enterprises.json"), "w") as f:
            json.dump(ents, f, indent=2)
        self.users = Users(scen, self.run_dir, o.users)
        self.st = None
        self.n_run = 0
        self.rtt = []  # every fixed-rate call's INVITE-to-200 time, all rounds
        self.hook_ms = []  # the mock hook's time for each of its requests, all rounds
        self.result = {"scenario": scen, "what": SCENARIOS[scen], "fixed_rounds": [],
                       "warmups": [], "steps": [], "state": [], "log_dir": self.run_dir}

    def tag(self, kind):
        self.n_run += 1
        return f"{self.n_run:02d}-{kind}"

    def start(self):
        """A fresh stack, warmed up: o.warmup_calls calls that must all succeed."""
        self.stop()
        self.st = BenchStack(self.scen, self.o, self.run_dir, self.directory)
        self.st.start()
        self.record_state()
        calls = self.o.warmup_calls
        r = run_sipp(self.st, self.users, self.o.warmup_rate, calls, self.tag("warmup"))
        self.result["warmups"].append(r)
        if not r["clean"]:
            raise BenchError(f"({self.scen}) warm-up: {r['successful']}/{calls} calls answered, "
                             f"{r['failed']} failed (sipp rc {r['sipp_rc']}); logs in {self.run_dir}")
        wait_idle()

    def record_state(self):
        """Shared memory in use at start; for (m) also after filling a million
        decisions (orig) and replay entries (term) through the bench-only RPC."""
        st = self.st
        rec = {"orig_start": st.shm("orig"), "term_start": st.shm("term")}
        if self.scen == "m":
            for name, what in (("orig", "decisions"), ("term", "replay")):
                n, ms = st.bench_fill(name, what, SCALE_N)
                if n != SCALE_N:
                    raise BenchError(f"(m) {name}: {n} of {SCALE_N} {what} inserted")
                rec[f"{name}_filled"] = st.shm(name)
                rec[f"{what}_fill_ms"] = ms
            ms = st.module_stats()
            rec["replay_entries"] = ms.get("term.replay_entries")
            status = st.kamcmd("orig", "tpid_assert.status") or ""
            for line in status.splitlines():
                k, sep, v = line.strip().partition(":")
                if sep and k.strip() == "cache_entries" and v.strip().isdigit():
                    rec["cache_entries"] = int(v)
            log(f"(m) filled: {rec.get('cache_entries')} decisions at orig "
                f"({rec['decisions_fill_ms']} ms), {rec['replay_entries']} replay entries at "
                f"term ({rec['replay_fill_ms']} ms)")
        self.result["state"].append(rec)

    def stop(self):
        if self.st is not None:
            st, self.st = self.st, None
            st.stop()
            time.sleep(0.3)

    def finish(self):
        try:
            self.stop()
        finally:
            self.result["logs"] = BenchStack(self.scen, self.o, self.run_dir, None).log_counts()


def fixed_round(sc, o, rnd):
    """One fixed-rate measurement of a scenario on its own fresh stack."""
    scen = sc.scen
    sc.start()
    calls = int(o.rate * o.seconds)
    fx = run_sipp(sc.st, sc.users, o.rate, calls, sc.tag(f"fixed{o.rate:g}"))
    fx["round"] = rnd
    sc.rtt.extend(fx["_rtt_ms"])
    sc.hook_ms.extend(fx.get("_hook_ms") or [])
    sc.result["fixed_rounds"].append(fx)
    sc.stop()
    lat = fx["latency_ms"]
    log(f"({scen}) round {rnd}: {fx['successful']} ok, {fx['failed']} failed, "
        f"{fx['cpu_ms_per_call']} ms CPU/call (net of other tenants {fx['net_cpu_ms_per_call']}), "
        f"busy {fx['machine_busy_pct']} %, other tenants {fx['foreign_pct']} %, "
        f"INVITE-200 p50 {lat['p50']} p99 {lat['p99']} max {lat['max']} ms")


def summarize_fixed(sc):
    """The scenario's CPU per call: the median over the rounds."""
    rounds = sc.result["fixed_rounds"]
    fx = {"rounds": len(rounds)}
    for key in ("cpu_ms_per_call", "net_cpu_ms_per_call", "machine_busy_pct", "foreign_pct",
                "kamailio_ms_per_call"):
        vals = [r[key] for r in rounds if r.get(key) is not None]
        fx[key] = round(statistics.median(vals), 3) if vals else None
        fx[key + "_all"] = vals
    fx["clean"] = all(r["clean"] for r in rounds) and bool(rounds)
    for key in ("calls", "successful", "failed"):
        fx[key] = sum(r[key] for r in rounds)
    fx["hook_requests"] = (sum(r["hook_requests"] for r in rounds)
                           if all(r["hook_requests"] is not None for r in rounds) else None)
    ms = {}
    for r in rounds:
        for k, v in r.get("module_stats", {}).items():
            ms[k] = ms.get(k, 0) + v
    fx["module_stats"] = ms
    per = {}
    for r in rounds:
        for k, v in r.get("cpu_ms_per_call_by_process", {}).items():
            per.setdefault(k, []).append(v)
    fx["cpu_ms_per_call_by_process"] = {k: round(statistics.median(v), 3) for k, v in per.items()}
    # INVITE-to-200 over the calls of all rounds together
    fx["latency_ms"] = latency(sc.rtt)
    fx["latency_ms_rounds"] = [r["latency_ms"] for r in rounds]
    fx["hook_answer_ms"] = latency(sc.hook_ms)
    sc.result["fixed"] = fx


def search_scenario(sc, o, deadline):
    scen = sc.scen
    if o.wait_quiet > 0:
        pct = wait_quiet(o.wait_quiet)
        if pct >= 10.0:
            log(f"({scen}) the machine is still {pct:.0f} % busy after {o.wait_quiet:g} s; going on")
    log(f"({scen}) {SCENARIOS[scen]}: max calls/s search")
    sc.start()
    sc.result["max_cps"], sc.result["max_cps_note"] = search_max(
        scen, o, deadline, st_ref=lambda: sc.st, users=sc.users, tag=sc.tag,
        fresh=sc.start, steps=sc.result["steps"])
    sc.stop()
    log(f"({scen})   max calls/s with zero failed: {sc.result['max_cps']}"
        + (f" ({sc.result['max_cps_note']})" if sc.result["max_cps_note"] else ""))


def search_max(scen, o, deadline, st_ref, users, tag, fresh, steps):
    """Steps of --search-step up to --search-cap, then bisection between the last clean
    and the first failed rate down to 5 % (at least --resolution calls/s)."""
    def step(rate):
        rate = int(rate)
        calls = max(1, int(rate * o.step_seconds))
        if users.exhausted(calls):
            raise SearchCut(f"(c) ran out of distinct users at {rate}/s (raise --users)")
        r = run_sipp(st_ref(), users, rate, calls, tag(f"step{rate}"), abort_on_fail=True,
                     budget=max(10, deadline.left() - 5))
        r["rate"] = rate
        steps.append(r)
        log(f"({scen})   step {rate}/s x {calls}: {'clean' if r['clean'] else 'FAILED'} "
            f"({r['successful']} ok, {r['failed']} failed, {r['elapsed_s']} s, "
            f"busy {r['machine_busy_pct']} %, other tenants {r['foreign_pct']} %"
            + (f", UDP drops {r['udp_drops_by_socket'] or r['udp_rcvbuf_drops']}"
               if r["udp_rcvbuf_drops"] else "")
            + (f", {r['failed_by_reason']}" if r["failed_by_reason"] else "") + ")")
        if r["clean"]:
            wait_idle()
        else:
            fresh()
        return r["clean"]

    found = [0]
    try:
        return _search(o, deadline, step, found)
    except SearchCut as e:
        return found[0], str(e)


def _search(o, deadline, step, found):
    good, bad, note = 0, None, ""
    rate = o.search_start
    while rate <= o.search_cap:
        if deadline.left() < o.step_seconds + 20:
            return good, "time budget reached during the step search"
        # A failed step of the ramp is tried once more on a fresh stack: one stray
        # loss must not end the ramp early. Bisection steps are run once.
        if step(rate) or (o.confirm and deadline.left() > o.step_seconds + 20 and step(rate)):
            good = found[0] = rate
            rate += o.search_step
        else:
            bad = rate
            break
    if bad is None:
        return good, f"clean up to the cap {o.search_cap}/s: the maximum is at least this"
    while bad - good > max(o.resolution, 0.05 * bad):
        if deadline.left() < o.step_seconds + 20:
            note = "time budget reached during bisection"
            break
        mid = (good + bad) // 2
        if step(mid):
            good = found[0] = mid
        else:
            bad = mid
    if good == 0 and not note:
        note = f"failed even at {bad}/s"
    return good, note


# ---- report -----------------------------------------------------------------------

def evaluate(results, delay_ms=50):
    """The targets. CPU per call is judged on the net figure (whole machine minus other
    tenants' processes; the same as the whole-machine figure on a quiet machine)."""
    out = []
    for scen, metric, ratio, cmp, base_scen in TARGETS:
        a = results.get(base_scen)
        r = results.get(scen)
        row = {"scenario": scen, "metric": metric, "target_ratio": ratio, "cmp": cmp,
               "of": base_scen, "value": None, "baseline": None, "ratio": None,
               "verdict": "n/a", "needs": scen + base_scen}
        if a is None or r is None or "fixed" not in a or "fixed" not in r:
            out.append(row)
            continue
        if metric == "cpu_ms_per_call":
            v, base = r["fixed"].get("net_cpu_ms_per_call"), a["fixed"].get("net_cpu_ms_per_call")
            w, wbase = r["fixed"].get("cpu_ms_per_call"), a["fixed"].get("cpu_ms_per_call")
            row["whole_machine"] = {"value": w, "baseline": wbase,
                                    "ratio": round(w / wbase, 3) if w and wbase else None}
            ok_runs = r["fixed"]["clean"] and a["fixed"]["clean"]
            # The same ratio round by round (neighbouring runs): its spread shows the noise.
            ar = {x["round"]: x.get("net_cpu_ms_per_call") for x in a.get("fixed_rounds", [])}
            row["round_ratios"] = [round(x["net_cpu_ms_per_call"] / ar[x["round"]], 3)
                                   for x in r.get("fixed_rounds", [])
                                   if x.get("net_cpu_ms_per_call") and ar.get(x["round"])]
        else:
            v, base = r.get("max_cps"), a.get("max_cps")
            ok_runs = v is not None
            if a.get("max_cps_note", "").startswith("clean up to the cap"):
                row["note"] = "(a) reached the cap: its maximum is at least the cap"
        row["value"], row["baseline"] = v, base
        if v is not None and base:
            row["ratio"] = round(v / base, 3)
            hit = row["ratio"] <= ratio if cmp == "<=" else row["ratio"] >= ratio
            row["verdict"] = "PASS" if hit and ok_runs else "MISS"
        out.append(row)
    out.append(avatar_target(results))
    out += issue10_targets(results, delay_ms)
    return out


def _fixed(results, scen):
    r = results.get(scen)
    return r["fixed"] if r and "fixed" in r else None


def _limit_row(scen, needs, metric, text, value, limit, ok_runs, **extra):
    """A target "value <= limit" (both in the same unit), on the scenarios needs."""
    row = {"scenario": scen, "needs": needs, "metric": metric, "text": text, "value": value,
           "limit": limit, "cmp": "<=", "verdict": "n/a", **extra}
    if value is not None and limit is not None:
        row["verdict"] = "PASS" if value <= limit and ok_runs else "MISS"
        row["over_by"] = round(value - limit, 4) if value > limit else 0
    return row


def issue10_targets(results, delay_ms):
    """The tpid path against the physical floor and against the peer; the miss
    path's Kamailio CPU; the latencies; the scale of the state."""
    out = []
    fa, fb, fc, fs = (_fixed(results, s) for s in "abcs")
    floor = (OPENSSL.get("floor") or {}).get("ms_sign_plus_verify")

    def net(fx):
        return fx.get("net_cpu_ms_per_call") if fx else None

    def clean(*fxs):
        return all(fx and fx.get("clean") for fx in fxs)

    added = round(net(fb) - net(fa), 4) if net(fa) is not None and net(fb) is not None else None
    rounds_ba = paired_diffs(results["b"], results["a"]) if fa and fb else []
    # 1. (b) - (a) against twice the cryptography's floor
    lim = round(FLOOR_MULT * floor, 4) if floor else None
    out.append(_limit_row(
        "b", "ab", "cpu_added_vs_floor",
        f"(b) - (a) CPU ms/call <= {FLOOR_MULT:g} x ES256 sign + verify (openssl speed, same run)",
        added, lim, clean(fa, fb), floor_ms=floor, round_diffs=rounds_ba,
        ratio=round(added / floor, 3) if added is not None and floor else None))
    # 2. (b) - (a) against a quarter of what the peer adds over the same relay
    peer = round(net(fs) - net(fa), 4) if net(fa) is not None and net(fs) is not None else None
    out.append(_limit_row(
        "b", "abs", "cpu_added_vs_peer",
        f"(b) - (a) CPU ms/call <= {PEER_SHARE:g} x ((s) - (a)), the peer's cost",
        added, round(PEER_SHARE * peer, 4) if peer is not None else None, clean(fa, fb, fs),
        peer_added_ms=peer, peer_round_diffs=paired_diffs(results["s"], results["a"])
        if fa and fs else [],
        ratio=round(added / peer, 3) if added is not None and peer else None))
    # 3. the miss path, Kamailio's own processes only (not the mock enterprise)
    kb, kc = (fx.get("kamailio_ms_per_call") if fx else None for fx in (fb, fc))
    out.append(_limit_row(
        "c", "bc", "kamailio_cpu_added_by_miss",
        f"(c) orig+term CPU ms/call <= (b) orig+term + {MISS_KAM_MS:g} ms",
        kc, round(kb + MISS_KAM_MS, 4) if kb is not None else None, clean(fb, fc), b_value=kb))
    # 4., 5. INVITE-to-200 at the caller, p99 over all calls of the fixed-rate rounds
    pa, pb, pc = ((fx.get("latency_ms") or {}).get("p99") if fx else None for fx in (fa, fb, fc))
    out.append(_limit_row("b", "ab", "p99_ms", f"(b) p99 <= (a) p99 + {P99_WARM_MS:g} ms", pb,
                          round(pa + P99_WARM_MS, 2) if pa is not None else None,
                          clean(fa, fb), a_value=pa))
    out.append(_limit_row("c", "ac", "p99_ms",
                          f"(c) p99 <= (a) p99 + hook delay {delay_ms} ms + {P99_MISS_MS:g} ms",
                          pc, round(pa + delay_ms + P99_MISS_MS, 2) if pa is not None else None,
                          clean(fa, fc), a_value=pa,
                          hook_answer_ms=(fc or {}).get("hook_answer_ms")))
    # 6. the scale of the state: shared memory per cached decision
    sc = scale_summary(results)
    out.append(_limit_row("m", "m", "shm_bytes_per_decision",
                          f"(m) shared memory per cached decision <= {SCALE_BYTES} bytes",
                          sc.get("bytes_per_decision"), SCALE_BYTES if sc else None, True))
    return out


def scale_summary(results):
    """(m) against (b): shared memory (Kamailio's real_used: with the allocator's
    own overhead) per decision and per replay entry. {} without (m)."""
    m, b = results.get("m"), results.get("b")
    recs = [r for r in (m or {}).get("state", []) if "orig_filled" in r and "term_filled" in r]
    if not recs:
        return {}

    def med(vals):
        vals = [v for v in vals if v is not None]
        return statistics.median(vals) if vals else None

    def used(rec, key):
        return rec.get(key, {}).get("real_used")

    n = SCALE_N
    out = {"entries": n, "starts": len(recs)}
    # what one more decision costs: the fill's growth, divided by N
    out["bytes_per_decision"] = round(med([used(r, "orig_filled") - used(r, "orig_start")
                                           for r in recs]) / n, 1)
    out["decisions_fill_ms"] = med([r.get("decisions_fill_ms") for r in recs])
    out["replay_fill_ms"] = med([r.get("replay_fill_ms") for r in recs])
    # the replay cache is preallocated at start: its growth at fill is ~0
    out["bytes_per_replay_entry_at_fill"] = round(med([used(r, "term_filled")
                                                       - used(r, "term_start")
                                                       for r in recs]) / n, 1)
    brecs = (b or {}).get("state", [])
    if brecs:
        bo, bt = med([used(r, "orig_start") for r in brecs]), med([used(r, "term_start")
                                                                   for r in brecs])
        mo, mt = med([used(r, "orig_filled") for r in recs]), med([used(r, "term_filled")
                                                                   for r in recs])
        # everything the big state costs over (b)'s: the bucket arrays and the
        # preallocated replay array included
        out["orig_mb_over_b"] = round((mo - bo) / 2**20, 1)
        out["term_mb_over_b"] = round((mt - bt) / 2**20, 1)
        out["bytes_per_decision_all_in"] = round((mo - bo) / n, 1)
        out["bytes_per_replay_entry_all_in"] = round((mt - bt) / n, 1)
    return out


def es256_floor():
    """ms of one ES256 signature plus one verification, `openssl speed` on one core."""
    r = subprocess.run(["openssl", "speed", "-seconds", "2", "ecdsap256"],
                       stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, timeout=60)
    for line in r.stdout.decode(errors="replace").splitlines():
        f = line.split()
        # " 256 bits ecdsa (nistp256)   0.0000s   0.0000s  70697.5  24312.0"
        if len(f) >= 6 and f[0] == "256" and "nistp256" in line:
            sign, verify = float(f[-2]), float(f[-1])
            return {"sign_per_s": sign, "verify_per_s": verify,
                    "ms_sign_plus_verify": round(1000.0 / sign + 1000.0 / verify, 4)}
    return None


def avatar_target(results):
    """(e) minus (b), CPU ms per call, against AVATAR_MARGIN x one ES256 sign + verify."""
    e, b = results.get("e"), results.get("b")
    floor = OPENSSL.get("floor")
    row = {"scenario": "e", "metric": "avatar_cpu_ms_added", "target_ratio": AVATAR_MARGIN,
           "cmp": "<=", "of": "b", "value": None, "baseline": None, "ratio": None,
           "verdict": "n/a", "needs": "eb"}
    if not e or not b or "fixed" not in e or "fixed" not in b or not floor:
        return row
    ve, vb = e["fixed"].get("net_cpu_ms_per_call"), b["fixed"].get("net_cpu_ms_per_call")
    if ve is None or vb is None:
        return row
    row["value"] = round(ve - vb, 4)
    row["baseline"] = floor["ms_sign_plus_verify"]
    # the same difference round by round (neighbouring runs): its spread is the noise
    row["round_diffs"] = paired_diffs(e, b)
    f = results.get("f")
    if f and "fixed" in f and f["fixed"].get("net_cpu_ms_per_call") is not None:
        vf = f["fixed"]["net_cpu_ms_per_call"]
        row["bytes_ms"] = round(vf - vb, 4)          # (f) - (b): the bytes alone
        row["work_ms"] = round(ve - vf, 4)           # (e) - (f): the avatar's own work
        row["bytes_round_diffs"] = paired_diffs(f, b)
    row["ratio"] = round(row["value"] / row["baseline"], 3)
    ok_runs = e["fixed"]["clean"] and b["fixed"]["clean"]
    row["verdict"] = "PASS" if row["ratio"] <= AVATAR_MARGIN and ok_runs else "MISS"
    return row


OPENSSL = {}


def paired_diffs(x, y):
    """x - y, net CPU ms per call, round by round."""
    yr = {r["round"]: r.get("net_cpu_ms_per_call") for r in y.get("fixed_rounds", [])}
    return [round(r["net_cpu_ms_per_call"] - yr[r["round"]], 4)
            for r in x.get("fixed_rounds", [])
            if r.get("net_cpu_ms_per_call") is not None and yr.get(r["round"]) is not None]


def c_loop(name, args=("2",)):
    """Builds bench/<name>.c with the module's plain C files (no Kamailio) and
    runs it with args (the loops: 2 s per measurement); its "key value" lines,
    as numbers."""
    exe = os.path.join(OUT, name)
    mod = os.path.join(ROOT, "modules", "tpid_assert")
    srcs = sorted(glob.glob(os.path.join(mod, "tpid_*.c")))
    srcs = [f for f in srcs if not os.path.basename(f).startswith("tpid_assert_")]
    try:
        flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libcurl", "jansson",
                                "libcrypto", "libssl"], stdout=subprocess.PIPE, check=True,
                               timeout=30).stdout.decode().split()
        subprocess.run(["gcc", "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-O2", "-Wall", "-Wextra",
                        "-Werror", "-I" + mod,
                        "-o", exe, os.path.join(HERE, name + ".c")] + srcs + flags,
                       check=True, timeout=300)
        r = subprocess.run([exe, *args], stdout=subprocess.PIPE, check=True, timeout=300)
    except (OSError, subprocess.SubprocessError) as e:
        log(f"{name}: {e}")
        return None
    return {k: float(v) for k, v in (line.split() for line in r.stdout.decode().splitlines())}


def strip_private(x):
    """x without the keys starting with "_" (raw samples kept in memory only)."""
    if isinstance(x, dict):
        return {k: strip_private(v) for k, v in x.items() if not k.startswith("_")}
    if isinstance(x, list):
        return [strip_private(v) for v in x]
    return x


def build_sipp_clock():
    """bench/sipp_clock.c as build/bench/sipp_clock.so (the caller's precise
    clock); None, with a note, if it cannot be built."""
    so = os.path.join(OUT, "sipp_clock.so")
    try:
        subprocess.run(["gcc", "-shared", "-fPIC", "-O2", "-Wall", "-Wextra", "-Werror", "-o", so,
                        SIPP_CLOCK_C, "-ldl"], check=True, timeout=120)
    except (OSError, subprocess.SubprocessError) as e:
        log(f"sipp_clock.so: {e}: response times in SIPp's 4 ms ticks")
        return None
    return so


def sha256_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def ensure_secsipid():
    """(s) needs Kamailio's secsipid module: Debian's package, installed with
    apt-get when missing (as tools/install-deps.sh installs the others)."""
    if os.path.exists(SECSIPID_SO):
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    log(f"(s) {SECSIPID_SO} is missing: apt-get install {SECSIPID_PKG}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    r = subprocess.run(sudo + ["apt-get", "install", "-y", "-q", "--no-install-recommends",
                               SECSIPID_PKG], env=env, timeout=600)
    if r.returncode != 0 or not os.path.exists(SECSIPID_SO):
        raise BenchError(f"(s) could not install {SECSIPID_PKG} (apt-get rc {r.returncode}); "
                         f"install it, or leave s out of --scenarios")


def build_bench_module():
    """(m): the module built with bench/tpid_assert_benchfill.c (the RPC
    tpid_assert.bench_fill) and -DTPID_BENCH_FILL, from a copy of its sources in
    build/bench/mod/; the shipped module and its directory are not touched.
    Returns the path of a copy taken for this run."""
    src = os.path.join(ROOT, "modules", "tpid_assert")
    dst = os.path.join(OUT, "mod")
    os.makedirs(dst, exist_ok=True)
    want = {os.path.basename(f): f for f in glob.glob(os.path.join(src, "*.[ch]"))}
    want["Makefile"] = os.path.join(src, "Makefile")
    want[os.path.basename(BENCH_FILL_C)] = BENCH_FILL_C
    for f in glob.glob(os.path.join(dst, "*.[ch]")):
        if os.path.basename(f) not in want:
            os.unlink(f)  # gone from the module
    for name, f in want.items():
        d = os.path.join(dst, name)
        with open(f, "rb") as a:
            data = a.read()
        if not os.path.exists(d) or open(d, "rb").read() != data:
            shutil.copy2(f, d)
    ksr = os.path.join(BUILD, "kamailio-5.6.3", "src")
    log("(m) building the module with the bench-only fill RPC in build/bench/mod/")
    r = subprocess.run(["make", "-C", dst, f"KSR_SRC={ksr}", "CC_EXTRA_OPTS=-DTPID_BENCH_FILL"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=900)
    if r.returncode != 0:
        raise BenchError("(m) bench module build failed:\n" + r.stdout.decode(errors="replace")[-3000:])
    out = os.path.join(OUT, "tpid_assert-benchfill.so")
    shutil.copy(os.path.join(dst, "tpid_assert.so"), out)
    return out


def es256_loop():
    """The module's own ES256 sign and verify in a tight loop beside the same
    operations with contexts set up once (bench/es256_loop.c), microseconds."""
    return c_loop("es256_loop")


def token_loop():
    """One third-party and one avatar token signed and checked in a tight loop
    (bench/token_loop.c): the module's own work per token besides ES256."""
    return c_loop("token_loop")


def query_loop(o, scen_c):
    """The module's enterprise query (tpid_hook on tpid_https) in-process at
    (c)'s rate against (c)'s mock and its delay, without Kamailio
    (bench/query_loop.c): CPU microseconds per query, the part of (c) - (b)
    that is the HTTPS exchange and its wake-ups."""
    st = BenchStack("c", o, scen_c.run_dir, scen_c.directory)
    try:
        st.start_hook()
        return c_loop("query_loop", (os.path.join(scen_c.run_dir, "enterprises.json"),
                                     f"{o.rate:g}", f"{o.seconds:g}", str(o.users)))
    except BenchError as e:
        log(f"query_loop: {e}")
        return None
    finally:
        st.stop()


def ms_vs_local(res):
    """(n) against (b): what signing and verifying over Ms costs the proxies and
    the call, beside the STI service's own CPU (no target: issue 11 records it)."""
    fb, fn = (_fixed(res["results"], s) for s in "bn")
    if not fb or not fn or not fb.get("cpu_ms_per_call_by_process"):
        return
    pb, pn = fb["cpu_ms_per_call_by_process"], fn["cpu_ms_per_call_by_process"]
    lb, ln = fb.get("latency_ms") or {}, fn.get("latency_ms") or {}
    parts = ", ".join(f"{k} {pn.get(k, 0) - pb.get(k, 0):+.3f}" for k in ("orig", "term"))
    print(f"(n) Ms against local (b), CPU ms/call: {parts} (orig signs, term verifies over "
          f"Ms; the hook workers' HTTPS is in each); the STI service itself "
          f"{pn.get('sti', 0):.3f} (its own process group, Python)")
    def buckets(side):
        """'10ms:N 50ms:N ...' of side's ms_latency_le_* counters, shortest first."""
        pre = side + ".ms_latency_le_"
        got = {k[len(pre):]: v for k, v in fn.get("module_stats", {}).items()
               if k.startswith(pre)}
        return " ".join(f"{b}:{got[b]}" for b in sorted(got, key=lambda b: int(b[:-2])))
    if lb.get("p99") is not None and ln.get("p99") is not None:
        print(f"  INVITE-to-200 p50 {lb['p50']} -> {ln['p50']} ms, p99 {lb['p99']} -> "
              f"{ln['p99']} ms; Ms round trips seen by the module (ms_latency_*): "
              f"orig {buckets('orig')}, term {buckets('term')}")


def print_report(res):
    m = res["machine"]
    o = res["options"]
    src = res.get("source", {})
    print()
    print(f"tpid_assert benchmark, {res['date']}, {res.get('duration_s', '?')} s")
    print(f"machine: {m['nproc']} x {m['cpu_model']}, {m['mem_gib']} GiB, kernel {m['kernel']}")
    print(f"         {m['kamailio']}; {m['sipp']}; Python {m['python']}")
    print(f"source:  commit {src.get('commit')}"
          f"{' + uncommitted changes in modules/ or cfg/' if src.get('modules_cfg_dirty') else ''}; "
          f"module sha256 {src.get('module_sha256', '?')[:12]}")
    print(f"command: {res['command']}")
    print(f"set-up:  {o['children']} children and {o.get('async_workers', 2)} async workers per Kamailio, -m {o['shm']} -M {o['pkg']}"
          f"{' (-m ' + str(max(o['shm'], o['scale_shm'])) + ' in (m))' if 'm' in res['results'] else ''}; hook: "
          f"{o['hook']} ({o['delay_ms']} ms in (c)); CPU/call: median of {o['rounds']} x "
          f"{o['rate']:g} calls/s x {o['seconds']:g} s; search steps of {o['step_seconds']:g} s")
    print(f"latency: INVITE sent to 200 received at the caller, its clock "
          f"{res.get('caller_clock', '?')}")
    print()
    hdr = (f"{'scenario':<38} {'CPU ms/call':>11} {'(whole)':>8} {'failed':>6} {'busy %':>6} "
           f"{'hook req/call':>13} {'cache hit %':>11} {'verified':>11} {'p50 ms':>7} "
           f"{'p99 ms':>7} {'max ms':>7} {'max CPS':>7}")
    print(hdr)
    print("-" * len(hdr))
    for scen in ORDER:
        r = res["results"].get(scen)
        if r is None:
            continue
        fx = r.get("fixed", {})
        ms = fx.get("module_stats", {})
        cpu, whole = fx.get("net_cpu_ms_per_call"), fx.get("cpu_ms_per_call")
        hr = fx.get("hook_requests")
        hpc = f"{hr / fx['successful']:.2f}" if hr is not None and fx.get("successful") else "-"
        hits, miss = ms.get("orig.cache_hits", 0), ms.get("orig.cache_misses", 0)
        hitp = f"{100.0 * hits / (hits + miss):.1f}" if hits + miss else "-"
        ver = f"{ms.get('term.verified', 0)}/{fx.get('successful', 0)}" if scen != "a" else "-"
        if scen == "s":   # the cfg's statistic: secsipid_check_identity() passed
            ver = f"{ms.get('term.secsipid_verified', 0)}/{fx.get('successful', 0)}"
        if scen == "e":   # both tokens of every call
            ver = f"{ms.get('term.avatar_verified', 0)}+" + ver
        cpu_s = f"{cpu:.3f}" if cpu is not None else "-"
        whole_s = f"{whole:.3f}" if whole is not None else "-"
        if fx and not fx.get("clean"):
            cpu_s += "*"
        lat = fx.get("latency_ms") or {}
        lat_s = [f"{lat[k]:.1f}" if lat.get(k) is not None else "-" for k in ("p50", "p99", "max")]
        print(f"({scen}) {r['what']:<34} {cpu_s:>11} {whole_s:>8} {fx.get('failed', '-'):>6} "
              f"{fx.get('machine_busy_pct', '-'):>6} {hpc:>13} {hitp:>11} {ver:>11} "
              f"{lat_s[0]:>7} {lat_s[1]:>7} {lat_s[2]:>7} {r.get('max_cps', '-'):>7}")
    if any(not r.get("fixed", {}).get("clean", True) for r in res["results"].values()):
        print("  * a fixed-rate run was not clean (failed calls or rate not kept): "
              "CPU/call is over the successful calls only")
    print("  CPU ms/call: whole machine minus other tenants' processes, median of the rounds;")
    print("  (whole): the whole machine as it was, median of the rounds")
    print("  p50/p99/max: INVITE sent to 200 received at the caller (SIPp response times),")
    print("  over the successful calls of all fixed-rate rounds together")
    print()
    for scen in ORDER:
        r = res["results"].get(scen)
        fx = (r or {}).get("fixed", {})
        if fx.get("cpu_ms_per_call_by_process"):
            parts = ", ".join(f"{k} {v:.3f}" for k, v in fx["cpu_ms_per_call_by_process"].items())
            print(f"({scen}) CPU ms/call by process group: {parts}")
        if fx.get("net_cpu_ms_per_call_all"):
            print(f"({scen}) rounds: net {fx['net_cpu_ms_per_call_all']}, whole "
                  f"{fx['cpu_ms_per_call_all']}, other tenants % {fx['foreign_pct_all']}; "
                  "p99 ms " + str([x.get("p99") for x in fx.get("latency_ms_rounds", [])]))
        if r and r.get("max_cps_note"):
            print(f"({scen}) max CPS: {r['max_cps_note']}")
    warn = []
    if m.get("idle_busy_pct", 0) > 10:
        warn.append(f"the machine was {m['idle_busy_pct']} % busy before the run")
    for scen, r in res["results"].items():
        fp = r.get("fixed", {}).get("foreign_pct")
        if fp is not None and fp > 5:
            warn.append(f"({scen}): other tenants used {fp} % of the machine during the "
                        "fixed-rate runs (taken off the net figure, but caches and "
                        "frequency are shared)")
        loud = [st["rate"] for st in r.get("steps", []) if st.get("foreign_pct", 0) > 5]
        if loud:
            warn.append(f"({scen}): other tenants used over 5 % of the machine during the search "
                        f"steps at {loud} calls/s")
    for w in warn:
        print("WARNING: " + w)
    res["warnings"] = warn
    print()
    if res.get("openssl"):
        f = res["openssl"]
        print(f"openssl speed ecdsap256 (same run): {f['sign_per_s']:.0f} sign/s, "
              f"{f['verify_per_s']:.0f} verify/s = {f['ms_sign_plus_verify']:.4f} ms per "
              "sign + verify")
    if res.get("es256_loop"):
        f = res["es256_loop"]
        print(f"bench/es256_loop (same run), us: floor sign {f['floor_sign_us']:.1f} + verify "
              f"{f['floor_verify_us']:.1f}; module sign {f['module_sign_us']:.1f} + verify "
              f"{f['module_verify_us']:.1f} ({f['module_over_floor']:.3f} x the floor)")
        if "cold_sign_us" in f:
            print(f"  with the caches evicted before each operation ({f['cold_evict_mb']:.0f} MB "
                  f"written), median: module sign {f['cold_sign_us']:.1f} + verify "
                  f"{f['cold_verify_us']:.1f} ({f['cold_over_floor']:.3f} x the floor)")
    if res.get("token_loop"):
        f = res["token_loop"]
        for kind in ("tpid", "avatar"):
            print(f"bench/token_loop (same run), {kind} token ({f[kind + '_bytes']:.0f} bytes), us: "
                  f"sign {f[kind + '_sign_us']:.1f} + check {f[kind + '_check_us']:.1f}, of which "
                  f"ES256 {f[kind + '_es256_us']:.1f} and the module's own work "
                  f"{f[kind + '_rest_us']:.1f}")
    if res.get("query_loop"):
        f = res["query_loop"]
        o = res["options"]
        print(f"bench/query_loop (same run, (c)'s mock with its {o['delay_ms']} ms, "
              f"{o['rate']:g}/s x {o['seconds']:g} s, no Kamailio): "
              f"{f['query_cpu_us']:.1f} us of CPU per query ({f['answered']:.0f} answered, "
              f"{f['authorized']:.0f} authorized): the module's query code and HTTPS engine")
    sc = res.get("scale") or {}
    if sc:
        print(f"(m) scale: {sc['entries']} decisions at orig, {sc['entries']} replay entries at "
              f"term, filled on each of {sc['starts']} fresh stack(s) in "
              f"{sc['decisions_fill_ms']:.0f} + {sc['replay_fill_ms']:.0f} ms")
        print(f"  shared memory per cached decision: {sc['bytes_per_decision']} bytes (the "
              f"fill's growth of orig's real_used / {sc['entries']})"
              + (f"; {sc['bytes_per_decision_all_in']} bytes with the bucket array "
                 f"((m) filled against (b) at start: +{sc['orig_mb_over_b']} MB)"
                 if "bytes_per_decision_all_in" in sc else ""))
        if "bytes_per_replay_entry_all_in" in sc:
            print(f"  shared memory per replay entry: {sc['bytes_per_replay_entry_all_in']} bytes "
                  f"(preallocated for {SCALE_CACHE_SIZE}: term (m) filled against (b) at start "
                  f"+{sc['term_mb_over_b']} MB; the fill itself "
                  f"{sc['bytes_per_replay_entry_at_fill']} bytes per entry)")
    ms_vs_local(res)
    fa, fb = (_fixed(res["results"], s) for s in "ab")
    if fa and fb and fa.get("net_cpu_ms_per_call") and fb.get("net_cpu_ms_per_call"):
        print(f"(b) / (a) CPU per call: {fb['net_cpu_ms_per_call'] / fa['net_cpu_ms_per_call']:.3f} "
              f"(the former target 1.10 x, replaced by the floor and peer targets below)")
    print()
    def missing(t):
        return [s for s in t.get("needs", t["scenario"]) if s not in res["results"]]
    skipped = sorted({s for t in res["targets"] if t["verdict"] == "n/a" for s in missing(t)},
                     key=ORDER.index)
    for t in res["targets"]:
        if t["verdict"] == "n/a" and missing(t):
            continue
        if "text" in t:
            def f(v):
                return "-" if v is None else f"{v:g}"
            extra = ""
            if t.get("ratio") is not None and t["metric"] == "cpu_added_vs_floor":
                extra = f" ({t['ratio']} x the floor {t['floor_ms']} ms)"
            elif t.get("ratio") is not None and t["metric"] == "cpu_added_vs_peer":
                extra = f" ((s) - (a) = {t['peer_added_ms']} ms; ratio {t['ratio']})"
            elif t["metric"] == "kamailio_cpu_added_by_miss" and t.get("b_value") is not None:
                extra = f" ((b) orig+term {t['b_value']} ms)"
            elif t["metric"] == "p99_ms" and t.get("a_value") is not None:
                extra = f" ((a) p99 {t['a_value']} ms)"
            if t["verdict"] == "MISS" and t.get("over_by"):
                extra += f", over by {t['over_by']:g}"
            print(f"target {t['text']}: {f(t['value'])} vs {f(t['limit'])}{extra}  {t['verdict']}")
            if t.get("round_diffs"):
                print(f"  (b) - (a) round by round: {t['round_diffs']}")
            cold = res.get("es256_loop") or {}
            if t["metric"] == "cpu_added_vs_floor" and "cold_sign_us" in cold:
                ms = (cold["cold_sign_us"] + cold["cold_verify_us"]) / 1000.0
                print(f"  the module's ES256 alone with the caches cold (bench/es256_loop): "
                      f"{ms:.4f} ms, {cold['cold_over_floor']:.2f} x the floor")
            ql = res.get("query_loop") or {}
            if t["metric"] == "kamailio_cpu_added_by_miss" and ql.get("query_cpu_us"):
                print(f"  the query alone, in-process without Kamailio (bench/query_loop): "
                      f"{ql['query_cpu_us'] / 1000.0:.4f} ms per query")
            if t.get("peer_round_diffs"):
                print(f"  (s) - (a) round by round: {t['peer_round_diffs']}")
            ha = t.get("hook_answer_ms") or {}
            if ha.get("p99") is not None and t.get("a_value") is not None:
                lim = round(t["a_value"] + ha["p99"] + P99_MISS_MS, 2)
                print(f"  the hook's own time per request in (c), its clock (request read to answer "
                      f"written, {ha['n']} requests): p50 {ha['p50']} p99 {ha['p99']} max {ha['max']} ms; "
                      f"(a) p99 + that p99 + {P99_MISS_MS:g} ms = {lim}: "
                      f"{'within' if t['value'] is not None and t['value'] <= lim else 'over'} "
                      f"against the delay the hook really had")
            continue
        if t["metric"] == "avatar_cpu_ms_added":
            print(f"target (e) - (b) CPU ms per call <= {t['target_ratio']:.2f} x one ES256 "
                  f"sign + verify: {t['value']} ms vs {t['baseline']} ms = {t['ratio']}  "
                  f"{t['verdict']}")
            if t.get("round_diffs"):
                print(f"  (e) - (b) round by round: {t['round_diffs']}")
            if t.get("bytes_ms") is not None:
                print(f"  of which the avatar's bytes on the wire, (f) - (b): {t['bytes_ms']} ms "
                      f"(round by round {t['bytes_round_diffs']}); the avatar's own work, "
                      f"(e) - (f): {t['work_ms']} ms")
            continue
        name = "CPU per call" if t["metric"] == "cpu_ms_per_call" else "max CPS"
        if t["metric"] == "max_cps" and t["verdict"] == "n/a":
            print(f"target ({t['scenario']}) {name:<12} {t['cmp']} {t['target_ratio']:.2f} x "
                  f"({t['of']}): n/a (no maximum-rate search of both in this run)")
            continue
        ratio = f"{t['ratio']:.3f}" if t["ratio"] is not None else "-"
        extra = ""
        if t.get("whole_machine", {}).get("ratio") is not None:
            extra = f" (whole machine {t['whole_machine']['ratio']:.3f}"
            if t.get("round_ratios"):
                extra += f"; round by round {t['round_ratios']}"
            extra += ")"
        if t.get("note"):
            extra += f" [{t['note']}]"
        print(f"target ({t['scenario']}) {name:<12} {t['cmp']} {t['target_ratio']:.2f} x ({t['of']}): "
              f"{t['value']} vs {t['baseline']} = {ratio}{extra}  {t['verdict']}")
    if skipped:
        print("targets not evaluated, a scenario they compare not in this run: "
              + ", ".join(f"({s})" for s in skipped)
              + (" (the scale run: --scenarios bm)" if "m" in skipped else ""))
    print()
    print(f"raw figures: {os.path.relpath(res['json'], ROOT)}")


def main(argv):
    ap = argparse.ArgumentParser(description="tpid_assert benchmark (see bench/README.md)")
    ap.add_argument("--scenarios", default="abcsmn",
                    help="which of a, b, c, s, m, n, d, e, f to run (default abcsmn)")
    ap.add_argument("--search-scenarios", default="abc",
                    help="of those run, which get the maximum-rate search (default abc: "
                         "the ones with a max-CPS target)")
    ap.add_argument("--scale-shm", type=int, default=2048,
                    help="(m): Kamailio -m (MB) that holds a million decisions")
    ap.add_argument("--rate", type=float, default=300, help="fixed rate for CPU/call (calls/s)")
    ap.add_argument("--seconds", type=float, default=10, help="length of each fixed-rate run")
    ap.add_argument("--rounds", type=int, default=3, help="fixed-rate runs per scenario (median)")
    ap.add_argument("--search-start", type=int, default=500, help="first step (calls/s)")
    ap.add_argument("--search-step", type=int, default=500, help="ramp increment (calls/s)")
    ap.add_argument("--search-cap", type=int, default=4000, help="highest step (calls/s)")
    ap.add_argument("--resolution", type=int, default=10, help="bisection stops below this (calls/s)")
    ap.add_argument("--no-search", dest="search", action="store_false",
                    help="CPU per call only, no maximum-rate search")
    ap.add_argument("--no-confirm", dest="confirm", action="store_false",
                    help="do not repeat a failed ramp step before taking it as the limit")
    ap.add_argument("--step-seconds", type=float, default=6, help="length of each search step")
    ap.add_argument("--warmup-calls", type=int, default=100)
    ap.add_argument("--warmup-rate", type=float, default=50)
    ap.add_argument("--children", type=int, default=2, help="Kamailio children (all scenarios)")
    ap.add_argument("--async-workers", type=int, default=2,
                    help="Kamailio async_workers (0: a hook worker resumes the calls it got answers for)")
    ap.add_argument("--shm", type=int, default=512, help="Kamailio -m (MB)")
    ap.add_argument("--pkg", type=int, default=16, help="Kamailio -M (MB)")
    ap.add_argument("--mem-manager", default="",
                    help="Kamailio -x (memory manager: qm, fm, tlsf); default: Kamailio's")
    ap.add_argument("--delay-ms", type=int, default=50, help="(c): the hook answers after this")
    ap.add_argument("--hook", choices=("mock", "reference"), default="mock",
                    help="mock: bench/hook_mock.py (asyncio); reference: tools/enterprise_service.py")
    ap.add_argument("--users", type=int, default=250000, help="(c): distinct users in the directory")
    ap.add_argument("--budget", type=float, default=720, help="overall time budget (s)")
    ap.add_argument("--wait-quiet", type=float, default=30,
                    help="before each scenario wait up to this long for the machine to be idle")
    ap.add_argument("--strict", action="store_true", help="exit 1 if a target is missed")
    o = ap.parse_args(argv[1:])
    scens = [s for s in ORDER if s in o.scenarios]
    if not scens:
        ap.error("--scenarios must name some of a, b, c, s, m, n, d, e, f")
    for f in (stk.MODULE, stk.KAMAILIO, stk.SIPP):
        if not os.path.exists(f):
            raise BenchError(f"{f} is missing: `make build` (and `make deps`) first")
    if "s" in scens:
        ensure_secsipid()

    deadline = Deadline(o.budget)
    os.makedirs(OUT, exist_ok=True)
    # One binary for the whole run, even if the module is rebuilt meanwhile.
    o.module = os.path.join(OUT, "tpid_assert.so")
    shutil.copy(stk.MODULE, o.module)
    with open(o.module, "rb") as f:
        mod_sha = hashlib.sha256(f.read()).hexdigest()
    o.bench_module = build_bench_module() if "m" in scens else None
    SIPP_CLOCK["so"] = build_sipp_clock()
    subprocess.run(["bash", os.path.join(ROOT, "tools", "make-pki.sh"), PKI], check=True,
                   stdout=subprocess.DEVNULL)
    busy = ports_busy()
    if busy:
        raise BenchError("ports in use before the benchmark (`make stop`?): " + ", ".join(busy))
    res = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": " ".join(["bench/run.py"] + argv[1:]),
        "machine": machine_facts(),
        "source": dict(source_facts(mod_sha), **({"bench_module_sha256": sha256_file(
            o.bench_module)} if o.bench_module else {})),
        "options": vars(o),
        "caller_clock": "CLOCK_MONOTONIC (bench/sipp_clock.c)" if SIPP_CLOCK["so"]
        else "CLOCK_MONOTONIC_COARSE (SIPp's own: kernel ticks)",
        "results": {},
    }
    directory_c = os.path.join(OUT, "directory-c.json")
    if "c" in scens:
        log(f"(c) writing a directory of {o.users} users")
        write_directory(directory_c, o.users)
    c0 = CpuSample()
    time.sleep(2)
    res["machine"]["idle_busy_pct"] = round(CpuSample().busy_pct(c0), 1)
    log(f"machine {res['machine']['idle_busy_pct']} % busy before the run")
    t0 = time.time()
    scs = {s: Scenario(s, o, directory_c) for s in scens}
    res["results"] = {s: sc.result for s, sc in scs.items()}
    try:
        # 1. CPU per call at the fixed rate: --rounds rounds, each scenario once per
        #    round on a fresh stack, the order rotated every round, so that a drift
        #    of the machine hits all scenarios alike. The figure is the median.
        if o.wait_quiet > 0:
            wait_quiet(o.wait_quiet)
        log(f"CPU per call: {o.rounds} round(s) of {o.rate:g} calls/s x {o.seconds:g} s")
        for rnd in range(1, o.rounds + 1):
            order = scens[(rnd - 1) % len(scens):] + scens[:(rnd - 1) % len(scens)]
            for s in order:
                fixed_round(scs[s], o, rnd)
        for sc in scs.values():
            summarize_fixed(sc)
        # 2. Highest rate with zero failed calls; each scenario an equal share of
        #    what is left of the budget.
        searched = [s for s in scens if s in o.search_scenarios] if o.search else []
        for k, s in enumerate(searched):
            share = Deadline(deadline.left() / (len(searched) - k))
            search_scenario(scs[s], o, share)
    finally:
        for sc in scs.values():
            try:
                sc.finish()
            except BenchError as e:
                log(f"({sc.scen}) stopping: {e}")
    # The physical floor, on this machine, now, with the stacks stopped: `openssl
    # speed` ES256, and the module's own ES256 and token code in tight loops.
    log("the floor: openssl speed ecdsap256, bench/es256_loop, bench/token_loop")
    OPENSSL["floor"] = res["openssl"] = es256_floor()
    res["es256_loop"] = es256_loop()
    res["token_loop"] = token_loop()
    if "c" in scs:
        log("the miss path's query alone: bench/query_loop against (c)'s mock")
        res["query_loop"] = query_loop(o, scs["c"])
    res["duration_s"] = round(time.time() - t0, 1)
    res["scale"] = scale_summary(res["results"])
    res["targets"] = evaluate(res["results"], o.delay_ms)
    res["json"] = os.path.join(OUT, "result.json")
    print_report(res)
    with open(res["json"], "w") as f:
        json.dump(strip_private(res), f, indent=2)
    if o.strict and any(t["verdict"] == "MISS" for t in res["targets"]):
        return 1
    return 0


def _on_sigterm(signum, frame):
    raise KeyboardInterrupt  # stop what was started, then exit


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        sys.exit(main(sys.argv))
    except BenchError as e:
        print("bench: " + str(e), file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        sys.exit(130)
