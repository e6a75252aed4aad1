# SPDX-License-Identifier: GPL-2.0-or-later
"""Signing key rotation without a restart (tpid_assert.reload_key): the next call
is signed with the new key and x5u and verifies; a key that does not match its
certificate, an encrypted key or a key of the wrong kind is refused and the
running key stays."""
import os
import subprocess

import pytest

from callcheck import PRESENT, rcd_identities
import stack as S

KEY, CERT = os.path.join(S.PKI, "sign.key"), os.path.join(S.PKI, "sign.pem")
KEY2, CERT2 = os.path.join(S.PKI, "sign2.key"), os.path.join(S.PKI, "sign2.pem")


def info_of(call):
    ids = rcd_identities(call)
    assert len(ids) == 1, ids
    return ids[0].split("info=<", 1)[1].split(">", 1)[0]


@pytest.fixture
def restore(stack):
    yield
    stack.rpc("orig", "tpid_assert.reload_key", KEY, S.SIGN_X5U, CERT)


def test_rotation_takes_effect_on_the_next_call(stack, restore):
    assert info_of(stack.place_call(served=S.ALICE, claim=S.ALICE_ID)) == S.SIGN_X5U
    out = stack.rpc("orig", "tpid_assert.reload_key", KEY2, S.SIGN2_X5U, CERT2)
    assert S.SIGN2_X5U in out
    c = stack.place_call(served=S.ALICE, claim=S.ALICE_ID)
    assert c.code == 200
    assert info_of(c) == S.SIGN2_X5U
    assert c.callee_header(PRESENT)[0].startswith('"Alice Example (ACME Corp.)"')


def test_reload_without_arguments_rereads_the_files(stack):
    before = stack.rpc("orig", "tpid_assert.reload_key")
    after = stack.rpc("orig", "tpid_assert.reload_key")
    v = [int(o.split("version:")[1].split()[0]) for o in (before, after)]
    assert v[1] == v[0] + 1


@pytest.mark.parametrize("case", ["mismatch", "encrypted", "rsa", "garbage", "missing"])
def test_bad_key_is_refused_and_the_old_one_stays(stack, tmp_path, case):
    key, cert = KEY2, CERT  # mismatch: the second key against the first certificate
    if case == "encrypted":
        key = str(tmp_path / "enc.key")
        subprocess.run(["openssl", "pkey", "-in", KEY, "-aes256", "-passout", "pass:x",
                        "-out", key], check=True)
        cert = CERT
    elif case == "rsa":
        key = str(tmp_path / "rsa.key")
        subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-out", key,
                        "-pkeyopt", "rsa_keygen_bits:2048"], check=True,
                       stderr=subprocess.DEVNULL)
    elif case == "garbage":
        key = str(tmp_path / "garbage.key")
        with open(key, "w") as f:
            f.write("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    elif case == "missing":
        key = str(tmp_path / "nothing.key")
    with pytest.raises(S.StackError) as e:
        stack.rpc("orig", "tpid_assert.reload_key", key, S.SIGN_X5U, cert)
    assert "reload refused" in str(e.value)
    if case == "encrypted":
        assert "encrypted" in str(e.value)
    c = stack.place_call(served=S.ALICE, claim=S.ALICE_ID)
    assert c.code == 200 and info_of(c) == S.SIGN_X5U
