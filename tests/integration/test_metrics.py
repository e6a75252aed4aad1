# SPDX-License-Identifier: GPL-2.0-or-later
"""Prometheus metrics (-A WITH_PROMETHEUS, cfg/tpid-metrics.cfg): an originating and a
terminating Kamailio of their own, each answering GET /metrics through xhttp_prom,
carry verified calls to the stack's callee. What is scraped must be what kamcmd says
(every tpid_assert counter, same value), must move with the calls, and the hook's
answer times must form a Prometheus histogram."""
import json
import os
import re
import shutil
import urllib.error
import urllib.request

import pytest

import stack as S
from solo import Solo, q

ORIG_PORT, TERM_PORT = 5986, 5987
ORIG_PROM, TERM_PROM = 9465, 9466
LINE = re.compile(r'^(kamailio_[a-z0-9_]+)(\{[^}]*\})? (-?[0-9.e+]+)(?: \d+)?$')


def scrape(port, path="/metrics"):
    """{(name, labels): value} of a /metrics answer, and its raw text."""
    with urllib.request.urlopen(f"http://{S.HOST}:{port}{path}", timeout=5) as r:
        assert r.status == 200
        text = r.read().decode()
    vals = {}
    for line in text.splitlines():
        if line.startswith("#") or not line.strip():
            continue
        m = LINE.match(line)
        assert m, f"not Prometheus text format: {line!r}"
        vals[(m.group(1), m.group(2) or "")] = float(m.group(3))
    return vals, text


def counters(vals):
    """The tpid_assert counters of a scrape, by kamcmd's short name."""
    pre = "kamailio_tpid_assert_"
    return {k[0][len(pre):]: v for k, v in vals.items() if k[0].startswith(pre)}


def histogram(vals):
    """[(le, cumulative count)] in bucket order, and _count."""
    buckets = [(lab.split('"')[1], v) for (name, lab), v in vals.items()
               if name == "kamailio_tpid_hook_latency_ms_bucket"]
    buckets.sort(key=lambda b: float("inf") if b[0] == "+Inf" else float(b[0]))
    return buckets, vals.get(("kamailio_tpid_hook_latency_ms_count", ""))


@pytest.fixture
def pair(stack, tmp_path):
    """orig (ORIG_PORT) -> term (TERM_PORT) -> the stack's callee, metrics on."""
    for d in ("orig", "term"):
        os.makedirs(tmp_path / d)
        # the cfgs import it from their own directory
        shutil.copy(os.path.join(S.ROOT, "cfg", "tpid-metrics.cfg"), tmp_path / d)
    orig = Solo(tmp_path / "orig", "orig-scscf.cfg", ORIG_PORT, {
        "SIGN_KEY": q(os.path.join(S.PKI, "sign.key")),
        "ENTERPRISE_FILE": q(os.path.join(S.RUN, "enterprises.json")),
        "NEXT_HOP": q(f"sip:{S.HOST}:{TERM_PORT}"),
        "WITH_PROMETHEUS": "1", "PROM_LISTEN": f"tcp:{S.HOST}:{ORIG_PROM}"})
    term = Solo(tmp_path / "term", "term-scscf.cfg", TERM_PORT, {
        "CA_FILE": q(os.path.join(S.PKI, "sign-ca.pem")),
        "X5U_CERT": q(S.SIGN_X5U + "=" + os.path.join(S.PKI, "sign.pem")),
        "X5U_SIGNER": q("https://cert.example.net/=" + S.DOMAINS),
        "NEXT_HOP": q(f"sip:{S.HOST}:{S.UAS_PORT}"),
        "WITH_PROMETHEUS": "1", "PROM_LISTEN": f"tcp:{S.HOST}:{TERM_PROM}"})
    try:
        yield orig.start(), term.start()
    finally:
        orig.stop()
        term.stop()


def test_metrics_are_the_counters_and_move_with_verified_calls(stack, pair):
    orig, term = pair
    o0, t0 = counters(scrape(ORIG_PROM)[0]), counters(scrape(TERM_PROM)[0])
    for _ in range(3):
        c = stack.place_call(to_port=ORIG_PORT)
        assert c.code == 200
        assert c.callee_header("P-Verified-Third-Party-ID"), c.output
    (ov, _), (tv, _) = scrape(ORIG_PROM), scrape(TERM_PROM)
    o1, t1 = counters(ov), counters(tv)
    # the calls moved the counters on both sides, and nothing else failed
    assert o1["signed"] - o0["signed"] == 3
    assert o1["queries"] - o0["queries"] == 1           # then the cache answered
    assert o1["cache_hits"] - o0["cache_hits"] == 2
    assert t1["verified"] - t0["verified"] == 3
    # every counter kamcmd shows is exported, with the value kamcmd shows (idle now)
    for solo, scraped in ((orig, o1), (term, t1)):
        st = solo.stats()
        assert st and set(st) == set(scraped), set(st) ^ set(scraped)
        assert {k: float(v) for k, v in st.items()} == scraped
    # the hook's answer times: cumulative buckets up to +Inf, which is the count
    buckets, count = histogram(ov)
    assert [le for le, _ in buckets] == ["10", "50", "100", "250", "500", "1000", "+Inf"]
    cum = [v for _, v in buckets]
    assert cum == sorted(cum) and cum[-1] == count
    assert count == o1["answers_authorized"] + o1["answers_denied"] + o1["answers_unknown"]
    assert count >= 1


def test_metrics_only_on_their_path(pair):
    with pytest.raises(urllib.error.HTTPError) as e:
        scrape(ORIG_PROM, "/")
    assert e.value.code == 404


def test_the_dashboard_reads_only_series_that_exist(pair):
    """docs/grafana-dashboard.json: every series its queries name is exported."""
    with open(os.path.join(S.ROOT, "docs", "grafana-dashboard.json")) as f:
        dash = json.load(f)
    exprs = [t["expr"] for p in dash["panels"] for t in p["targets"]]
    names = {n for e in exprs for n in re.findall(r"\bkamailio_[a-z0-9_]+", e)}
    scraped = {k[0] for port in (ORIG_PROM, TERM_PROM) for k in scrape(port)[0]}
    assert len(names) > 10 and names <= scraped, names - scraped
