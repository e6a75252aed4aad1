# SPDX-License-Identifier: GPL-2.0-or-later
"""The enterprise hook's server side: tools/enterprise_service.py against the contract
in docs/hook-api.yaml, plus the test PKI from tools/make-pki.sh it runs on.

Run: /usr/bin/python3 -m pytest tests/integration/test_hook_api.py
"""
import http.client
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest

from callcheck import free_port
from openapi_check import KNOWN, SCHEMAS, assert_valid, schema_errors

REPO = Path(__file__).resolve().parents[2]
SERVICE = REPO / "tools" / "enterprise_service.py"
MAKE_PKI = REPO / "tools" / "make-pki.sh"
DEMO_DIR = REPO / "tools" / "demo-directory.json"
PATH = "/acme/tpid/v1/verification"     # apiRoot https://127.0.0.1:PORT/acme

ALICE, ALICE_ID = "tel:+4961519876543", "sip:e102938@acme.example"
BOB, BOB_ID = "tel:+4961517654321", "sip:e554433@acme.example"
MALLORY = "tel:+4961510000666"


def request(served=ALICE, tpid=ALICE_ID, **extra):
    req = {"servedUser": served, "tpid": tpid, "dest": ["tel:+4961511234567"],
           "callId": "a84b4c76e66710@pc33.ims.example", "time": int(time.time())}
    req.update(extra)
    return {"tpidVerificationRequest": req}


# --- PKI and service fixtures -----------------------------------------------------------
@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    out = tmp_path_factory.mktemp("pki")
    run = subprocess.run([str(MAKE_PKI), str(out)], capture_output=True, text=True, check=True)
    assert run.stdout == f"PKI in {out}\n" and run.stderr == ""
    return out


class Service:
    def __init__(self, pki, tmp, args, directory, cert="hook"):
        self.pki, self.port = pki, free_port()
        self.log, self.pidfile = tmp / f"svc-{self.port}.log", tmp / f"svc-{self.port}.pid"
        self.out = open(tmp / f"svc-{self.port}.out", "w+")
        self.proc = subprocess.Popen(
            [sys.executable, str(SERVICE), "--listen", f"127.0.0.1:{self.port}",
             "--cert", str(pki / f"{cert}.pem"), "--key", str(pki / f"{cert}.key"),
             "--directory", str(directory), "--log", str(self.log),
             "--pidfile", str(self.pidfile), *args],
            stdout=self.out, stderr=subprocess.STDOUT)

    def wait_ready(self, ctx):
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.output()
            try:
                if self.call("GET", "/healthz", ctx=ctx)[0] == 200:
                    return self
            except OSError:
                time.sleep(0.05)
        pytest.fail("service did not become ready:\n" + self.output())

    def wait_log(self, text, within=3):
        # The log line may be written just after the client has seen the outcome.
        deadline = time.monotonic() + within
        while text not in self.log.read_text():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.02)
        return True

    def output(self):
        self.out.seek(0)
        return self.out.read() + (self.log.read_text() if self.log.exists() else "")

    def ctx(self, client=None, ca="hook-ca"):
        ctx = ssl.create_default_context(cafile=str(self.pki / f"{ca}.pem"))
        if client:
            ctx.load_cert_chain(self.pki / f"{client}.pem", self.pki / f"{client}.key")
        return ctx

    def call(self, method, path, body=None, headers=None, ctx=None, timeout=5, conn=None):
        own = conn is None
        conn = conn or self.connect(ctx, timeout)
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body).encode()
            hdrs = {"Content-Type": "application/json"} if body is not None else {}
            hdrs.update(headers or {})
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            return resp.status, resp, resp.read()
        finally:
            if own:
                conn.close()

    def connect(self, ctx=None, timeout=5):
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx or self.ctx(),
                                           timeout=timeout)

    def verify(self, body, **kw):
        status, resp, raw = self.call("POST", PATH, body, **kw)
        return status, (json.loads(raw) if raw and status != 302 else None)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.close()


def launcher(pki, tmp):
    """start(*args, directory=..., cert=..., ready_ctx=...) -> a running Service;
    start.stop_all() ends every service it started."""
    started = []

    def start(*args, directory=DEMO_DIR, cert="hook", ready_ctx=None):
        svc = Service(pki, tmp, [str(a) for a in args], directory, cert)
        started.append(svc)
        return svc.wait_ready(ready_ctx or svc.ctx())
    start.stop_all = lambda: [svc.stop() for svc in started]
    return start


@pytest.fixture
def start(pki, tmp_path):
    start = launcher(pki, tmp_path)
    yield start
    start.stop_all()


@pytest.fixture(scope="module")
def svc(pki, tmp_path_factory):
    """One shared demo-directory service for the tests that do not change its state."""
    start = launcher(pki, tmp_path_factory.mktemp("svc"))
    yield start()
    start.stop_all()


# --- the PKI ----------------------------------------------------------------------------
def openssl(*args):
    return subprocess.run(["openssl", *map(str, args)], capture_output=True, text=True)


def test_pki_is_idempotent_and_keys_private(pki):
    before = {p.name: p.stat().st_mtime_ns for p in pki.iterdir()}
    run = subprocess.run([str(MAKE_PKI), str(pki)], capture_output=True, text=True, check=True)
    assert run.stdout == f"PKI in {pki}\n"
    assert {p.name: p.stat().st_mtime_ns for p in pki.iterdir()} == before
    for key in pki.glob("*.key"):
        assert key.stat().st_mode & 0o777 == 0o600, key
        assert "prime256v1" in openssl("pkey", "-in", key, "-noout", "-text").stdout, key


@pytest.mark.parametrize("leaf,ca,purpose", [
    ("sign", "sign-ca", None), ("rogue", "rogue-ca", None), ("hook", "hook-ca", "sslserver"),
    ("hook-wrongca", "wrong-ca", "sslserver"), ("client", "client-ca", "sslclient")])
def test_pki_chains(pki, leaf, ca, purpose):
    extra = ["-purpose", purpose] if purpose else []
    leaf_pem = pki / f"{leaf}.pem"
    assert openssl("verify", *extra, "-CAfile", pki / f"{ca}.pem", leaf_pem).returncode == 0
    other = "rogue-ca" if ca != "rogue-ca" else "sign-ca"
    assert openssl("verify", "-CAfile", pki / f"{other}.pem", leaf_pem).returncode != 0
    text = openssl("x509", "-in", leaf_pem, "-noout", "-text").stdout
    assert "ecdsa-with-SHA256" in text and "CA:FALSE" in text and "Digital Signature" in text
    ca_text = openssl("x509", "-in", pki / f"{ca}.pem", "-noout", "-text").stdout
    assert "CA:TRUE" in ca_text and "Certificate Sign, CRL Sign" in ca_text


def test_pki_expired_hook_cert(pki):
    res = openssl("verify", "-CAfile", pki / "hook-ca.pem", pki / "hook-expired.pem")
    assert res.returncode != 0 and "expired" in res.stdout + res.stderr


# --- the contract: answers and schema ---------------------------------------------------
def test_validator_knows_every_keyword():
    def walk(schema):
        assert set(schema) <= KNOWN, set(schema) - KNOWN
        for sub in schema.get("properties", {}).values():
            walk(sub)
        for key in ("items", "additionalProperties"):
            if isinstance(schema.get(key), dict):
                walk(schema[key])
    for schema in SCHEMAS.values():
        walk(schema)


@pytest.mark.parametrize("served,tpid,result,name", [
    (ALICE, ALICE_ID, "authorized", "Alice Example (ACME Corp.)"),
    ("sip:+4961519876543@ims.example;user=phone", ALICE_ID, "authorized",
     "Alice Example (ACME Corp.)"),
    ("4961519876543", "SIP:E102938@ACME.example", "authorized", "Alice Example (ACME Corp.)"),
    (BOB, BOB_ID, "authorized", "Bob Builder (ACME Corp.)"),
    (MALLORY, ALICE_ID, "denied", None),
    (BOB, ALICE_ID, "denied", None),
    (MALLORY, "sip:ceo@acme.example", "unknown", None),
    ("sip:nobody@acme.example", "sip:e000000@acme.example", "unknown", None),
])
def test_decisions(svc, served, tpid, result, name):
    assert_valid(request(served, tpid), "TpidVerificationRequest")
    status, doc = svc.verify(request(served, tpid))
    assert status == 200
    assert_valid(doc, "TpidVerificationResponse")
    ans = doc["tpidVerificationResponse"]
    assert ans["result"] == result and ans.get("displayName") == name
    assert ans["ttl"] == (300 if result == "authorized" else 30)
    if result == "denied":
        assert ans["reason"] == "tpid belongs to another user"


def test_request_without_call_id_and_plain_api_root(svc):
    body = request()
    del body["tpidVerificationRequest"]["callId"]
    assert_valid(body, "TpidVerificationRequest")
    status, resp, raw = svc.call("POST", "/tpid/v1/verification", body)
    assert status == 200 and json.loads(raw)["tpidVerificationResponse"]["result"] == "authorized"


def inner(**changes):
    body = request()
    for k, v in changes.items():
        if v is KeyError:
            del body["tpidVerificationRequest"][k]
        else:
            body["tpidVerificationRequest"][k] = v
    return body


SCHEMA_VIOLATIONS = {
    "missing tpid": inner(tpid=KeyError), "missing servedUser": inner(servedUser=KeyError),
    "missing dest": inner(dest=KeyError), "missing time": inner(time=KeyError),
    "extra field": inner(foo="bar"), "time string": inner(time="1760000000"),
    "time float": inner(time=1.5), "time bool": inner(time=True), "time negative": inner(time=-1),
    "dest string": inner(dest="tel:+4961511234567"), "dest empty": inner(dest=[]),
    "dest number": inner(dest=[4961511234567]), "empty servedUser": inner(servedUser=""),
    "callId number": inner(callId=7), "inner not object": {"tpidVerificationRequest": []},
    "extra top-level": dict(request(), more=1), "no wrapper": request()["tpidVerificationRequest"],
    "array": [request()],
}


@pytest.mark.parametrize("case", SCHEMA_VIOLATIONS)
def test_schema_violation_gets_400(svc, case):
    body = SCHEMA_VIOLATIONS[case]
    assert schema_errors(body, SCHEMAS["TpidVerificationRequest"]), "document accepts it"
    status, doc = svc.verify(body)
    assert status == 400
    assert_valid(doc, "Error")
    assert doc["error"]["type"] == "serviceError" and doc["error"]["code"] == "BAD_REQUEST"


@pytest.mark.parametrize("body,headers", [
    (b"garbage", {}), (b"", {}), (b"\xff\xfe{}", {}),
    (json.dumps(request()).encode(), {"Content-Type": "text/plain"})])
def test_unparseable_request_gets_400(svc, body, headers):
    status, resp, raw = svc.call("POST", PATH, body, headers=headers)
    assert status == 400
    assert_valid(json.loads(raw), "Error")


def test_other_paths_and_methods(svc):
    status, resp, raw = svc.call("POST", "/acme/tpid/v2/verification", request())
    assert status == 404 and json.loads(raw)["error"]["code"] == "NOT_FOUND"
    for method in ("GET", "PUT", "DELETE"):
        status, resp, raw = svc.call(method, PATH)
        assert status == 405 and resp.getheader("Allow") == "POST"
        assert_valid(json.loads(raw), "Error")


def test_connection_is_kept_alive(svc):
    conn = svc.connect()
    try:
        socks = []
        for who in (ALICE, MALLORY, ALICE):
            assert svc.call("POST", PATH, request(who), conn=conn)[0] == 200
            socks.append(conn.sock)
        assert socks[0] is not None and all(s is socks[0] for s in socks)
    finally:
        conn.close()


def test_log_has_one_line_per_request(start):
    svc = start()
    svc.verify(request(MALLORY, ALICE_ID))
    svc.verify(inner(time="x"))
    # the service writes its log line after the answer has gone out
    deadline = time.time() + 2
    while True:
        lines = [ln for ln in svc.log.read_text().splitlines() if " POST " in ln]
        if len(lines) >= 2 or time.time() > deadline:
            break
        time.sleep(0.02)
    assert len(lines) == 2
    assert f"servedUser={MALLORY}" in lines[0] and f"tpid={ALICE_ID}" in lines[0]
    assert "result=denied" in lines[0] and "status=200" in lines[0]
    assert "status=400" in lines[1]


# --- authentication ---------------------------------------------------------------------
def test_bearer_token(start, tmp_path):
    token = tmp_path / "token"
    token.write_text("s3cret-1\n")
    svc = start("--bearer-token-file", token)
    for hdrs in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret-1"}):
        status, resp, raw = svc.call("POST", PATH, request(), headers=hdrs)
        assert status == 401 and resp.getheader("WWW-Authenticate", "").startswith("Bearer")
        doc = json.loads(raw)
        assert_valid(doc, "Error")
        assert doc["error"]["type"] == "policyError"
    ok = {"Authorization": "Bearer s3cret-1"}
    assert svc.verify(request(), headers=ok)[0] == 200
    token.write_text("s3cret-2\n")      # rotation: the file is read per request
    assert svc.verify(request(), headers=ok)[0] == 401
    assert svc.verify(request(), headers={"Authorization": "Bearer s3cret-2"})[0] == 200


@pytest.mark.parametrize("tls_max", [ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3])
def test_mutual_tls(start, pki, tls_max):
    probe = ssl.create_default_context(cafile=str(pki / "hook-ca.pem"))
    probe.load_cert_chain(pki / "client.pem", pki / "client.key")
    svc = start("--client-ca", pki / "client-ca.pem", ready_ctx=probe)
    for client in (None, "rogue"):      # no certificate; one from an untrusted CA
        ctx = svc.ctx(client)
        ctx.maximum_version = tls_max
        with pytest.raises((ssl.SSLError, ConnectionError)):
            svc.verify(request(), ctx=ctx)
    ctx = svc.ctx("client")
    ctx.maximum_version = tls_max
    status, doc = svc.verify(request(), ctx=ctx)
    assert status == 200 and doc["tpidVerificationResponse"]["result"] == "authorized"
    assert svc.wait_log("TLS handshake failed")


@pytest.mark.parametrize("cert,why", [("hook-expired", "expired"),
                                      ("hook-wrongca", "unable to get local issuer")])
def test_client_rejects_bad_server_cert(start, pki, cert, why):
    lax = ssl.create_default_context()
    lax.check_hostname, lax.verify_mode = False, ssl.CERT_NONE
    svc = start(cert=cert, ready_ctx=lax)
    with pytest.raises(ssl.SSLCertVerificationError, match=why):
        svc.verify(request())


# --- faults -----------------------------------------------------------------------------
def test_fault_none(start):
    assert start("--fault", "none").verify(request())[1]["tpidVerificationResponse"]["result"] \
        == "authorized"


def test_fault_http500(start):
    status, doc = start("--fault", "http500").verify(request())
    assert status == 500
    assert_valid(doc, "Error")


def test_fault_badjson(start):
    svc = start("--fault", "badjson")
    status, resp, raw = svc.call("POST", PATH, request())
    assert status == 200 and raw == b"{not json"


@pytest.mark.parametrize("mode,complaint", [("wrongtypes", "expected"),
                                            ("missingfields", "missing result")])
def test_fault_schema_breaking_answers(start, mode, complaint):
    status, doc = start("--fault", mode).verify(request())
    assert status == 200
    errs = schema_errors(doc, SCHEMAS["TpidVerificationResponse"])
    assert any(complaint in e for e in errs), errs


def test_fault_huge(start):
    svc = start("--fault", "huge")
    status, resp, raw = svc.call("POST", PATH, request(), timeout=20)
    assert status == 200 and len(raw) >= 1 << 20
    assert int(resp.getheader("Content-Length")) == len(raw)
    assert_valid(json.loads(raw), "TpidVerificationResponse")


def test_fault_redirect(start):
    status, resp, raw = start("--fault", "redirect").call("POST", PATH, request())
    assert status == 302 and resp.getheader("Location") == "https://127.0.0.1:1/elsewhere"


@pytest.mark.parametrize("args", [("--fault", "slow", "--delay-ms", 800), ("--delay-ms", 800)])
def test_fault_slow_and_delay(start, args):
    svc = start(*args)
    with pytest.raises(TimeoutError):
        svc.verify(request(), timeout=0.3)
    t0 = time.monotonic()
    status, doc = svc.verify(request(), timeout=5)
    assert status == 200 and time.monotonic() - t0 >= 0.8
    assert doc["tpidVerificationResponse"]["result"] == "authorized"


def test_fault_close(start):
    svc = start("--fault", "close")
    with pytest.raises((ConnectionError, ssl.SSLError, http.client.BadStatusLine)):
        svc.verify(request())
    assert svc.call("GET", "/healthz")[0] == 200    # health checks are never faulted


# --- directory changes, robustness, lifecycle -------------------------------------------
def write_directory(path, users, atomic=True):
    doc = {"enterprise": "acme.example", "defaultTtl": 300, "denyTtl": 30, "users": users}
    tmp = path.with_suffix(".new") if atomic else path
    tmp.write_text(json.dumps(doc))
    if atomic:
        os.replace(tmp, path)


def test_directory_rewrite_takes_effect(start, tmp_path):
    directory = tmp_path / "dir.json"
    shutil.copy(DEMO_DIR, directory)
    svc = start(directory=directory)

    def result(who=ALICE):
        return svc.verify(request(who))[1]["tpidVerificationResponse"]
    assert result()["result"] == "authorized"
    # Alice is fired: her ID is gone from the directory.
    write_directory(directory, {ALICE: [], BOB: [{"tpid": BOB_ID, "validUntil": 0}]})
    assert result()["result"] == "unknown"
    # Her ID is reassigned to Bob (rewritten in place this time).
    write_directory(directory, {BOB: [{"tpid": ALICE_ID, "displayName": "B"}]}, atomic=False)
    assert result()["result"] == "denied" and result(BOB)["displayName"] == "B"
    # A half-written file, or one with a bad value, keeps the last good directory.
    directory.write_text('{"users": {')
    assert result(BOB)["result"] == "authorized"
    write_directory(directory, {BOB: [{"tpid": BOB_ID, "validUntil": "soon"}]})
    assert result(BOB)["result"] == "authorized"      # loaded, Bob's ALICE_ID would be gone
    assert svc.log.read_text().count("unreadable") == 2


def test_valid_until(start, tmp_path):
    directory = tmp_path / "dir.json"
    now = int(time.time())
    write_directory(directory, {ALICE: [{"tpid": ALICE_ID, "validUntil": now - 1}],
                                BOB: [{"tpid": BOB_ID, "validUntil": now + 100}]})
    svc = start(directory=directory)
    ans = svc.verify(request())[1]["tpidVerificationResponse"]
    assert ans["result"] == "denied" and ans["reason"] == "authorization expired"
    ans = svc.verify(request(BOB, BOB_ID))[1]["tpidVerificationResponse"]
    assert ans["result"] == "authorized" and 0 < ans["ttl"] <= 100


def test_refuses_to_start_without_directory(pki, tmp_path):
    run = subprocess.run(
        [sys.executable, str(SERVICE), "--listen", f"127.0.0.1:{free_port()}",
         "--cert", str(pki / "hook.pem"), "--key", str(pki / "hook.key"),
         "--directory", str(tmp_path / "missing.json")], capture_output=True, text=True,
        timeout=10)
    assert run.returncode != 0 and "cannot load directory" in run.stderr


def raw_tls(svc, data):
    with socket.create_connection(("127.0.0.1", svc.port), timeout=5) as s:
        with svc.ctx().wrap_socket(s, server_hostname="127.0.0.1") as t:
            t.sendall(data)
            try:
                return t.recv(4096)
            except (ConnectionError, ssl.SSLError):
                return b""


def test_survives_hostile_clients(svc):
    # http.server's own error pages (no status line for a request line without version)
    assert b"Error code: 400" in raw_tls(svc, b"\x00\x01GARBAGE\r\n\r\n")
    assert raw_tls(svc, b"GET / HTTP/1.1\r\n" + b"X: y\r\n" * 200 + b"\r\n") \
        .startswith(b"HTTP/1.1 431")
    assert raw_tls(svc, b"POST " + PATH.encode() + b" HTTP/1.1\r\nContent-Length: 99999999"
                   b"\r\n\r\n").startswith(b"HTTP/1.1 400")
    assert raw_tls(svc, b"POST " + PATH.encode() + b" HTTP/1.1\r\nTransfer-Encoding: chunked"
                   b"\r\n\r\n").startswith(b"HTTP/1.1 400")
    with socket.create_connection(("127.0.0.1", svc.port), timeout=5) as s:   # plain HTTP
        s.sendall(b"GET /healthz HTTP/1.1\r\n\r\n")
        try:
            assert not s.recv(100).startswith(b"HTTP")
        except ConnectionError:
            pass
    with socket.create_connection(("127.0.0.1", svc.port), timeout=5):       # silent client
        assert svc.call("GET", "/healthz")[0] == 200
    assert svc.verify(request())[0] == 200


def test_pidfile_and_sigterm(start):
    svc = start("--fault", "slow", "--delay-ms", 5000)
    assert int(svc.pidfile.read_text()) == svc.proc.pid
    conn = svc.connect(timeout=10)
    conn.request("POST", PATH, body=json.dumps(request()),
                 headers={"Content-Type": "application/json"})
    time.sleep(0.2)                      # the answer is now sleeping in its thread
    svc.proc.send_signal(signal.SIGTERM)
    assert svc.proc.wait(3) == 0
    conn.close()
    assert not svc.pidfile.exists()
    assert svc.log.read_text().rstrip().endswith("stopped")


def test_log_bodies(start, tmp_path):
    bodies = tmp_path / "bodies.jsonl"
    svc = start("--log-bodies", bodies)
    sent = request(MALLORY, ALICE_ID)
    svc.verify(sent)
    svc.call("POST", PATH, b"{not json")
    svc.call("GET", "/healthz")                       # no body: not logged
    deadline = time.monotonic() + 3
    while len(bodies.read_text().splitlines()) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    recs = [json.loads(line) for line in bodies.read_text().splitlines()]
    assert len(recs) == 2
    assert recs[0]["request"] == sent and recs[0]["status"] == 200
    assert recs[0]["answer"]["tpidVerificationResponse"]["result"] == "denied"
    assert recs[1]["request"] == "{not json" and recs[1]["status"] == 400
    assert_valid(recs[1]["answer"], "Error")
