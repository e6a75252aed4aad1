#!/usr/bin/python3
"""Where the CPU of a benchmark call goes: perf samples split by process group and code.

For each scenario asked for, runs `bench/run.py --scenarios X --no-search --rounds 1`
(the same stack, warm-up and SIPp load as the benchmark), waits for the fixed-rate
SIPp run to start, and records the whole machine with `perf record -a` for a window
inside that run. The samples are then attributed by process group (orig, term, callee,
caller, hook, STI service, other) and by the code they were taken in (the leaf frame's DSO, and for
the Kamailio binary its symbol), and converted to microseconds of CPU per call:

    samples x sampling period / (rate x window)

Categories: crypto (libcrypto/libssl), json (libjansson), curl (libcurl), module (tpid_assert.so),
kamailio: alloc (q_malloc/f_malloc/tlsf and the pkg/shm wrappers), kamailio: parse
(parse_*, get_hdr_field, ...), kamailio: lumps, kamailio: other core, tm (tm.so),
other modules (sl, rr, textops, ...), libc, kernel, app (SIPp, Python), other libs.

    /usr/bin/python3 bench/profile.py --scenarios ab            # (a), (b), and (b) - (a)
    /usr/bin/python3 bench/profile.py --scenarios bc --seconds 25
    /usr/bin/python3 bench/profile.py --scenarios bn            # local against Ms
    /usr/bin/python3 bench/profile.py --compare build/profile/a.json build/profile/b.json

Run it under `flock /tmp/tpid-integration.lock` (it starts the benchmark's stack).
Every profile is kept as build/profile/<scenario>.json (the split), <scenario>.perf.data
(`perf report -i ...`) and <scenario>.top.txt (the hottest symbols per group).
"""

import argparse
import collections
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PERF = "/usr/bin/perf"
OUTDIR = os.path.join(ROOT, "build", "profile")
BENCH_OUT = os.path.join(ROOT, "build", "bench")

GROUPS = ("orig", "term", "uas", "uac", "hook", "sti", "perf", "other")
CATS = ("crypto", "json", "curl", "module", "k:alloc", "k:parse", "k:lumps", "k:core", "tm",
        "modules", "libc", "kernel", "app", "libs")
CAT_TITLE = {"crypto": "crypto (libcrypto)", "json": "JSON (libjansson)", "curl": "HTTP (libcurl)",
             "module": "module (tpid_assert.so)", "k:alloc": "kamailio: alloc",
             "k:parse": "kamailio: parse", "k:lumps": "kamailio: lumps",
             "k:core": "kamailio: other core", "tm": "tm.so", "modules": "other modules",
             "libc": "libc", "kernel": "kernel", "app": "app (SIPp/Python)",
             "libs": "other libs"}

ALLOC_RE = re.compile(r"^(qm_|fm_|tlsf_|_?shm_|_?pkg_|sr_(shm|pkg)|mem_|insert_free|"
                      r"extract_free|free_list|.*malloc|.*_free$|.*realloc|mapping_insert|"
                      r"block_|search_suitable|remove_free|insert_block)")
PARSE_RE = re.compile(r"(parse|get_hdr_field|get_body|eat_|skip_|hdr_|find_not_quoted|"
                      r"str2|q_memchr|_field|clean_hdr|free_to|free_via|free_hdr|"
                      r"free_sip_msg|get_hdr|is_empty_end_of|lower_|fixup_get_|"
                      r"free_contact|free_rr|nameaddr|uri)", re.I)
LUMP_RE = re.compile(r"lump", re.I)
IDLE_RE = re.compile(r"idle|halt|mwait|poll_idle|cpu_startup_entry|do_idle", re.I)


def log(msg):
    print(time.strftime("%H:%M:%S ") + msg, file=sys.stderr, flush=True)


def ensure_perf():
    if os.access(PERF, os.X_OK):
        return
    log("perf is missing: apt-get install linux-perf")
    subprocess.run(["apt-get", "install", "-y", "linux-perf"], check=True)


def cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().split(b"\0")
    except OSError:
        return []


def pgid_of(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            s = f.read()
        return int(s[s.rindex(")") + 2:].split()[2])
    except (OSError, ValueError, IndexError):
        return None


def all_pids():
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def find_uac(rate):
    """The fixed-rate SIPp caller (not the warm-up): its pid and its stat file."""
    tag = f"fixed{rate:g}.csv"
    for pid in all_pids():
        argv = [a.decode(errors="replace") for a in cmdline(pid)]
        if not argv or not any(a.endswith("uac.xml") for a in argv) or "timeout" in argv[0]:
            continue
        if "-stf" in argv:
            stf = argv[argv.index("-stf") + 1]
            if stf.endswith(tag):
                return pid, stf
    return None, None


def group_pgids():
    """pgid -> group name, from the processes now running."""
    out = {}
    for pid in all_pids():
        argv = b" ".join(cmdline(pid)).decode(errors="replace")
        g = None
        # only the benchmark's own instances (-Y build/bench/<scenario>): a
        # leftover Kamailio with the same cfg is someone else's
        if "orig-scscf.cfg" in argv and BENCH_OUT + "/" in argv:
            g = "orig"
        elif "term-scscf.cfg" in argv and BENCH_OUT + "/" in argv:
            g = "term"
        elif "sipp" in argv and "uas.xml" in argv:
            g = "uas"
        elif "sipp" in argv and "uac.xml" in argv:
            g = "uac"
        elif "hook_mock.py" in argv or "enterprise_service.py" in argv:
            g = "hook"
        elif "sti_fast.py" in argv or "sti_service.py" in argv:
            g = "sti"
        if g:
            pg = pgid_of(pid)
            if pg:
                out[pg] = g
    return out


def pid_groups(pg2group):
    out = {}
    for pid in all_pids():
        pg = pgid_of(pid)
        if pg in pg2group:
            out[pid] = pg2group[pg]
            # threads too (SIPp, Python): perf reports the thread id as pid in -F tid
            try:
                for t in os.listdir(f"/proc/{pid}/task"):
                    out[int(t)] = pg2group[pg]
            except OSError:
                pass
    return out


def last_successful(stf):
    try:
        with open(stf) as f:
            lines = [ln for ln in f.read().splitlines() if ln.strip()]
        head = lines[0].split(";")
        row = lines[-1].split(";")
        return int(row[head.index("SuccessfulCall(C)")])
    except (OSError, ValueError, IndexError):
        return None


def category(dso, sym):
    base = os.path.basename(dso or "")
    if base.startswith("[kernel"):
        return "kernel"
    if base.startswith("libcrypto") or base.startswith("libssl"):
        return "crypto"
    if base.startswith("libjansson"):
        return "json"
    if base.startswith("libcurl"):
        return "curl"
    if base.startswith("tpid_assert"):  # also (m)'s tpid_assert-benchfill.so
        return "module"
    if base == "kamailio":
        if ALLOC_RE.match(sym or ""):
            return "k:alloc"
        if LUMP_RE.search(sym or ""):
            return "k:lumps"
        if PARSE_RE.search(sym or ""):
            return "k:parse"
        return "k:core"
    if base == "tm.so":
        return "tm"
    if "/kamailio/modules/" in (dso or "") or (base.endswith(".so") and dso and "kamailio" in dso):
        return "modules"
    if base.startswith("libc.so") or base.startswith("libc-"):
        return "libc"
    if base in ("sipp",) or base.startswith("python3") or base.startswith("libpython"):
        return "app"
    return "libs"


FRAME_RE = re.compile(r"^\s+([0-9a-f]+)\s+(.*?)\s*\((.*)\)\s*$")
HEAD_RE = re.compile(r"^\s*(\d+)\s+(\d+)\s*(.*)$")


def samples(data):
    """(tid, period, frames) per sample; frames leaf first, each (sym, dso)."""
    p = subprocess.Popen([PERF, "script", "-i", data, "-F", "tid,period,ip,sym,dso",
                          "--no-demangle", "--no-inline"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         text=True, errors="replace")
    cur = None
    for line in p.stdout:
        if not line.strip():
            continue
        m = HEAD_RE.match(line) if not line.startswith("\t") else None
        if m:
            if cur:
                yield cur
            cur = (int(m[1]), int(m[2]), [])
            rest = FRAME_RE.match("\t" + m[3]) if m[3] else None
            if rest:
                cur[2].append((re.sub(r"\+0x[0-9a-f]+$", "", rest[2]), rest[3]))
            continue
        m = FRAME_RE.match(line)
        if m and cur:
            cur[2].append((re.sub(r"\+0x[0-9a-f]+$", "", m[2]), m[3]))
    if cur:
        yield cur
    p.wait()


def attribute(data, pid2group, calls):
    """The split in us per call, the top symbols, and (with call chains) the
    module's inclusive cost by its innermost function on the stack."""
    cells = collections.Counter()
    syms = collections.Counter()
    via = collections.Counter()
    n = 0
    for tid, period, frames in samples(data):
        sym, dso = frames[0] if frames else ("[unknown]", "[unknown]")
        if tid == 0 and IDLE_RE.search(sym):
            continue  # the idle loop, not work (softirqs on an idle CPU stay, as "other")
        g = pid2group.get(tid, "other")
        c = category(dso, sym)
        cells[(g, c)] += period
        syms[(g, os.path.basename(dso), sym)] += period
        inner = next((s for s, d in frames if os.path.basename(d) == "tpid_assert.so"), None)
        if inner is not None and g in ("orig", "term"):
            via[(g, inner, c)] += period
        n += 1
    scale = 1e-3 / calls  # ns -> us per call
    split = {g: {c: round(cells[(g, c)] * scale, 2) for c in CATS} for g in GROUPS}
    top = [(g, d, s, round(v * scale, 2)) for (g, d, s), v in syms.most_common(400)]
    inner = collections.defaultdict(dict)
    for (g, f, c), v in via.items():
        inner[f"{g} {f}"][c] = round(v * scale, 2)
    return split, top, n, inner


def profile(scen, o):
    os.makedirs(OUTDIR, exist_ok=True)
    data = os.path.join(OUTDIR, f"{scen}.perf.data")
    argv = ["/usr/bin/python3", os.path.join(HERE, "run.py"), "--scenarios", scen,
            "--no-search", "--rounds", "1", "--rate", f"{o.rate:g}", "--seconds", f"{o.seconds:g}",
            "--wait-quiet", str(o.wait_quiet)]
    if o.mem_manager:
        argv += ["--mem-manager", o.mem_manager]
    if o.async_workers is not None:
        argv += ["--async-workers", str(o.async_workers)]
    log(f"({scen}) " + " ".join(argv[1:]))
    runlog = open(os.path.join(OUTDIR, f"{scen}.run.log"), "w")
    bench = subprocess.Popen(argv, stdout=runlog, stderr=subprocess.STDOUT,
                             start_new_session=True, cwd=ROOT)
    perf_pid = [None]
    try:
        uac = stf = None
        t_end = time.time() + 240
        while uac is None:
            if bench.poll() is not None:
                raise SystemExit(f"({scen}) bench/run.py ended ({bench.returncode}) before the "
                                 f"fixed-rate run: {runlog.name}")
            if time.time() > t_end:
                raise SystemExit(f"({scen}) no fixed-rate SIPp run after 240 s")
            time.sleep(0.1)
            uac, stf = find_uac(o.rate)
        time.sleep(o.settle)
        window = max(2.0, o.seconds - o.settle - 1.0)
        pg2g = group_pgids()
        pid2g = pid_groups(pg2g)
        s0 = last_successful(stf)
        cg = {"fp": ["-g"], "dwarf": ["--call-graph", "dwarf,16384"], "none": []}[o.callgraph]
        if o.callgraph == "dwarf":
            kam = sorted(str(p) for p, g in pid2g.items() if g in ("orig", "term"))
            target = ["-p", ",".join(kam)]
        else:
            target = ["-a"]
        rec = [PERF, "record", *target, "-e", "cpu-clock", "-c", str(o.period_ns), *cg,
               "-o", data, "--", "sleep", f"{window:g}"]
        t0 = time.time()
        pr = subprocess.Popen(rec, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        perf_pid[0] = pr.pid
        # threads come and go (a Python server's per-connection threads): map
        # them while they live, not only at the start and the end
        while pr.poll() is None:
            pid2g.update(pid_groups(pg2g))
            time.sleep(0.5)
        if pr.wait() != 0:
            raise SystemExit(f"({scen}) perf record failed ({pr.returncode})")
        wall = time.time() - t0
        s1 = last_successful(stf)
        pid2g.update(pid_groups(pg2g))  # processes started meanwhile
        rc = bench.wait(timeout=o.seconds + 120)
    finally:
        if bench.poll() is None:
            os.killpg(bench.pid, signal.SIGTERM)
            bench.wait(timeout=60)
        runlog.close()
    if rc != 0:
        raise SystemExit(f"({scen}) bench/run.py exit {rc}: {runlog.name}")
    calls = o.rate * window
    res_json = os.path.join(BENCH_OUT, "result.json")
    fixed = {}
    try:
        with open(res_json) as f:
            fr = json.load(f)["results"][scen]["fixed_rounds"][0]
        fixed = {"cpu_ms_per_call": fr.get("net_cpu_ms_per_call"),
                 "by_process": fr.get("cpu_ms_per_call_by_process"),
                 "successful": fr.get("successful"), "failed": fr.get("failed")}
    except (OSError, KeyError, IndexError, ValueError):
        pass
    pid2g[perf_pid[0]] = "perf"
    split, top, n, inner = attribute(data, pid2g, calls)
    out = {"scenario": scen, "rate": o.rate, "window_s": round(window, 2),
           "perf_wall_s": round(wall, 2), "calls": calls,
           "calls_by_stat_file": (s1 - s0) if s0 is not None and s1 is not None else None,
           "period_ns": o.period_ns, "samples": n, "mem_manager": o.mem_manager or "default",
           "bench_fixed_round": fixed, "split_us_per_call": split,
           "command": " ".join(sys.argv), "date": time.strftime("%Y-%m-%d %H:%M:%S %Z")}
    with open(os.path.join(OUTDIR, f"{scen}.json"), "w") as f:
        json.dump(out, f, indent=1)
    with open(os.path.join(OUTDIR, f"{scen}.top.txt"), "w") as f:
        for g, d, s, v in top:
            f.write(f"{g:6} {v:8.2f} us/call  {d:22} {s}\n")
        if inner:
            f.write("\n# with call chains: samples under a tpid_assert.so function, by the "
                    "innermost one on the stack (us/call, by the leaf's category)\n")
            for k, cs in sorted(inner.items(), key=lambda kv: -sum(kv[1].values())):
                f.write(f"{k:50} {sum(cs.values()):8.2f}  " + ", ".join(
                    f"{c} {v:.2f}" for c, v in sorted(cs.items(), key=lambda x: -x[1])) + "\n")
    log(f"({scen}) {n} samples, {calls:g} calls in the window "
        f"(stat file: {out['calls_by_stat_file']}), bench net {fixed.get('cpu_ms_per_call')} ms/call")
    return out


def table(title, split):
    split = {g: {c: split.get(g, {}).get(c, 0.0) for c in CATS} for g in GROUPS}
    gs = [g for g in GROUPS if any(split[g][c] for c in CATS)]
    lines = [title, f"{'us/call':24}" + "".join(f"{g:>8}" for g in gs) + f"{'total':>9}"]
    for c in CATS:
        row = [split[g][c] for g in gs]
        if not any(abs(v) >= 0.005 for v in row):
            continue
        lines.append(f"{CAT_TITLE[c]:24}" + "".join(f"{v:8.1f}" for v in row) + f"{sum(row):9.1f}")
    tot = [sum(split[g].values()) for g in gs]
    lines.append(f"{'total':24}" + "".join(f"{v:8.1f}" for v in tot) + f"{sum(tot):9.1f}")
    return "\n".join(lines)


def diff(x, y):
    def v(p, g, c):
        return p["split_us_per_call"].get(g, {}).get(c, 0.0)
    return {g: {c: round(v(y, g, c) - v(x, g, c), 2) for c in CATS} for g in GROUPS}


def report(profs):
    for p in profs:
        fx = p.get("bench_fixed_round") or {}
        print(table(f"({p['scenario']}) {p['rate']:g} calls/s, window {p['window_s']} s, "
                    f"{p['samples']} samples of {p['period_ns'] / 1000:g} us, memory manager "
                    f"{p['mem_manager']}; bench/run.py net {fx.get('cpu_ms_per_call')} ms/call",
                    p["split_us_per_call"]))
        print()
    for x, y in zip(profs, profs[1:]):
        print(table(f"({y['scenario']}) - ({x['scenario']})", diff(x, y)))
        print()


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scenarios", default="ab", help="profiled one after the other (default ab)")
    ap.add_argument("--rate", type=float, default=300)
    ap.add_argument("--seconds", type=float, default=20, help="SIPp load length per scenario")
    ap.add_argument("--settle", type=float, default=2.0, help="seconds into the load before perf starts")
    ap.add_argument("--period-ns", type=int, default=100000, help="cpu-clock sampling period (ns)")
    ap.add_argument("--callgraph", choices=("fp", "dwarf", "none"), default="fp",
                    help="call chains: fp (-g; cheap, good inside tpid_assert.so and "
                    "kamailio), dwarf (costly: only the Kamailio processes are recorded), none")
    ap.add_argument("--mem-manager", default="")
    ap.add_argument("--async-workers", type=int, default=None, help="passed on to bench/run.py")
    ap.add_argument("--wait-quiet", type=float, default=10)
    ap.add_argument("--compare", nargs="+", metavar="JSON", help="only print saved profiles")
    o = ap.parse_args(argv[1:])
    if o.compare:
        profs = []
        for path in o.compare:
            with open(path) as f:
                profs.append(json.load(f))
        report(profs)
        return 0
    ensure_perf()
    if shutil.which("sipp") is None and not os.path.exists("/usr/bin/sipp"):
        log("warning: sipp not found on PATH")
    profs = [profile(s, o) for s in o.scenarios]
    report(profs)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
