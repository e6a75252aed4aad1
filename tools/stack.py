#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""The local tpid_assert stack on loopback, for the demo, the tests and manual use.

    originating Kamailio   udp 127.0.0.1:5060  (cfg/orig-scscf.cfg)
    terminating Kamailio   udp 127.0.0.1:5070  (cfg/term-scscf.cfg)
    callee (SIPp UAS)      udp 127.0.0.1:5080
    enterprise hook        https://127.0.0.1:8443  (tools/enterprise_service.py)
    certificate repository https://127.0.0.1:8470  (tools/cert_server.py)
    avatar repository      https://127.0.0.1:8480  (tools/bar_service.py)
    STI-AS / STI-VS (Ms)   https://127.0.0.1:8490/ms  (tools/sti_service.py; only with
                           Stack(sti=True) or start_sti())

and, for the tests, optionally (Stack(trunk=True, fault_hooks=True, kemi=True)):
    KEMI originating       udp 127.0.0.1:5064  (cfg/orig-scscf-kemi.cfg + .py)
    lenient terminating    udp 127.0.0.1:5072  (term_policy "reason", term_orig_from)

    SIP trunk originating  udp 127.0.0.1:5062  (cfg/orig-scscf.cfg with -A TRUNK)
    misbehaving hooks      https://127.0.0.1:8450..  one enterprise "<name>.example"
                           per fault (EXTRA_HOOKS), plus mTLS and bearer controls

`stack.py start` / `stack.py stop` bring it up and down (pid files under
build/run); `Stack` is the same thing as a Python object, and `place_call`
drives one SIPp call through it and reports what the caller got back and
what the callee received. Ports in use make `start` fail loudly: Kamailio
sets SO_REUSEADDR, so a leftover instance would silently share the traffic.
"""
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(ROOT, "build")
RUN = os.path.join(BUILD, "run")
PKI = os.path.join(BUILD, "pki")
# Debian's Kamailio and the module built against it; `make test-asan` points
# these at a Kamailio built with AddressSanitizer/UBSan, its modules and the
# module built with the same flags (tools/build-asan.sh).
MODULE = os.environ.get("TPID_MODULE") or os.path.join(ROOT, "modules", "tpid_assert",
                                                       "tpid_assert.so")
TPID_TOKEN = os.path.join(ROOT, "build", "tpid-token")
KAMAILIO = os.environ.get("TPID_KAMAILIO") or "/usr/sbin/kamailio"
MOD_PATH = os.environ.get("TPID_MOD_PATH")  # None: the cfgs' default (Debian's)
SIPP = "/usr/bin/sipp"
PY = "/usr/bin/python3"
SCENARIOS = os.path.join(ROOT, "tests", "integration", "scenarios")

HOST = "127.0.0.1"
ORIG_PORT, TERM_PORT, UAS_PORT, HOOK_PORT = 5060, 5070, 5080, 8443
CERT_PORT = 8470  # the certificate repository (tools/cert_server.py)
CERT_URL = f"https://127.0.0.1:{CERT_PORT}/"
# certificates the repository serves (from build/pki); tokens name them by x5u
CERT_FILES = ("sign.pem", "sign2.pem", "sign-expired.pem", "sign-noDS.pem",
              "sign-noTPID.pem", "sign-pinrcd.pem", "sign-revoked.pem", "rogue.pem",
              "sti.pem")
CERT_DOWN_URL = "https://127.0.0.1:8471/"  # allowlisted, nothing listens there
CERT_SLOW_MS = 4000  # /slow/ answers this late: past the module's 2 s timeout
DOWN_PORT = 8444  # an enterprise whose hook is down: nothing listens here
BAR_PORT = 8480   # the avatar repository (tools/bar_service.py)
BAR_ROOT = f"https://{HOST}:{BAR_PORT}/bar-root"  # its apiRoot in bars.json
# short, so that the slow-BAR test stays fast
BAR_CONNECT_MS, BAR_TIMEOUT_MS = 300, 1000
BAR_DATA = os.path.join(ROOT, "tools", "demo-bar.json")
# the operator's STI-AS / STI-VS (tools/sti_service.py, docs/ms-api.yaml): its msRoot,
# and the URL of its signing certificate (build/pki/sti.pem, served by the certificate
# repository, so a terminating side fetches it like any other signer's)
STI_PORT = 8490
STI_ROOT = f"https://{HOST}:{STI_PORT}/ms"
STI_X5U = CERT_URL + "sti.pem"
SIGN_X5U = "https://cert.example.net/tpid.pem"
SIGN2_X5U = "https://cert.example.net/tpid2.pem"  # the key-rotation test's second key
KAMCMD = "/usr/sbin/kamcmd"
TRUNK_PORT = 5062  # optional: the originating side for an enterprise PBX (-A TRUNK)
KEMI_PORT = 5064   # optional: the originating side routed in Python (KEMI)
# optional: a terminating side that lets unverified calls go on with an RFC 9410
# Reason (term_policy "reason") and accepts From where PAI is missing
TERM_REASON_PORT = 5072

# Optional enterprises for the failure-policy tests: "<name>.example" is answered by
# its own enterprise_service.py on the given port, all from the same directory file.
# Their entries use short timeouts so that a test of the slow one stays fast.
FAULT_CONNECT_MS, FAULT_TIMEOUT_MS = 300, 800
SLOW_MS = 2000  # the "slow" hook answers this late: well past FAULT_TIMEOUT_MS
EXTRA_HOOKS = {
    # name: (port, enterprise_service.py options, server certificate, entry keys);
    # {pki} and {run} are filled in. Names without --fault but with a cert or
    # client authentication test TLS; "mtls" and "bearer" are positive controls.
    "slow":          (8450, ["--fault", "slow", "--delay-ms", str(SLOW_MS)], "hook", {}),
    "http500":       (8451, ["--fault", "http500"], "hook", {}),
    "badjson":       (8452, ["--fault", "badjson"], "hook", {}),
    "missingfields": (8453, ["--fault", "missingfields"], "hook", {}),
    "wrongtypes":    (8454, ["--fault", "wrongtypes"], "hook", {}),
    "huge":          (8455, ["--fault", "huge"], "hook", {}),
    "redirect":      (8456, ["--fault", "redirect"], "hook", {}),
    "close":         (8457, ["--fault", "close"], "hook", {}),
    "wrongca":       (8458, [], "hook-wrongca", {}),
    "expired":       (8459, [], "hook-expired", {}),
    "mtls-missing":  (8460, ["--client-ca", "{pki}/client-ca.pem"], "hook", {}),
    "mtls":          (8461, ["--client-ca", "{pki}/client-ca.pem"], "hook",
                      {"client_cert": "{pki}/client.pem", "client_key": "{pki}/client.key"}),
    "bearer":        (8462, ["--bearer-token-file", "{run}/bearer.token"], "hook",
                      {"bearer_token_file": "{run}/bearer.token"}),
    # not a fault: answers correctly after 600 ms (single-flight, in-flight bound)
    "delay":         (8463, ["--delay-ms", "600"], "hook", {}),
}
# The trunk instance runs with a small in-flight bound, for the HOOK_BUSY test.
TRUNK_MAX_INFLIGHT = 3

# The demo's people (tools/demo-directory.json).
ALICE = "tel:+4961519876543"
BOB = "tel:+4961517654321"
MALLORY = "tel:+4961510000666"
CALLEE = "4961511234567"
ALICE_ID = "sip:e102938@acme.example"
BOB_ID = "sip:e554433@acme.example"
# Test-only additions to the run directory's copy of the directory: Carol, whom
# only the hook conformance test uses (so no cached decision hides its requests),
# and Alice's ID at every EXTRA_HOOKS domain.
CAROL = "tel:+4961515550100"
CAROL_ID = "sip:e300001@acme.example"


def extra_hook_id(name):
    """Alice's employee ID at the enterprise of EXTRA_HOOKS[name]."""
    return f"sip:e102938@{name}.example"


# the enterprises the test operator's signers may vouch for (x5u_signer)
DOMAINS = ",".join(["acme.example"] + [n + ".example" for n in EXTRA_HOOKS])
REVOKED_X5U = "https://cert.example.net/revoked.pem"  # pinned on termr, with the CRL


def sign(**kw):
    """An Identity header value from tpid-token sign with the test PKI; keyword
    arguments override key, x5u, orig, dest, id, iss, name, iat, exp, ttl."""
    argv = [TPID_TOKEN, "sign", "--key", kw.pop("key", os.path.join(PKI, "sign.key")),
            "--x5u", kw.pop("x5u", SIGN_X5U),
            "--orig", kw.pop("orig", ALICE),
            "--dest", kw.pop("dest", CALLEE),
            "--id", kw.pop("id", ALICE_ID),
            "--iss", kw.pop("iss", "acme.example"),
            "--name", kw.pop("name", "Alice Example (ACME Corp.)")]
    for k in ("iat", "exp", "ttl"):
        if k in kw:
            argv += ["--" + k, str(kw.pop(k))]
    if kw:
        raise ValueError(f"unknown options {kw}")
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    return r.stdout.decode().strip()


def sign_avatar(**kw):
    """A ppt=avatar Identity header value from tpid-token sign; keyword arguments
    override key, x5u, orig, dest, aid, bar, fmt, digest (default: the digest of
    the demo representation of aid), iat."""
    aid = kw.pop("aid", "alice-01")
    argv = [TPID_TOKEN, "sign", "--ppt", "avatar",
            "--key", kw.pop("key", os.path.join(PKI, "sign.key")),
            "--x5u", kw.pop("x5u", SIGN_X5U), "--orig", kw.pop("orig", ALICE),
            "--dest", kw.pop("dest", CALLEE), "--aid", aid,
            "--bar", kw.pop("bar", f"{BAR_ROOT}/bar/v1/avatars/{aid}/representation"),
            "--fmt", kw.pop("fmt", "model/gltf-binary")]
    if "digest" in kw:
        argv += ["--digest", kw.pop("digest")]
    else:
        argv += ["--object", os.path.join(ROOT, "tools", "demo-avatars", aid + ".glb")]
    if "iat" in kw:
        argv += ["--iat", str(kw.pop("iat"))]
    if kw:
        raise ValueError(f"unknown options {kw}")
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=True)
    return r.stdout.decode().strip()


class StackError(RuntimeError):
    pass


def port_busy(port, udp):
    """True if something holds the port (bind without SO_REUSEADDR fails). For TCP,
    with it: connections a hook closed linger in TIME_WAIT for a minute, and they do
    not stop a new listener (Python's HTTP server sets SO_REUSEADDR); one that still
    listens does."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM if udp else socket.SOCK_STREAM)
    if not udp:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((HOST, port))
        return False
    except OSError:
        return True
    finally:
        s.close()


def pid_alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False
    except PermissionError:
        return True


class Stack:
    def __init__(self, run_dir=RUN, term_policy="reject", orig_extra=None, term_extra=None,
                 trunk=False, fault_hooks=False, kemi=False, term_reason=False, load=None,
                 sti=False):
        """load: for load runs (tests/soak), a dict of uas_xml (the callee's scenario),
        hook_args and cert_args (more options for the enterprise hook and the
        certificate repository) and shm (MiB); nothing is then logged per call (no call
        log, no hook bodies, no callee trace)."""
        self.run = run_dir
        self.load = load
        self.sti = sti
        # the STI service: its fault file (set_sti_fault) and what it was asked
        self.sti_fault = os.path.join(self.run, "sti.fault")
        self.sti_bodies = os.path.join(self.run, "sti-bodies.jsonl")
        self.term_reason = term_reason
        self.trunk = trunk
        self.kemi = kemi
        self.fault_hooks = fault_hooks
        self.term_policy = term_policy
        self.orig_extra = orig_extra or {}
        self.term_extra = term_extra or {}
        self.procs = {}
        self.directory = os.path.join(self.run, "directory.json")
        self.uas_trace = os.path.join(self.run, "uas-messages.log")
        # every verification request the main hook got, with its answer (JSON lines)
        self.hook_bodies = os.path.join(self.run, "hook-bodies.jsonl")
        # the avatar repository: the module's node token, and what it was asked
        self.bar_token = os.path.join(self.run, "bar-node.token")
        self.bar_bodies = os.path.join(self.run, "bar-bodies.jsonl")

    @staticmethod
    def names():
        """Every process name the stack may run (pid files build/run/<name>.pid)."""
        return (["uas", "orig", "trunk", "kemi", "term", "termr", "hook", "certs", "bar", "sti"]
                + ["hook-" + n for n in EXTRA_HOOKS])

    # ---- set-up -------------------------------------------------------
    def check_free(self):
        udp = ([ORIG_PORT, TERM_PORT, UAS_PORT] + ([TRUNK_PORT] if self.trunk else [])
               + ([KEMI_PORT] if self.kemi else [])
               + ([TERM_REASON_PORT] if self.term_reason else []))
        tcp = [HOOK_PORT, DOWN_PORT, CERT_PORT, 8471, BAR_PORT] + \
            ([h[0] for h in EXTRA_HOOKS.values()] if self.fault_hooks else []) + \
            ([STI_PORT] if self.sti else [])
        busy = [f"udp {p}" for p in udp if port_busy(p, True)]
        busy += [f"tcp {p}" for p in tcp if port_busy(p, False)]
        if busy:
            raise StackError("ports in use (a leftover stack? try `make stop`): " + ", ".join(busy))
        for name in self.names():
            pid = self._read_pid(name)
            if pid and pid_alive(pid):
                raise StackError(f"a previous {name} (pid {pid}) still runs: `make stop`")

    def _read_pid(self, name):
        try:
            with open(os.path.join(self.run, name + ".pid")) as f:
                return int(f.read().strip() or 0)
        except (OSError, ValueError):
            return 0

    def _write_files(self):
        os.makedirs(self.run, exist_ok=True)
        subprocess.run(["bash", os.path.join(ROOT, "tools", "make-pki.sh"), PKI], check=True,
                       stdout=subprocess.DEVNULL)
        with open(os.path.join(ROOT, "tools", "demo-directory.json")) as f:
            directory = json.load(f)
        users = directory["users"]
        users[CAROL] = [{"tpid": CAROL_ID, "displayName": "Carol Conform (ACME Corp.)",
                         "validUntil": 0}]
        users[ALICE] += [{"tpid": extra_hook_id(n), "validUntil": 0,
                          "displayName": f"Alice Example ({n}.example)"} for n in EXTRA_HOOKS]
        with open(self.directory, "w") as f:
            json.dump(directory, f, indent=2)
        ents = {"enterprises": [
            {"domain": "acme.example", "api_root": f"https://{HOST}:{HOOK_PORT}/acme",
             "ca_file": os.path.join(PKI, "hook-ca.pem"),
             "connect_timeout_ms": 500, "timeout_ms": 2000, "ttl_cap": 300},
            # Configured, but its hook is down: tests the failure policy.
            {"domain": "down.example", "api_root": f"https://{HOST}:{DOWN_PORT}/down",
             "ca_file": os.path.join(PKI, "hook-ca.pem"),
             "connect_timeout_ms": 300, "timeout_ms": 1000},
        ]}
        if self.fault_hooks:
            fd = os.open(os.path.join(self.run, "bearer.token"),
                         os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(uuid.uuid4().hex + "\n")
            for name, (port, _, _, keys) in EXTRA_HOOKS.items():
                ent = {"domain": f"{name}.example",
                       "api_root": f"https://{HOST}:{port}/{name}",
                       "ca_file": os.path.join(PKI, "hook-ca.pem"),
                       "connect_timeout_ms": FAULT_CONNECT_MS, "timeout_ms": FAULT_TIMEOUT_MS}
                ent.update({k: self._fill(v) for k, v in keys.items()})
                ents["enterprises"].append(ent)
        with open(os.path.join(self.run, "enterprises.json"), "w") as f:
            json.dump(ents, f, indent=2)
        # The avatar repository answers every served user ("*"); the module
        # authenticates with a bearer token, as an IMS node.
        fd = os.open(self.bar_token, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(uuid.uuid4().hex + "\n")
        bars = {"bars": [{"domain": "*", "api_root": BAR_ROOT,
                          "ca_file": os.path.join(PKI, "hook-ca.pem"),
                          "bearer_token_file": self.bar_token,
                          "connect_timeout_ms": BAR_CONNECT_MS,
                          "timeout_ms": BAR_TIMEOUT_MS}]}
        with open(os.path.join(self.run, "bars.json"), "w") as f:
            json.dump(bars, f, indent=2)

    def _spawn(self, name, argv, log):
        logf = open(os.path.join(self.run, log), "ab")
        p = subprocess.Popen(argv, stdout=logf, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        logf.close()
        self.procs[name] = p
        with open(os.path.join(self.run, name + ".pid"), "w") as f:
            f.write(str(p.pid))
        return p

    @staticmethod
    def _q(s):
        return '"' + s + '"'

    def _fill(self, s):
        return s.replace("{pki}", PKI).replace("{run}", self.run)

    def _kamailio(self, name, cfg, port, defines):
        d = {"TPID_MODULE": self._q(MODULE), "CHILDREN": "2",
             "CTL_SOCKET": self._q(f"unixs:{self.run}/{name}_ctl")}
        if not self.load:
            d["WITH_CALL_LOG"] = "1"
        if MOD_PATH:
            d["MOD_PATH"] = self._q(MOD_PATH)
        d.update(defines)
        shm = str(self.load.get("shm", 128)) if self.load else "128"
        argv = [KAMAILIO, "-f", os.path.join(ROOT, "cfg", cfg), "-DD", "-E", "-m", shm,
                "-M", "16", "-Y", self.run, "-P", os.path.join(self.run, f"{name}-kamailio.pid")]
        for k, v in d.items():
            argv += ["-A", f"{k}={v}"]
        return self._spawn(name, argv, f"{name}.log")

    def start(self):
        self.check_free()
        self._write_files()
        open(self.uas_trace, "w").close()
        open(self.hook_bodies, "w").close()
        if self.load:
            self.start_hook(*self.load.get("hook_args", ()))
        else:
            self.start_hook("--log-bodies", self.hook_bodies)
        self.start_cert_server(*(self.load.get("cert_args", ()) if self.load else ()))
        open(self.bar_bodies, "w").close()
        self.start_bar()
        if self.fault_hooks:
            self.start_extra_hooks()
        if self.sti:
            self.start_sti()
        orig = {"SIGN_KEY": self._q(os.path.join(PKI, "sign.key")),
                "SIGN_X5U": self._q(SIGN_X5U),
                "SIGN_CERT": self._q(os.path.join(PKI, "sign.pem")),
                "ENTERPRISE_FILE": self._q(os.path.join(self.run, "enterprises.json")),
                "BAR_FILE": self._q(os.path.join(self.run, "bars.json"))}
        orig.update(self.orig_extra)
        term = {"CA_FILE": self._q(os.path.join(PKI, "sign-ca.pem")),
                "X5U_CERT": self._q(SIGN_X5U + "=" + os.path.join(PKI, "sign.pem")),
                "X5U_CERT2": self._q(SIGN2_X5U + "=" + os.path.join(PKI, "sign2.pem")),
                "TERM_POLICY": self._q(self.term_policy),
                # the test operator's signer vouches for every enterprise of the stack,
                # whether its certificate is pinned or fetched from the repository
                "X5U_SIGNER": self._q("https://cert.example.net/=" + DOMAINS + ",avatar"),
                "X5U_SIGNER2": self._q(CERT_URL + "=" + DOMAINS + ",avatar"),
                # a signer that may vouch for enterprises but not for avatars
                "X5U_SIGNER3": self._q(SIGN2_X5U + "=" + DOMAINS),
                "X5U_ALLOW2": self._q(CERT_URL),
                "X5U_CA_FILE": self._q(os.path.join(PKI, "hook-ca.pem")),
                "X5U_ALLOW3": self._q(CERT_DOWN_URL),
                "X5U_MIN_TTL": "1",
                "X5U_ALLOW_PRIVATE": "1"}
        term.update(self.term_extra)
        self._kamailio("orig", "orig-scscf.cfg", ORIG_PORT, orig)
        self._kamailio("term", "term-scscf.cfg", TERM_PORT, term)
        waits = [("orig", ORIG_PORT), ("term", TERM_PORT), ("uas", UAS_PORT)]
        if self.trunk:
            # The same originating cfg, for an enterprise PBX: the claimed ID is
            # taken from the From URI, the PBX is the served user (PAI).
            trunk = dict(orig, LISTEN=f"udp:{HOST}:{TRUNK_PORT}", TRUNK="1",
                         NEXT_HOP=self._q(f"sip:{HOST}:{TERM_PORT}"),
                         MAX_INFLIGHT=str(TRUNK_MAX_INFLIGHT))
            self._kamailio("trunk", "orig-scscf.cfg", TRUNK_PORT, trunk)
            waits.append(("trunk", TRUNK_PORT))
        if self.term_reason:
            # ... which also refuses to fetch from loopback, and checks the CRL
            termr = dict(term, LISTEN=f"udp:{HOST}:{TERM_REASON_PORT}",
                         TERM_POLICY=self._q("reason"), TERM_ORIG_FROM="1",
                         X5U_ALLOW_PRIVATE="0",
                         CRL_FILE=self._q(os.path.join(PKI, "sign-ca.crl")),
                         X5U_CERT3=self._q(REVOKED_X5U + "=" +
                                           os.path.join(PKI, "sign-revoked.pem")))
            self._kamailio("termr", "term-scscf.cfg", TERM_REASON_PORT, termr)
            waits.append(("termr", TERM_REASON_PORT))
        if self.kemi:
            kemi = dict(orig, LISTEN=f"udp:{HOST}:{KEMI_PORT}",
                        KEMI_SCRIPT=self._q(os.path.join(ROOT, "cfg", "orig-scscf-kemi.py")))
            self._kamailio("kemi", "orig-scscf-kemi.cfg", KEMI_PORT, kemi)
            waits.append(("kemi", KEMI_PORT))
        if self.load:
            # Under load datagrams get lost and reordered: an ACK that arrives after
            # the BYE must not end the callee's call (SIPp's default on an unexpected
            # message), or the BYE's retransmission, if its 200 was lost, finds no
            # call to answer it.
            self._spawn("uas", [SIPP, "-sf", self.load["uas_xml"], "-i", HOST,
                                "-p", str(UAS_PORT), "-nostdin", "-max_recv_loops", "1000",
                                "-buff_size", str(1 << 20), "-default_behaviors",
                                "all,-abortunexp", "-trace_err", "-error_file",
                                os.path.join(self.run, "uas-errors.log")], "uas.log")
        else:
            self._spawn("uas", [SIPP, "-sf", os.path.join(SCENARIOS, "uas.xml"), "-i", HOST,
                                "-p", str(UAS_PORT), "-nostdin", "-trace_msg", "-message_file",
                                self.uas_trace, "-max_recv_loops", "1000"], "uas.log")
        for name, port in waits:
            self._wait_udp(name, port)
        return self

    def _spawn_hook(self, name, port, cert, extra):
        return self._spawn(name, [PY, os.path.join(ROOT, "tools", "enterprise_service.py"),
                                  "--listen", f"{HOST}:{port}",
                                  "--cert", os.path.join(PKI, cert + ".pem"),
                                  "--key", os.path.join(PKI, cert + ".key"),
                                  "--directory", self.directory, *extra], name + ".log")

    def _wait_https(self, name, port, ctx):
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(f"https://{HOST}:{port}/healthz",
                                            context=ctx, timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            if self.procs[name].poll() is not None:
                break
            time.sleep(0.1)
        raise StackError(f"{name} did not come up; see "
                         + os.path.join(self.run, name + ".log"))

    def start_hook(self, *extra):
        """The main enterprise hook; extra: more enterprise_service.py options."""
        self._spawn_hook("hook", HOOK_PORT, "hook", extra)
        self._wait_https("hook", HOOK_PORT,
                         ssl.create_default_context(cafile=os.path.join(PKI, "hook-ca.pem")))

    def start_extra_hooks(self):
        for name, (port, args, cert, _) in EXTRA_HOOKS.items():
            self._spawn_hook("hook-" + name, port, cert, [self._fill(a) for a in args])
        # Only that they serve: some present a certificate nobody should trust, some
        # want a client certificate (ours is offered to all; the others ignore it).
        ctx = ssl.create_default_context()
        ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
        ctx.load_cert_chain(os.path.join(PKI, "client.pem"), os.path.join(PKI, "client.key"))
        for name, (port, _, _, _) in EXTRA_HOOKS.items():
            self._wait_https("hook-" + name, port, ctx)

    def start_cert_server(self, *extra):
        certs = os.path.join(self.run, "certs")
        os.makedirs(certs, exist_ok=True)
        for f in CERT_FILES:
            shutil.copyfile(os.path.join(PKI, f), os.path.join(certs, f))
        # tests count the requests of this stack's repository in its log
        open(os.path.join(self.run, "certs.log"), "w").close()
        self._spawn("certs", [PY, os.path.join(ROOT, "tools", "cert_server.py"),
                              "--listen", f"{HOST}:{CERT_PORT}",
                              "--cert", os.path.join(PKI, "hook.pem"),
                              "--key", os.path.join(PKI, "hook.key"), "--dir", certs,
                              "--slow-ms", str(CERT_SLOW_MS), *extra], "certs.log")
        ctx = ssl.create_default_context(cafile=os.path.join(PKI, "hook-ca.pem"))
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(CERT_URL + "sign.pem", context=ctx, timeout=1):
                    return
            except OSError:
                if self.procs["certs"].poll() is not None:
                    break
                time.sleep(0.1)
        raise StackError("certificate repository did not come up; see "
                         + os.path.join(self.run, "certs.log"))

    def stop_hook(self):
        self._stop_one("hook")

    def start_bar(self, *extra):
        """The avatar repository on BAR_PORT; extra: bar_service.py options (--fault)."""
        self._spawn("bar", [PY, os.path.join(ROOT, "tools", "bar_service.py"),
                            "--listen", f"{HOST}:{BAR_PORT}",
                            "--cert", os.path.join(PKI, "hook.pem"),
                            "--key", os.path.join(PKI, "hook.key"),
                            "--data", BAR_DATA, "--node-token-file", self.bar_token,
                            "--client-ca", os.path.join(PKI, "client-ca.pem"),
                            "--log-bodies", self.bar_bodies, *extra], "bar.log")
        self._wait_https("bar", BAR_PORT,
                         ssl.create_default_context(cafile=os.path.join(PKI, "hook-ca.pem")))

    def stop_bar(self):
        self._stop_one("bar")

    def start_sti(self, *extra):
        """The STI-AS / STI-VS on STI_PORT (apiRoot STI_ROOT): signs with sti.key for
        STI_X5U, verifies tokens of the test operator's signers (chained to sign-ca),
        its faults switched at run time by set_sti_fault(); extra: more sti_service.py
        options (--bearer-token-file, --client-ca, ...)."""
        open(self.sti_fault, "w").close()
        open(self.sti_bodies, "a").close()
        trust = [(SIGN_X5U, "sign.pem"), (SIGN2_X5U, "sign2.pem"),
                 (CERT_URL + "sign.pem", "sign.pem"), (CERT_URL + "sign2.pem", "sign2.pem")]
        args = []
        for url, pem in trust:
            args += ["--trust", f"{url}={os.path.join(PKI, pem)}"]
        self._spawn("sti", [PY, os.path.join(ROOT, "tools", "sti_service.py"),
                            "--listen", f"{HOST}:{STI_PORT}",
                            "--cert", os.path.join(PKI, "hook.pem"),
                            "--key", os.path.join(PKI, "hook.key"),
                            "--sign-key", os.path.join(PKI, "sti.key"),
                            "--sign-cert", os.path.join(PKI, "sti.pem"), "--x5u", STI_X5U,
                            "--ca", os.path.join(PKI, "sign-ca.pem"),
                            "--other-key", os.path.join(PKI, "sign2.key"), *args,
                            "--fault-file", self.sti_fault, "--log-bodies", self.sti_bodies,
                            *extra], "sti.log")
        self._wait_https("sti", STI_PORT,
                         ssl.create_default_context(cafile=os.path.join(PKI, "hook-ca.pem")))

    def set_sti_fault(self, fault="none", delay_ms=None):
        """The STI service's fault from its next request on (docs/ms-api.yaml)."""
        tmp = self.sti_fault + ".new"
        with open(tmp, "w") as f:
            f.write(fault + (f" {delay_ms}" if delay_ms is not None else "") + "\n")
        os.replace(tmp, self.sti_fault)

    def stop_sti(self):
        self._stop_one("sti")

    def bar_get(self, path, token=None, method="GET", body=None):
        """(status, bytes) of a request to the avatar repository, as a UE would make it
        with its bearer credential (token)."""
        ctx = ssl.create_default_context(cafile=os.path.join(PKI, "hook-ca.pem"))
        url = path if path.startswith("https://") else BAR_ROOT + path
        req = urllib.request.Request(url, method=method, data=body)
        if token:
            req.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(req, context=ctx, timeout=5) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def _wait_udp(self, name, port):
        deadline = time.time() + 10
        while time.time() < deadline:
            p = self.procs.get(name)
            if p is not None and p.poll() is not None:
                raise StackError(f"{name} exited at start; see {os.path.join(self.run, name + '.log')}")
            if port_busy(port, True):
                time.sleep(0.3)  # bound; give the workers a moment
                return
            time.sleep(0.1)
        raise StackError(f"{name} did not listen on udp {port}")

    # ---- tear-down ----------------------------------------------------
    def _stop_one(self, name):
        p = self.procs.pop(name, None)
        pid = p.pid if p is not None else self._read_pid(name)
        if pid and pid_alive(pid):
            try:
                os.killpg(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            deadline = time.time() + 5
            while time.time() < deadline and pid_alive(pid):
                if p is not None and p.poll() is not None:
                    break
                time.sleep(0.05)
            if pid_alive(pid) and (p is None or p.poll() is None):
                try:
                    os.killpg(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            if p is not None:
                p.wait(timeout=5)
        try:
            os.unlink(os.path.join(self.run, name + ".pid"))
        except OSError:
            pass

    def stop(self):
        for name in self.names():
            self._stop_one(name)

    # ---- management -------------------------------------------------------
    def rpc(self, name, *command, timeout=10):
        """An RPC command to a Kamailio of the stack ("orig", "term", "trunk")
        through its binrpc ctl socket; kamcmd's output. A failed command raises
        StackError (kamcmd itself exits 0 on "error: 500 - ...")."""
        r = subprocess.run([KAMCMD, "-s", f"unixs:{self.run}/{name}_ctl", *command],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=timeout)
        out = r.stdout.decode(errors="replace")
        if r.returncode != 0 or out.startswith("error: "):
            raise StackError(f"kamcmd {' '.join(command)} on {name}: {out.strip()}")
        return out

    # ---- calls ----------------------------------------------------------
    def place_call(self, served=ALICE, claim=ALICE_ID, dest=CALLEE, to_port=ORIG_PORT,
                   extra_headers=(), expect=200, timeout=15, from_uri=None, call_tag=None):
        """One INVITE through the stack. Returns a CallResult. from_uri: the From
        URI (default sip:caller@<caller's address>). call_tag: reuse the Call-ID of
        an earlier call (its call_tag), as a second branch of one call would."""
        tag = call_tag or "tpid-" + uuid.uuid4().hex
        call_id = tag + "-1"  # SIPp's -cid_str below, call number 1
        headers = []
        if served:
            headers.append(f"P-Asserted-Identity: <{served}>")
        if claim:
            headers.append(f"P-Third-Party-ID: <{claim}>")
        headers += list(extra_headers)
        tmpl = "uac_ok.xml" if expect == 200 else "uac_fail.xml"
        with open(os.path.join(SCENARIOS, tmpl)) as f:
            xml = f.read()
        xml = (xml.replace("@DEST@", dest)
                  .replace("@FROM@", from_uri or "sip:caller@[local_ip]")
                  .replace("@EXPECT@", str(expect))
                  .replace("@HEADERS@", "\r\n".join(headers) if headers else "X-Tpid-Test: none"))
        scen = os.path.join(self.run, f"uac-{call_id}.xml")
        trace = os.path.join(self.run, f"uac-{call_id}.log")
        with open(scen, "w") as f:
            f.write(xml)
        argv = ["timeout", "-k", "5", str(timeout), SIPP, f"{HOST}:{to_port}", "-sf", scen,
                "-m", "1", "-i", HOST, "-p", "0", "-nostdin", "-cid_str", tag + "-%u", "-trace_msg", "-message_file",
                trace, "-recv_timeout", "8000", "-default_behaviors", "all,-abortunexp"]
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=self.run)
        msgs = parse_sipp_trace(trace)
        final = None
        for m in msgs:
            # only this call's answers: a port reused from an earlier caller
            # may still get that call's retransmitted replies
            if m["dir"] == "received" and m["first"].startswith("SIP/2.0 ") and \
                    call_id in m["headers"].get("call-id", []):
                code = int(m["first"].split()[1])
                if code >= 200:
                    final = m
                    break
        callee = self.callee_invite(call_id) if final is not None and \
            int(final["first"].split()[1]) == 200 else self.callee_invite(call_id, wait=0.5)
        os.unlink(scen)
        return CallResult(call_id, r.returncode, final, callee, r.stdout.decode(errors="replace"))

    def send_request(self, method, to_port=ORIG_PORT, headers=(), to_tag=None, cseq=1,
                     body=""):
        """Sends one request of any method from a plain UDP socket (no dialog, no
        retransmission) and returns its Call-ID; callee_request() tells what reached
        the callee. For the trust-boundary tests: SIPp's callee logs every request it
        receives, whatever its scenario expects."""
        call_id = "tpid-raw-" + uuid.uuid4().hex
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            s.bind((HOST, 0))
            port = s.getsockname()[1]
            lines = [f"{method} sip:+{CALLEE}@{HOST}:{to_port};user=phone SIP/2.0",
                     f"Via: SIP/2.0/UDP {HOST}:{port};branch=z9hG4bK{uuid.uuid4().hex};rport",
                     f"From: <sip:caller@{HOST}>;tag={uuid.uuid4().hex[:12]}",
                     f"To: <sip:+{CALLEE}@{HOST};user=phone>" + (f";tag={to_tag}" if to_tag else ""),
                     f"Call-ID: {call_id}", f"CSeq: {cseq} {method}", "Max-Forwards: 70",
                     f"Contact: <sip:caller@{HOST}:{port}>", *headers]
            if body:
                lines.append("Content-Type: application/sdp" if method in ("INVITE", "UPDATE")
                             else "Content-Type: text/plain")
            lines.append(f"Content-Length: {len(body.encode())}")
            s.sendto(("\r\n".join(lines) + "\r\n\r\n" + body).encode(), (HOST, to_port))
        finally:
            s.close()
        return call_id

    def callee_request(self, call_id, method, wait=3.0):
        """The request of that method the callee received for call_id, or None."""
        deadline = time.time() + wait
        while True:
            for m in parse_sipp_trace(self.uas_trace):
                if m["dir"] == "received" and m["first"].startswith(method + " ") and \
                        call_id in m["headers"].get("call-id", []):
                    return m
            if time.time() >= deadline:
                return None
            time.sleep(0.1)

    def callee_invite(self, call_id, wait=3.0):
        """The INVITE the callee (UAS) received for call_id, or None."""
        deadline = time.time() + wait
        while True:
            for m in parse_sipp_trace(self.uas_trace):
                if m["dir"] == "received" and m["first"].startswith("INVITE ") and \
                        call_id in m["headers"].get("call-id", []):
                    return m
            if time.time() >= deadline:
                return None
            time.sleep(0.1)


class CallResult:
    def __init__(self, call_id, sipp_rc, final, callee, output):
        self.call_id = call_id
        self.sipp_rc = sipp_rc
        self.final = final
        self.callee = callee
        self.output = output

    @property
    def code(self):
        return int(self.final["first"].split()[1]) if self.final else None

    @property
    def phrase(self):
        return self.final["first"].split(" ", 2)[2] if self.final else None

    def callee_header(self, name):
        """Values of a header in the INVITE the callee got ([] if none)."""
        if self.callee is None:
            return []
        return self.callee["headers"].get(name.lower(), [])


_SEP = re.compile(r"^-{20,}.*$", re.M)


def parse_sipp_trace(path):
    """Messages of a SIPp -trace_msg file: dir, first line, headers by lower-case name."""
    try:
        with open(path, errors="replace") as f:
            text = f.read()
    except OSError:
        return []
    out = []
    for block in _SEP.split(text):
        m = re.search(r"(UDP|TCP) message (received|sent)[^\n]*\n\n", block)
        if not m:
            continue
        raw = block[m.end():].replace("\r\n", "\n")
        lines = raw.split("\n\n", 1)[0].split("\n")
        if not lines or not lines[0]:
            continue
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers.setdefault(k.strip().lower(), []).append(v.strip())
        out.append({"dir": m.group(2), "first": lines[0].strip(), "headers": headers})
    return out


def main(argv):
    if len(argv) != 2 or argv[1] not in ("start", "stop"):
        print("usage: stack.py start|stop", file=sys.stderr)
        return 2
    st = Stack()
    if argv[1] == "start":
        try:
            st.start()
        except StackError as e:
            print("stack: " + str(e), file=sys.stderr)
            st.stop()
            return 1
        print(f"stack up: orig udp {HOST}:{ORIG_PORT}, term udp {HOST}:{TERM_PORT}, "
              f"callee udp {HOST}:{UAS_PORT}, hook https://{HOST}:{HOOK_PORT}; logs in {RUN}")
        return 0
    st.stop()
    print("stack stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
