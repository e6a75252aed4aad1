# SPDX-License-Identifier: GPL-2.0-or-later
"""The decision cache and revocation, end to end: "the employee leaves the
company". Calls succeed; the enterprise directory drops the employee; calls
are refused once the cached decision expires, and at once after an RPC
eviction. Also: the enterprise file is reloaded at run time, and a bad one
is refused with the old configuration kept."""
import json
import os
import shutil
import time

import pytest

from callcheck import PRESENT, log_reason, stats
import stack as S



def kamcmd(st, *args):
    """(ok, output) of an RPC command on the originating Kamailio."""
    try:
        return True, st.rpc("orig", *args)
    except S.StackError as e:
        return False, str(e)


def stat(st, name):
    vals = stats(st)
    assert name in vals, f"no counter tpid_assert:{name} in {vals}"
    return vals[name]


@pytest.fixture
def directory(stack):
    """The enterprise directory the hook serves; restored after the test."""
    saved = stack.directory + ".saved"
    shutil.copy(stack.directory, saved)
    with open(stack.directory) as f:
        data = json.load(f)

    def write(d):
        tmp = stack.directory + ".tmp"
        with open(tmp, "w") as f:
            json.dump(d, f)
        os.replace(tmp, stack.directory)
        time.sleep(0.05)

    yield data, write
    os.replace(saved, stack.directory)
    kamcmd(stack, "tpid_assert.cache_flush")


@pytest.fixture
def enterprises(stack):
    """The module's enterprise file; restored and reloaded after the test."""
    path = os.path.join(stack.run, "enterprises.json")
    with open(path) as f:
        original = f.read()

    def write(text):
        with open(path, "w") as f:
            f.write(text)
        return kamcmd(stack, "tpid_assert.reload")

    yield json.loads(original), write
    write(original)


def drop_user(data, served):
    d = json.loads(json.dumps(data))
    d["users"][served] = []
    return d


def test_cached_decision_is_used_and_counted(stack, directory):
    kamcmd(stack, "tpid_assert.cache_flush")
    hits, queries = stat(stack, "cache_hits"), stat(stack, "queries")
    for _ in range(3):
        assert stack.place_call(served=S.ALICE, claim=S.ALICE_ID).code == 200
    assert stat(stack, "queries") - queries == 1
    assert stat(stack, "cache_hits") - hits == 2
    ok, out = kamcmd(stack, "tpid_assert.cache_list")
    assert ok and "sip:e102938@acme.example" in out and "authorized" in out


def test_employee_leaves_refused_after_ttl(stack, directory, enterprises):
    data, write_dir = directory
    ents, write_ents = enterprises
    [e for e in ents["enterprises"] if e["domain"] == "acme.example"][0]["ttl_cap"] = 5
    ok, out = write_ents(json.dumps(ents))
    assert ok, out
    assert stack.place_call(served=S.BOB, claim=S.BOB_ID).code == 200
    write_dir(drop_user(data, S.BOB))  # Bob leaves ACME
    # still within the 5 s the enterprise vouched for: served from the cache
    c = stack.place_call(served=S.BOB, claim=S.BOB_ID)
    assert c.code == 200 and c.callee_header(PRESENT)
    time.sleep(5.2)
    c = stack.place_call(served=S.BOB, claim=S.BOB_ID, expect=403)
    assert c.code == 403 and c.callee is None
    assert log_reason(stack, c.call_id) == "UNKNOWN_ID"


def test_employee_leaves_refused_at_once_after_rpc_eviction(stack, directory):
    data, write_dir = directory
    kamcmd(stack, "tpid_assert.cache_flush")
    assert stack.place_call(served=S.ALICE, claim=S.ALICE_ID).code == 200
    write_dir(drop_user(data, S.ALICE))
    # the cache (ttl_cap 300 s) still vouches for Alice ...
    assert stack.place_call(served=S.ALICE, claim=S.ALICE_ID).code == 200
    # ... until the operator evicts her ID
    ok, out = kamcmd(stack, "tpid_assert.revoke_id", S.ALICE_ID)
    assert ok and "evicted: 1" in out, out
    c = stack.place_call(served=S.ALICE, claim=S.ALICE_ID, expect=403)
    assert c.code == 403 and c.callee is None
    assert log_reason(stack, c.call_id) == "UNKNOWN_ID"


# The claim and the revoke_id argument are both read by the one identity grammar
# and matched in canonical form: host case, <>, escapes and parameters do not count.
@pytest.mark.parametrize("claim,arg", [
    ("sip:e102938@ACME.Example", S.ALICE_ID),
    (S.ALICE_ID, "sip:e102938@Acme.EXAMPLE"),
    (S.ALICE_ID, "<SIP:e%31%302938@acme.example;transport=tls>"),
])
def test_revoke_id_matches_any_spelling(stack, directory, claim, arg):
    data, write_dir = directory
    kamcmd(stack, "tpid_assert.cache_flush")
    assert stack.place_call(served=S.ALICE, claim=claim).code == 200
    write_dir(drop_user(data, S.ALICE))
    ok, out = kamcmd(stack, "tpid_assert.revoke_id", arg)
    assert ok and "evicted: 1" in out, out
    c = stack.place_call(served=S.ALICE, claim=S.ALICE_ID, expect=403)
    assert c.code == 403 and log_reason(stack, c.call_id) == "UNKNOWN_ID"


@pytest.mark.parametrize("cmd,arg", [
    ("revoke_id", "sip:e102938@acme..example"),
    ("revoke_id", "e102938@acme.example"),
    ("revoke_id", "sip:e1 02938@acme.example"),
    ("revoke_user", "tel:4961519876543"),
    ("revoke_enterprise", "acme.example."),
    ("revoke_enterprise", "acme_example"),
])
def test_revoke_refuses_what_does_not_parse(stack, cmd, arg):
    ok, out = kamcmd(stack, f"tpid_assert.{cmd}", arg)
    assert not ok, out


@pytest.mark.parametrize("how", ["revoke_user", "revoke_enterprise", "cache_flush"])
def test_other_evictions(stack, directory, how):
    data, write_dir = directory
    kamcmd(stack, "tpid_assert.cache_flush")
    assert stack.place_call(served=S.ALICE, claim=S.ALICE_ID).code == 200
    write_dir(drop_user(data, S.ALICE))
    arg = {"revoke_user": [S.ALICE], "revoke_enterprise": ["acme.example"],
           "cache_flush": []}[how]
    ok, out = kamcmd(stack, f"tpid_assert.{how}", *arg)
    assert ok and "evicted: 1" in out, out
    c = stack.place_call(served=S.ALICE, claim=S.ALICE_ID, expect=403)
    assert c.code == 403 and log_reason(stack, c.call_id) == "UNKNOWN_ID"


def test_denial_is_cached_shorter(stack, directory):
    kamcmd(stack, "tpid_assert.cache_flush")
    c = stack.place_call(served=S.MALLORY, claim=S.ALICE_ID, expect=403)
    assert c.code == 403 and log_reason(stack, c.call_id) == "DENIED"
    ok, out = kamcmd(stack, "tpid_assert.cache_list")
    entry = out[out.index("tel:+4961510000666"):]
    assert "denied" in entry
    left = int(entry.split("expires_in:")[1].split()[0])
    assert 0 < left <= 30  # deny_ttl, not the 300 s of an authorization


def test_reload_adds_enterprise_without_restart(stack, enterprises):
    ents, write_ents = enterprises
    claim = "sip:e102938@late.example"
    c = stack.place_call(served=S.ALICE, claim=claim, expect=403)
    assert c.code == 403  # no enterprise for late.example yet
    assert log_reason(stack, c.call_id) == "NO_ENTERPRISE"
    down = [e for e in ents["enterprises"] if e["domain"] == "down.example"][0]
    late = dict(down, domain="late.example")  # its hook is down
    ents["enterprises"].append(late)
    ok, out = write_ents(json.dumps(ents))
    assert ok and f"enterprises: {len(ents['enterprises'])}" in out, out
    # now configured (its hook is down): the failure policy keeps the call
    c = stack.place_call(served=S.ALICE, claim=claim)
    assert c.code == 200 and c.callee_header(PRESENT) == []


@pytest.mark.parametrize("bad", [
    "{not json",
    '{"enterprises":[{"domain":"acme.example","api_root":"http://127.0.0.1:8443/acme","ca_file":"/nonexistent"}]}',
    '{"enterprises":[{"domian":"acme.example"}]}',
])
def test_bad_enterprise_file_is_refused_and_old_one_kept(stack, enterprises, bad):
    ents, write_ents = enterprises
    _, before = kamcmd(stack, "tpid_assert.status")
    ok, out = write_ents(bad)
    assert not ok and "reload refused" in out, out
    _, after = kamcmd(stack, "tpid_assert.status")
    assert after == before  # same version, same enterprises
    with open(os.path.join(stack.run, "orig.log"), errors="replace") as f:
        assert "enterprise reload refused, previous configuration kept" in f.read()
    kamcmd(stack, "tpid_assert.cache_flush")
    assert stack.place_call(served=S.ALICE, claim=S.ALICE_ID).code == 200


def test_status_shows_state(stack):
    ok, out = kamcmd(stack, "tpid_assert.status")
    assert ok
    assert "acme.example" in out and "max_inflight" in out and "hook_workers: 1" in out
