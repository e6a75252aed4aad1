# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared fixtures: one local stack (tools/stack.py) for the whole session."""
import os
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import stack as stackmod  # noqa: E402



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


# An Identity header value from tpid-token with the test PKI (tests import it
# from here).
sign = stackmod.sign


def now():
    return int(time.time())
