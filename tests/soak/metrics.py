# SPDX-License-Identifier: GPL-2.0-or-later
"""The soak's Prometheus side (soak.py --metrics): both Kamailio instances run the
shipped cfgs with -A WITH_PROMETHEUS (cfg/tpid-metrics.cfg); a thread scrapes their
/metrics every second during the soak, and the series are plotted, the main ones as
an operator would graph them (rates, the hook's answer-time quantiles from the
histogram buckets, suspended INVITEs), with the fault windows shaded."""
import re
import threading
import time
import urllib.request

PORTS = {"orig": 9464, "term": 9474}
LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)')
BUCKET = "kamailio_tpid_hook_latency_ms_bucket"


def scrape(port, host="127.0.0.1"):
    """{name or name{labels}: value} of one /metrics answer."""
    with urllib.request.urlopen(f"http://{host}:{port}/metrics", timeout=5) as r:
        text = r.read().decode()
    vals = {}
    for line in text.splitlines():
        m = LINE.match(line)
        if m and not line.startswith("#"):
            vals[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    return vals


class Scraper(threading.Thread):
    """Scrapes every instance of PORTS each `every` seconds until stop is set."""

    def __init__(self, every=1.0):
        super().__init__(daemon=True)
        self.every, self.stop, self.series, self.errors = every, threading.Event(), [], 0

    def run(self):
        while not self.stop.wait(self.every):
            row = {"t": time.time()}
            for name, port in PORTS.items():
                try:
                    row[name] = scrape(port)
                except OSError:
                    self.errors += 1
            self.series.append(row)


def _windows(series, side, span):
    """(t, scrape span s earlier, scrape now, seconds between) for every scrape that
    has an earlier one of side."""
    for i, row in enumerate(series):
        j = i
        while j > 0 and row["t"] - series[j]["t"] < span:
            j -= 1
        if j < i and side in series[j] and side in row:
            yield row["t"], series[j][side], row[side], row["t"] - series[j]["t"]


def _rate(series, side, name, t0, span=2.0):
    """(t, per-second increase over the last span s) of one counter."""
    pts = [(t - t0, (b[name] - a[name]) / dt) for t, a, b, dt in _windows(series, side, span)
           if name in a and name in b]
    return [p[0] for p in pts], [p[1] for p in pts]


def quantile(q, buckets):
    """histogram_quantile: q of cumulative [(le, count)], linear inside a bucket."""
    total = buckets[-1][1]
    if total <= 0:
        return None
    rank, prev_le, prev_c = q * total, 0.0, 0.0
    for le, c in buckets:
        if c >= rank:
            if le == float("inf"):
                return prev_le
            return prev_le + (le - prev_le) * (rank - prev_c) / max(c - prev_c, 1e-9)
        prev_le, prev_c = le, c
    return prev_le


def _le(key):
    return float(key.split('"')[1].replace("+Inf", "inf"))


def _latency(series, t0, q, span=5.0):
    """(t, q-quantile of the hook answer times over the last span s) at orig."""
    xs, ys = [], []
    for t, a, b, _ in _windows(series, "orig", span):
        keys = sorted((k for k in b if k.startswith(BUCKET + "{")), key=_le)
        v = quantile(q, [(_le(k), b[k] - a.get(k, 0)) for k in keys]) if keys else None
        if v is not None:
            xs.append(t - t0)
            ys.append(v)
    return xs, ys


def plot(series, windows, t0, png, title):
    """Four panels of the scraped series; windows: [(start, end, label)] in s."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    p = "kamailio_tpid_assert_"
    fig, ax = plt.subplots(4, 1, figsize=(11, 12), sharex=True)
    for (side, name, label) in (("orig", "signed", "signed (orig)"),
                                ("term", "verified", "verified and shown (term)")):
        ax[0].plot(*_rate(series, side, p + name, t0), label=label)
    ax[0].set_ylabel("third-party IDs / s")
    for (side, name) in (("orig", "denied"), ("orig", "hook_connect"), ("orig", "hook_timeout"),
                         ("orig", "hook_http"), ("orig", "hook_bad_answer"), ("orig", "hook_busy"),
                         ("term", "cert_fetch"), ("term", "cert_unavailable")):
        xs, ys = _rate(series, side, p + name, t0)
        if any(ys):
            ax[1].plot(xs, ys, label=f"{name} ({side})")
    ax[1].set_ylabel("refused / s, by reason")
    for q in (0.5, 0.99):
        ax[2].plot(*_latency(series, t0, q), label=f"p{int(q * 100)}")
    ax[2].set_ylabel("hook answer time, ms")
    ax[2].set_yscale("log")
    for side in ("orig", "term"):
        xs = [r["t"] - t0 for r in series if p + "inflight" in r.get(side, {})]
        ys = [r[side][p + "inflight"] for r in series if p + "inflight" in r.get(side, {})]
        ax[3].plot(xs, ys, label=f"suspended INVITEs ({side})")
    ax[3].set_ylabel("suspended now")
    ax[3].set_xlabel("seconds into the run")
    for a in ax:
        for (s, e, label) in windows:
            a.axvspan(s, e, color="tab:red", alpha=0.08)
        a.grid(alpha=0.3)
        a.legend(loc="upper right", fontsize=8)
    for (s, e, label) in windows:
        ax[0].annotate(label, (s, 1.0), xycoords=("data", "axes fraction"), fontsize=7,
                       rotation=90, va="top", ha="right")
    fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(png, dpi=80)
