# SPDX-License-Identifier: GPL-2.0-or-later
"""cfg/ims-scscf.cfg, the S-CSCF variant on Kamailio's IMS modules (Debian's
kamailio-ims-modules): Kamailio accepts it (`kamailio -c` loads every module and
resolves every function), and tpid_assert sits where the cfg says: on the
originating side after the served user's application servers, on the terminating
side before them, each continuation route exists, and it fails closed as the other
shipped cfgs do."""
import os
import re
import subprocess

import stack as S
from solo import q

CFG = os.path.join(S.ROOT, "cfg", "ims-scscf.cfg")
TEXT = open(CFG).read()


def route(name):
    """The body of route[name] (up to the next top-level block)."""
    m = re.search(rf"^(?:failure_)?route\[{re.escape(name)}\] \{{\n(.*?)^\}}", TEXT, re.M | re.S)
    assert m, f"route[{name}] missing"
    return m.group(1)


def test_kamailio_accepts_the_ims_cfg(tmp_path):
    argv = [S.KAMAILIO, "-c", "-f", CFG]
    for k, v in {"TPID_MODULE": q(S.MODULE), "SIGN_KEY": q(os.path.join(S.PKI, "sign.key")),
                 "CA_FILE": q(os.path.join(S.PKI, "sign-ca.pem")),
                 "CTL_SOCKET": q(f"unixs:{tmp_path}/ims.ctl")}.items():
        argv += ["-A", f"{k}={v}"]
    if S.MOD_PATH:
        argv += ["-A", f"MOD_PATH={q(S.MOD_PATH)}"]
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=60,
                       cwd=tmp_path)
    out = r.stdout.decode(errors="replace")
    assert r.returncode == 0 and "config file ok" in out, out[-3000:]
    for mod in ("cdp", "ims_usrloc_scscf", "ims_registrar_scscf", "ims_auth", "ims_isc"):
        assert f'loadmodule "{mod}.so"' in TEXT


def test_orig_signs_after_the_application_servers():
    body = route("orig")
    assert body.index('isc_match_filter("orig", "location")') < body.index("route(TPID_ORIG);")
    assert 'tpid_assert_orig("TPID_ORIG_DONE");' in route("TPID_ORIG")
    # an AS that fails hands the request back: it is still decided and signed
    assert "route(TPID_ORIG);" in route("isc_orig_failure")


def test_term_verifies_before_the_application_servers():
    body = route("term")
    assert 'tpid_assert_term("TPID_TERM_DONE");' in body
    assert "isc_match_filter" not in body
    assert "route(TERM_ISC);" in route("TPID_TERM_DONE")
    assert 'isc_match_filter("term", "location")' in route("TERM_ISC")


def test_every_route_named_exists():
    named = set(re.findall(r"\broute\((\w+)\)", TEXT)) | set(re.findall(
        r'(?:tpid_assert_\w+|save|ims_www_\w+|assign_server_unreg|t_on_failure)\("(\w+)"', TEXT))
    defined = set(re.findall(r"^(?:failure_)?route\[(\w+)\]", TEXT, re.M))
    assert named and named <= defined, named - defined


def test_ims_cfg_fails_closed():
    for done in ("TPID_ORIG_DONE", "TPID_TERM_DONE"):
        assert re.search(r"\$tpid\(result\) == \$null \|\| \$tpid\(result\) == -2\s*"
                         r"\|\| \$tpid\(avatar_result\) == -2\)\s*\{\s*t_reply\(\"500\"", route(done))
    calls = re.findall(r"^\s*(.*tpid_assert_strip\(\).*)$", TEXT, re.M)
    assert len(calls) == 3 and all(c.startswith("if (!tpid_assert_strip())") for c in calls), calls
