# SPDX-License-Identifier: GPL-2.0-or-later
"""The test PKI keeps working on an old checkout: tools/make-pki.sh keeps a PKI only
while no certificate (but the ones meant to be expired) ends within 7 days."""
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MAKE_PKI = os.path.join(ROOT, "tools", "make-pki.sh")
WEEK = 7 * 86400


def make_pki(out):
    r = subprocess.run(["bash", MAKE_PKI, out], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, timeout=120)
    assert r.returncode == 0, r.stdout.decode()
    return r.stdout.decode()


def ends_within(path, seconds):
    r = subprocess.run(["openssl", "x509", "-in", path, "-noout", "-checkend", str(seconds)],
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return r.returncode != 0


def test_pki_near_its_end_is_made_anew(tmp_path):
    out = str(tmp_path / "pki")
    make_pki(out)
    cert = os.path.join(out, "client.pem")
    with open(cert, "rb") as f:
        before = f.read()
    # kept as it is while every certificate has more than a week to go
    assert "anew" not in make_pki(out)
    with open(cert, "rb") as f:
        assert f.read() == before
    # one certificate that ends tomorrow: everything is made anew
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", str(tmp_path / "k.pem"),
                    "-subj", "/CN=old", "-days", "1", "-out", cert],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert ends_within(cert, WEEK)
    assert "client.pem ends within 7 days" in make_pki(out)
    assert not ends_within(cert, WEEK)
    # the certificates that are meant to be expired stay expired
    assert ends_within(os.path.join(out, "hook-expired.pem"), 0)
