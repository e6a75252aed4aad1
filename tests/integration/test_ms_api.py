# SPDX-License-Identifier: GPL-2.0-or-later
"""The Ms signing and verification service: tools/sti_service.py against the contract in
docs/ms-api.yaml. Starts its own services on free ports with a PKI of its own (no
Kamailio); the last test starts it the way tools/stack.py does, on 127.0.0.1:8490.

Tokens are checked and made with independent code (PyJWT and python3-cryptography),
not with the service's own functions.

Run: flock /tmp/tpid-integration.lock /usr/bin/python3 -m pytest tests/integration/test_ms_api.py
"""
import base64
import http.client
import json
import os
import socket
import ssl
import subprocess
import sys
import time
import uuid
from pathlib import Path

import jwt
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, utils

from callcheck import free_port
from openapi_check import KNOWN, schema_errors
import stack as S

REPO = Path(__file__).resolve().parents[2]
SERVICE = REPO / "tools" / "sti_service.py"
MAKE_PKI = REPO / "tools" / "make-pki.sh"
MS = yaml.safe_load((REPO / "docs" / "ms-api.yaml").read_text())
SCHEMAS = MS["components"]["schemas"]
SIGN_PATH, VERIFY_PATH = "/ms/stir/v1/signing", "/ms/stir/v1/verification"

X5U = "https://127.0.0.1:8470/sti.pem"            # the service's own certificate
SIGN_X5U = "https://cert.example.net/tpid.pem"   # another trusted signer (sign.pem)
ROGUE_X5U = "https://rogue.example/rogue.pem"    # trusted, but not chained to sign-ca
EXPIRED_X5U = "https://cert.example.net/expired.pem"
NODS_X5U = "https://cert.example.net/nods.pem"
ALICE, CALLEE, OTHER = "4961519876543", "4961511234567", "4961510000666"
ALICE_ID = "sip:e102938@acme.example"
DIGEST = "sha256-aSSGbLuM5LF+yEmvmud55APJrbIiQBKzpdJ9/WoCFEY="


def valid(doc, name):
    errs = schema_errors(doc, SCHEMAS[name], schemas=SCHEMAS)
    assert not errs, (errs, doc)


# --- requests ---------------------------------------------------------------------------
def claims(ppt="rcd", iat=None):
    iat = int(time.time()) if iat is None else iat
    c = {"orig": {"tn": ALICE}, "dest": {"tn": [CALLEE]}, "iat": iat,
         "origid": str(uuid.uuid4())}
    if ppt == "rcd":
        c.update(rcd={"nam": "Alice Example (ACME Corp.)"},
                 tpid={"exp": iat + 300, "id": ALICE_ID, "iss": "acme.example"})
    else:
        c.update(avatar={"aid": "alice-01", "fmt": "model/gltf-binary",
                         "bar": "https://bar.example.net/bar/v1/avatars/alice-01/representation"},
                 avatari={"/avatar/bar": DIGEST})
    return c


def signing(ppt="rcd", **changes):
    req = dict(claims(ppt), ppt=ppt)
    for k, v in changes.items():
        if v is KeyError:
            del req[k]
        else:
            req[k] = v
    return {"signingRequest": req}


def verification(header, frm=None, to=None, t=None, **changes):
    req = {"identityHeader": header, "from": frm or {"tn": ALICE},
           "to": to or {"tn": [CALLEE]}, "time": int(time.time()) if t is None else t}
    for k, v in changes.items():
        if v is KeyError:
            del req[k]
        else:
            req[k] = v
    return {"verificationRequest": req}


# --- independent JOSE (python3-cryptography), for tokens the tests craft ----------------------
def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64u(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_key(path):
    return serialization.load_pem_private_key(Path(path).read_bytes(), password=None)


def cert_key(path):
    return x509.load_pem_x509_certificate(Path(path).read_bytes()).public_key()


def craft(key, h, p, params=None, raw_h=None, raw_p=None, der=False):
    """An Identity header value: H and P (or their raw bytes) signed with key (a PEM
    file), with the given parameters (default info=<x5u>;alg=ES256;ppt=<ppt>)."""
    hb = raw_h if raw_h is not None else json.dumps(h, separators=(",", ":")).encode()
    pb = raw_p if raw_p is not None else json.dumps(p, separators=(",", ":")).encode()
    si = f"{b64u(hb)}.{b64u(pb)}".encode()
    sig = load_key(key).sign(si, ec.ECDSA(hashes.SHA256()))
    if not der:
        r, s = utils.decode_dss_signature(sig)
        sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    if params is None:
        params = f";info=<{h['x5u']}>;alg=ES256;ppt={h['ppt']}"
    return f"{si.decode()}.{b64u(sig)}{params}"


def header(ppt="rcd", x5u=X5U, **extra):
    return dict({"alg": "ES256", "ppt": ppt, "typ": "passport", "x5u": x5u}, **extra)


def payload(ppt="rcd", iat=None):
    return claims(ppt, iat)


def split(identity):
    """(H, P, signature bytes, raw H bytes, raw P bytes, parameters) of a header value."""
    jws, params = identity.split(";", 1)
    h, p, s = jws.split(".")
    return (json.loads(unb64u(h)), json.loads(unb64u(p)), unb64u(s), unb64u(h),
            unb64u(p), ";" + params)


def pyjwt_decode(identity, pki, cert="sti"):
    """The payload PyJWT finds in the header's JWS with that certificate's key."""
    return jwt.decode(identity.split(";", 1)[0], key=cert_key(pki / f"{cert}.pem"),
                      algorithms=["ES256"])


# --- PKI and service fixtures -----------------------------------------------------------
@pytest.fixture(scope="session")
def pki(tmp_path_factory):
    out = tmp_path_factory.mktemp("pki")
    subprocess.run([str(MAKE_PKI), str(out)], capture_output=True, check=True)
    return out


class Service:
    def __init__(self, pki, tmp, args, fault_file=False):
        self.pki, self.port = pki, free_port()
        self.log, self.pidfile = tmp / f"sti-{self.port}.log", tmp / f"sti-{self.port}.pid"
        self.fault_file = tmp / f"sti-{self.port}.fault"
        self.out = open(tmp / f"sti-{self.port}.out", "w+")
        trust = [(SIGN_X5U, "sign"), (ROGUE_X5U, "rogue"), (EXPIRED_X5U, "sign-expired"),
                 (NODS_X5U, "sign-noDS")]
        argv = [sys.executable, str(SERVICE), "--listen", f"127.0.0.1:{self.port}",
                "--cert", str(pki / "hook.pem"), "--key", str(pki / "hook.key"),
                "--sign-key", str(pki / "sti.key"), "--sign-cert", str(pki / "sti.pem"),
                "--x5u", X5U, "--ca", str(pki / "sign-ca.pem"),
                "--other-key", str(pki / "sign2.key"), "--log", str(self.log),
                "--pidfile", str(self.pidfile)]
        for url, name in trust:
            argv += ["--trust", f"{url}={pki / (name + '.pem')}"]
        if fault_file:
            argv += ["--fault-file", str(self.fault_file)]
        self.proc = subprocess.Popen(argv + list(args), stdout=self.out,
                                     stderr=subprocess.STDOUT)

    def wait_ready(self, ctx):
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.output()
            if self.log.exists() and "listening on" in self.log.read_text():
                if ctx is None:          # fault "down": nothing answers
                    return self
                try:
                    if self.call("GET", "/healthz", ctx=ctx)[0] == 200:
                        return self
                except OSError:
                    pass
            time.sleep(0.05)
        pytest.fail("service did not become ready:\n" + self.output())

    def output(self):
        self.out.seek(0)
        return self.out.read() + (self.log.read_text() if self.log.exists() else "")

    def log_lines(self, want, within=3):
        # a request's line is written just after its answer went out
        deadline = time.monotonic() + within
        while True:
            lines = [ln for ln in self.log.read_text().splitlines() if " POST " in ln]
            if len(lines) >= want or time.monotonic() > deadline:
                return lines
            time.sleep(0.02)

    def ctx(self, client=None):
        ctx = ssl.create_default_context(cafile=str(self.pki / "hook-ca.pem"))
        if client:
            ctx.load_cert_chain(self.pki / f"{client}.pem", self.pki / f"{client}.key")
        return ctx

    def connect(self, ctx=None, timeout=5):
        return http.client.HTTPSConnection("127.0.0.1", self.port, context=ctx or self.ctx(),
                                           timeout=timeout)

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

    def post(self, path, body, **kw):
        status, resp, raw = self.call("POST", path, body, **kw)
        return status, json.loads(raw)

    def sign(self, body, **kw):
        return self.post(SIGN_PATH, body, **kw)

    def verify(self, body, **kw):
        return self.post(VERIFY_PATH, body, **kw)

    def identity(self, ppt="rcd", **changes):
        """A header the service signed (without a fault)."""
        status, doc = self.sign(signing(ppt, **changes))
        assert status == 200, doc
        return doc["signingResponse"]["identityHeader"]

    def set_fault(self, fault, delay_ms=None):
        tmp = self.fault_file.with_suffix(".new")
        tmp.write_text(fault + (f" {delay_ms}" if delay_ms is not None else "") + "\n")
        os.replace(tmp, self.fault_file)

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
    started = []

    def start(*args, ready=True, ready_ctx=None, fault_file=False):
        """A running service; ready=False: do not wait for an answer (fault down)."""
        svc = Service(pki, tmp, [str(a) for a in args], fault_file)
        started.append(svc)
        return svc.wait_ready((ready_ctx or svc.ctx()) if ready else None)
    start.stop_all = lambda: [svc.stop() for svc in started]
    return start


@pytest.fixture
def start(pki, tmp_path):
    start = launcher(pki, tmp_path)
    yield start
    start.stop_all()


@pytest.fixture(scope="module")
def svc(pki, tmp_path_factory):
    """One shared service without a fault, for the tests that do not change it."""
    start = launcher(pki, tmp_path_factory.mktemp("svc"))
    yield start()
    start.stop_all()


@pytest.fixture(scope="module")
def switched(pki, tmp_path_factory):
    """One shared service whose fault the tests switch at run time (--fault-file)."""
    start = launcher(pki, tmp_path_factory.mktemp("switched"))
    yield start(fault_file=True)
    start.stop_all()


@pytest.fixture(params=["at-start", "at-run-time"])
def faulty(request, start, switched):
    """faulty(FAULT, delay_ms=None) -> a service misbehaving so: started with --fault
    (and --delay-ms), or the shared one switched by its fault file."""
    def make(fault, delay_ms=None):
        if request.param == "at-start":
            extra = ["--delay-ms", delay_ms] if delay_ms is not None else []
            return start("--fault", fault, *extra, ready=fault != "down")
        switched.set_fault(fault, delay_ms)
        return switched
    yield make
    if request.param == "at-run-time":
        switched.set_fault("none")


# --- the document -----------------------------------------------------------------------
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


def test_document_examples_are_valid():
    n = 0
    for op in MS["paths"].values():
        post = op["post"]
        for part in (post["requestBody"], post["responses"]["200"]):
            media = part["content"]["application/json"]
            name = media["schema"]["$ref"].rsplit("/", 1)[1]
            examples = [media["example"]] if "example" in media else \
                [e["value"] for e in media["examples"].values()]
            for ex in examples:
                valid(ex, name)
                n += 1
    assert n == 6


def test_signing_example_verifies_with_its_certificate(pki):
    # The example was signed with the test PKI of its day: only its form can be checked
    # here; its payload is the example request's claims.
    media = MS["paths"]["/stir/v1/signing"]["post"]
    ex = media["responses"]["200"]["content"]["application/json"]["example"]
    req = media["requestBody"]["content"]["application/json"]["examples"]["rcd"]["value"]
    h, p, sig, _, raw_p, params = split(ex["signingResponse"]["identityHeader"])
    inner = dict(req["signingRequest"])
    del inner["ppt"]
    assert h == header() and p == inner and len(sig) == 64
    assert raw_p == json.dumps(p, separators=(",", ":"), sort_keys=True).encode()


# --- signing ----------------------------------------------------------------------------
@pytest.mark.parametrize("ppt", ["rcd", "avatar"])
def test_sign_answers_the_claims_canonically(svc, pki, ppt):
    req = signing(ppt)
    valid(req, "SigningRequest")
    status, doc = svc.sign(req)
    assert status == 200
    valid(doc, "SigningResponse")
    h, p, sig, raw_h, raw_p, params = split(doc["signingResponse"]["identityHeader"])
    want = {k: v for k, v in req["signingRequest"].items() if k != "ppt"}
    assert h == header(ppt) and p == want
    assert raw_h == json.dumps(h, separators=(",", ":"), sort_keys=True).encode()
    assert raw_p == json.dumps(p, separators=(",", ":"), sort_keys=True,
                               ensure_ascii=False).encode()
    assert params == f";info=<{X5U}>;alg=ES256;ppt={ppt}"
    assert len(sig) == 64


@pytest.mark.parametrize("ppt", ["rcd", "avatar"])
def test_token_verifies_with_pyjwt(svc, pki, ppt):
    identity = svc.identity(ppt)
    jws = identity.split(";", 1)[0]
    assert jwt.get_unverified_header(jws) == header(ppt)
    assert pyjwt_decode(identity, pki) == split(identity)[1]
    # ... and only with the service's key: not with another signer's certificate,
    # nor with one bit of the payload changed
    with pytest.raises(jwt.InvalidSignatureError):
        pyjwt_decode(identity, pki, cert="sign")
    h, p, s = jws.split(".")
    tampered = json.loads(unb64u(p))
    tampered["iat"] += 1
    forged = f"{h}.{b64u(json.dumps(tampered).encode())}.{s}"
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(forged, key=cert_key(pki / "sti.pem"), algorithms=["ES256"])


def test_utf8_claims_are_signed_as_utf8(svc, pki):
    identity = svc.identity(rcd={"nam": "Jürgen Müller / 株式会社"})
    h, p, sig, raw_h, raw_p, _ = split(identity)
    assert "Jürgen Müller / 株式会社".encode() in raw_p
    assert pyjwt_decode(identity, pki)["rcd"]["nam"] == "Jürgen Müller / 株式会社"


def test_uri_identities_and_several_destinations(svc, pki):
    orig, dest = {"uri": "sip:alice@ims.example"}, {"tn": [CALLEE, OTHER],
                                                   "uri": ["sip:bob@ims.example"]}
    identity = svc.identity(orig=orig, dest=dest)
    assert pyjwt_decode(identity, pki)["orig"] == orig
    status, doc = svc.verify(verification(identity, frm={"uri": "SIP:Alice@IMS.example"},
                                          to={"uri": ["sip:bob@ims.example"]}))
    assert doc["verificationResponse"]["verstatValue"] == "TN-Validation-Passed"


# --- verification -----------------------------------------------------------------------
@pytest.mark.parametrize("ppt", ["rcd", "avatar"])
def test_sign_verify_round_trip(svc, ppt):
    identity = svc.identity(ppt)
    req = verification(identity)
    valid(req, "VerificationRequest")
    status, doc = svc.verify(req)
    assert status == 200
    valid(doc, "VerificationResponse")
    assert doc == {"verificationResponse": {"verstatValue": "TN-Validation-Passed",
                                            "x5u": X5U, "payload": split(identity)[1]}}


def test_verifies_a_token_pyjwt_signed(svc, pki):
    # independent signer: PyJWT's JSON (not sorted) with the service's key
    p = payload()
    jws = jwt.encode(p, load_key(pki / "sti.key"), algorithm="ES256",
                     headers={"ppt": "rcd", "typ": "passport", "x5u": X5U})
    status, doc = svc.verify(verification(f"{jws};info=<{X5U}>;alg=ES256;ppt=rcd"))
    assert doc["verificationResponse"]["verstatValue"] == "TN-Validation-Passed"
    assert doc["verificationResponse"]["payload"] == p


def test_verifies_another_trusted_signer(svc, pki):
    identity = craft(pki / "sign.key", header(x5u=SIGN_X5U), payload())
    status, doc = svc.verify(verification(identity))
    assert doc["verificationResponse"]["verstatValue"] == "TN-Validation-Passed"
    assert doc["verificationResponse"]["x5u"] == SIGN_X5U


def good(pki, **kw):
    return craft(pki / "sti.key", header(**kw), payload())


FAILED, PASSED, NONE = "TN-Validation-Failed", "TN-Validation-Passed", "No-TN-Validation"


def bad_headers(pki):
    """name -> (Identity header value, verstat, reasonCode)."""
    key = pki / "sti.key"
    ok = good(pki)
    jws, params = ok.split(";", 1)
    h, p, s = jws.split(".")
    big = dict(payload(), pad="x" * 9000)
    return {
        "not a jws": ("garbage", FAILED, 438),
        "two parts": (f"{h}.{p};{params}", FAILED, 438),
        "padded base64": (f"{h}=.{p}.{s};{params}", FAILED, 438),
        "empty signature": (f"{h}.{p}.;{params}", FAILED, 438),
        "no parameters": (jws, FAILED, 438),
        "no ppt parameter": (f"{jws};info=<{X5U}>;alg=ES256", FAILED, 438),
        "ppt parameter twice": (f"{ok};ppt=rcd", FAILED, 438),
        "ppt differs": (f"{jws};info=<{X5U}>;alg=ES256;ppt=avatar", FAILED, 438),
        "ppt shaken": (craft(key, header("shaken"), payload()), NONE, 438),
        "alg parameter": (f"{jws};info=<{X5U}>;alg=ES384;ppt=rcd", FAILED, 438),
        "alg in H": (craft(key, header(alg="ES384"), payload()), FAILED, 438),
        "typ": (craft(key, header(typ="JWT"), payload()), FAILED, 438),
        "crit": (craft(key, header(crit=["x"]), payload()), FAILED, 438),
        "duplicate key": (craft(key, header(), None, raw_p=json.dumps(payload())[:-1]
                                .encode() + b',"iat":1}'), FAILED, 438),
        "payload not object": (craft(key, header(), None, raw_p=b"[1]"), FAILED, 438),
        "payload not JSON": (craft(key, header(), None, raw_p=b"{nope"), FAILED, 438),
        "no dest claim": (craft(key, header(), {k: v for k, v in payload().items()
                                                if k != "dest"}), FAILED, 438),
        "iat a string": (craft(key, header(), dict(payload(), iat=str(int(time.time())))),
                         FAILED, 438),
        "rcd claims missing": (craft(key, header(), {k: v for k, v in payload().items()
                                                     if k not in ("rcd",)}), FAILED, 438),
        "too long": (craft(key, header(), big), FAILED, 438),
        "no info": (f"{jws};alg=ES256;ppt=rcd", FAILED, 436),
        "info not x5u": (f"{jws};info=<{SIGN_X5U}>;alg=ES256;ppt=rcd", FAILED, 436),
        "x5u unknown": (craft(pki / "rogue.key", header(x5u="https://x.example/c.pem"),
                              payload()), FAILED, 436),
        "chain": (craft(pki / "rogue.key", header(x5u=ROGUE_X5U), payload()), FAILED, 437),
        "expired": (craft(pki / "sign-expired.key", header(x5u=EXPIRED_X5U), payload()),
                    FAILED, 437),
        "no digitalSignature": (craft(pki / "sign-noDS.key", header(x5u=NODS_X5U),
                                      payload()), FAILED, 437),
        "other key": (craft(pki / "sign2.key", header(), payload()), FAILED, 438),
        "DER signature": (craft(key, header(), payload(), der=True), FAILED, 438),
        "signature altered": (f"{h}.{p}.{s[:-2]}{'AA' if s[-2:] != 'AA' else 'BA'};{params}",
                              FAILED, 438),
    }


@pytest.fixture(scope="module")
def bad(pki):
    return bad_headers(pki)


REFUSED = [
    "not a jws", "two parts", "padded base64", "empty signature", "no parameters",
    "no ppt parameter", "ppt parameter twice", "ppt differs", "ppt shaken",
    "alg parameter", "alg in H", "typ", "crit", "duplicate key", "payload not object",
    "payload not JSON", "no dest claim", "iat a string", "rcd claims missing", "too long",
    "no info", "info not x5u", "x5u unknown", "chain", "expired", "no digitalSignature",
    "other key", "DER signature", "signature altered"]


@pytest.mark.parametrize("case", REFUSED)
def test_refused_headers(svc, bad, case):
    identity, verstat, code = bad[case]
    status, doc = svc.verify(verification(identity))
    assert status == 200
    valid(doc, "VerificationResponse")
    reasons = {403: "Stale Date", 436: "Bad Identity Info", 437: "Unsupported Credential",
               438: "Invalid Identity Header"}
    assert doc == {"verificationResponse": {"verstatValue": verstat, "reasonCode": code,
                                            "reasonText": reasons[code]}}


def test_every_refused_header_case_is_run(bad):
    assert sorted(bad) == sorted(REFUSED)


@pytest.mark.parametrize("params", [";info=<{x}>;alg=ES256;ppt=RCD",
                                    ' ; info = <{x}> ; ppt="rcd" ; foo=bar',
                                    ";info=<{x}>;ppt=rcd"])
def test_accepted_header_parameter_forms(svc, pki, params):
    jws = good(pki).split(";", 1)[0]
    status, doc = svc.verify(verification(jws + params.format(x=X5U)))
    assert doc["verificationResponse"]["verstatValue"] == PASSED, doc


@pytest.mark.parametrize("offset,verstat", [(0, PASSED), (60, PASSED), (-60, PASSED),
                                            (61, FAILED), (-61, FAILED), (3600, FAILED)])
def test_iat_window(svc, offset, verstat):
    identity = svc.identity()
    iat = split(identity)[1]["iat"]
    status, doc = svc.verify(verification(identity, t=iat + offset))
    ans = doc["verificationResponse"]
    assert ans["verstatValue"] == verstat
    if verstat == FAILED:
        assert ans["reasonCode"] == 403 and ans["reasonText"] == "Stale Date"


@pytest.mark.parametrize("frm,to,verstat", [
    ({"tn": ALICE}, {"tn": [CALLEE]}, PASSED),
    ({"uri": "tel:+49-6151-9876543"}, {"uri": [f"sip:+{CALLEE}@ims.example;user=phone"]},
     PASSED),
    ({"tn": ALICE}, {"tn": [OTHER, CALLEE]}, PASSED),
    ({"tn": OTHER}, {"tn": [CALLEE]}, FAILED),
    ({"tn": ALICE}, {"tn": [OTHER]}, FAILED),
    ({"uri": f"sip:{ALICE}@ims.example"}, {"tn": [CALLEE]}, FAILED),   # a user name
    ({"tn": ALICE}, {"uri": [f"sip:{CALLEE}@ims.example"]}, FAILED),
])
def test_orig_and_dest_against_the_call(svc, frm, to, verstat):
    status, doc = svc.verify(verification(svc.identity(), frm=frm, to=to))
    ans = doc["verificationResponse"]
    assert ans["verstatValue"] == verstat, ans
    if verstat == FAILED:
        assert ans["reasonCode"] == 438


# --- bad requests -------------------------------------------------------------------------
def inner(top, body, **changes):
    body = json.loads(json.dumps(body))
    for k, v in changes.items():
        if v is KeyError:
            del body[top][k]
        else:
            body[top][k] = v
    return body


def sreq(**changes):
    return inner("signingRequest", signing(), **changes)


SIGNING_BAD = {
    # name: (body, status, messageId, part; the document refuses it too?)
    "missing orig": (sreq(orig=KeyError), 400, "SVC0002", "signingRequest.orig", True),
    "missing dest": (sreq(dest=KeyError), 400, "SVC0002", "signingRequest.dest", True),
    "missing iat": (sreq(iat=KeyError), 400, "SVC0002", "signingRequest.iat", True),
    "missing origid": (sreq(origid=KeyError), 400, "SVC0002", "signingRequest.origid", True),
    "missing ppt": (sreq(ppt=KeyError), 400, "SVC0002", "signingRequest.ppt", True),
    "missing tpid": (sreq(tpid=KeyError), 400, "SVC0002", "signingRequest.tpid", False),
    "rcd with avatar": (sreq(avatar=claims("avatar")["avatar"]), 400, "SVC0002",
                        "signingRequest.avatar", False),
    "unknown member": (sreq(attest="A"), 400, "SVC0002", "signingRequest.attest", True),
    "ppt shaken": (sreq(ppt="shaken"), 400, "SVC0003", "signingRequest.ppt", True),
    "ppt number": (sreq(ppt=1), 400, "SVC0003", "signingRequest.ppt", True),
    "iat string": (sreq(iat="1760000000"), 400, "SVC0002", "signingRequest.iat", True),
    "iat negative": (sreq(iat=-1), 400, "SVC0002", "signingRequest.iat", True),
    "iat bool": (sreq(iat=True), 400, "SVC0002", "signingRequest.iat", True),
    "iat float": (sreq(iat=1.5), 400, "SVC0002", "signingRequest.iat", True),
    "origid not uuid": (sreq(origid="x"), 400, "SVC0002", "signingRequest.origid", True),
    "orig both": (sreq(orig={"tn": ALICE, "uri": "sip:a@b"}), 400, "SVC0002",
                  "signingRequest.orig", False),
    "orig empty": (sreq(orig={}), 400, "SVC0002", "signingRequest.orig", False),
    "orig tn with +": (sreq(orig={"tn": "+" + ALICE}), 400, "SVC0002",
                       "signingRequest.orig.tn", True),
    "orig tn array": (sreq(orig={"tn": [ALICE]}), 400, "SVC0002", "signingRequest.orig.tn",
                      True),
    "dest empty": (sreq(dest={}), 400, "SVC0002", "signingRequest.dest", False),
    "dest tn empty": (sreq(dest={"tn": []}), 400, "SVC0002", "signingRequest.dest.tn", True),
    "dest tn string": (sreq(dest={"tn": CALLEE}), 400, "SVC0002", "signingRequest.dest.tn",
                       True),
    "dest uri blank": (sreq(dest={"uri": ["sip:a b@c"]}), 400, "SVC0002",
                       "signingRequest.dest.uri[0]", True),
    "dest nine": (sreq(dest={"tn": [str(4900000000000 + i) for i in range(9)]}), 403,
                  "POL0003", "signingRequest.dest", False),
    "nam too long": (sreq(rcd={"nam": "x" * 256}), 400, "SVC0002", "signingRequest.rcd.nam",
                     False),
    "rcd extra": (sreq(rcd={"nam": "a", "crn": "b"}), 400, "SVC0002",
                  "signingRequest.rcd.crn", True),
    "tpid exp missing": (sreq(tpid={"id": ALICE_ID, "iss": "acme.example"}), 400, "SVC0002",
                         "signingRequest.tpid.exp", True),
    "tpid id not uri": (sreq(tpid={"exp": 1, "id": "alice", "iss": "acme.example"}), 400,
                        "SVC0002", "signingRequest.tpid.id", True),
    "inner not object": ({"signingRequest": []}, 400, "SVC0002", "signingRequest", True),
    "extra top-level": (dict(signing(), more=1), 400, "SVC0002", "body", True),
    "no wrapper": (signing()["signingRequest"], 400, "SVC0002", "body", True),
    "array": ([signing()], 400, "SVC0002", "body", True),
}


def avatar_bad():
    def areq(**changes):
        return inner("signingRequest", signing("avatar"), **changes)
    av = claims("avatar")["avatar"]
    return {
        "avatar without avatari": (areq(avatari=KeyError), 400, "SVC0002",
                                   "signingRequest.avatari", False),
        "avatar with tpid": (areq(tpid=claims()["tpid"]), 400, "SVC0002",
                             "signingRequest.tpid", False),
        "aid grammar": (areq(avatar=dict(av, aid="a/b")), 400, "SVC0002",
                        "signingRequest.avatar.aid", True),
        "bar http": (areq(avatar=dict(av, bar="http://x/y")), 400, "SVC0002",
                     "signingRequest.avatar.bar", True),
        "digest": (areq(avatari={"/avatar/bar": "sha256-xyz"}), 400, "SVC0002",
                   "signingRequest.avatari./avatar/bar", True),
    }


SIGNING_BAD.update(avatar_bad())


@pytest.mark.parametrize("case", SIGNING_BAD)
def test_bad_signing_request(svc, case):
    body, status, mid, part, in_schema = SIGNING_BAD[case]
    errs = schema_errors(body, SCHEMAS["SigningRequest"], schemas=SCHEMAS)
    assert bool(errs) == in_schema, errs      # else: said in its description only
    got, doc = svc.sign(body)
    assert got == status
    valid(doc, "RequestError")
    kind = "policyException" if mid.startswith("POL") else "serviceException"
    exc = doc["requestError"][kind]
    assert exc["messageId"] == mid and exc["variables"][0] == part, exc
    if mid == "SVC0003":
        assert exc["variables"][1] == "rcd,avatar"


def vreq(**changes):
    return inner("verificationRequest", verification("a.b.c;ppt=rcd"), **changes)


VERIFICATION_BAD = {
    "missing identityHeader": (vreq(identityHeader=KeyError),
                               "verificationRequest.identityHeader"),
    "missing from": (vreq(**{"from": KeyError}), "verificationRequest.from"),
    "missing to": (vreq(to=KeyError), "verificationRequest.to"),
    "missing time": (vreq(time=KeyError), "verificationRequest.time"),
    "empty identityHeader": (vreq(identityHeader=""), "verificationRequest.identityHeader"),
    "identityHeader number": (vreq(identityHeader=1), "verificationRequest.identityHeader"),
    "from tn array": (vreq(**{"from": {"tn": [ALICE]}}), "verificationRequest.from.tn"),
    "to tn string": (vreq(to={"tn": CALLEE}), "verificationRequest.to.tn"),
    "time string": (vreq(time="1"), "verificationRequest.time"),
    "unknown member": (vreq(attest="A"), "verificationRequest.attest"),
}


@pytest.mark.parametrize("case", VERIFICATION_BAD)
def test_bad_verification_request(svc, case):
    body, part = VERIFICATION_BAD[case]
    assert schema_errors(body, SCHEMAS["VerificationRequest"], schemas=SCHEMAS)
    status, doc = svc.verify(body)
    assert status == 400
    valid(doc, "RequestError")
    exc = doc["requestError"]["serviceException"]
    assert exc["messageId"] == "SVC0002" and exc["variables"][0] == part


@pytest.mark.parametrize("path", [SIGN_PATH, VERIFY_PATH])
@pytest.mark.parametrize("body,headers,status,part", [
    (b"{not json", {}, 400, "body"),
    (b"", {}, 400, "body"),
    (b"\xff\xfe{}", {}, 400, "body"),
    (b'{"signingRequest":{},"signingRequest":{}}', {}, 400, "body"),
    (b'{"a":1}', {"Content-Type": "text/plain"}, 415, "Content-Type"),
    (b'{"a":1}', {"Content-Type": "application/x-www-form-urlencoded"}, 415, "Content-Type"),
    (b"{" + b" " * (64 * 1024) + b"}", {}, 413, "body"),
])
def test_hostile_bodies_get_error_objects(svc, path, body, headers, status, part):
    got, resp, raw = svc.call("POST", path, body, headers=headers)
    assert got == status
    doc = json.loads(raw)
    valid(doc, "RequestError")
    exc = doc["requestError"]["serviceException"]
    assert exc["messageId"] == "SVC0002" and exc["variables"][0] == part


def test_other_paths_and_methods(svc):
    status, resp, raw = svc.call("POST", "/ms/stir/v2/signing", signing())
    doc = json.loads(raw)
    assert status == 404 and doc["requestError"]["serviceException"]["variables"] == \
        ["NOT_FOUND"]
    valid(doc, "RequestError")
    for path in (SIGN_PATH, VERIFY_PATH):
        for method in ("GET", "PUT", "DELETE"):
            status, resp, raw = svc.call(method, path)
            assert status == 405 and resp.getheader("Allow") == "POST"
            assert json.loads(raw)["requestError"]["serviceException"]["messageId"] == "SVC0001"
    # any msRoot, also none
    assert svc.call("POST", "/stir/v1/signing", signing())[0] == 200


def raw_tls(svc, data):
    with socket.create_connection(("127.0.0.1", svc.port), timeout=5) as s:
        with svc.ctx().wrap_socket(s, server_hostname="127.0.0.1") as t:
            t.sendall(data)
            try:
                return t.recv(4096)
            except (ConnectionError, ssl.SSLError):
                return b""


def test_framing_and_hostile_clients(svc):
    post = b"POST " + SIGN_PATH.encode() + b" HTTP/1.1\r\nContent-Type: application/json\r\n"
    ans = raw_tls(svc, post + b"\r\n")
    assert ans.startswith(b"HTTP/1.1 411") and b"Content-Length" in ans
    assert raw_tls(svc, post + b"Transfer-Encoding: chunked\r\n\r\n").startswith(b"HTTP/1.1 400")
    assert raw_tls(svc, post + b"Content-Length: 99999999\r\n\r\n").startswith(b"HTTP/1.1 413")
    assert b"Error code: 400" in raw_tls(svc, b"\x00\x01GARBAGE\r\n\r\n")
    with socket.create_connection(("127.0.0.1", svc.port), timeout=5):   # silent client
        assert svc.call("GET", "/healthz")[0] == 200
    assert svc.sign(signing())[0] == 200


def test_connection_is_kept_alive(svc):
    conn = svc.connect()
    try:
        socks = []
        for body, path in ((signing(), SIGN_PATH), (sreq(iat="x"), SIGN_PATH),
                           (verification("x"), VERIFY_PATH)):
            assert svc.call("POST", path, body, conn=conn)[0] in (200, 400)
            socks.append(conn.sock)
        assert socks[0] is not None and all(s is socks[0] for s in socks)
    finally:
        conn.close()


def test_log_has_one_line_per_request(start):
    svc = start()
    identity = svc.identity()
    svc.verify(verification(identity))
    svc.verify(verification(identity, frm={"tn": OTHER}))
    svc.sign(sreq(iat="x"))
    lines = svc.log_lines(4)
    assert len(lines) == 4, lines
    assert "op=signing ppt=rcd orig=4961519876543 result=signed status=200" in lines[0]
    assert "op=verification" in lines[1] and "result=TN-Validation-Passed" in lines[1]
    assert "result=TN-Validation-Failed" in lines[2] and "why=orig" in lines[2]
    assert "bad-request part=signingRequest.iat status=400" in lines[3]


def test_log_bodies(start, tmp_path):
    bodies = tmp_path / "bodies.jsonl"
    svc = start("--log-bodies", bodies)
    sent = signing()
    svc.sign(sent)
    svc.call("POST", VERIFY_PATH, b"{not json")
    deadline = time.monotonic() + 3
    while len(bodies.read_text().splitlines()) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    recs = [json.loads(line) for line in bodies.read_text().splitlines()]
    assert len(recs) == 2
    assert recs[0]["request"] == sent and recs[0]["status"] == 200
    valid(recs[0]["answer"], "SigningResponse")
    assert recs[1]["request"] == "{not json" and recs[1]["status"] == 400
    valid(recs[1]["answer"], "RequestError")


# --- start-up checks --------------------------------------------------------------------
@pytest.mark.parametrize("change,complaint", [
    ({"--sign-cert": "{pki}/sign.pem"}, "is not the certificate of --sign-key"),
    ({"--sign-key": "{pki}/hook-ca.pem"}, "not an EC P-256 private key"),
    ({"--trust": "https://x/y.pem={pki}/hook.key"}, "not a PEM certificate"),
    ({"--trust": "http://x/y.pem={pki}/sign.pem"}, "want https-URL=PEMFILE"),
])
def test_refuses_to_start_misconfigured(pki, change, complaint):
    args = {"--cert": "{pki}/hook.pem", "--key": "{pki}/hook.key",
            "--sign-key": "{pki}/sti.key", "--sign-cert": "{pki}/sti.pem", "--x5u": X5U}
    args.update(change)
    argv = [sys.executable, str(SERVICE), "--listen", f"127.0.0.1:{free_port()}"]
    for k, v in args.items():
        argv += [k, v.replace("{pki}", str(pki))]
    run = subprocess.run(argv, capture_output=True, text=True, timeout=20)
    assert run.returncode != 0 and complaint in run.stderr, run.stderr


# --- authentication ---------------------------------------------------------------------
def test_bearer_token(start, tmp_path):
    token = tmp_path / "token"
    token.write_text("s3cret-1\n")
    svc = start("--bearer-token-file", token)
    for hdrs in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic s3cret-1"}):
        for path, body in ((SIGN_PATH, signing()), (VERIFY_PATH, verification("x"))):
            status, resp, raw = svc.call("POST", path, body, headers=hdrs)
            assert status == 401 and resp.getheader("WWW-Authenticate", "").startswith("Bearer")
            doc = json.loads(raw)
            valid(doc, "RequestError")
            assert doc["requestError"]["policyException"] == {
                "messageId": "POL0001", "text": "A policy error occurred. Error code is %1",
                "variables": ["UNAUTHORIZED"]}
    ok = {"Authorization": "Bearer s3cret-1"}
    assert svc.sign(signing(), headers=ok)[0] == 200
    token.write_text("s3cret-2\n")      # rotation: the file is read per request
    assert svc.sign(signing(), headers=ok)[0] == 401
    assert svc.sign(signing(), headers={"Authorization": "Bearer s3cret-2"})[0] == 200


def test_mutual_tls(start, pki):
    probe = ssl.create_default_context(cafile=str(pki / "hook-ca.pem"))
    probe.load_cert_chain(pki / "client.pem", pki / "client.key")
    svc = start("--client-ca", pki / "client-ca.pem", ready_ctx=probe)
    for client in (None, "rogue"):      # no certificate; one from an untrusted CA
        with pytest.raises((ssl.SSLError, ConnectionError)):
            svc.sign(signing(), ctx=svc.ctx(client))
    status, doc = svc.sign(signing(), ctx=svc.ctx("client"))
    assert status == 200
    valid(doc, "SigningResponse")


# --- faults -----------------------------------------------------------------------------
def test_fault_down(faulty):
    svc = faulty("down")
    for path, body in ((SIGN_PATH, signing()), (VERIFY_PATH, verification("x"))):
        with pytest.raises(OSError):      # reset, EOF in the handshake
            svc.call("POST", path, body)
    with pytest.raises(OSError):
        svc.call("GET", "/healthz")


def test_fault_slow(faulty):
    svc = faulty("slow", 800)
    with pytest.raises(TimeoutError):
        svc.sign(signing(), timeout=0.3)
    t0 = time.monotonic()
    status, doc = svc.sign(signing(), timeout=5)
    assert status == 200 and time.monotonic() - t0 >= 0.8
    valid(doc, "SigningResponse")
    t0 = time.monotonic()
    assert svc.verify(verification("x"), timeout=5)[0] == 200
    assert time.monotonic() - t0 >= 0.8


def test_delay_without_fault(start):
    svc = start("--delay-ms", 500)
    t0 = time.monotonic()
    assert svc.sign(signing())[0] == 200 and time.monotonic() - t0 >= 0.5


def test_fault_5xx(faulty):
    svc = faulty("5xx")
    for path, body in ((SIGN_PATH, signing()), (VERIFY_PATH, verification("x"))):
        status, doc = svc.post(path, body)
        assert status == 500
        valid(doc, "RequestError")
        assert doc["requestError"]["serviceException"]["messageId"] == "SVC0001"
        assert doc["requestError"]["serviceException"]["variables"] == ["INJECTED_FAULT"]


def test_fault_garbage(faulty):
    svc = faulty("garbage")
    for path, body in ((SIGN_PATH, signing()), (VERIFY_PATH, verification("x"))):
        status, resp, raw = svc.call("POST", path, body)
        assert status == 200
        with pytest.raises(ValueError):
            json.loads(raw)


def test_fault_wrongshape(faulty):
    svc = faulty("wrongshape")
    for path, body, name in ((SIGN_PATH, signing(), "SigningResponse"),
                             (VERIFY_PATH, verification("x"), "VerificationResponse")):
        status, doc = svc.post(path, body)
        assert status == 200 and schema_errors(doc, SCHEMAS[name], schemas=SCHEMAS)


def test_faults_leave_bad_requests_and_health_alone(faulty):
    svc = faulty("5xx")
    status, doc = svc.sign(sreq(iat="x"))
    assert status == 400 and doc["requestError"]["serviceException"]["messageId"] == "SVC0002"
    assert svc.call("GET", "/healthz")[0] == 200


def test_fault_otherkey(faulty, svc, pki):
    bad = faulty("otherkey")
    status, doc = bad.sign(signing())
    assert status == 200
    valid(doc, "SigningResponse")
    identity = doc["signingResponse"]["identityHeader"]
    assert split(identity)[0] == header()                 # still names the service's x5u
    with pytest.raises(jwt.InvalidSignatureError):
        pyjwt_decode(identity, pki)
    assert pyjwt_decode(identity, pki, cert="sign2")      # --other-key signed it
    ans = svc.verify(verification(identity))[1]["verificationResponse"]
    assert ans["verstatValue"] == FAILED and ans["reasonCode"] == 438


@pytest.mark.parametrize("ppt,claim", [("rcd", ("tpid", "id")), ("avatar", ("avatar", "aid"))])
def test_fault_claims_when_signing(faulty, svc, pki, ppt, claim):
    bad = faulty("claims")
    req = signing(ppt)
    status, doc = bad.sign(req)
    assert status == 200
    identity = doc["signingResponse"]["identityHeader"]
    got = pyjwt_decode(identity, pki)                    # correctly signed ...
    asked = req["signingRequest"]
    assert got[claim[0]][claim[1]] != asked[claim[0]][claim[1]]     # ... other claims
    assert got["dest"] != asked["dest"]
    assert {k: v for k, v in got.items() if k not in (claim[0], "dest")} == \
        {k: v for k, v in asked.items() if k not in (claim[0], "dest", "ppt")}


def test_fault_claims_when_verifying(faulty, svc):
    identity = svc.identity()
    bad = faulty("claims")
    status, doc = bad.verify(verification(identity))
    valid(doc, "VerificationResponse")
    ans = doc["verificationResponse"]
    assert ans["verstatValue"] == PASSED
    true = split(identity)[1]
    assert ans["payload"]["tpid"]["id"] != true["tpid"]["id"]
    assert ans["payload"]["dest"] != true["dest"]


def test_fault_wrongcall(faulty, svc, pki):
    bad = faulty("wrongcall")
    req = signing()
    status, doc = bad.sign(req)
    identity = doc["signingResponse"]["identityHeader"]
    got, asked = pyjwt_decode(identity, pki), req["signingRequest"]
    assert got["iat"] == asked["iat"] - 600 and got["orig"] != asked["orig"]
    assert got["tpid"] == asked["tpid"] and got["dest"] == asked["dest"]
    # a correct verifier refuses it for the call it was asked for ...
    ans = svc.verify(verification(identity, t=asked["iat"]))[1]["verificationResponse"]
    assert ans["verstatValue"] == FAILED and ans["reasonCode"] == 403
    ans = svc.verify(verification(identity, t=got["iat"]))[1]["verificationResponse"]
    assert ans["verstatValue"] == FAILED and ans["reasonCode"] == 438
    # ... the faulty one passes it without looking at the call
    ans = bad.verify(verification(identity, t=asked["iat"]))[1]["verificationResponse"]
    assert ans["verstatValue"] == PASSED and ans["payload"] == got


def test_fault_failverify(faulty, svc):
    identity = svc.identity()
    status, doc = faulty("failverify").verify(verification(identity))
    valid(doc, "VerificationResponse")
    assert doc["verificationResponse"] == {"verstatValue": FAILED, "reasonCode": 438,
                                           "reasonText": "Invalid Identity Header"}
    assert svc.verify(verification(identity))[1]["verificationResponse"]["verstatValue"] \
        == PASSED


def test_fault_nopayload(faulty, svc):
    identity = svc.identity()
    status, doc = faulty("nopayload").verify(verification(identity))
    valid(doc, "VerificationResponse")
    assert doc["verificationResponse"] == {"verstatValue": PASSED, "x5u": X5U}


def test_faults_of_one_operation_leave_the_other_alone(switched, pki):
    identity = switched.identity()
    passed = {"verstatValue": PASSED, "x5u": X5U, "payload": split(identity)[1]}
    switched.set_fault("otherkey")          # signing only
    assert switched.verify(verification(identity))[1]["verificationResponse"] == passed
    for fault in ("failverify", "nopayload"):   # verification only
        switched.set_fault(fault)
        assert pyjwt_decode(switched.identity(), pki)
    switched.set_fault("none")               # and back
    assert pyjwt_decode(switched.identity(), pki)
    assert switched.verify(verification(identity))[1]["verificationResponse"] == passed


# --- the stack's service ----------------------------------------------------------------
def test_stack_starts_the_service(tmp_path):
    subprocess.run(["bash", str(MAKE_PKI), S.PKI], check=True, stdout=subprocess.DEVNULL)
    if S.port_busy(S.STI_PORT, False):
        pytest.fail(f"port {S.STI_PORT} is busy (a leftover stack? `make stop`)")
    st = S.Stack(run_dir=str(tmp_path))
    try:
        st.start_sti()
        ctx = ssl.create_default_context(cafile=os.path.join(S.PKI, "hook-ca.pem"))
        root = S.STI_ROOT.split(f":{S.STI_PORT}", 1)[1]

        def post(op, body):
            conn = http.client.HTTPSConnection(S.HOST, S.STI_PORT, context=ctx, timeout=5)
            try:
                conn.request("POST", f"{root}/stir/v1/{op}", body=json.dumps(body),
                             headers={"Content-Type": "application/json"})
                r = conn.getresponse()
                return r.status, r.read()
            finally:
                conn.close()
        status, raw = post("signing", signing())
        identity = json.loads(raw)["signingResponse"]["identityHeader"]
        assert split(identity)[0]["x5u"] == S.STI_X5U and "sti.pem" in S.CERT_FILES
        # the terminating side can trust it: sti.pem chains to the stack's CA_FILE
        assert subprocess.run(["openssl", "verify", "-CAfile", os.path.join(S.PKI, "sign-ca.pem"),
                               os.path.join(S.PKI, "sti.pem")],
                              capture_output=True).returncode == 0
        jwt.decode(identity.split(";")[0], key=cert_key(os.path.join(S.PKI, "sti.pem")),
                   algorithms=["ES256"])
        # tokens the module signs with the stack's own signer verify too
        module = craft(os.path.join(S.PKI, "sign.key"), header(x5u=S.SIGN_X5U), payload())
        for ih in (identity, module):
            ans = json.loads(post("verification", verification(ih))[1])
            assert ans["verificationResponse"]["verstatValue"] == PASSED
        st.set_sti_fault("5xx")
        assert post("signing", signing())[0] == 500
        st.set_sti_fault("none")
        assert post("signing", signing())[0] == 200
        deadline = time.monotonic() + 3       # a record follows its answer
        while len(Path(st.sti_bodies).read_text().splitlines()) < 5 and \
                time.monotonic() < deadline:
            time.sleep(0.02)
        recs = [json.loads(r) for r in Path(st.sti_bodies).read_text().splitlines()]
        assert [r["status"] for r in recs] == [200, 200, 200, 500, 200]
    finally:
        st.stop_sti()
    assert not S.port_busy(S.STI_PORT, False)
