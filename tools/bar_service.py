#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Reference/mock Base Avatar Repository (BAR): the server side of the avatar check.

Keeps avatar representations and who owns which Avatar-ID (a JSON data file), and
answers, over HTTPS (docs/bar-api.yaml):

  POST {apiRoot}/bar/v1/authorization            IMS nodes only (mTLS and/or bearer)
  GET  {apiRoot}/bar/v1/avatars/{aid}/representation   its owner, or a user holding a
                                                 live grant (bearer credential)
  PUT  {apiRoot}/bar/v1/avatars/{aid}/representation   its owner
  GET  {apiRoot}/bar/v1/users/{user}/avatars     that user, or an IMS node

An authorization that names destinations grants each of them the right to read the
representation for the answer's ttl. 401 without valid credentials, 403 without
authorization (also for an Avatar-ID that does not exist), never the bytes.
--fault makes every authorization answer misbehave, for the module's tests.

  bar_service.py --listen 127.0.0.1:8480 --cert bar.pem --key bar.key \
      --data tools/demo-bar.json [--client-ca client-ca.pem] [--node-token-file F] \
      [--fault MODE] [--delay-ms N] [--fault-file F] [--ttl N] [--log FILE] [--pidfile F] \
      [--log-bodies FILE] [--public-host HOST]
"""
import argparse, base64, hashlib, hmac, json, os, re, sys, threading, time, urllib.parse

import json_service
from json_service import attach_bodies_log, error_body, norm
from tls_server import FaultSwitch, make_log, make_server, serve, server_tls

PREFIX = "/bar/v1/"
MAX_BODY = 64 * 1024            # an authorization request is a few hundred bytes
MAX_OBJECT = 1024 * 1024        # a stored representation
FAULTS = ("none", "http500", "badjson", "wrongtypes", "missingfields", "huge",
          "redirect", "slow", "close", "wrongdigest")
AID = re.compile(r"[A-Za-z0-9._~:-]{1,128}")
REQ_FIELDS = {"servedUser": str, "avatarId": str, "dest": list, "callId": str,
              "time": int}
REQ_REQUIRED = ("servedUser", "avatarId", "dest", "time")


def unquote(seg):
    """A percent-decoded path segment, or None when it is not UTF-8 text."""
    try:
        return urllib.parse.unquote(seg, errors="strict")
    except UnicodeDecodeError:
        return None


def sri(data):
    return "sha256-" + base64.b64encode(hashlib.sha256(data).digest()).decode()


class Store:
    """Avatars, their owners and bytes, user credentials and read grants."""

    def __init__(self, path, ttl):
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        base = os.path.dirname(os.path.abspath(path))
        self.lock = threading.Lock()
        self.ttl = int(data.get("defaultTtl", 300)) if ttl is None else ttl
        self.deny_ttl = int(data.get("denyTtl", 30))
        self.avatars = {}       # aid -> {"owner": norm, "type": str, "bytes": bytes}
        for aid, a in data["avatars"].items():
            if not AID.fullmatch(aid):
                raise SystemExit(f"bad Avatar-ID in {path}: {aid!r}")
            with open(os.path.join(base, a["file"]), "rb") as f:
                self.avatars[aid] = {"owner": norm(a["owner"]), "type": a["mediaType"],
                                     "bytes": f.read()}
        # token -> (user, expires or 0); compared in constant time at lookup
        self.creds = [(c["token"].encode(), norm(c["user"]), int(c.get("expires", 0)))
                      for c in data.get("credentials", [])]
        self.grants = {}        # (aid, user) -> expiry

    def user_of(self, token):
        """The user a bearer credential stands for, or None (unknown or expired)."""
        found = None
        for tok, user, exp in self.creds:
            if hmac.compare_digest(tok, token.encode()):
                found = (user, exp)
        if found is None or (found[1] and time.time() >= found[1]):
            return None
        return found[0]

    def decide(self, served, aid, dests, url):
        with self.lock:
            a = self.avatars.get(aid)
            if a is None:
                return {"result": "unknown", "ttl": self.deny_ttl}
            if a["owner"] != norm(served):
                return {"result": "denied", "ttl": self.deny_ttl}
            until = time.time() + self.ttl
            for d in dests:
                self.grants[(aid, norm(d))] = until
            return {"result": "authorized", "ttl": self.ttl,
                    "representation": {"url": url, "mediaType": a["type"],
                                       "digest": sri(a["bytes"])}}

    def may_read(self, aid, user):
        with self.lock:
            a = self.avatars.get(aid)
            if a is None:
                return None
            if a["owner"] == user or self.grants.get((aid, user), 0) > time.time():
                return a
            return None

    def replace(self, aid, user, data):
        with self.lock:
            a = self.avatars.get(aid)
            if a is None or a["owner"] != user:
                return False
            a["bytes"] = data
            return True

    def avatars_of(self, user):
        with self.lock:
            return sorted(aid for aid, a in self.avatars.items() if a["owner"] == user)


def parse_request(body):
    """The inner request object, or raise ValueError with a text for the 400 answer."""
    req = json_service.parse_envelope(body, "avatarAuthorizationRequest", REQ_FIELDS,
                                      REQ_REQUIRED)
    if not req["servedUser"]:
        raise ValueError("servedUser must not be empty")
    if not AID.fullmatch(req["avatarId"]):
        raise ValueError("avatarId is not an Avatar-ID (1-128 of A-Za-z0-9._~:-)")
    if not req["dest"] or not all(isinstance(d, str) and d for d in req["dest"]):
        raise ValueError("dest must be a non-empty array of non-empty strings")
    if req["time"] < 0:
        raise ValueError("time must not be negative")
    return req


class Handler(json_service.Handler):
    server_version = "tpid-bar-mock/1"
    answer_key = "avatarAuthorizationResponse"
    too_large = 413

    def deny(self, status, code, text):
        """401 (no valid credentials) or 403 (not authorized); never any bytes."""
        self.note = code.lower()
        self.skip_body()
        hdrs = [("WWW-Authenticate", 'Bearer realm="bar"')] if status == 401 else []
        etype = "policyError"
        return self.reply(status, error_body(etype, code, text), headers=hdrs)

    # ---- who is asking -------------------------------------------------------------
    def bearer(self):
        auth = self.headers.get("Authorization", "")
        return auth[7:].strip() if auth[:7].lower() == "bearer " else None

    def is_node(self):
        """An authenticated IMS node: a verified client certificate, or the node token."""
        srv = self.server
        if srv.client_ca and self.connection.getpeercert():
            return True
        tok = self.bearer()
        if srv.node_token_file and tok is not None:
            with open(srv.node_token_file, encoding="utf-8") as f:
                want = f.read().strip().encode()
            return hmac.compare_digest(tok.encode(), want)
        return False

    def user(self):
        tok = self.bearer()
        return self.server.store.user_of(tok) if tok else None

    # ---- routing -------------------------------------------------------------------
    def route(self):
        raw_path = self.path.split("?", 1)[0]
        if raw_path == "/healthz" and self.command in ("GET", "HEAD"):
            self.note = "health"
            return self.reply(200, raw=b"ok", ctype="text/plain")
        i = raw_path.find(PREFIX)
        if i < 0:
            self.skip_body()
            return self.reply(404, error_body("serviceError", "NOT_FOUND", "no such resource"))
        self.api_root, rest = raw_path[:i], raw_path[i + len(PREFIX):]
        parts = rest.split("/")
        if parts == ["authorization"]:
            return self.method("POST", self.authorization)
        if len(parts) == 3 and parts[0] == "avatars" and parts[2] == "representation":
            aid = unquote(parts[1])
            if aid is None or not AID.fullmatch(aid):
                return self.deny(403, "FORBIDDEN", "not authorized for this avatar")
            if self.command in ("GET", "HEAD"):
                return self.get_representation(aid)
            return self.method("PUT", lambda: self.put_representation(aid))
        if len(parts) == 3 and parts[0] == "users" and parts[2] == "avatars":
            who = unquote(parts[1])
            if not who:
                self.skip_body()
                return self.reply(404, error_body("serviceError", "NOT_FOUND",
                                                  "no such user"))
            return self.method("GET", lambda: self.list_avatars(who))
        self.skip_body()
        return self.reply(404, error_body("serviceError", "NOT_FOUND", "no such resource"))

    def method(self, want, fn):
        if self.command != want:
            self.skip_body()
            return self.reply(405, error_body("serviceError", "METHOD_NOT_ALLOWED",
                                              f"use {want}"), headers=[("Allow", want)])
        return fn()

    # ---- the IMS node's question -------------------------------------------------
    def authorization(self):
        if not self.is_node():    # authenticate before reading anything from the client
            return self.deny(401, "UNAUTHORIZED", "IMS node not authenticated")
        body = self.read_body(MAX_BODY)
        if body is None:
            return
        self.received = body
        try:
            self.req = parse_request(body)
        except ValueError as e:
            self.note = "bad-request"
            return self.reply(400, error_body("serviceError", "BAD_REQUEST", str(e)))
        aid = self.req["avatarId"]
        host = self.server.public_host
        url = (f"https://{host}:{self.server.server_address[1]}{self.api_root}{PREFIX}"
               f"avatars/{urllib.parse.quote(aid, safe='')}/representation")
        decision = self.server.store.decide(self.req["servedUser"], aid, self.req["dest"], url)
        self.answer(decision)

    def fault_answer(self, decision, fault):
        if fault == "wrongdigest" and "representation" in decision:
            rep = dict(decision["representation"], digest=sri(b"not the stored bytes"))
            return dict(decision, representation=rep)
        return decision

    # ---- stored objects ----------------------------------------------------------
    def get_representation(self, aid):
        user = self.user()
        if user is None:
            return self.deny(401, "UNAUTHORIZED", "missing, unknown or expired credential")
        a = self.server.store.may_read(aid, user)
        if a is None:
            return self.deny(403, "FORBIDDEN", "not authorized for this avatar")
        self.note = f"read aid={aid}"
        return self.reply(200, raw=a["bytes"], ctype=a["type"],
                          headers=[("Cache-Control", "no-store")])

    def put_representation(self, aid):
        user = self.user()
        if user is None:
            return self.deny(401, "UNAUTHORIZED", "missing, unknown or expired credential")
        a = self.server.store.avatars.get(aid)
        if a is None or a["owner"] != user:
            return self.deny(403, "FORBIDDEN", "only the owner may replace it")
        data = self.read_body(MAX_OBJECT, json_only=False)
        if data is None:
            return
        self.server.store.replace(aid, user, data)
        self.note = f"replaced aid={aid}"
        return self.reply(204)

    def list_avatars(self, who):
        if self.is_node():
            allowed = True
        else:
            user = self.user()
            if user is None:
                return self.deny(401, "UNAUTHORIZED", "missing, unknown or expired credential")
            allowed = user == norm(who)
        if not allowed:
            return self.deny(403, "FORBIDDEN", "only that user or an IMS node")
        self.note = "list"
        return self.reply(200, {"avatars": self.server.store.avatars_of(norm(who))})


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", default="127.0.0.1:8480", help="HOST:PORT ([v6]:PORT)")
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--data", required=True, help="avatars, owners and credentials (JSON)")
    ap.add_argument("--client-ca", help="IMS nodes may authenticate with a certificate "
                    "issued by this CA")
    ap.add_argument("--node-token-file", help="IMS nodes may authenticate with "
                    "'Authorization: Bearer <token>'")
    ap.add_argument("--ttl", type=int, help="lifetime of an authorization and its grants "
                    "(default: the data file's defaultTtl)")
    ap.add_argument("--public-host", default="127.0.0.1",
                    help="host name of the representation URLs")
    ap.add_argument("--fault", choices=FAULTS, default="none")
    ap.add_argument("--delay-ms", type=int, help="delay every authorization answer")
    ap.add_argument("--fault-file", help='the fault now: a file of one line "FAULT '
                    '[DELAY_MS]", re-read when it changes (overrides --fault, --delay-ms)')
    ap.add_argument("--log", help="request log file (default: stderr)")
    ap.add_argument("--pidfile")
    ap.add_argument("--log-bodies", metavar="FILE",
                    help="append each authorization request and its answer as a JSON line")
    a = ap.parse_args()
    if not a.client_ca and not a.node_token_file:
        ap.error("IMS nodes must authenticate: give --client-ca and/or --node-token-file")

    log = make_log(a.log)
    srv = make_server(a.listen, Handler, server_tls(a.cert, a.key, a.client_ca, optional=True),
                      log)
    srv.store = Store(a.data, a.ttl)
    srv.client_ca, srv.node_token_file = a.client_ca, a.node_token_file
    srv.faults = FaultSwitch(a.fault, a.delay_ms, a.fault_file, FAULTS)
    srv.public_host = a.public_host
    attach_bodies_log(srv, a.log_bodies)
    return serve(srv, a.pidfile, f"fault={a.fault} mtls={bool(a.client_ca)} "
                 f"node_bearer={bool(a.node_token_file)} avatars={len(srv.store.avatars)}")


if __name__ == "__main__":
    sys.exit(main())
