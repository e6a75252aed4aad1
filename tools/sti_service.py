#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Reference operator STI-AS / STI-VS: the server side of the Ms reference point.

The HTTP interface between an IMS node and the operator's signing and verification
services (TS 24.229 Annex V.2, as ATIS/3GPP describe it), with this project's
extensions (docs/ms-api.yaml):

  POST {msRoot}/stir/v1/signing        {"signingRequest":{...}} -> {"signingResponse":
                                       {"identityHeader":"<RFC 8224 Identity value>"}}
  POST {msRoot}/stir/v1/verification   {"verificationRequest":{...}} ->
                                       {"verificationResponse":{"verstatValue":...}}

It signs PASSporTs (ES256, ppt "rcd" or "avatar") with its own key (--sign-key) and
names its certificate URL (--x5u) in them; it verifies Identity headers whose x5u is
one of its configured certificates (--trust URL=PEM, and its own with --sign-cert).
Certificates are checked once at start: an EC P-256 key, keyUsage digitalSignature
when the extension is present, and, with --ca, a chain to that bundle (`openssl
verify`, at the current time); without --ca no chain is checked: the configured
certificate is trusted as it is. ECDSA runs in the openssl CLI (Python's standard
library has none); Python converts DER signatures to the JWS r||s form and back.
Errors are Ms request errors: {"requestError":{"serviceException"|"policyException":
{"messageId","text","variables"}}}. --fault / --fault-file make it misbehave for the
module's tests (FAULTS below); --fault-file names a file whose line "FAULT [DELAY_MS]"
says which fault applies now, re-read when it changes.

  sti_service.py --listen 127.0.0.1:8490 --cert srv.pem --key srv.key \
      --sign-key sti.key --x5u https://127.0.0.1:8470/sti.pem [--sign-cert sti.pem] \
      [--trust URL=PEM ...] [--ca sign-ca.pem] [--other-key K] \
      [--client-ca client-ca.pem] [--bearer-token-file F] \
      [--fault MODE] [--delay-ms N] [--fault-file F] [--log FILE] [--pidfile F] \
      [--log-bodies FILE]
"""
import argparse, atexit, base64, binascii, copy, hmac, json, os, re, shutil, socket, \
    subprocess, sys, tempfile, time

import json_service
from json_service import SLOW_DEFAULT_MS, attach_bodies_log, norm
import tls_server
from tls_server import FaultSwitch, clean, make_log, serve, server_tls

SIGN_PATH = "/stir/v1/signing"
VERIFY_PATH = "/stir/v1/verification"
MAX_BODY = 64 * 1024        # a request is a few hundred bytes (an Identity header <= 8 KB)
MAX_HEADER = 8192           # longest Identity header value verified (as the module)
MAX_STR = 255               # longest claim string (as the module)
MAX_DEST = 8                # most dest entries in a token (as the module)
IAT_WINDOW = 60             # seconds between iat and the verification request's time
OPENSSL_TIMEOUT = 10
FAULTS = ("none", "down", "slow", "5xx", "garbage", "wrongshape", "otherkey", "claims",
          "wrongcall", "failverify", "nopayload")
PPT_CLAIMS = {"rcd": ("rcd", "tpid"), "avatar": ("avatar", "avatari")}
CORE = ("orig", "dest", "iat", "origid")

PASSED, FAILED, NO_VALIDATION = "TN-Validation-Passed", "TN-Validation-Failed", \
    "No-TN-Validation"
REASONS = {403: "Stale Date", 436: "Bad Identity Info", 437: "Unsupported Credential",
           438: "Invalid Identity Header"}

UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-"
                  r"[0-9a-fA-F]{12}")
TN = re.compile(r"[0-9]{1,%d}" % MAX_STR)
URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[!-~]+")          # printable, no blanks
AID = re.compile(r"[A-Za-z0-9._~:-]{1,128}")
FMT = re.compile(r"[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,62}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,62}")
SRI = re.compile(r"sha256-[A-Za-z0-9+/]{43}=")
B64U = re.compile(r"[A-Za-z0-9_-]+")
# the Identity header: JWS ;param=value ...; info's value in <>, others a token or
# a quoted string (RFC 8224 / RFC 3261 generic-param)
PARAM = re.compile(r'\s*;\s*([A-Za-z0-9.!%*_+`\'~-]+)\s*=\s*(<[^<>"\s]*>|"(?:[^"\\]|\\.)*"|'
                   r'[A-Za-z0-9.!%*_+`\'~-]+)\s*')
OTHER_TNS = ("4900000000001", "4900000000002")               # what the faults put in


class BadInput(ValueError):
    """A request member the Ms API does not accept: part (a JSON path), detail."""

    def __init__(self, part, detail, mid="SVC0002"):
        super().__init__(f"{part}: {detail}")
        self.part, self.detail, self.mid = part, detail, mid


# ---- Ms error objects ---------------------------------------------------------------
MESSAGES = {
    "SVC0001": "A service error occurred. Error code is %1",
    "SVC0002": "Invalid input value for message part %1: %2",
    "SVC0003": "Invalid input value for message part %1, valid values are %2",
    "POL0001": "A policy error occurred. Error code is %1",
    "POL0003": "Too many addresses specified in message part %1",
}


def request_error(mid, *variables):
    """{"requestError":{"serviceException"|"policyException":{...}}} for messageId mid."""
    kind = "policyException" if mid.startswith("POL") else "serviceException"
    return {"requestError": {kind: {"messageId": mid, "text": MESSAGES[mid],
                                    "variables": [str(v) for v in variables]}}}


# ---- JOSE ---------------------------------------------------------------------------
def b64u(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64u(text):
    """The bytes of strict base64url without padding, or None (padding, other
    characters, non-zero unused bits)."""
    if not B64U.fullmatch(text) or len(text) % 4 == 1:
        return None
    try:
        data = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        return None
    return data if b64u(data) == text else None


def canonical(obj):
    """JSON as the module writes it: sorted keys, no whitespace, UTF-8, '/' as is."""
    return json.dumps(obj, separators=(",", ":"), sort_keys=True,
                      ensure_ascii=False).encode("utf-8")


def _no_duplicates(pairs):
    obj = {}
    for k, v in pairs:
        if k in obj:
            raise ValueError(f"duplicate key {k}")
        obj[k] = v
    return obj


def loads_strict(data):
    """A JSON document from bytes, refusing duplicate keys (ValueError)."""
    return json.loads(data.decode("utf-8"), object_pairs_hook=_no_duplicates)


def der_int(data, i):
    """(the INTEGER at data[i], next index)."""
    if data[i] != 0x02 or data[i + 1] > 0x21:
        raise ValueError("not a short INTEGER")
    n = data[i + 1]
    return int.from_bytes(data[i + 2:i + 2 + n], "big"), i + 2 + n


def der_to_raw(der):
    """ECDSA-Sig-Value (DER SEQUENCE of r, s) -> the 64-byte JWS r||s."""
    if len(der) < 8 or der[0] != 0x30 or der[1] != len(der) - 2:
        raise ValueError("not a DER ECDSA signature")
    r, i = der_int(der, 2)
    s, i = der_int(der, i)
    if i != len(der) or r >= 1 << 256 or s >= 1 << 256:
        raise ValueError("not a P-256 ECDSA signature")
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


def raw_to_der(raw):
    """The 64-byte r||s -> DER ECDSA-Sig-Value."""
    def enc(v):
        b = v.to_bytes(33, "big").lstrip(b"\0") or b"\0"
        if b[0] & 0x80:
            b = b"\0" + b
        return bytes([0x02, len(b)]) + b
    body = enc(int.from_bytes(raw[:32], "big")) + enc(int.from_bytes(raw[32:], "big"))
    return bytes([0x30, len(body)]) + body


def openssl(*args, data=None):
    """(returncode, stdout bytes, stderr text) of the openssl CLI."""
    r = subprocess.run(["openssl", *map(str, args)], input=data, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=OPENSSL_TIMEOUT)
    return r.returncode, r.stdout, r.stderr.decode(errors="replace")


def es256_sign(key, data):
    rc, der, err = openssl("dgst", "-sha256", "-sign", key, data=data)
    if rc != 0:
        raise RuntimeError(f"openssl dgst -sign: {err.strip()}")
    return der_to_raw(der)


def es256_verify(pub, data, raw, tmpdir):
    """True if raw (64-byte r||s) is an ES256 signature of data by the PEM public key
    file pub."""
    if len(raw) != 64:
        return False
    with tempfile.NamedTemporaryFile(dir=tmpdir, suffix=".sig") as f:
        f.write(raw_to_der(raw))
        f.flush()
        rc, out, _ = openssl("dgst", "-sha256", "-verify", pub, "-signature", f.name,
                             data=data)
    return rc == 0 and out.strip() == b"Verified OK"


def is_p256(pem_pub):
    rc, out, _ = openssl("pkey", "-pubin", "-noout", "-text", data=pem_pub)
    return rc == 0 and b"prime256v1" in out


def sign_token(ppt, payload, key, x5u):
    """The Identity header value of a PASSporT of payload signed with key."""
    h = b64u(canonical({"alg": "ES256", "ppt": ppt, "typ": "passport", "x5u": x5u}))
    p = b64u(canonical(payload))
    sig = es256_sign(key, f"{h}.{p}".encode("ascii"))
    return f"{h}.{p}.{b64u(sig)};info=<{x5u}>;alg=ES256;ppt={ppt}"


# ---- keys and trusted certificates ----------------------------------------------------
class Keys:
    """The signing key, the 'otherkey' fault's key and the trusted certificates
    (x5u -> public key file, or the reason it may not be used)."""

    def __init__(self, a, log):
        self.tmp = tempfile.mkdtemp(prefix="sti-")
        atexit.register(shutil.rmtree, self.tmp, True)
        self.sign_key, self.x5u = a.sign_key, a.x5u
        rc, pub, err = openssl("pkey", "-in", a.sign_key, "-pubout")
        if rc != 0 or not is_p256(pub):
            raise SystemExit(f"--sign-key {a.sign_key}: not an EC P-256 private key {err}")
        self.other_key = a.other_key
        if not self.other_key:      # a throwaway key for the 'otherkey' fault
            self.other_key = os.path.join(self.tmp, "other.key")
            rc, _, err = openssl("genpkey", "-algorithm", "EC", "-pkeyopt",
                                 "ec_paramgen_curve:prime256v1", "-out", self.other_key)
            if rc != 0:
                raise SystemExit(f"cannot make a key: {err}")
        self.trusted = {}           # x5u -> (public key file or None, why not)
        trust = list(a.trust or [])
        if a.sign_cert:
            rc, cpub, _ = openssl("x509", "-in", a.sign_cert, "-noout", "-pubkey")
            if rc != 0 or cpub != pub:
                raise SystemExit(f"--sign-cert {a.sign_cert} is not the certificate of "
                                 f"--sign-key {a.sign_key}")
            trust.append(f"{a.x5u}={a.sign_cert}")
        for i, item in enumerate(trust):
            url, sep, pem = item.partition("=")
            if not sep or not url.startswith("https://") or not pem:
                raise SystemExit(f"--trust {item!r}: want https-URL=PEMFILE")
            self.trusted[url] = self.load_cert(i, pem, a.ca)
            log(f"trusted x5u {url} = {pem}: " + (self.trusted[url][1] or "ok"))

    def load_cert(self, i, pem, ca):
        """(public key file, None) for a usable certificate, else (None, why)."""
        rc, pub, err = openssl("x509", "-in", pem, "-noout", "-pubkey")
        if rc != 0:
            raise SystemExit(f"--trust {pem}: not a PEM certificate: {err.strip()}")
        if not is_p256(pub):
            return None, "not an EC P-256 key"
        rc, ku, _ = openssl("x509", "-in", pem, "-noout", "-ext", "keyUsage")
        if rc == 0 and b"Key Usage" in ku and b"Digital Signature" not in ku:
            return None, "keyUsage without digitalSignature"
        if ca:
            rc, out, err = openssl("verify", "-CAfile", ca, pem)
            if rc != 0:
                return None, "chain: " + " ".join((out.decode() + err).split())[:200]
        path = os.path.join(self.tmp, f"trusted-{i}.pub")
        with open(path, "wb") as f:
            f.write(pub)
        return path, None


# ---- request parsing ------------------------------------------------------------------
def envelope(body, top, fields, required):
    """The inner object of {"<top>": {...}}, members known and required ones present."""
    try:
        doc = loads_strict(body)
    except (UnicodeDecodeError, ValueError) as e:
        raise BadInput("body", f"not JSON ({e})" if "duplicate" in str(e) else "not JSON") \
            from None
    if not isinstance(doc, dict) or set(doc) != {top}:
        raise BadInput("body", f'must be {{"{top}":{{...}}}} and nothing else')
    req = doc[top]
    if not isinstance(req, dict):
        raise BadInput(top, "must be an object")
    for k in req:
        if k not in fields:
            raise BadInput(f"{top}.{k}", "unknown member")
    for k in required:
        if k not in req:
            raise BadInput(f"{top}.{k}", "missing")
    return req


def want_str(v, part, pattern=None, limit=MAX_STR):
    if not isinstance(v, str) or not v:
        raise BadInput(part, "must be a non-empty string")
    if len(v.encode("utf-8")) > limit:
        raise BadInput(part, f"longer than {limit} bytes")
    if pattern is not None and not pattern.fullmatch(v):
        raise BadInput(part, f"does not match {pattern.pattern}")
    return v


def want_int(v, part):
    if not isinstance(v, int) or isinstance(v, bool) or v < 0:
        raise BadInput(part, "must be a non-negative integer")
    return v


def want_members(v, part, required, optional=()):
    if not isinstance(v, dict):
        raise BadInput(part, "must be an object")
    for k in v:
        if k not in required and k not in optional:
            raise BadInput(f"{part}.{k}", "unknown member")
    for k in required:
        if k not in v:
            raise BadInput(f"{part}.{k}", "missing")
    return v


def want_one_identity(v, part):
    """{"tn": digits} or {"uri": URI}: exactly one."""
    if not isinstance(v, dict) or len(v) != 1 or not set(v) <= {"tn", "uri"}:
        raise BadInput(part, 'must be {"tn":...} or {"uri":...}')
    k = next(iter(v))
    want_str(v[k], f"{part}.{k}", TN if k == "tn" else URI)
    return v


def want_identities(v, part, limit=None):
    """{"tn": [digits...]} and/or {"uri": [URI...]}, at least one entry."""
    if not isinstance(v, dict) or not v or not set(v) <= {"tn", "uri"}:
        raise BadInput(part, 'must be {"tn":[...]} and/or {"uri":[...]}')
    n = 0
    for k, entries in v.items():
        if not isinstance(entries, list) or not entries:
            raise BadInput(f"{part}.{k}", "must be a non-empty array")
        for i, e in enumerate(entries):
            want_str(e, f"{part}.{k}[{i}]", TN if k == "tn" else URI)
        n += len(entries)
    if limit is not None and n > limit:
        raise BadInput(part, f"more than {limit} entries", mid="POL0003")
    return v


def parse_signing(body):
    top = "signingRequest"
    req = envelope(body, top, CORE + ("ppt", "rcd", "tpid", "avatar", "avatari"),
                   CORE + ("ppt",))
    ppt = req["ppt"]
    if not isinstance(ppt, str) or ppt not in PPT_CLAIMS:
        raise BadInput(f"{top}.ppt", "", mid="SVC0003")
    want_one_identity(req["orig"], f"{top}.orig")
    want_identities(req["dest"], f"{top}.dest", MAX_DEST)
    want_int(req["iat"], f"{top}.iat")
    want_str(req["origid"], f"{top}.origid", UUID)
    for other, claims in PPT_CLAIMS.items():
        for c in claims:
            if other != ppt and c in req:
                raise BadInput(f"{top}.{c}", f"not a claim of ppt {ppt}")
            if other == ppt and c not in req:
                raise BadInput(f"{top}.{c}", "missing")
    if ppt == "rcd":
        want_str(want_members(req["rcd"], f"{top}.rcd", ("nam",))["nam"], f"{top}.rcd.nam")
        tp = want_members(req["tpid"], f"{top}.tpid", ("exp", "id", "iss"))
        want_int(tp["exp"], f"{top}.tpid.exp")
        want_str(tp["id"], f"{top}.tpid.id", URI)
        want_str(tp["iss"], f"{top}.tpid.iss")
    else:
        av = want_members(req["avatar"], f"{top}.avatar", ("aid", "bar", "fmt"))
        want_str(av["aid"], f"{top}.avatar.aid", AID)
        want_str(av["bar"], f"{top}.avatar.bar", re.compile(r"https://[!-~]+"))
        want_str(av["fmt"], f"{top}.avatar.fmt", FMT, 127)
        ai = want_members(req["avatari"], f"{top}.avatari", ("/avatar/bar",))
        want_str(ai["/avatar/bar"], f"{top}.avatari./avatar/bar", SRI)
    return req


def parse_verification(body):
    top = "verificationRequest"
    fields = ("identityHeader", "from", "to", "time")
    req = envelope(body, top, fields, fields)
    if not isinstance(req["identityHeader"], str) or not req["identityHeader"]:
        raise BadInput(f"{top}.identityHeader", "must be a non-empty string")
    want_one_identity(req["from"], f"{top}.from")
    want_identities(req["to"], f"{top}.to")
    want_int(req["time"], f"{top}.time")
    return req


# ---- signing and verification -----------------------------------------------------------
def other_tn(avoid):
    return OTHER_TNS[1] if avoid == OTHER_TNS[0] else OTHER_TNS[0]


def altered_claims(payload):
    """The 'claims' fault: the ppt's identity claim (tpid.id, avatar.aid) and dest
    changed."""
    p = copy.deepcopy(payload)
    if "tpid" in p:
        iss = p["tpid"].get("iss", "example.com")
        ceo = f"sip:ceo@{iss}"
        p["tpid"]["id"] = ceo if p["tpid"].get("id") != ceo else f"sip:cfo@{iss}"
    if "avatar" in p:
        aid = str(p["avatar"].get("aid", ""))
        p["avatar"]["aid"] = aid[:120] + "-other"
    tn = p.get("dest", {}).get("tn", [""])[0]
    p["dest"] = {"tn": [other_tn(tn)]}
    return p


def wrong_call(payload):
    """The 'wrongcall' fault: a token for another call (iat 10 minutes earlier, another
    caller)."""
    p = copy.deepcopy(payload)
    p["iat"] = max(0, p["iat"] - 600)
    p["orig"] = {"tn": other_tn(p["orig"].get("tn"))}
    return p


def sign(keys, req, fault):
    """The Identity header value for a signing request (under the fault, if any)."""
    ppt = req["ppt"]
    payload = {k: req[k] for k in CORE + PPT_CLAIMS[ppt]}
    key = keys.sign_key
    if fault == "claims":
        payload = altered_claims(payload)
    elif fault == "wrongcall":
        payload = wrong_call(payload)
    elif fault == "otherkey":
        key = keys.other_key
    return sign_token(ppt, payload, key, keys.x5u)


def identity_key(kind, value):
    """Comparison key of a tn (its digits) or a URI (json_service.norm: a tel or
    user=phone URI compares as its number, anything else lower-cased)."""
    if kind == "tn":
        digits = re.sub(r"[+().\- ]", "", value)
        return ("tn", digits) if digits.isdigit() else ("bad", value)
    return norm(value)


def parse_identity(value):
    """(H, P, signing input, raw signature, params, ppt) of an Identity header value,
    or raise Verdict."""
    if len(value.encode("utf-8", errors="replace")) > MAX_HEADER or "\0" in value:
        raise Verdict(FAILED, 438, "header too long or with NUL")
    jws, rest = value.split(";", 1) if ";" in value else (value, "")
    parts = jws.strip().split(".")
    raw = [unb64u(p) for p in parts]
    if len(parts) != 3 or any(r is None or not r for r in raw):
        raise Verdict(FAILED, 438, "not a JWS of three base64url parts")
    params, pos, rest = {}, 0, ";" + rest if rest else ""
    while pos < len(rest):
        m = PARAM.match(rest, pos)
        if not m:
            raise Verdict(FAILED, 438, "bad header parameter syntax")
        name, val = m.group(1).lower(), m.group(2)
        if name in params:
            raise Verdict(FAILED, 438, f"parameter {name} twice")
        if val.startswith('"'):
            val = re.sub(r"\\(.)", r"\1", val[1:-1])
        elif name == "ppt":
            val = val.lower()           # a token compares without case, a quoted string exactly
        params[name] = val
        pos = m.end()
    try:
        h, p = loads_strict(raw[0]), loads_strict(raw[1])
    except (UnicodeDecodeError, ValueError):
        raise Verdict(FAILED, 438, "header or payload not JSON") from None
    if not isinstance(h, dict) or not isinstance(p, dict) or "crit" in h:
        raise Verdict(FAILED, 438, "header or payload not a JSON object, or crit")
    return h, p, f"{parts[0]}.{parts[1]}".encode("ascii"), raw[2], params


class Verdict(Exception):
    """A verification answer that is not a pass."""

    def __init__(self, verstat, code, why):
        super().__init__(why)
        self.verstat, self.code, self.why = verstat, code, why


def claims_typed(p, ppt):
    orig, dest, iat = p.get("orig"), p.get("dest"), p.get("iat")
    try:
        want_one_identity(orig, "orig")
        want_identities(dest, "dest", MAX_DEST)
        want_int(iat, "iat")
    except BadInput as e:
        return str(e)
    missing = [c for c in PPT_CLAIMS[ppt] if not isinstance(p.get(c), dict)]
    return f"claim {missing[0]} missing or not an object" if missing else None


def verify(keys, req, fault):
    """(answer object, log note) for a verification request."""
    try:
        if fault == "failverify":
            raise Verdict(FAILED, 438, "fault failverify")
        h, p, signing_input, sig, params = parse_identity(req["identityHeader"])
        ppt = params.get("ppt")
        if ppt is None or h.get("ppt") is None:
            raise Verdict(FAILED, 438, "no ppt")
        if ppt != h.get("ppt"):
            raise Verdict(FAILED, 438, "ppt parameter and header differ")
        if ppt not in PPT_CLAIMS:
            raise Verdict(NO_VALIDATION, 438, f"ppt {clean(ppt, 31)} not validated here")
        if h.get("alg") != "ES256" or params.get("alg", "ES256") != "ES256":
            raise Verdict(FAILED, 438, "alg not ES256")
        if h.get("typ") != "passport":
            raise Verdict(FAILED, 438, "typ not passport")
        info = params.get("info")
        if info is None or not (info.startswith("<") and info.endswith(">")) or \
                info[1:-1] != h.get("x5u"):
            raise Verdict(FAILED, 436, "info missing or not the x5u")
        why = claims_typed(p, ppt)
        if why:
            raise Verdict(FAILED, 438, f"claims: {why}")
        x5u = h["x5u"]
        if x5u not in keys.trusted:
            raise Verdict(FAILED, 436, "x5u not a trusted certificate")
        pub, why = keys.trusted[x5u]
        if pub is None:
            raise Verdict(FAILED, 437, f"certificate unusable: {why}")
        if not es256_verify(pub, signing_input, sig, keys.tmp):
            raise Verdict(FAILED, 438, "bad signature")
        if fault != "wrongcall":
            if abs(req["time"] - p["iat"]) > IAT_WINDOW:
                raise Verdict(FAILED, 403, "iat not within 60 s of time")
            (fk, fv), = req["from"].items()
            (ok, ov), = p["orig"].items()
            if identity_key(fk, fv) != identity_key(ok, ov):
                raise Verdict(FAILED, 438, "orig is not from")
            signed = {identity_key(k, e) for k, es in p["dest"].items() for e in es}
            if not any(identity_key(k, e) in signed for k, es in req["to"].items()
                       for e in es):
                raise Verdict(FAILED, 438, "to is not in dest")
    except Verdict as v:
        return {"verstatValue": v.verstat, "reasonCode": v.code,
                "reasonText": REASONS[v.code]}, f"{v.verstat} why={clean(v.why, 120)}"
    ans = {"verstatValue": PASSED, "x5u": x5u, "payload": p}
    if fault == "claims":
        ans["payload"] = altered_claims(p)
    elif fault == "nopayload":
        del ans["payload"]
    return ans, PASSED


# ---- HTTP -----------------------------------------------------------------------------
class Handler(json_service.Handler):
    server_version = "tpid-sti-mock/1"

    def log_fields(self):
        r = self.req
        out = f"op={self.op} " if getattr(self, "op", None) else ""
        if "ppt" in r:
            out += f"ppt={clean(r['ppt'], 20)} "
        who = r.get("orig") or r.get("from")
        if isinstance(who, dict) and who:
            out += f"orig={clean(next(iter(who.values())), 80)} "
        return out

    def error(self, status, mid, *variables, headers=()):
        self.reply(status, request_error(mid, *variables), headers=headers)

    def read_body(self, limit, json_only=True):
        """The request body, or None after an error answer."""
        ctype = self.headers.get("Content-Type", "")
        length = self.headers.get("Content-Length")
        err = None
        if self.headers.get("Transfer-Encoding"):
            err = (400, "Transfer-Encoding", "chunked bodies are not supported")
        elif not ctype.lower().startswith("application/json"):
            err = (415, "Content-Type", "must be application/json")
        elif length is None or not length.isdigit():
            err = (411, "Content-Length", "required")
        elif int(length) > limit:
            err = (413, "body", f"larger than {limit} bytes")
        if err:
            self.note = "bad-request"
            self.skip_body()
            self.error(err[0], "SVC0002", err[1], err[2])
            return None
        return self.rfile.read(int(length))

    def route(self):
        try:
            self.ms_route()
        except Exception:
            if not self.status:     # json_service.Handler.dispatch logs and hangs up
                self.error(500, "SVC0001", "INTERNAL")
            raise

    def ms_route(self):
        self.op = None
        if self.server.faults.now()[0] == "down":
            # a connection kept alive from before the fault goes down with the
            # service: hang up without an answer (new ones are closed at accept)
            self.note = "hung up fault=down"
            self.close_connection = True
            return
        path = self.path.split("?", 1)[0]
        if path == "/healthz" and self.command in ("GET", "HEAD"):
            self.note = "health"
            return self.reply(200, raw=b"ok", ctype="text/plain")
        if path.endswith(SIGN_PATH):
            self.op, parse = "signing", parse_signing
        elif path.endswith(VERIFY_PATH):
            self.op, parse = "verification", parse_verification
        else:
            self.skip_body()
            return self.error(404, "SVC0001", "NOT_FOUND")
        if self.command != "POST":
            self.skip_body()
            return self.error(405, "SVC0001", "METHOD_NOT_ALLOWED", headers=[("Allow", "POST")])
        srv = self.server
        if srv.token_file:    # authenticate before reading anything from the client
            with open(srv.token_file, encoding="utf-8") as f:   # re-read: allows rotation
                want = ("Bearer " + f.read().strip()).encode()
            got = self.headers.get("Authorization", "").encode()
            if not hmac.compare_digest(got, want):
                self.note = "unauthorized"
                self.skip_body()
                return self.error(401, "POL0001", "UNAUTHORIZED",
                                  headers=[("WWW-Authenticate", 'Bearer realm="ms"')])
        body = self.read_body(MAX_BODY)
        if body is None:
            return
        self.received = body
        try:
            self.req = parse(body)
        except BadInput as e:
            self.note = f"bad-request part={clean(e.part, 60)}"
            if e.mid == "SVC0003":
                return self.error(400, "SVC0003", e.part, ",".join(PPT_CLAIMS))
            if e.mid == "POL0003":
                return self.error(403, "POL0003", e.part)
            return self.error(400, "SVC0002", e.part, e.detail)
        self.answer_request()

    def answer_request(self):
        fault, delay = self.server.faults.now()
        if fault == "slow" and delay is None:
            delay = SLOW_DEFAULT_MS
        if delay:
            time.sleep(delay / 1000.0)
        key = self.op + "Response"
        fnote = f" fault={fault}" if fault != "none" else ""
        if fault == "5xx":
            self.note = "result=error" + fnote
            return self.error(500, "SVC0001", "INJECTED_FAULT")
        if fault == "garbage":
            self.note = "result=garbage" + fnote
            return self.reply(200, raw=b"{not json")
        if fault == "wrongshape":
            self.note = "result=wrongshape" + fnote
            wrong = {"identityHeader": 7} if self.op == "signing" else {"verstatValue": "Maybe"}
            return self.reply(200, {key: wrong})
        if self.op == "signing":
            ans = {"identityHeader": sign(self.server.keys, self.req, fault)}
            self.note = "result=signed" + fnote
        else:
            ans, note = verify(self.server.keys, self.req, fault)
            self.note = f"result={note}" + fnote
        self.reply(200, {key: ans})


class Server(tls_server.Server):
    def finish_request(self, request, client_address):
        # The 'down' fault: every connection is closed before the TLS handshake.
        if self.faults.now()[0] == "down":
            self.log(f"{client_address[0]} connection closed fault=down")
            return
        super().finish_request(request, client_address)


def make_server(listen, tls, log):
    """tls_server.make_server with this service's Server (the 'down' fault)."""
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    Server.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
    srv = Server((host, int(port)), Handler)
    srv.tls, srv.log = tls, log
    return srv


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", default="127.0.0.1:8490", help="HOST:PORT ([v6]:PORT)")
    ap.add_argument("--cert", required=True, help="the HTTPS server's certificate (PEM)")
    ap.add_argument("--key", required=True, help="the HTTPS server's key (PEM)")
    ap.add_argument("--sign-key", required=True, help="the STI-AS signing key (EC P-256)")
    ap.add_argument("--x5u", required=True, help="the URL of its certificate, put in tokens")
    ap.add_argument("--sign-cert", help="its certificate: checked against --sign-key and "
                    "trusted for --x5u by the verification service")
    ap.add_argument("--trust", action="append", metavar="URL=PEM",
                    help="a certificate the verification service accepts for that x5u")
    ap.add_argument("--ca", help="trusted certificates must chain to this bundle")
    ap.add_argument("--other-key", help="the key of the 'otherkey' fault "
                    "(default: a throwaway key made at start)")
    ap.add_argument("--client-ca", help="require a client certificate issued by this CA")
    ap.add_argument("--bearer-token-file", help="require 'Authorization: Bearer <token>'")
    ap.add_argument("--fault", choices=FAULTS, default="none")
    ap.add_argument("--delay-ms", type=int, help="delay every signing/verification answer")
    ap.add_argument("--fault-file", help='the fault now: a file of one line "FAULT '
                    '[DELAY_MS]", re-read when it changes (overrides --fault, --delay-ms)')
    ap.add_argument("--log", help="request log file (default: stderr)")
    ap.add_argument("--pidfile")
    ap.add_argument("--log-bodies", metavar="FILE",
                    help="append each request with a body and its answer as a JSON line")
    a = ap.parse_args()
    if not a.x5u.startswith("https://"):
        ap.error("--x5u must be an https URL")

    log = make_log(a.log)
    keys = Keys(a, log)
    srv = make_server(a.listen, server_tls(a.cert, a.key, a.client_ca), log)
    srv.keys = keys
    srv.token_file = a.bearer_token_file
    srv.faults = FaultSwitch(a.fault, a.delay_ms, a.fault_file, FAULTS)
    attach_bodies_log(srv, a.log_bodies)
    return serve(srv, a.pidfile, f"fault={a.fault} mtls={bool(a.client_ca)} "
                 f"bearer={bool(a.bearer_token_file)} x5u={a.x5u} "
                 f"trusted={len(keys.trusted)} chain={'on' if a.ca else 'off'}")


if __name__ == "__main__":
    sys.exit(main())
