# SPDX-License-Identifier: GPL-2.0-or-later
"""What the reference JSON services in tools/ (the enterprise hook, the avatar
repository) share on top of tls_server.py: the request handler's plumbing (keep-alive,
bounded bodies, error objects, one log line per request, the --log-bodies record) and
the identity comparison both apply to served users."""
import http.server
import json
import re
import socket
import ssl
import time

from tls_server import clean, send_reply

DRAIN_MAX = 2 * 1024 * 1024     # largest unwanted body still read to keep the framing
SLOW_DEFAULT_MS = 10000         # --fault slow without --delay-ms
IDLE_TIMEOUT = 30               # seconds between requests on a kept-alive connection


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


def as_json(raw):
    """A body for the --log-bodies file: the parsed JSON, else its text."""
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return raw.decode("utf-8", errors="replace")


def parse_envelope(body, top, fields, required):
    """The inner object of a request body {"<top>": {...}} whose members are fields
    (name -> type) with the required ones present, or raise ValueError with a text for
    the 400 answer. The service checks the values' meaning itself."""
    try:
        doc = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise ValueError("body is not JSON") from None
    if not isinstance(doc, dict) or set(doc) != {top}:
        raise ValueError(f"body must be {{\"{top}\":{{...}}}} and nothing else")
    req = doc[top]
    if not isinstance(req, dict):
        raise ValueError(f"{top} must be an object")
    extra = sorted(set(req) - set(fields))
    if extra:
        raise ValueError(f"unknown field {extra[0]}")
    for k in required:
        if k not in req:
            raise ValueError(f"missing field {k}")
    for k, v in req.items():
        # bool is an int in Python, not in JSON
        if not isinstance(v, fields[k]) or isinstance(v, bool):
            raise ValueError(f"field {k} has the wrong type")
    return req


def error_body(etype, code, text):
    return {"error": {"type": etype, "code": code, "text": text}}


class Handler(http.server.BaseHTTPRequestHandler):
    """A service's handler: subclasses implement route() and may add log_fields()."""
    protocol_version = "HTTP/1.1"      # keep-alive: the module reuses connections
    timeout = IDLE_TIMEOUT
    too_large = 400                    # the status of a body over the limit
    answer_key = None                  # the answer's one top-level member
    huge_key = "pad"                   # the member the "huge" fault inflates

    def answer(self, decision):
        """{answer_key: decision}, or the fault the service was started with (for the
        tests: late, hung up, 500, not JSON, wrong types, missing fields, too big,
        redirected, or what fault_answer() makes of it)."""
        fault, delay = self.server.faults.now()
        key = self.answer_key
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
            self.reply(200, {key: {"result": 1, "ttl": "x"}})
        elif fault == "missingfields":
            self.reply(200, {key: {}})
        elif fault == "huge":
            self.reply(200, {key: dict(decision, **{self.huge_key: "x" * (1 << 20)})})
        elif fault == "redirect":
            self.reply(302, headers=[("Location", "https://127.0.0.1:1/elsewhere")])
        else:
            self.reply(200, {key: self.fault_answer(decision, fault)})

    def fault_answer(self, decision, fault):
        """The decision as it is answered under a service's own faults."""
        return decision

    def log_request(self, code="-", size="-"):
        pass                            # dispatch() writes one line per request itself

    def log_message(self, fmt, *args):  # now only http.server's own protocol errors
        self.server.log(f"{self.client_address[0]} - - {fmt % args}")

    def log_fields(self):
        return ""

    def skip_body(self):
        # Read and drop a body we will not use: closing with unread data makes the kernel
        # send a reset that can destroy our answer before the client has read it.
        length = self.headers.get("Content-Length", "0")
        n = int(length) if length.isdigit() else -1
        if self.headers.get("Transfer-Encoding") or not 0 <= n <= DRAIN_MAX:
            self.close_connection = True     # unframed or abusive: just hang up afterwards
        elif n:
            self.rfile.read(n)

    def reply(self, status, obj=None, raw=None, headers=(), ctype="application/json"):
        body = raw if raw is not None else (b"" if obj is None else
                                           json.dumps(obj, separators=(",", ":")).encode())
        self.sent = body if ctype == "application/json" else None
        send_reply(self, status, body, ctype, headers)

    def read_body(self, limit, json_only=True):
        """The request body (at most limit bytes), or None after a 400/413 answer."""
        ctype = self.headers.get("Content-Type", "application/json")
        length = self.headers.get("Content-Length")
        err = None
        if self.headers.get("Transfer-Encoding"):
            err = "chunked bodies are not supported"
        elif json_only and not ctype.lower().startswith("application/json"):
            err = "Content-Type must be application/json"
        elif length is None or not length.isdigit():
            err = "Content-Length required"
        elif int(length) > limit:
            err = f"body larger than {limit} bytes"
        if err:
            self.note = "bad-request"
            self.skip_body()
            self.reply(self.too_large if "larger" in err else 400,
                       error_body("serviceError", "BAD_REQUEST", err))
            return None
        return self.rfile.read(int(length))

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
                        f"{self.log_fields()}{self.note} status={self.status}")
        if self.server.bodies is not None and self.received is not None:
            self.server.log_bodies({"request": as_json(self.received), "status": self.status,
                                    "answer": as_json(self.sent) if self.sent else None})

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = dispatch


def attach_bodies_log(srv, path):
    """srv.bodies / srv.log_bodies(record): one JSON line per record into path (None:
    off), for tests that check requests and answers against the API document."""
    import threading
    srv.bodies = open(path, "a", buffering=1, encoding="utf-8") if path else None
    lock = threading.Lock()

    def log_bodies(record):
        with lock:
            srv.bodies.write(json.dumps(record, separators=(",", ":")) + "\n")
            srv.bodies.flush()
    srv.log_bodies = log_bodies
