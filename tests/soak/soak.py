#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""`make soak`: the whole stack under load for --seconds while faults come and go.

1. The stack of tools/stack.py (enterprise hook, certificate repository, orig and
   term Kamailio, SIPp callee) with nothing logged per call; the terminating side
   fetches the signer's certificate by x5u (max-age --cert-max-age), so the
   repository's faults matter.
2. The maximum rate: SIPp steps of --search-seconds at rising rates (then one
   bisection) until a step loses or mis-decides a call, with every call a cache
   miss (the phase after a fault has emptied the caches); unless --rate is given.
3. --seconds at 80 % of it (SIPp, open loop): callers drawn at random from --users
   authorized users (decisions cached for --ttl s, so about one call in
   rate*ttl/users is a cache miss), 5 % that claim someone else's ID, and a few
   whose ID is revoked and restored. After --warmup s, cycles of scheduled faults:
   the enterprise hook down, slow, answering 500 and garbage; the certificate
   repository down, slow, 500 and garbage (each with an x5u_flush on term); a
   revocation by RPC after the directory dropped the ID, and its restoration;
   cache flushes and reloads by RPC. The last --quiet s are without faults.
4. Checks: every call got a final answer the policies allow at that moment
   (tests/soak/outcomes.py), no ID shown that must not be; every fault moved its
   counter; shared and private memory of every Kamailio process flat between the
   end of the warm-up and the end of the run; every hook worker alive in every
   sample; after the load, no transaction and no query left.

Exit status 0 only if every check holds. Figures: build/soak/report.json and the
summary printed at the end (tests/soak/README.md records a run)."""
import argparse
import csv
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import stack as S  # noqa: E402
import outcomes as O  # noqa: E402
import metrics as M  # noqa: E402

OUT = os.path.join(ROOT, "build", "soak")
UAC_PORT = 5090
SIPP_BUFF = 1 << 20
X5U_FAIL_TTL = 10      # term's x5u_fail_ttl (the module's default): 436 that long after
HOOK_TIMEOUT_S = 2     # the acme enterprise's timeout_ms (tools/stack.py), in s
HOOK_SLOW_MS = 3000    # past it
CERT_SLOW_MS = 4000    # past the module's x5u_timeout_ms (2000)
# the counter each fault must move (orig for the hook, term for the repository)
HOOK_FAULTS = {"down": "hook_connect", "slow": "hook_timeout", "http500": "hook_http",
               "badjson": "hook_bad_answer"}
CERT_FAULTS = {"down": "cert_fetch", "slow": "cert_fetch", "http500": "cert_fetch",
               "garbage": "cert_fetch"}
# One cycle of the schedule, as fractions of its length: (at, action, argument).
CYCLE = [
    (0.00, "hook", "down"), (0.06, "hook", "none"),
    (0.08, "revoke", None),
    (0.12, "hook", "slow"), (0.18, "hook", "none"),
    (0.22, "restore", None),
    (0.25, "hook", "http500"), (0.31, "hook", "none"),
    (0.37, "hook", "badjson"), (0.43, "hook", "none"),
    (0.47, "rpc", ("orig", "tpid_assert.cache_flush")),
    (0.50, "cert", "down"), (0.56, "cert", "none"),
    (0.59, "rpc", ("orig", "tpid_assert.reload")),
    (0.62, "cert", "slow"), (0.68, "cert", "none"),
    (0.71, "rpc", ("term", "tpid_assert.x5u_flush")),
    (0.74, "cert", "http500"), (0.80, "cert", "none"),
    (0.83, "rpc", ("orig", "tpid_assert.reload_key")),
    (0.86, "cert", "garbage"), (0.92, "cert", "none"),
    (0.96, "rpc", ("orig", "tpid_assert.revoke_enterprise", "acme.example")),
]


PREFIX = {"A": "+4971", "D": "+4972", "R": "+4973"}   # the served users of each class


def served(cls, i):
    return f"tel:{PREFIX[cls]}{i:07d}"


def tpid(cls, i):
    # D users claim the ID of the A user with the same number
    return f"sip:{'r' if cls == 'R' else 's'}{i:07d}@acme.example"


def log(msg):
    print(time.strftime("%H:%M:%S ") + msg, flush=True)


def udp_rcvbuf_errors():
    """The kernel's count of UDP datagrams dropped for a full receive buffer."""
    with open("/proc/net/snmp") as f:
        rows = [line.split() for line in f if line.startswith("Udp:")]
    return int(rows[1][rows[0].index("RcvbufErrors")])


class SoakError(RuntimeError):
    pass


class Soak:
    def __init__(self, o):
        self.o = o
        self.run = os.path.join(OUT, "run")
        os.makedirs(self.run, exist_ok=True)
        self.hook_fault = os.path.join(self.run, "hook.fault")
        self.cert_fault = os.path.join(self.run, "cert.fault")
        for f in (self.hook_fault, self.cert_fault):
            with open(f, "w") as fh:
                fh.write("none\n")
        self.n_a, self.n_d, self.n_r = o.users, max(1, o.users // 20), 10
        self.revoked = set()
        self.tl = O.Timeline()
        self.events = []          # (t, text)
        self.failures = []        # what broke a check, in words
        self.samples = []
        self.counter_moves = []   # (t0, t1, side, fault, counter, delta)
        self.st = None
        self.stop_sampler = threading.Event()
        self.scraper = M.Scraper()    # started by soak() with --metrics

    # ---- set-up ---------------------------------------------------------
    def write_directory(self, ttl=None):
        users = {served("A", i): [{"tpid": tpid("A", i), "validUntil": 0,
                                   "displayName": f"Soak {i}"}] for i in range(self.n_a)}
        for i in range(self.n_r):
            if i not in self.revoked:
                users[served("R", i)] = [{"tpid": tpid("R", i), "validUntil": 0}]
        tmp = self.st.directory + ".tmp"
        with open(tmp, "w") as f:
            json.dump({"enterprise": "acme.example", "defaultTtl": self.o.ttl if ttl is None else ttl,
                       "denyTtl": self.o.deny_ttl, "users": users}, f)
        os.replace(tmp, self.st.directory)   # the hook re-reads it on its next request

    def write_csv(self):
        path = os.path.join(self.run, "callers.csv")
        with open(path, "w") as f:
            f.write("RANDOM\n")
            for i in range(self.n_a):
                f.write(f"{served('A', i)};{tpid('A', i)};A{i};\n")
            for i in range(self.n_d):
                f.write(f"{served('D', i)};{tpid('A', i)};D{i};\n")
            for _ in range(5):   # revocation subjects call often enough to be caught
                for i in range(self.n_r):
                    f.write(f"{served('R', i)};{tpid('R', i)};R{i};\n")
        return path

    def start(self):
        load = {"uas_xml": os.path.join(HERE, "uas.xml"), "shm": self.o.shm,
                "hook_args": ("--fault-file", self.hook_fault),
                "cert_args": ("--fault-file", self.cert_fault)}
        orig, term = {"SIGN_X5U": S.Stack._q(f"{S.CERT_URL}maxage/{self.o.cert_max_age}/sign.pem")}, {}
        if self.o.metrics:
            for d, name in ((orig, "orig"), (term, "term")):
                d.update({"WITH_PROMETHEUS": "1", "PROM_LISTEN": f"tcp:{S.HOST}:{M.PORTS[name]}"})
        self.st = S.Stack(run_dir=self.run, load=load, orig_extra=orig, term_extra=term)
        self.st.start()
        self.write_directory()
        self.csv = self.write_csv()

    def stop(self):
        if self.st is not None:
            self.st.stop()

    def alive(self):
        dead = [n for n, p in self.st.procs.items() if p.poll() is not None]
        if dead:
            raise SoakError(f"{', '.join(dead)} died; logs in {self.run}")

    # ---- one SIPp run ----------------------------------------------------
    def uac(self, rate, seconds, tag, watch=None):
        """SIPp at rate for seconds; watch() runs every 0.5 s meanwhile. Returns its
        figures and the path of its per-call log."""
        calls = int(rate * seconds)
        calls_log = os.path.join(self.run, f"calls-{tag}.log")
        statf = os.path.join(self.run, f"uac-{tag}.csv")
        errf = os.path.join(self.run, f"uac-{tag}-errors.log")
        for p in (calls_log, statf, errf):
            if os.path.exists(p):
                os.unlink(p)
        argv = ["timeout", "-k", "5", str(int(seconds + 60)), S.SIPP, f"{S.HOST}:{S.ORIG_PORT}",
                "-sf", os.path.join(HERE, "uac.xml"), "-inf", self.csv, "-i", S.HOST,
                "-p", str(UAC_PORT), "-m", str(calls), "-r", f"{rate:g}", "-rp", "1000",
                "-l", str(int(rate * 20)), "-nostdin", "-buff_size", str(SIPP_BUFF),
                "-recv_timeout", "10000", "-default_behaviors", "all,-abortunexp",
                "-trace_logs", "-log_file", calls_log, "-trace_stat", "-stf", statf,
                "-fd", "1", "-trace_err", "-error_file", errf]
        t0 = time.time()
        with open(os.path.join(self.run, f"uac-{tag}.out"), "wb") as out:
            p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, start_new_session=True, cwd=self.run)
        try:
            while p.poll() is None:
                time.sleep(0.5)
                if watch:
                    watch()
        except BaseException:
            os.killpg(p.pid, 9)
            p.wait()
            raise
        rc = p.wait()
        rows = []
        try:
            with open(statf, newline="", errors="replace") as f:
                rows = list(csv.DictReader(f, delimiter=";"))
        except OSError:
            pass
        last = rows[-1] if rows else {}

        def num(k):
            v = last.get(k, "0") or "0"
            return int(v) if v.isdigit() else 0
        unexpected = {}
        try:
            with open(errf, errors="replace") as f:
                # a final answer the scenario does not expect (a late 180 is not one)
                for code in re.findall(r"on unexpected message[^\n]*received 'SIP/2\.0 ([2-6]\d\d)",
                                       f.read()):
                    unexpected[code] = unexpected.get(code, 0) + 1
        except OSError:
            pass
        return {"rate": rate, "calls": calls, "sipp_rc": rc, "elapsed_s": round(time.time() - t0, 1),
                "created": num("TotalCallCreated"), "successful": num("SuccessfulCall(C)"),
                "failed": num("FailedCall(C)"),
                "no_answer": num("FailedTimeoutOnRecv(C)") + num("FailedMaxUDPRetrans(C)"),
                "unexpected": num("FailedUnexpectedMessage(C)") + sum(unexpected.values()),
                "unexpected_codes": unexpected,
                "retransmissions": num("Retransmissions(C)")}, calls_log

    def judge(self, calls_log, tl):
        """Every logged call against the policies: counts by class and outcome, the
        calls outside what was allowed, and the breaches (IDs shown that must not be)."""
        by = {}
        wrong, breaches, n = [], [], 0
        # SIPp prints its numbers as "%f" and a zero as nothing: "1796374241.000000."
        # is 1796374241 s and 0 us
        line_re = re.compile(r"^(\d+)\.0+\.(?:(\d+)\.0+)? (\d+)\.0+\.(?:(\d+)\.0+)? ([ADR])(\d+) "
                             r"(\d{3}) ?(.*)$")
        with open(calls_log, errors="replace") as f:
            for line in f:
                m = line_re.match(line.rstrip("\n"))
                if not m:
                    if line.strip():
                        wrong.append(("unparsable", line.strip()[:200]))
                    continue
                n += 1
                t0 = int(m.group(1)) + int(m.group(2) or 0) / 1e6
                t1 = int(m.group(3)) + int(m.group(4) or 0) / 1e6
                cls, i, code, seen = m.group(5), int(m.group(6)), m.group(7), m.group(8)
                who = served(cls, i)
                res = O.outcome(code, seen, tpid(cls, i) if cls != "D" else "-")
                by.setdefault(cls, {}).setdefault(res, 0)
                by[cls][res] += 1
                if O.is_breach(cls, who, t0, t1, res, tl):
                    breaches.append((round(t0, 3), cls + str(i), res, seen[:160]))
                if res not in O.allowed(cls, who, t0, t1, tl):
                    wrong.append((round(t0, 3), round(t1 - t0, 3), cls + str(i), res))
        return {"logged": n, "by_class": by, "not_allowed": len(wrong),
                "not_allowed_first": wrong[:20], "breaches": len(breaches),
                "breaches_first": breaches[:20]}

    # ---- the maximum rate ------------------------------------------------
    def step(self, rate):
        self.alive()
        r, path = self.uac(rate, self.o.search_seconds, f"search-{rate}")
        j = self.judge(path, O.Timeline())
        r.update({"not_allowed": j["not_allowed"], "by_class": j["by_class"]})
        r["clean"] = (r["failed"] == 0 and r["successful"] == r["calls"] and j["not_allowed"] == 0
                      and r["elapsed_s"] <= self.o.search_seconds * 1.1 + 12)
        log(f"  {rate}/s: {r['successful']}/{r['calls']} ended, failed {r['failed']}, "
            f"not allowed {j['not_allowed']}, {r['elapsed_s']} s -> "
            f"{'clean' if r['clean'] else 'NOT clean'}")
        time.sleep(4)   # let the callee's timewait and the transactions drain
        return r

    def search(self):
        """The highest clean rate when every call asks the enterprise (it answers
        with ttl 0: "do not cache"): the load the stack sees once a fault has
        emptied the caches, its worst phase."""
        self.write_directory(ttl=0)
        try:
            return self._search()
        finally:
            self.write_directory()

    def _search(self):
        log("maximum rate, every call a cache miss: steps of "
            f"{self.o.search_step}/s, {self.o.search_seconds} s each")
        steps, good, bad = [], 0, None
        rate = self.o.search_step
        while rate <= self.o.search_cap:
            r = self.step(rate)
            steps.append(r)
            if not r["clean"]:
                bad = rate
                break
            good = rate
            rate += self.o.search_step
        if bad is not None and good:
            mid = (good + bad) // 2
            r = self.step(mid)
            steps.append(r)
            if r["clean"]:
                good = mid
        if not good:
            raise SoakError("not even the first step was clean: see " + self.run)
        return good, steps

    # ---- samples -----------------------------------------------------------
    def rpc(self, name, *cmd):
        return self.st.rpc(name, *cmd, timeout=10)

    def sample(self):
        s = {"t": time.time()}
        for name in ("orig", "term"):
            try:
                shm = dict(re.findall(r"(\w+): (\d+)", self.rpc(name, "core.shmmem")))
                pkg = {}
                for blk in self.rpc(name, "pkg.stats").split("}"):
                    d = dict(re.findall(r"(\w+): ([^\n]+)", blk))
                    if "pid" in d:
                        pkg[d["pid"] + " " + d.get("desc", "").strip()] = int(d["real_used"])
                status = dict((k, int(v)) for k, v in
                              re.findall(r"^\t(\w+): (-?\d+)$", self.rpc(name, "tpid_assert.status"), re.M))
                tm = dict((k, int(v)) for k, v in re.findall(r"(\w+): (\d+)", self.rpc(name, "tm.stats")))
            except (S.StackError, subprocess.TimeoutExpired, ValueError) as e:
                s[name] = {"error": str(e)[:200]}
                continue
            s[name] = {"shm_real_used": int(shm["real_used"]), "pkg": pkg,
                       "workers": status.get("hook_workers"),
                       "workers_alive": status.get("hook_workers_alive"),
                       "inflight": status.get("inflight"), "tm_current": tm.get("current")}
        return s

    def sampler(self):
        while not self.stop_sampler.wait(self.o.sample_every):
            self.samples.append(self.sample())

    def stats(self, name):
        out = self.rpc(name, "stats.get_statistics", "tpid_assert:")
        return {k.split(":", 1)[1]: int(v) for k, v in
                re.findall(r"(tpid_assert:\w+) = (-?\d+)", out)}

    # ---- the schedule ----------------------------------------------------------
    def note(self, text):
        self.events.append((round(time.time() - self.t_start, 1), text))
        log("  " + text)

    def fault(self, what, fault, state):
        """Starts (fault != "none") or ends the fault of the hook or the repository."""
        f = self.hook_fault if what == "hook" else self.cert_fault
        name = "hook" if what == "hook" else "certs"
        side = "orig" if what == "hook" else "term"
        if fault != "none":
            state[what] = (fault, self.tl.open(what, time.time()), self.stats(side))
            if fault == "down":
                self.st._stop_one(name)
            else:
                delay = "" if fault != "slow" else HOOK_SLOW_MS if what == "hook" else CERT_SLOW_MS
                with open(f + ".tmp", "w") as fh:
                    fh.write(f"{fault} {delay}\n")
                os.replace(f + ".tmp", f)
            if what == "cert":
                self.rpc("term", "tpid_assert.x5u_flush")
            self.note(f"{what} {fault}")
            return
        fault, window, before = state.pop(what)
        if fault == "down":
            with open(f, "w") as fh:
                fh.write("none\n")
            if what == "hook":
                self.st.start_hook("--fault-file", f)
            else:
                self.st.start_cert_server("--fault-file", f)
        else:
            with open(f + ".tmp", "w") as fh:
                fh.write("none\n")
            os.replace(f + ".tmp", f)
        end = time.time()
        # Failed fetches stay cached: 436 may go on for x5u_fail_ttl. A call may
        # join a query sent while the hook failed and get its failure up to the
        # enterprise's timeout later.
        self.tl.close(window, end + (X5U_FAIL_TTL + 1 if what == "cert" else HOOK_TIMEOUT_S + 0.5))
        counter = (HOOK_FAULTS if what == "hook" else CERT_FAULTS)[fault]
        after = self.stats(side)
        delta = after.get(counter, 0) - before.get(counter, 0)
        self.counter_moves.append((what, fault, side, counter, delta))
        if delta <= 0:
            self.failures.append(f"{what} {fault}: counter {side} {counter} did not move")
        self.note(f"{what} ok again ({side} {counter} +{delta})")

    def revoke(self, state):
        subjects = list(range(0, self.n_r, 2))
        self.revoked.update(subjects)
        self.write_directory()
        for i in subjects:
            self.rpc("orig", "tpid_assert.revoke_user", served("R", i))
        state["revoked"] = [self.tl.open("revoked", time.time(), served("R", i)) for i in subjects]
        self.note(f"revoked {len(subjects)} IDs (directory, then revoke_user)")

    def restore(self, state):
        now = time.time()
        for w in state.pop("revoked", []):
            self.tl.close(w, now)
        subjects = sorted(self.revoked)
        self.revoked.clear()
        self.write_directory()
        for i in subjects:   # drop the cached denials
            self.rpc("orig", "tpid_assert.revoke_user", served("R", i))
        self.note(f"restored {len(subjects)} IDs (directory, then revoke_user)")

    def scheduler(self, plan):
        state = {}
        for at, action, arg in plan:
            delay = self.t_start + at - time.time()
            if self.stop_sampler.wait(max(0.0, delay)):
                return
            try:
                if action in ("hook", "cert"):
                    self.fault(action, arg, state)
                elif action == "revoke":
                    self.revoke(state)
                elif action == "restore":
                    self.restore(state)
                else:
                    out = self.rpc(*arg)
                    self.note(" ".join(arg[1:]) + f" on {arg[0]}: "
                              + " ".join(out.split())[:80])
            except (S.StackError, subprocess.TimeoutExpired, OSError) as e:
                self.failures.append(f"{action} {arg}: {e}")
                self.note(f"FAILED {action} {arg}: {e}")

    def plan(self):
        o = self.o
        body = o.seconds - o.lead - o.quiet
        cycles = max(1, round(body / o.cycle))
        length = body / cycles
        return [(o.lead + c * length + f * length, a, arg)
                for c in range(cycles) for f, a, arg in CYCLE]

    # ---- the soak ---------------------------------------------------------------
    def soak(self, rate):
        """--warmup s of load without faults, a memory baseline once everything has
        drained, then --seconds of load with the faults, and the same measurement."""
        o = self.o
        log(f"warm-up: {rate}/s for {o.warmup} s, no faults")
        self.alive()
        w, wpath = self.uac(rate, o.warmup, "warmup", watch=self.alive)
        self.warmup = {k: w[k] for k in ("calls", "successful", "failed")}
        self.warmup["not_allowed"] = self.judge(wpath, O.Timeline())["not_allowed"]
        self.warmup["drain"] = self.drain("after the warm-up")
        self.idle0 = self.idle()
        plan = self.plan()
        log(f"soak: {rate}/s for {o.seconds} s, {len(plan)} scheduled events from "
            f"{o.lead} s on, none in the last {o.quiet} s")
        self.t_start = time.time()
        threads = [threading.Thread(target=self.sampler, daemon=True),
                   threading.Thread(target=self.scheduler, args=(plan,), daemon=True)]
        for t in threads:
            t.start()
        if o.metrics:
            threads.append(self.scraper)
            self.scraper.start()
        drops0 = udp_rcvbuf_errors()
        try:
            r, path = self.uac(rate, o.seconds, "soak", watch=self.alive)
        finally:
            self.stop_sampler.set()
            self.scraper.stop.set()
            for t in threads:
                t.join(timeout=30)
        self.t_end = time.time()
        # datagrams the kernel dropped (full receive buffers, host-wide): SIP
        # retransmissions must recover every one of them
        r["udp_rcvbuf_drops"] = udp_rcvbuf_errors() - drops0
        r["judged"] = self.judge(path, self.tl)
        r["drain"] = self.drain("after the soak")
        self.idle1 = self.idle()
        return r

    def drain(self, when):
        """After a load: every transaction and query must end (tm's wait timer and
        the callee's timewait take a few seconds)."""
        t0 = time.time()
        last = None
        while time.time() - t0 < 60:
            last = self.sample()
            if all(isinstance(last.get(n), dict) and last[n].get("tm_current") == 0
                   and last[n].get("inflight") == 0 for n in ("orig", "term")):
                return {"seconds": round(time.time() - t0, 1), "left": 0}
            time.sleep(1)
        left = {n: {k: last.get(n, {}).get(k) for k in ("tm_current", "inflight")}
                for n in ("orig", "term")}
        self.failures.append(f"transactions or queries left 60 s {when}: {left}")
        return {"seconds": None, "left": left}

    def idle(self):
        """Memory with no call in progress, --idle s after the drain (the decision
        caches' timers have dropped what expired): the median of 5 samples."""
        time.sleep(self.o.idle)
        got = [self.sample() for _ in range(5) if time.sleep(0.5) is None]
        out = {}
        for name in ("orig", "term"):
            ok = [g[name] for g in got if isinstance(g.get(name), dict) and "error" not in g[name]]
            if not ok:
                continue
            pids = set().union(*(x["pkg"] for x in ok))
            out[name] = {"shm": int(statistics.median(x["shm_real_used"] for x in ok)),
                         "pkg": {k: int(statistics.median(x["pkg"][k] for x in ok if k in x["pkg"]))
                                 for k in pids}}
        return out

    def memory(self):
        """shm and every process's pkg, idle after the warm-up against idle after the
        soak; and the range shm went through under load."""
        o = self.o
        out = {}
        for name in ("orig", "term"):
            a, b = self.idle0.get(name), self.idle1.get(name)
            if not a or not b:
                self.failures.append(f"{name}: no idle memory sample")
                continue
            load = [s[name]["shm_real_used"] for s in self.samples
                    if isinstance(s.get(name), dict) and "error" not in s[name]]
            shm = {"idle_after_warmup": a["shm"], "idle_after_soak": b["shm"],
                   "growth": b["shm"] - a["shm"],
                   "under_load_min": min(load) if load else None,
                   "under_load_max": max(load) if load else None}
            if shm["growth"] > o.shm_slack:
                self.failures.append(f"{name}: shm grew by {shm['growth']} bytes")
            procs = {k: b["pkg"][k] - a["pkg"][k] for k in sorted(a["pkg"]) if k in b["pkg"]}
            for k, g in procs.items():
                if g > o.pkg_slack:
                    self.failures.append(f"{name} {k}: pkg grew by {g} bytes")
            if set(a["pkg"]) != set(b["pkg"]):
                self.failures.append(f"{name}: processes changed: {sorted(set(a['pkg']) ^ set(b['pkg']))}")
            out[name] = {"shm": shm, "pkg_growth_by_process": procs,
                         "pkg_growth_max": max(procs.values()) if procs else None}
        return out

    def fault_windows(self):
        """[(start, end, "hook slow")] of the faults, from the events (s into the soak)."""
        out, open_ = [], {}
        for t, text in self.events:
            what, _, rest = text.partition(" ")
            if what in ("hook", "cert") and rest.startswith("ok again"):
                if what in open_:
                    out.append((open_[what][0], t, f"{what} {open_.pop(what)[1]}"))
            elif what in ("hook", "cert"):
                open_[what] = (t, rest)
        return out

    def plot_metrics(self, png, rate):
        """The scraped series: build/soak/metrics.json, and the picture in png."""
        with open(os.path.join(OUT, "metrics.json"), "w") as f:
            json.dump({"t_start": self.t_start, "windows": self.fault_windows(),
                       "series": self.scraper.series}, f)
        M.plot(self.scraper.series, self.fault_windows(), self.t_start, png,
               f"tpid_assert /metrics scraped every second: soak at {rate} calls/s with faults")
        return {"png": png, "scrapes": len(self.scraper.series), "failed": self.scraper.errors}

    def workers(self):
        bad = [(round(s["t"] - self.t_start, 1), n, s[n].get("workers_alive"), s[n].get("workers"))
               for s in self.samples for n in ("orig", "term")
               if isinstance(s.get(n), dict) and "error" not in s[n]
               and s[n].get("workers_alive") != s[n].get("workers")]
        errors = [(round(s["t"] - self.t_start, 1), n, s[n]["error"]) for s in self.samples
                  for n in ("orig", "term") if isinstance(s.get(n), dict) and "error" in s[n]]
        if bad:
            self.failures.append(f"hook workers not all alive in {len(bad)} samples: {bad[:5]}")
        if errors:
            self.failures.append(f"{len(errors)} samples failed: {errors[:3]}")
        return {"samples": len(self.samples), "not_all_alive": len(bad), "sample_errors": len(errors)}


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seconds", type=int, default=600, help="length of the soak")
    ap.add_argument("--rate", type=int, help="calls/s (default: 80 %% of the measured maximum)")
    ap.add_argument("--share", type=float, default=0.8, help="of the maximum rate")
    ap.add_argument("--users", type=int, default=1000, help="authorized callers")
    ap.add_argument("--ttl", type=int, default=10, help="the enterprise's decision lifetime (s)")
    ap.add_argument("--deny-ttl", type=int, default=5, help="... of a denial (s)")
    ap.add_argument("--cert-max-age", type=int, default=30, help="the certificate's max-age (s)")
    ap.add_argument("--warmup", type=int, default=90, help="seconds of load before the memory "
                    "baseline")
    ap.add_argument("--lead", type=int, default=30, help="seconds of the soak before the first fault")
    ap.add_argument("--quiet", type=int, default=30, help="seconds without faults at the end")
    ap.add_argument("--idle", type=int, default=5, help="seconds after a drain before the "
                    "memory is taken")
    ap.add_argument("--cycle", type=int, default=225, help="about this long a fault cycle (s)")
    ap.add_argument("--sample-every", type=float, default=5.0, help="memory/worker samples (s)")
    ap.add_argument("--shm-slack", type=int, default=2 << 20, help="allowed shm growth (bytes)")
    ap.add_argument("--pkg-slack", type=int, default=64 << 10, help="allowed pkg growth (bytes)")
    ap.add_argument("--shm", type=int, default=1024, help="Kamailio's shared memory (MiB)")
    ap.add_argument("--metrics", metavar="PNG", help="run both instances with WITH_PROMETHEUS, "
                    "scrape /metrics every second during the soak and plot it into PNG")
    ap.add_argument("--search-step", type=int, default=250)
    ap.add_argument("--search-cap", type=int, default=4000)
    ap.add_argument("--search-seconds", type=int, default=10)
    o = ap.parse_args(argv[1:])
    if o.lead + o.quiet + 30 > o.seconds:
        ap.error("--seconds must leave room for faults after --lead and before --quiet")
    os.makedirs(OUT, exist_ok=True)
    sk = Soak(o)
    report = {"started": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
              "options": vars(o)}
    try:
        sk.start()
        if o.rate:
            rate, report["max_rate"] = o.rate, None
        else:
            best, steps = sk.search()
            report["max_rate"], report["search"] = best, steps
            rate = int(best * o.share)
            log(f"maximum {best}/s: the soak runs at {rate}/s")
        r = sk.soak(rate)
        report["warmup"] = sk.warmup
        if sk.warmup["failed"] or sk.warmup["not_allowed"]:
            sk.failures.append(f"warm-up: {sk.warmup}")
        report["soak"] = r
        report["memory"] = sk.memory()
        report["workers"] = sk.workers()
        report["counter_moves"] = sk.counter_moves
        if o.metrics:
            report["metrics"] = sk.plot_metrics(o.metrics, rate)
            if report["metrics"]["failed"] or not report["metrics"]["scrapes"]:
                sk.failures.append(f"/metrics: {report['metrics']}")
        report["events"] = sk.events
        # the series under load, compact: seconds into the soak, then per instance
        # shm real_used, transactions, suspended calls, hook workers alive
        report["samples"] = [[round(x["t"] - sk.t_start, 1)] + [
            [x[n].get("shm_real_used"), x[n].get("tm_current"), x[n].get("inflight"),
             x[n].get("workers_alive")] if isinstance(x.get(n), dict) else None
            for n in ("orig", "term")] for x in sk.samples]
    except (SoakError, S.StackError) as e:
        sk.failures.append(str(e))
        r = None
    finally:
        sk.stop()
    if r is not None:
        j = r["judged"]
        if r["no_answer"] or r["successful"] + r["failed"] != r["calls"]:
            sk.failures.append(f"calls without a final answer: {r['no_answer']} timed out, "
                               f"{r['calls'] - r['successful'] - r['failed']} not ended")
        if r["unexpected"]:
            sk.failures.append(f"unexpected answers: {r['unexpected']} {r['unexpected_codes']}")
        if j["logged"] != r["successful"]:
            sk.failures.append(f"{r['successful']} calls ended but {j['logged']} were logged")
        if j["not_allowed"]:
            sk.failures.append(f"{j['not_allowed']} calls ended as the policies do not allow: "
                               f"{j['not_allowed_first'][:5]}")
        if j["breaches"]:
            sk.failures.append(f"{j['breaches']} IDs shown that must not be: "
                               f"{j['breaches_first'][:5]}")
    report["failures"] = sk.failures
    with open(os.path.join(OUT, "report.json"), "w") as f:
        json.dump(report, f, indent=1)
    summarize(report)
    return 1 if sk.failures else 0


def summarize(rep):
    r = rep.get("soak")
    print()
    if rep.get("warmup"):
        print(f"warm-up: {rep['warmup']}")
    if rep.get("max_rate"):
        print(f"maximum rate (search): {rep['max_rate']} calls/s")
    if r:
        j = r["judged"]
        print(f"soak: {r['rate']} calls/s x {rep['options']['seconds']} s = {r['calls']} calls; "
              f"ended {r['successful']} (logged {j['logged']}), failed {r['failed']} "
              f"(no answer {r['no_answer']}, unexpected {r['unexpected']} {r['unexpected_codes']}); "
              f"{r['retransmissions']} retransmissions; {r['elapsed_s']} s; "
              f"{r.get('udp_rcvbuf_drops')} datagrams dropped by the kernel (full receive buffers)")
        for cls in sorted(j["by_class"]):
            print(f"  class {cls}: " + ", ".join(f"{k} {v}" for k, v in sorted(j["by_class"][cls].items())))
        print(f"  not allowed by the policies: {j['not_allowed']}; IDs shown that must not be: "
              f"{j['breaches']}")
        print(f"  drained after the load: {r['drain']}")
    for name, m in (rep.get("memory") or {}).items():
        s = m["shm"]
        print(f"  {name} shm real_used idle: after warm-up {s['idle_after_warmup']}, after soak "
              f"{s['idle_after_soak']}, growth {s['growth']:+d} bytes (under load "
              f"{s['under_load_min']}..{s['under_load_max']}); pkg growth max "
              f"{m['pkg_growth_max']:+d} bytes over {len(m['pkg_growth_by_process'])} processes")
    if rep.get("workers"):
        print(f"  worker samples: {rep['workers']}")
    if rep.get("metrics"):
        m = rep["metrics"]
        print(f"  /metrics: {m['scrapes']} scrapes of both instances, {m['failed']} failed; "
              f"plotted into {m['png']}")
    for what, fault, side, counter, delta in rep.get("counter_moves", []):
        print(f"  {what} {fault}: {side} {counter} +{delta}")
    print("FAILED:\n  " + "\n  ".join(rep["failures"]) if rep["failures"] else "soak: every check holds")


if __name__ == "__main__":
    sys.exit(main(sys.argv))
