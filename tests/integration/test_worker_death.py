# SPDX-License-Identifier: GPL-2.0-or-later
"""A hook worker that hangs or dies.

The originating cfg runs in its own Kamailio (solo.py) with one hook worker, the
failure policy "reject" and the call log on. The worker is stopped (SIGSTOP, as a
hang or a death looks to the SIP workers):

- a call whose query is already queued for it gets the failure policy (HOOK_TIMEOUT)
  within the enterprise's timeout, from the timer, not never;
- once the worker has shown no sign of life for 3 s, a new call is not queued behind
  it: it gets the failure policy at once (HOOK_BUSY);
- when the worker comes back (SIGCONT) calls are decided by the enterprise again, and
  the late answer to the first query resumes nothing twice;
- tpid_assert.status counts the worker out while it is stopped (hook_workers_alive)."""
import contextlib
import os
import signal
import time

import stack as S
from callcheck import PRESENT
from solo import Caller, Solo, q

PORT = 5992


@contextlib.contextmanager
def stopped_worker(tmp_path, policy, next_hop):
    """(solo, caller, stopped_at): the originating cfg in its own Kamailio, its one
    hook worker stopped; acme's timeout is 2000 ms."""
    solo = Solo(tmp_path, "orig-scscf.cfg", PORT, {
        "SIGN_KEY": q(os.path.join(S.PKI, "sign.key")),
        "ENTERPRISE_FILE": q(os.path.join(S.RUN, "enterprises.json")),
        "FAIL_POLICY": q(policy), "WITH_CALL_LOG": "1", "NEXT_HOP": q(next_hop)})
    caller = Caller(PORT)
    worker = None
    try:
        solo.start()
        worker = solo.worker_pid(0)
        os.kill(worker, signal.SIGSTOP)
        yield solo, caller, time.time(), worker
    finally:
        if worker is not None:
            os.kill(worker, signal.SIGCONT)    # harmless if the test did already
            # Kamailio's main process handles one signal at a time: a SIGTERM
            # right behind the SIGCHLD of the SIGCONT would be lost
            time.sleep(0.5)
        caller.close()
        solo.stop()


def reason(solo, call_id):
    return solo.call_reason(call_id)


def test_hung_worker_fails_calls_on_time_and_takes_no_new_ones(stack, tmp_path):
    with stopped_worker(tmp_path, "reject", f"sip:{S.HOST}:9") as (solo, caller, stopped,
                                                                 worker):
        # 1. queued for the stopped worker: the timeout's failure policy, on time
        t0 = time.time()
        call_a, _ = caller.invite(S.ALICE, S.ALICE_ID)
        assert caller.finals(call_a, ("INVITE",), wait=8) == {"INVITE": 500}
        assert time.time() - t0 < 5.0          # 2 s timeout + deadline margin + timer
        assert reason(solo, call_a) == "HOOK_TIMEOUT"

        # 2. no sign of life for 3 s: not queued behind it, refused at once
        time.sleep(max(0.0, stopped + 4.0 - time.time()))
        t0 = time.time()
        call_b, _ = caller.invite(S.BOB, S.BOB_ID)
        assert caller.finals(call_b, ("INVITE",), wait=3) == {"INVITE": 500}
        assert time.time() - t0 < 1.0
        assert reason(solo, call_b) == "HOOK_BUSY"
        assert "no hook worker has shown a sign of life" in solo.text()
        assert solo.status()["hook_workers_alive"] == 0    # what an operator sees

        # 3. back: the enterprise decides again; nothing resumed twice, no slot left
        os.kill(worker, signal.SIGCONT)
        time.sleep(1.5)
        call_c, _ = caller.invite(S.CAROL, S.CAROL_ID)
        assert reason(solo, call_c) == "OK"
        time.sleep(1.0)
        st = solo.stats()
        assert st["hook_timeout"] == 1 and st["hook_busy"] == 1, st
        assert st["inflight"] == 0, st
        assert solo.status()["hook_workers_alive"] == 1
        assert solo.p.poll() is None, "Kamailio died"


def test_no_worker_with_strip_policy_the_relayed_call_gets_its_answer(stack, tmp_path):
    """The shipped failure policy ("strip") with no hook worker alive: the decision is
    made at once, after the INVITE was suspended (HOOK_BUSY), so the module takes the
    suspension back and the call goes on from the same route without its claim. The
    callee's 200 must come back to the caller: Kamailio 5.6's t_cancel_suspend() leaves
    the transaction marked suspended, and tm then drops every reply to it."""
    with stopped_worker(tmp_path, "strip", f"sip:{S.HOST}:{S.TERM_PORT}") as (
            solo, caller, stopped, _):
        time.sleep(max(0.0, stopped + 4.0 - time.time()))   # past 3 s without life
        call, _ = caller.invite(S.ALICE, S.ALICE_ID)
        assert caller.finals(call, ("INVITE",), wait=5) == {"INVITE": 200}
        assert reason(solo, call) == "HOOK_BUSY"
        got = stack.callee_invite(call)
        assert got is not None and got["headers"].get("p-third-party-id") is None
        assert got["headers"].get(PRESENT.lower()) is None
        assert solo.stats()["inflight"] == 0


def test_query_past_its_deadline_with_strip_policy_the_call_goes_on(stack, tmp_path):
    """A call whose query is queued for a hung worker is handed back by the module's
    timer at the query's deadline (HOOK_TIMEOUT); with the shipped "strip" policy it
    goes on without its claim, and the callee's 200 comes back to the caller."""
    with stopped_worker(tmp_path, "strip", f"sip:{S.HOST}:{S.TERM_PORT}") as (
            solo, caller, _, _):
        t0 = time.time()
        call, _ = caller.invite(S.ALICE, S.ALICE_ID)
        assert caller.finals(call, ("INVITE",), wait=8) == {"INVITE": 200}
        assert time.time() - t0 < 5.0
        assert reason(solo, call) == "HOOK_TIMEOUT"
        got = stack.callee_invite(call)
        assert got is not None and got["headers"].get(PRESENT.lower()) is None
        assert "past their deadline" in solo.text()
