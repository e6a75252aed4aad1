# SPDX-License-Identifier: GPL-2.0-or-later
"""make deb: the Debian package (debhelper, lintian without errors) installs with apt,
puts the module where Debian's kamailio looks for modules, and Debian's own kamailio,
started with the packaged example cfg (loadmodule "tpid_assert.so", nothing pointing
into the checkout), signs a call that the stack's terminating side verifies.

The package is removed again at the end: the machine is left as it was."""
import glob
import os
import subprocess

import pytest

import stack as S
from solo import Solo, q

PKG = "kamailio-tpid-assert-module"
DOC = f"/usr/share/doc/{PKG}"
PORT = 5984


def run(*argv, timeout=900):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout,
                       env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"})
    assert r.returncode == 0, r.stdout.decode(errors="replace")[-4000:]
    return r.stdout.decode(errors="replace")


@pytest.fixture(scope="module")
def installed():
    if os.geteuid() != 0:
        pytest.skip("installing a package needs root")
    if os.environ.get("TPID_KAMAILIO"):
        pytest.skip("the package is for Debian's kamailio; this run is on another core")
    out = run("make", "-C", S.ROOT, "deb")     # lintian --fail-on error included
    debs = glob.glob(os.path.join(S.ROOT, "build", "deb", f"{PKG}_*.deb"))
    assert len(debs) == 1, out[-2000:]
    run("apt-get", "install", "-y", "-q", "--reinstall", os.path.abspath(debs[0]))
    try:
        yield debs[0]
    finally:
        run("apt-get", "remove", "-y", "-q", PKG)


def test_the_package_puts_everything_where_debian_looks(installed):
    files = set(run("dpkg", "-L", PKG).split())
    assert "/usr/lib/x86_64-linux-gnu/kamailio/modules/tpid_assert.so" in files
    assert "/usr/bin/tpid-token" in files
    for f in ("README.gz", "operator-guide.md.gz", "metrics.png", "examples/cfg/orig-scscf.cfg",
              "examples/cfg/term-scscf.cfg", "examples/cfg/tpid-metrics.cfg",
              "examples/enterprise_service.py", "examples/hook-api.yaml"):
        assert f"{DOC}/{f}" in files, f
    assert run("tpid-token", "--help").startswith("usage:")
    # the module really is one for this kamailio (it checks the version at load)
    deps = run("dpkg-query", "-W", "-f=${Depends}", PKG)
    assert "kamailio (>= 5.6.3)" in deps and "libcurl" in deps


def test_stock_kamailio_with_the_packaged_cfg_signs_a_verified_call(stack, installed, tmp_path):
    orig = Solo(tmp_path, f"{DOC}/examples/cfg/orig-scscf.cfg", PORT, {
        "SIGN_KEY": q(os.path.join(S.PKI, "sign.key")),
        "ENTERPRISE_FILE": q(os.path.join(S.RUN, "enterprises.json")),
        "NEXT_HOP": q(f"sip:{S.HOST}:{S.TERM_PORT}"), "WITH_CALL_LOG": "1"}, installed=True)
    assert not any("tpid_assert.so" in a and "/" in a for a in orig.argv)
    try:
        orig.start()
        c = stack.place_call(to_port=PORT)
        assert c.code == 200, c.output
        shown = c.callee_header("P-Verified-Third-Party-ID")
        assert shown and S.ALICE_ID in shown[0], c.output
        assert orig.call_reason(c.call_id) == "OK"
        assert orig.stats()["signed"] == 1
    finally:
        orig.stop()
