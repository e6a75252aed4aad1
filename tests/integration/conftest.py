# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared fixtures: one local stack (tools/stack.py) for the whole session."""
import os
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import stack as stackmod  # noqa: E402

TPID_TOKEN = os.path.join(ROOT, "build", "tpid-token")


@pytest.fixture(scope="session")
def stack():
    # with the SIP-trunk instance and the misbehaving enterprise hooks (test_trunk.py,
    # test_faults.py); the plain stack is what `make demo` runs
    st = stackmod.Stack(trunk=True, fault_hooks=True, kemi=True, term_reason=True)
    try:
        st.start()
    except stackmod.StackError as e:
        st.stop()
        pytest.fail(f"cannot start the stack: {e}", pytrace=False)
    yield st
    st.stop()


@pytest.fixture(autouse=True)
def stack_alive(request):
    """A test that crashed a Kamailio must fail, whatever it asserted."""
    yield
    if "stack" in request.fixturenames:
        st = request.getfixturevalue("stack")
        dead = [n for n, p in st.procs.items() if p.poll() is not None]
        assert not dead, f"processes died during the test: {dead}"


def sign(**kw):
    """An Identity header value from tpid-token sign with the test PKI."""
    pki = stackmod.PKI
    argv = [TPID_TOKEN, "sign", "--key", kw.pop("key", os.path.join(pki, "sign.key")),
            "--x5u", kw.pop("x5u", stackmod.SIGN_X5U),
            "--orig", kw.pop("orig", stackmod.ALICE),
            "--dest", kw.pop("dest", stackmod.CALLEE),
            "--id", kw.pop("id", stackmod.ALICE_ID),
            "--iss", kw.pop("iss", "acme.example"),
            "--name", kw.pop("name", "Alice Example (ACME Corp.)")]
    for k in ("iat", "exp", "ttl"):
        if k in kw:
            argv += ["--" + k, str(kw.pop(k))]
    assert not kw, f"unknown options {kw}"
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    return r.stdout.decode().strip()


def now():
    return int(time.time())
