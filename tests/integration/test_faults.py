# SPDX-License-Identifier: GPL-2.0-or-later
"""The originating side against enterprises that misbehave (tools/stack.py EXTRA_HOOKS:
one enterprise "<name>.example" per fault, each with its own enterprise_service.py).

The cfg's fail_policy is "strip": whatever the hook does wrong, the call goes on
(200) and the callee sees nothing third-party; the cfg logs the reason. And the
fault must not cost anything afterwards: the next authorized call is quick (no SIP
worker stuck), the processes live on, shared memory does not grow."""
import concurrent.futures as cf
import re
import time

import pytest

from callcheck import PRESENT, assert_no_third_party_id, log_reason, rcd_identities
import stack as S

# name of the enterprise (domain "<name>.example") -> the reason the module must give
FAULTS = {
    "down": "HOOK_CONNECT",           # connection refused (nothing listens)
    "slow": "HOOK_TIMEOUT",           # answers after S.SLOW_MS, timeout_ms is 800
    "http500": "HOOK_HTTP",
    "redirect": "HOOK_HTTP",          # 302: redirects are never followed
    "badjson": "HOOK_BAD_ANSWER",     # 200, body not JSON
    "missingfields": "HOOK_BAD_ANSWER",  # 200, {"tpidVerificationResponse":{}}
    "wrongtypes": "HOOK_BAD_ANSWER",  # 200, result 1 and ttl "x"
    "huge": "HOOK_TOO_BIG",           # 200, a valid answer of over 1 MiB
    "close": "HOOK_CONNECT",          # reads the request, hangs up without a word
    "wrongca": "HOOK_TLS",            # server certificate from a CA not in ca_file
    "expired": "HOOK_TLS",            # server certificate expired
    "mtls-missing": "HOOK_TLS",       # hook wants a client certificate, none configured
}
QUICK = 2.0   # seconds an authorized call may take after a fault (usually ~0.2)


def claim(name):
    # down.example is the stack's original broken enterprise on port 8444
    return S.extra_hook_id(name)


def authorized_call_is_quick(st):
    t0 = time.monotonic()
    c = st.place_call(served=S.ALICE, claim=S.ALICE_ID)
    took = time.monotonic() - t0
    assert c.code == 200, c.output
    assert c.callee_header(PRESENT)[0].startswith('"Alice Example (ACME Corp.)"')
    assert took < QUICK, f"an authorized call after the fault took {took:.2f} s"


@pytest.mark.parametrize("name", FAULTS)
def test_fault_strips_claim_and_call_goes_on(stack, name):
    t0 = time.monotonic()
    c = stack.place_call(served=S.ALICE, claim=claim(name))
    took = time.monotonic() - t0
    assert c.code == 200, c.output
    assert_no_third_party_id(c)
    assert log_reason(stack, c.call_id) == FAULTS[name]
    # bounded by the entry's timeout_ms (800), not by the hook's delay (2000)
    assert took < S.SLOW_MS / 1000.0, f"the call took {took:.2f} s"
    authorized_call_is_quick(stack)


def test_faults_from_several_callers_at_once(stack):
    # Parallel calls into the broken enterprises, while a good one is asked too.
    names = ["slow", "slow", "http500", "wrongca", "huge", "down"]
    with cf.ThreadPoolExecutor(len(names) + 1) as pool:
        futs = {pool.submit(stack.place_call, served=S.ALICE, claim=claim(n)): n for n in names}
        good = pool.submit(stack.place_call, served=S.ALICE, claim=S.ALICE_ID)
        for f, n in futs.items():
            c = f.result()
            assert c.code == 200, (n, c.output)
            assert_no_third_party_id(c)
            assert log_reason(stack, c.call_id) == FAULTS[n], n
        c = good.result()
        assert c.code == 200 and len(rcd_identities(c)) == 1
    authorized_call_is_quick(stack)


# ---- client authentication configured: positive controls ---------------------

@pytest.mark.parametrize("name", ["mtls", "bearer"])
def test_client_authentication_configured_is_authorized(stack, name):
    c = stack.place_call(served=S.ALICE, claim=claim(name))
    assert c.code == 200, c.output
    assert c.callee_header(PRESENT) == [
        f'"Alice Example ({name}.example)" <{claim(name)}>;verified=yes;iss={name}.example']
    assert len(rcd_identities(c)) == 1
    assert c.callee_header("P-Third-Party-ID") == []
    assert log_reason(stack, c.call_id) == "OK"


# ---- no lasting cost ---------------------------------------------------------------

def shm(st):
    """orig's shared memory (core.shmmem), once no transaction is left: tm keeps a
    finished one for its wait timer (5 s), and those would blur the comparison."""
    deadline = time.time() + 15
    while True:
        tm = dict(re.findall(r"(\w+): (\d+)", st.rpc("orig", "tm.stats")))
        if int(tm["current"]) == 0 or time.time() > deadline:
            break
        time.sleep(0.25)
    return {k: int(v) for k, v in re.findall(r"(\w+): (\d+)", st.rpc("orig", "core.shmmem"))}


def one_round(st):
    for name, reason in FAULTS.items():
        c = st.place_call(served=S.ALICE, claim=claim(name))
        assert (c.code, log_reason(st, c.call_id)) == (200, reason), name
    for name in ("mtls", "bearer"):
        assert st.place_call(served=S.ALICE, claim=claim(name)).code == 200, name
    assert st.place_call(served=S.ALICE, claim=S.ALICE_ID).code == 200


def test_faults_do_not_grow_shared_memory(stack):
    one_round(stack)              # warm-up: connections, caches, first allocations
    before = shm(stack)
    rounds = 3
    for _ in range(rounds):
        one_round(stack)
    after = shm(stack)
    grew = after["used"] - before["used"]
    assert grew < 64 * 1024, (
        f"orig shared memory used grew by {grew} bytes over {rounds} rounds of "
        f"{len(FAULTS) + 3} calls: used {before['used']} -> {after['used']}, "
        f"real_used {before['real_used']} -> {after['real_used']}, "
        f"fragments {before['fragments']} -> {after['fragments']}")
    print(f"shm used {before['used']} -> {after['used']} ({grew:+d} bytes)")
