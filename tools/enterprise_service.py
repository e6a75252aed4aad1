#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Reference/mock enterprise verification service: the server side of the hook.

Answers POST {apiRoot}/tpid/v1/verification (docs/hook-api.yaml) from a JSON directory
file, over HTTPS, optionally requiring a client certificate and/or a bearer token.
--fault makes every verification answer misbehave, for the module's robustness tests.

  enterprise_service.py --listen 127.0.0.1:8443 --cert hook.pem --key hook.key \
      --directory tools/demo-directory.json [--client-ca client-ca.pem] \
      [--bearer-token-file F] [--fault MODE] [--delay-ms N] [--log FILE] [--pidfile F] \
      [--log-bodies FILE]

--log-bodies appends one JSON object per line for every verification request whose body
was read: {"request": <the body, parsed; its text if not JSON>, "status": <HTTP status
sent, 0 if none>, "answer": <the answer body, parsed; its text if not JSON; null if none>},
for tests that check what a client sent and got against docs/hook-api.yaml.
"""
import argparse, hmac, http.server, json, os, re, socket, ssl, sys, threading, time

from tls_server import clean, make_log, make_server, send_reply, serve, server_tls

API_PATH = "/tpid/v1/verification"
MAX_BODY = 64 * 1024           # a verification request is a few hundred bytes
DRAIN_MAX = 1024 * 1024        # largest unwanted body we still read to keep framing
IDLE_TIMEOUT = 30              # seconds between requests on a kept-alive connection
SLOW_DEFAULT_MS = 10000        # --fault slow without --delay-ms
FAULTS = ("none", "http500", "badjson", "wrongtypes", "missingfields", "huge",
          "redirect", "slow", "close")
REQ_FIELDS = {"servedUser": str, "tpid": str, "dest": list, "callId": str, "time": int}
REQ_REQUIRED = ("servedUser", "tpid", "dest", "time")


def norm(uri):
    """Comparison key of an identity: ('tn', digits) for a telephone number written as
    tel:+49..., sip:+49...@host;user=phone or bare digits, else ('uri', lower-cased)."""
    u = uri.strip().strip("<>").strip()
    low = u.lower()
    num = None
    if low.startswith("tel:"):
        num = u[4:].split(";", 1)[0]
    elif low.startswith(("sip:", "sips:")):
        user = u.split(":", 1)[1].split("@", 1)[0].split(";", 1)[0]
        if "@" in u and (user.startswith("+") or ";user=phone" in low):
            num = user
    elif re.fullmatch(r"\+?[0-9][0-9().\- ]*", u):
        num = u
    if num is not None:
        digits = re.sub(r"[+().\- ]", "", num)   # drop visual separators
        if digits.isdigit():
            return ("tn", digits)
    return ("uri", low)


class Directory:
    """The enterprise's user directory, re-read whenever the file changes on disk."""

    def __init__(self, path, log):
        self.path, self.log, self.lock = path, log, threading.Lock()
        self.stamp, self.ttls, self.users, self.owners = None, (300, 30), {}, {}
        self.refresh()
        if self.stamp is None:
            raise SystemExit(f"cannot load directory {path}")

    def refresh(self):
        try:
            st = os.stat(self.path)
        except OSError as e:
            self.log(f"directory {self.path}: {e}; keeping the previous one")
            return
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        with self.lock:
            if stamp == self.stamp:
                return
            try:
                with open(self.path, encoding="utf-8") as f:
                    data = json.load(f)
                # Convert everything now, so that a bad value fails the load, not a request.
                ttls = (int(data.get("defaultTtl", 300)), int(data.get("denyTtl", 30)))
                users, owners = {}, {}   # user -> {tpid: (name, validUntil)}; tpid -> users
                for user, entries in data["users"].items():
                    ids = users.setdefault(norm(user), {})
                    for e in entries:
                        tid = norm(e["tpid"])
                        ids[tid] = (e.get("displayName"), int(e.get("validUntil") or 0))
                        owners.setdefault(tid, set()).add(norm(user))
            except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
                # A half-written file must not wipe the directory; try again next time.
                self.log(f"directory {self.path} unreadable ({e!r}); keeping the previous one")
                return
            self.stamp, self.ttls, self.users, self.owners = stamp, ttls, users, owners
            self.log(f"directory of {data.get('enterprise', '?')} loaded: "
                     f"{sum(len(v) for v in users.values())} ids")

    def decide(self, served_user, tpid):
        self.refresh()
        user, tid = norm(served_user), norm(tpid)
        with self.lock:
            (default_ttl, deny_ttl), entry = self.ttls, self.users.get(user, {}).get(tid)
            owned_elsewhere = bool(self.owners.get(tid, set()) - {user})
        if entry is not None:
            name, valid_until = entry            # valid_until 0: no end date
            now = int(time.time())
            if valid_until and now >= valid_until:
                return {"result": "denied", "ttl": deny_ttl, "reason": "authorization expired"}
            ttl = min(default_ttl, valid_until - now) if valid_until else default_ttl
            ans = {"result": "authorized", "ttl": ttl}
            if name:
                ans["displayName"] = name
            return ans
        if owned_elsewhere:
            return {"result": "denied", "ttl": deny_ttl, "reason": "tpid belongs to another user"}
        return {"result": "unknown", "ttl": deny_ttl, "reason": "tpid not in directory"}


def parse_request(body):
    """The inner request object, or raise ValueError with a text for the 400 answer."""
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ValueError("body is not JSON") from None
    if not isinstance(doc, dict) or set(doc) != {"tpidVerificationRequest"}:
        raise ValueError("body must be {\"tpidVerificationRequest\":{...}} and nothing else")
    req = doc["tpidVerificationRequest"]
    if not isinstance(req, dict):
        raise ValueError("tpidVerificationRequest must be an object")
    extra = sorted(set(req) - set(REQ_FIELDS))
    if extra:
        raise ValueError(f"unknown field {extra[0]}")
    for k in REQ_REQUIRED:
        if k not in req:
            raise ValueError(f"missing field {k}")
    for k, v in req.items():
        # bool is an int in Python, not in JSON
        if not isinstance(v, REQ_FIELDS[k]) or isinstance(v, bool):
            raise ValueError(f"field {k} has the wrong type")
    if not req["servedUser"] or not req["tpid"]:
        raise ValueError("servedUser and tpid must not be empty")
    if not req["dest"] or not all(isinstance(d, str) and d for d in req["dest"]):
        raise ValueError("dest must be a non-empty array of non-empty strings")
    if req["time"] < 0:
        raise ValueError("time must not be negative")
    return req


def as_json(raw):
    """A body for the --log-bodies file: the parsed JSON, else its text."""
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return raw.decode("utf-8", errors="replace")


def error_body(etype, code, text):
    return {"error": {"type": etype, "code": code, "text": text}}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"      # keep-alive: the module reuses connections
    server_version = "tpid-enterprise-mock/1"
    timeout = IDLE_TIMEOUT

    def log_request(self, code="-", size="-"):
        pass                            # dispatch() writes one line per request itself

    def log_message(self, fmt, *args):  # now only http.server's own protocol errors
        self.server.log(f"{self.client_address[0]} - - {fmt % args}")

    def skip_body(self):
        # Read and drop a body we will not use: closing with unread data makes the kernel
        # send a reset that can destroy our answer before the client has read it.
        length = self.headers.get("Content-Length", "0")
        n = int(length) if length.isdigit() else -1
        if self.headers.get("Transfer-Encoding") or not 0 <= n <= DRAIN_MAX:
            self.close_connection = True     # unframed or abusive: just hang up afterwards
        elif n:
            self.rfile.read(n)

    def reply(self, status, obj=None, raw=None, headers=()):
        body = raw if raw is not None else (b"" if obj is None else
                                           json.dumps(obj, separators=(",", ":")).encode())
        self.sent = body
        send_reply(self, status, body, "application/json", headers)

    def dispatch(self):
        self.status, self.note, self.req = 0, "-", {}
        self.received, self.sent = None, None
        try:
            self.route()
        except (ConnectionError, socket.timeout, ssl.SSLError) as e:
            self.note, self.close_connection = f"io-error:{e.__class__.__name__}", True
        except Exception as e:          # never let one bad request take the service down
            self.note = f"exception:{clean(repr(e))}"
            self.close_connection = True
            if not self.status:
                try:
                    self.reply(500, error_body("serviceError", "INTERNAL", "internal error"))
                except OSError:
                    pass
        self.server.log(f"{self.client_address[0]} {self.command} {clean(self.path)} "
                        f"servedUser={clean(self.req.get('servedUser', '-'))} "
                        f"tpid={clean(self.req.get('tpid', '-'))} {self.note} "
                        f"status={self.status}")
        if self.server.bodies is not None and self.received is not None:
            self.server.log_bodies({"request": as_json(self.received), "status": self.status,
                                    "answer": as_json(self.sent) if self.sent else None})

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = dispatch

    def route(self):
        path = self.path.split("?", 1)[0]
        if path == "/healthz" and self.command in ("GET", "HEAD"):
            self.note = "health"
            return self.reply(200, raw=b"ok")
        if not path.endswith(API_PATH):
            self.skip_body()
            return self.reply(404, error_body("serviceError", "NOT_FOUND", "no such resource"))
        if self.command != "POST":
            self.skip_body()
            return self.reply(405, error_body("serviceError", "METHOD_NOT_ALLOWED",
                                              "use POST"), headers=[("Allow", "POST")])
        srv = self.server
        if srv.token_file:    # authenticate before reading anything from the client
            with open(srv.token_file, encoding="utf-8") as f:   # re-read: allows rotation
                want = ("Bearer " + f.read().strip()).encode()
            got = self.headers.get("Authorization", "").encode()
            if not hmac.compare_digest(got, want):
                self.note = "unauthorized"
                self.skip_body()
                return self.reply(401, error_body("policyError", "UNAUTHORIZED",
                                                  "missing or wrong bearer token"),
                                  headers=[("WWW-Authenticate", 'Bearer realm="tpid"')])
        body = self.read_body()
        if body is None:
            return
        self.received = body
        try:
            self.req = parse_request(body)
        except ValueError as e:
            self.note = "bad-request"
            return self.reply(400, error_body("serviceError", "BAD_REQUEST", str(e)))
        self.answer(srv.directory.decide(self.req["servedUser"], self.req["tpid"]))

    def read_body(self):
        ctype = self.headers.get("Content-Type", "application/json")
        length = self.headers.get("Content-Length")
        err = None
        if self.headers.get("Transfer-Encoding"):
            err = "chunked bodies are not supported"
        elif not ctype.lower().startswith("application/json"):
            err = "Content-Type must be application/json"
        elif length is None or not length.isdigit():
            err = "Content-Length required"
        elif int(length) > MAX_BODY:
            err = f"body larger than {MAX_BODY} bytes"
        if err:
            self.note = "bad-request"
            self.skip_body()
            self.reply(400, error_body("serviceError", "BAD_REQUEST", err))
            return None
        return self.rfile.read(int(length))

    def answer(self, decision):
        fault, delay = self.server.fault, self.server.delay_ms
        self.note = f"result={decision['result']}" + (f" fault={fault}" if fault != "none" else "")
        if fault == "slow" and delay is None:
            delay = SLOW_DEFAULT_MS
        if delay:
            time.sleep(delay / 1000.0)
        if fault == "close":
            self.close_connection = True       # hang up without a word
        elif fault == "http500":
            self.reply(500, error_body("serviceError", "INTERNAL", "injected fault"))
        elif fault == "badjson":
            self.reply(200, raw=b"{not json")
        elif fault == "wrongtypes":
            self.reply(200, {"tpidVerificationResponse": {"result": 1, "ttl": "x"}})
        elif fault == "missingfields":
            self.reply(200, {"tpidVerificationResponse": {}})
        elif fault == "huge":
            self.reply(200, {"tpidVerificationResponse": dict(decision, reason="x" * (1 << 20))})
        elif fault == "redirect":
            self.reply(302, headers=[("Location", "https://127.0.0.1:1/elsewhere")])
        else:
            self.reply(200, {"tpidVerificationResponse": decision})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", default="127.0.0.1:8443", help="HOST:PORT ([v6]:PORT)")
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--directory", required=True, help="directory JSON file")
    ap.add_argument("--client-ca", help="require a client certificate issued by this CA")
    ap.add_argument("--bearer-token-file", help="require 'Authorization: Bearer <token>'")
    ap.add_argument("--fault", choices=FAULTS, default="none")
    ap.add_argument("--delay-ms", type=int, help="delay every verification answer")
    ap.add_argument("--log", help="request log file (default: stderr)")
    ap.add_argument("--pidfile")
    ap.add_argument("--log-bodies", metavar="FILE",
                    help="append each verification request and its answer as a JSON line")
    a = ap.parse_args()

    log = make_log(a.log)
    srv = make_server(a.listen, Handler, server_tls(a.cert, a.key, a.client_ca), log)
    srv.directory = Directory(a.directory, log)
    srv.token_file, srv.fault, srv.delay_ms = a.bearer_token_file, a.fault, a.delay_ms
    srv.bodies = open(a.log_bodies, "a", buffering=1, encoding="utf-8") \
        if a.log_bodies else None
    bodies_lock = threading.Lock()

    def log_bodies(record):
        with bodies_lock:
            srv.bodies.write(json.dumps(record, separators=(",", ":")) + "\n")
            srv.bodies.flush()
    srv.log_bodies = log_bodies
    return serve(srv, a.pidfile, f"fault={a.fault} mtls={bool(a.client_ca)} "
                 f"bearer={bool(a.bearer_token_file)}")


if __name__ == "__main__":
    sys.exit(main())
