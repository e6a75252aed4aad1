# SPDX-License-Identifier: GPL-2.0-or-later
"""The enterprise query is asynchronous: concurrent misses for one key make
one query (the others wait on it), and past the in-flight bound the failure
policy applies instead of a pile-up. The "delay" enterprise answers
correctly after 600 ms (tools/stack.py EXTRA_HOOKS). Parallel callers are
separate SIPp processes: one that starts late may find the answer already
cached, so the assertions count hits too."""
import os
import re
import time
from concurrent.futures import ThreadPoolExecutor

import stack as S
from callcheck import PRESENT, log_reason, stats



def parallel(n, fn):
    with ThreadPoolExecutor(max_workers=n) as ex:
        return list(ex.map(lambda _: fn(), range(n)))


def test_concurrent_misses_make_one_query(stack):
    claim = S.extra_hook_id("delay")
    stack.rpc("orig", "tpid_assert.revoke_id", claim)
    before = stats(stack)
    t0 = time.time()
    calls = parallel(4, lambda: stack.place_call(served=S.ALICE, claim=claim))
    elapsed = time.time() - t0
    after = stats(stack)
    assert [c.code for c in calls] == [200] * 4
    assert all(c.callee_header(PRESENT) for c in calls)
    assert after["queries"] - before["queries"] == 1
    joined = after["coalesced"] - before["coalesced"]
    hits = after["cache_hits"] - before["cache_hits"]
    assert joined >= 1 and joined + hits == 3, (joined, hits)
    assert after["inflight"] == 0
    # four calls behind one 600 ms answer, not four answers in a row
    assert elapsed < 4.0, elapsed
    # the owner and its joiners were resumed from the worker side (the async
    # task workers of the shipped cfg, to which the hook worker hands the
    # resumptions), never inside another message's route in a SIP worker;
    # calls that came after the answer found it cached and went on in their
    # own SIP worker at once
    procs = processes(stack)
    where = [procs.get(route_pid(stack, c.call_id), "?") for c in calls]
    assert where.count("Async Task Worker - default") == len(calls) - hits, where
    assert where.count("udp receiver") == hits, where


def processes(st):
    """pid -> what orig's process is (core.psx), "udp receiver" for SIP workers."""
    out = st.rpc("orig", "core.psx")
    pairs = re.findall(r"PID: (\d+)\s+DSC: ([^\n]+)", out)
    return {pid: ("udp receiver" if dsc.startswith("udp receiver") else dsc.strip())
            for pid, dsc in pairs}


def route_pid(st, call_id):
    """The pid of the process that ran TPID_ORIG_DONE for call_id."""
    with open(os.path.join(st.run, "orig.log"), errors="replace") as f:
        for line in f:
            if f"tpid orig: call-id={call_id} " in line:
                return re.search(r"\((\d+)\)", line).group(1)
    return None


def test_sip_workers_do_not_wait_for_a_slow_enterprise(stack):
    # While 2 calls wait for the slow hook (2 s, then timeout), cached calls go
    # through the same 2 SIP workers at once.
    stack.place_call(served=S.ALICE, claim=S.ALICE_ID)  # warm the cache
    with ThreadPoolExecutor(max_workers=2) as ex:
        slow = [ex.submit(stack.place_call, served=S.ALICE, claim=S.extra_hook_id("slow"))
                for _ in range(2)]
        time.sleep(0.3)
        t0 = time.time()
        fast = [stack.place_call(served=S.ALICE, claim=S.ALICE_ID) for _ in range(3)]
        fast_elapsed = time.time() - t0
        slow = [f.result() for f in slow]
    assert [c.code for c in fast] == [200] * 3
    assert all(c.callee_header(PRESENT) for c in fast)
    assert fast_elapsed < 2.0, fast_elapsed  # each well under the hook's 800 ms
    assert [c.code for c in slow] == [200, 200]
    assert all(log_reason(stack, c.call_id) == "HOOK_TIMEOUT" for c in slow)


def test_in_flight_bound_applies_the_failure_policy(stack):
    # The trunk instance allows 3 suspended INVITEs; 6 at once for one key:
    # 3 wait for the answer, the others are refused HOOK_BUSY and, by the
    # failure policy "strip", go on without the ID.
    claim = S.extra_hook_id("delay")
    stack.rpc("trunk", "tpid_assert.revoke_id", claim)
    before = stats(stack, "trunk")
    calls = parallel(6, lambda: stack.place_call(served=S.ALICE, claim=None, from_uri=claim,
                                                 to_port=S.TRUNK_PORT))
    after = stats(stack, "trunk")
    assert [c.code for c in calls] == [200] * 6
    presented = sum(1 for c in calls if c.callee_header(PRESENT))
    busy = after["hook_busy"] - before["hook_busy"]
    hits = after["cache_hits"] - before["cache_hits"]
    # at most 3 waited for the answer; the rest were refused, or came late
    # enough to find it cached
    assert busy >= 1 and presented - hits <= S.TRUNK_MAX_INFLIGHT, (busy, presented, hits)
    assert presented + busy == 6
    assert after["inflight"] == 0
