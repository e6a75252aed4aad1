#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Reference/mock enterprise verification service: the server side of the hook.

Answers POST {apiRoot}/tpid/v1/verification (docs/hook-api.yaml) from a JSON directory
file, over HTTPS, optionally requiring a client certificate and/or a bearer token.
--fault makes every verification answer misbehave, for the module's robustness tests;
--fault-file names a file whose line "FAULT [DELAY_MS]" says which fault applies now.

  enterprise_service.py --listen 127.0.0.1:8443 --cert hook.pem --key hook.key \
      --directory tools/demo-directory.json [--client-ca client-ca.pem] \
      [--bearer-token-file F] [--fault MODE] [--delay-ms N] [--fault-file F] \
      [--log FILE] [--pidfile F] [--log-bodies FILE]

--log-bodies appends one JSON object per line for every verification request whose body
was read: {"request": <the body, parsed; its text if not JSON>, "status": <HTTP status
sent, 0 if none>, "answer": <the answer body, parsed; its text if not JSON; null if none>},
for tests that check what a client sent and got against docs/hook-api.yaml.
"""
import argparse, hmac, json, os, sys, threading, time

import json_service
from json_service import attach_bodies_log, error_body, norm
from tls_server import FaultSwitch, clean, make_log, make_server, serve, server_tls

API_PATH = "/tpid/v1/verification"
MAX_BODY = 64 * 1024           # a verification request is a few hundred bytes
FAULTS = ("none", "http500", "badjson", "wrongtypes", "missingfields", "huge",
          "redirect", "slow", "close")
REQ_FIELDS = {"servedUser": str, "tpid": str, "dest": list, "callId": str, "time": int}
REQ_REQUIRED = ("servedUser", "tpid", "dest", "time")


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
    req = json_service.parse_envelope(body, "tpidVerificationRequest", REQ_FIELDS,
                                      REQ_REQUIRED)
    if not req["servedUser"] or not req["tpid"]:
        raise ValueError("servedUser and tpid must not be empty")
    if not req["dest"] or not all(isinstance(d, str) and d for d in req["dest"]):
        raise ValueError("dest must be a non-empty array of non-empty strings")
    if req["time"] < 0:
        raise ValueError("time must not be negative")
    return req


class Handler(json_service.Handler):
    server_version = "tpid-enterprise-mock/1"
    answer_key = "tpidVerificationResponse"
    huge_key = "reason"

    def log_fields(self):
        return (f"servedUser={clean(self.req.get('servedUser', '-'))} "
                f"tpid={clean(self.req.get('tpid', '-'))} ")

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
        body = self.read_body(MAX_BODY)
        if body is None:
            return
        self.received = body
        try:
            self.req = parse_request(body)
        except ValueError as e:
            self.note = "bad-request"
            return self.reply(400, error_body("serviceError", "BAD_REQUEST", str(e)))
        self.answer(srv.directory.decide(self.req["servedUser"], self.req["tpid"]))


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
    ap.add_argument("--fault-file", help='the fault now: a file of one line "FAULT '
                    '[DELAY_MS]", re-read when it changes (overrides --fault, --delay-ms)')
    ap.add_argument("--log", help="request log file (default: stderr)")
    ap.add_argument("--pidfile")
    ap.add_argument("--log-bodies", metavar="FILE",
                    help="append each verification request and its answer as a JSON line")
    a = ap.parse_args()

    log = make_log(a.log)
    srv = make_server(a.listen, Handler, server_tls(a.cert, a.key, a.client_ca), log)
    srv.directory = Directory(a.directory, log)
    srv.token_file = a.bearer_token_file
    srv.faults = FaultSwitch(a.fault, a.delay_ms, a.fault_file, FAULTS)
    attach_bodies_log(srv, a.log_bodies)
    return serve(srv, a.pidfile, f"fault={a.fault} mtls={bool(a.client_ca)} "
                 f"bearer={bool(a.bearer_token_file)}")


if __name__ == "__main__":
    sys.exit(main())
