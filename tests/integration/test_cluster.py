# SPDX-License-Identifier: GPL-2.0-or-later
"""A cluster on Kamailio's DMQ (-A WITH_DMQ, cfg/tpid-dmq.cfg): two originating and
three terminating instances of their own on loopback, one DMQ cluster. A revocation
made on one originating instance is in force on the other within a second; a token
accepted by one terminating instance is a replay on the others; an instance that is
down does not hold up the others, and when it comes back it learns the replay
entries it missed."""
import os
import re
import shutil
import subprocess
import time

import pytest

import stack as S
from callcheck import PRESENT
from conftest import sign
from solo import Solo, q
from test_revocation import directory, drop_user  # noqa: F401 (a fixture)

def core_major():
    out = subprocess.run([S.KAMAILIO, "-v"], stdout=subprocess.PIPE, timeout=10).stdout.decode()
    return int(re.search(r"version: kamailio (\d+)\.", out).group(1))


# Kamailio 6.0's DMQ takes a node it does not know by name for the known node with the
# same IP address (dmqnode.c, find_dmq_node_ip): several nodes on one address merge
# into one. Every node of a real cluster has an address of its own; here every server
# listens on 127.0.0.1, so the cluster runs on 5.6 only.
pytestmark = pytest.mark.skipif(core_major() >= 6, reason="Kamailio 6.0's DMQ needs one "
                                "IP address per node; every server here is on 127.0.0.1")

PORTS = {"orig1": 5971, "orig2": 5972, "term1": 5973, "term2": 5974, "term3": 5975}
SEED = f"sip:{S.HOST}:{PORTS['orig1']}"


def make_node(tmp_path, name):
    d = tmp_path / name
    os.makedirs(d, exist_ok=True)
    # the cfgs import it from their own directory
    shutil.copy(os.path.join(S.ROOT, "cfg", "tpid-dmq.cfg"), d)
    port = PORTS[name]
    defines = {"WITH_DMQ": "1", "DMQ_SERVER": q(f"sip:{S.HOST}:{port}"),
               "DMQ_NOTIFY": q(SEED), "DMQ_PING": "5", "WITH_CALL_LOG": "1"}
    if name.startswith("orig"):
        return Solo(d, "orig-scscf.cfg", port, {
            **defines, "SIGN_KEY": q(os.path.join(S.PKI, "sign.key")),
            "ENTERPRISE_FILE": q(os.path.join(S.RUN, "enterprises.json")),
            "NEXT_HOP": q(f"sip:{S.HOST}:{S.TERM_PORT}")})
    return Solo(d, "term-scscf.cfg", port, {
        **defines, "CA_FILE": q(os.path.join(S.PKI, "sign-ca.pem")),
        "X5U_CERT": q(S.SIGN_X5U + "=" + os.path.join(S.PKI, "sign.pem")),
        "X5U_SIGNER": q("https://cert.example.net/=" + S.DOMAINS)})


def wait_joined(nodes, names, timeout=30):
    """Until every node of names lists every one of them as an active DMQ node."""
    want = {PORTS[n] for n in names}
    deadline = time.time() + timeout
    while True:
        missing = {}
        for n in names:
            out = nodes[n].rpc("dmq.list_nodes")
            active = {int(p) for p, st in re.findall(
                r"port: (\d+).*?status: (\w+)", out, re.S) if st == "active"}
            if not want <= active:
                missing[n] = want - active
        if not missing:
            return
        assert time.time() < deadline, f"DMQ did not converge: {missing}"
        time.sleep(0.5)


@pytest.fixture(scope="module")
def cluster(stack, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cluster")
    nodes = {n: make_node(tmp, n) for n in PORTS}
    try:
        for n in PORTS:          # the seed first
            nodes[n].start()
        wait_joined(nodes, list(PORTS))
        yield nodes, tmp
    finally:
        for node in nodes.values():
            node.stop()


def term_call(st, node_name, token, **kw):
    return st.place_call(served=S.ALICE, claim=None, to_port=PORTS[node_name],
                         extra_headers=["Identity: " + token], **kw)


def test_a_revocation_on_one_instance_is_in_force_on_the_other_within_1s(
        stack, cluster, directory):   # noqa: F811
    nodes, _ = cluster
    data, write_dir = directory
    nodes["orig1"].rpc("tpid_assert.cache_flush")     # on every instance
    time.sleep(0.2)
    for n in ("orig1", "orig2"):
        c = stack.place_call(to_port=PORTS[n])
        assert c.code == 200 and c.callee_header(PRESENT), (n, c.output)
        assert S.ALICE_ID in nodes[n].rpc("tpid_assert.cache_list")
    write_dir(drop_user(data, S.ALICE))        # Alice leaves ACME
    t0 = time.time()
    out = nodes["orig1"].rpc("tpid_assert.revoke_id", S.ALICE_ID)
    assert "evicted: 1" in out, out
    while S.ALICE_ID in nodes["orig2"].rpc("tpid_assert.cache_list"):
        assert time.time() - t0 < 1.0, "orig2 still holds the revoked decision"
        time.sleep(0.05)
    for n in ("orig2", "orig1"):
        c = stack.place_call(to_port=PORTS[n], expect=403)
        assert c.code == 403 and c.callee is None, (n, c.output)
        assert nodes[n].call_reason(c.call_id) == "UNKNOWN_ID"


def ent_version(node):
    return int(re.search(r"enterprise_version: (\d+)",
                         node.rpc("tpid_assert.status")).group(1))


def test_a_flush_and_a_reload_reach_every_instance(stack, cluster):
    nodes, _ = cluster
    nodes["orig1"].rpc("tpid_assert.cache_flush")   # an earlier test's denials
    time.sleep(0.2)
    assert stack.place_call(to_port=PORTS["orig2"]).code == 200
    assert S.ALICE_ID in nodes["orig2"].rpc("tpid_assert.cache_list")
    nodes["orig1"].rpc("tpid_assert.cache_flush")
    deadline = time.time() + 1.0
    while S.ALICE_ID in nodes["orig2"].rpc("tpid_assert.cache_list"):
        assert time.time() < deadline, "orig2 kept its cache"
        time.sleep(0.05)
    before = ent_version(nodes["orig2"])
    assert "version" in nodes["orig1"].rpc("tpid_assert.reload")
    deadline = time.time() + 1.0
    while ent_version(nodes["orig2"]) == before:
        assert time.time() < deadline, "orig2 did not reload"
        time.sleep(0.05)
    # the terminating instances have no enterprise file: nothing to reload, no error
    time.sleep(0.3)
    for n in ("term1", "term2", "term3"):
        assert "cluster reload refused" not in nodes[n].text(), n


def test_a_token_accepted_on_one_instance_is_a_replay_on_the_others(stack, cluster):
    token = sign()
    first = term_call(stack, "term1", token)
    assert first.code == 200 and first.callee_header(PRESENT), first.output
    nodes, _ = cluster
    for n in ("term2", "term3"):
        again = term_call(stack, n, token, expect=438)
        assert again.code == 438 and again.callee is None, (n, again.output)
        assert nodes[n].call_reason(again.call_id, "term") == "REPLAY"


def test_an_instance_down_holds_up_nobody_and_catches_up_when_back(stack, cluster):
    nodes, tmp = cluster
    assert nodes["term3"].stop() == 0
    token = sign()
    t0 = time.time()
    first = term_call(stack, "term1", token)
    assert first.code == 200 and time.time() - t0 < 3.0
    again = term_call(stack, "term2", token, expect=438)
    assert again.code == 438
    # term3 comes back with an empty replay cache and asks the others
    nodes["term3"] = make_node(tmp, "term3")
    nodes["term3"].start()
    wait_joined(nodes, list(PORTS))
    deadline = time.time() + 5
    while "replay_entries = 0" in nodes["term3"].rpc("stats.get_statistics",
                                      "tpid_assert:replay_entries"):
        assert time.time() < deadline, "term3 learned no replay entry"
        time.sleep(0.2)
    late = term_call(stack, "term3", token, expect=438)
    assert late.code == 438 and nodes["term3"].call_reason(late.call_id, "term") == "REPLAY"
