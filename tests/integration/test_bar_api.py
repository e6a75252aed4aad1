# SPDX-License-Identifier: GPL-2.0-or-later
"""The avatar repository's server side: tools/bar_service.py against the contract in
docs/bar-api.yaml. Starts its own service on a free port (no Kamailio).

Run: /usr/bin/python3 -m pytest tests/integration/test_bar_api.py
"""
import http.client
import json
import ssl
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import pytest

from callcheck import free_port, sri
from openapi_check import BAR_SCHEMAS, KNOWN, assert_valid, schema_errors

REPO = Path(__file__).resolve().parents[2]
SERVICE = REPO / "tools" / "bar_service.py"
DATA = REPO / "tools" / "demo-bar.json"
ROOT = "/bar-root"
AUTHZ = ROOT + "/bar/v1/authorization"

ALICE, BOB, CALLEE, MALLORY = ("tel:+4961519876543", "tel:+4961517654321",
                               "tel:+4961511234567", "tel:+4961510000666")
CREDS = {c["user"]: c["token"] for c in json.loads(DATA.read_text())["credentials"]
         if "expires" not in c}
EXPIRED = [c["token"] for c in json.loads(DATA.read_text())["credentials"]
           if "expires" in c][0]
NODE_TOKEN = "node-" + "7" * 24


def rep_path(aid):
    return f"{ROOT}/bar/v1/avatars/{urllib.parse.quote(aid, safe='')}/representation"


def demo(aid):
    return (REPO / "tools" / "demo-avatars" / f"{aid}.glb").read_bytes()


def request(served=ALICE, aid="alice-01", dest=(CALLEE,), **extra):
    req = {"servedUser": served, "avatarId": aid, "dest": list(dest),
           "callId": "a84b4c76e66710@pc33.ims.example", "time": int(time.time())}
    req.update(extra)
    return {"avatarAuthorizationRequest": req}


@pytest.fixture(scope="session")
def pki():
    out = REPO / "build" / "pki"
    subprocess.run(["bash", str(REPO / "tools" / "make-pki.sh"), str(out)], check=True,
                   stdout=subprocess.DEVNULL)
    return out


class Bar:
    def __init__(self, pki, tmp, *args):
        self.pki, self.port = pki, free_port()
        tok = tmp / "node.token"
        tok.write_text(NODE_TOKEN + "\n")
        self.bodies = tmp / f"bodies-{self.port}.jsonl"
        self.proc = subprocess.Popen(
            [sys.executable, str(SERVICE), "--listen", f"127.0.0.1:{self.port}",
             "--cert", str(pki / "hook.pem"), "--key", str(pki / "hook.key"),
             "--data", str(DATA), "--client-ca", str(pki / "client-ca.pem"),
             "--node-token-file", str(tok), "--log", str(tmp / f"bar-{self.port}.log"),
             "--log-bodies", str(self.bodies), *args],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            assert self.proc.poll() is None
            try:
                if self.call("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.05)
        pytest.fail("bar_service did not come up")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(5)

    def ctx(self, client=False):
        ctx = ssl.create_default_context(cafile=str(self.pki / "hook-ca.pem"))
        if client:
            ctx.load_cert_chain(self.pki / "client.pem", self.pki / "client.key")
        return ctx

    def call(self, method, path, body=None, token=None, client=False, headers=None):
        conn = http.client.HTTPSConnection("127.0.0.1", self.port,
                                           context=self.ctx(client), timeout=15)
        try:
            hdrs = dict(headers or {})
            if isinstance(body, dict):
                body = json.dumps(body).encode()
                hdrs.setdefault("Content-Type", "application/json")
            if token:
                hdrs["Authorization"] = "Bearer " + token
            conn.request(method, path, body=body, headers=hdrs)
            r = conn.getresponse()
            return r.status, r, r.read()
        finally:
            conn.close()

    def authorize(self, body, **kw):
        status, r, raw = self.call("POST", AUTHZ, body, **kw)
        return status, (json.loads(raw) if raw and status != 302 else None)


@pytest.fixture
def bar(pki, tmp_path):
    b = Bar(pki, tmp_path, "--ttl", "2")
    yield b
    b.stop()


# ---- the IMS node's question -----------------------------------------------------------
def test_validator_knows_every_keyword():
    def walk(schema):
        assert set(schema) <= KNOWN, set(schema) - KNOWN
        for sub in schema.get("properties", {}).values():
            walk(sub)
        if isinstance(schema.get("items"), dict):
            walk(schema["items"])
    for schema in BAR_SCHEMAS.values():
        walk(schema)
    # the validator really refuses: a digest of the wrong form
    assert schema_errors({"url": "https://x", "mediaType": "a/b", "digest": "sha256-x"},
                         BAR_SCHEMAS["Representation"], schemas=BAR_SCHEMAS)


@pytest.mark.parametrize("auth", ["bearer", "mtls"])
def test_authorized_answer_names_the_representation(bar, auth):
    kw = {"token": NODE_TOKEN} if auth == "bearer" else {"client": True}
    req = request()
    assert_valid(req, "AvatarAuthorizationRequest", BAR_SCHEMAS)
    status, ans = bar.authorize(req, **kw)
    assert status == 200
    assert_valid(ans, "AvatarAuthorizationResponse", BAR_SCHEMAS)
    a = ans["avatarAuthorizationResponse"]
    assert a["result"] == "authorized" and a["ttl"] == 2
    assert a["representation"] == {
        "url": f"https://127.0.0.1:{bar.port}{rep_path('alice-01')}",
        "mediaType": "model/gltf-binary", "digest": sri(demo("alice-01"))}


@pytest.mark.parametrize("served,aid,result", [
    (MALLORY, "alice-01", "denied"), (BOB, "alice-01", "denied"),
    (ALICE, "nobody", "unknown"), ("sip:+4961519876543@ims.example;user=phone",
                                   "alice-01", "authorized")])
def test_decisions(bar, served, aid, result):
    status, ans = bar.authorize(request(served=served, aid=aid), token=NODE_TOKEN)
    assert status == 200
    assert_valid(ans, "AvatarAuthorizationResponse", BAR_SCHEMAS)
    a = ans["avatarAuthorizationResponse"]
    assert a["result"] == result
    assert ("representation" in a) == (result == "authorized")


@pytest.mark.parametrize("kw", [{}, {"token": "wrong"}, {"token": CREDS[ALICE]}])
def test_only_authenticated_ims_nodes_may_ask(bar, kw):
    status, ans = bar.authorize(request(), **kw)
    assert status == 401
    assert_valid(ans, "Error", BAR_SCHEMAS)
    # nothing was granted by an unauthenticated question
    assert bar.call("GET", rep_path("alice-01"), token=CREDS[CALLEE])[0] == 403


@pytest.mark.parametrize("body", [
    b"{not json", b"[]", json.dumps({"x": 1}).encode(),
    json.dumps(request(aid="../etc")).encode(), json.dumps(request(aid="")).encode(),
    json.dumps(request(aid="a" * 129)).encode(), json.dumps(request(dest=[])).encode(),
    json.dumps(request(time=-1)).encode(), json.dumps(request(time=True)).encode(),
    json.dumps(request(extra=1)).encode()])
def test_bad_requests_get_400(bar, body):
    status, _, raw = bar.call("POST", AUTHZ, body, token=NODE_TOKEN,
                              headers={"Content-Type": "application/json"})
    assert status == 400
    assert_valid(json.loads(raw), "Error", BAR_SCHEMAS)


def test_oversized_request_refused(bar):
    status, _, _ = bar.call("POST", AUTHZ, b"{" + b" " * (70 * 1024) + b"}",
                            token=NODE_TOKEN, headers={"Content-Type": "application/json"})
    assert status in (400, 413)
    assert bar.proc.poll() is None


# ---- stored objects --------------------------------------------------------------------
def test_grant_lets_the_destination_read_until_it_expires(bar):
    path = rep_path("alice-01")
    assert bar.call("GET", path, token=CREDS[CALLEE])[0] == 403        # no grant yet
    assert bar.authorize(request(), token=NODE_TOKEN)[0] == 200         # ttl 2 s
    status, r, body = bar.call("GET", path, token=CREDS[CALLEE])
    assert status == 200 and body == demo("alice-01")
    assert r.getheader("Content-Type") == "model/gltf-binary"
    assert sri(body) == sri(demo("alice-01"))
    # the owner always, others never
    assert bar.call("GET", path, token=CREDS[ALICE])[0] == 200
    status, _, body = bar.call("GET", path, token=CREDS[MALLORY])
    assert status == 403 and demo("alice-01") not in body
    time.sleep(2.3)
    status, _, body = bar.call("GET", path, token=CREDS[CALLEE])
    assert status == 403 and demo("alice-01") not in body


@pytest.mark.parametrize("token,status", [(None, 401), ("made-up", 401), (EXPIRED, 401),
                                          (NODE_TOKEN, 401)])
def test_downloads_without_valid_user_credentials(bar, token, status):
    got, r, body = bar.call("GET", rep_path("alice-01"), token=token)
    assert got == status and demo("alice-01") not in body
    assert r.getheader("WWW-Authenticate", "").startswith("Bearer")


@pytest.mark.parametrize("aid", ["nobody", "..", "alice-01%2F..", "%ff", "alice 01"])
def test_unknown_or_hostile_avatar_ids_get_403(bar, aid):
    path = f"{ROOT}/bar/v1/avatars/{aid.replace(' ', '%20')}/representation"
    status, _, body = bar.call("GET", path, token=CREDS[ALICE])
    assert status in (403, 404) and demo("alice-01") not in body
    assert bar.proc.poll() is None


def test_owner_replaces_the_representation(bar):
    path = rep_path("alice-01")
    assert bar.call("PUT", path, b"new bytes", token=CREDS[MALLORY])[0] == 403
    assert bar.call("PUT", path, b"new bytes")[0] == 401
    assert bar.call("PUT", path, b"new bytes", token=CREDS[ALICE])[0] == 204
    a = bar.authorize(request(), token=NODE_TOKEN)[1]["avatarAuthorizationResponse"]
    assert a["representation"]["digest"] == sri(b"new bytes")
    assert bar.call("GET", path, token=CREDS[CALLEE])[2] == b"new bytes"


def test_avatar_list_only_for_the_user_or_a_node(bar):
    path = f"{ROOT}/bar/v1/users/{urllib.parse.quote(ALICE, safe='')}/avatars"
    for kw in ({"token": CREDS[ALICE]}, {"token": NODE_TOKEN}, {"client": True}):
        status, _, raw = bar.call("GET", path, **kw)
        assert status == 200
        assert_valid(json.loads(raw), "AvatarList", BAR_SCHEMAS)
        assert json.loads(raw) == {"avatars": ["alice-01"]}
    assert bar.call("GET", path, token=CREDS[MALLORY])[0] == 403
    assert bar.call("GET", path)[0] == 401


# ---- faults ----------------------------------------------------------------------------
@pytest.mark.parametrize("fault,check", [
    ("http500", lambda s, a: s == 500),
    ("badjson", lambda s, a: s == 200 and a is None),
    ("wrongtypes", lambda s, a: s == 200 and schema_errors(
        a, BAR_SCHEMAS["AvatarAuthorizationResponse"], schemas=BAR_SCHEMAS)),
    ("missingfields", lambda s, a: s == 200 and schema_errors(
        a, BAR_SCHEMAS["AvatarAuthorizationResponse"], schemas=BAR_SCHEMAS)),
    ("redirect", lambda s, a: s == 302),
    ("wrongdigest", lambda s, a: s == 200 and a["avatarAuthorizationResponse"]
     ["representation"]["digest"] != sri(demo("alice-01"))),
])
def test_fault_modes(pki, tmp_path, fault, check):
    b = Bar(pki, tmp_path, "--fault", fault)
    try:
        status, _, raw = b.call("POST", AUTHZ, request(), token=NODE_TOKEN)
        try:
            ans = json.loads(raw) if raw else None
        except ValueError:
            ans = None
        assert check(status, ans)
    finally:
        b.stop()


def test_requests_and_answers_logged_match_the_contract(bar):
    bar.authorize(request(), token=NODE_TOKEN)
    bar.authorize(request(served=MALLORY), token=NODE_TOKEN)
    # the service logs an exchange once it has answered it
    deadline = time.time() + 3
    while True:
        lines = [json.loads(l) for l in bar.bodies.read_text().splitlines()]
        if len(lines) >= 2 or time.time() > deadline:
            break
        time.sleep(0.05)
    assert len(lines) == 2
    for rec in lines:
        assert_valid(rec["request"], "AvatarAuthorizationRequest", BAR_SCHEMAS)
        assert_valid(rec["answer"], "AvatarAuthorizationResponse", BAR_SCHEMAS)
