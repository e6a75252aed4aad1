#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A fast enterprise hook for the benchmark: asyncio, one thread, stdlib only.

Answers POST {apiRoot}/tpid/v1/verification from the same directory file as the
reference service (tools/enterprise_service.py: its Directory, norm() and
parse_request() are imported, so the decisions are the same), over HTTPS with
keep-alive. It exists because the reference service is built for correctness, not
load: it writes the status line and headers and then the body in two sends without
TCP_NODELAY, so every answer waits about 40 ms for the client's delayed ACK (Nagle),
and its listen backlog is socketserver's 5, so a burst of new connections gets SYN
retries of 1 s. Here an answer is one send on a TCP_NODELAY socket, the backlog is
1024, and --delay-ms is an asyncio sleep (thousands of delayed answers in flight
cost no threads).

    hook_mock.py --listen 127.0.0.1:8443 --cert hook.pem --key hook.key \
        --directory DIR.json [--delay-ms N]

GET /healthz answers "ok"; GET /stats answers the request counters as JSON
({"requests": N, "results": {"authorized": N, ...}, "max_inflight": N, "errors": N,
"answered": N}); GET /answer-times?from=N the time each verification request spent
in the mock from the N-th on (ms, request read to answer written: what the
enterprise's delay really was, the event loop's lag included).
No client certificates, no bearer tokens, no fault injection: use the reference
service for those.
"""
import argparse
import asyncio
import json
import os
import signal
import socket
import ssl
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "tools"))
import enterprise_service as ref  # noqa: E402

IDLE_TIMEOUT = 30
HANDSHAKE_TIMEOUT = 10


class Mock:
    def __init__(self, directory, delay_ms):
        self.directory = directory
        self.delay = (delay_ms or 0) / 1000.0
        self.requests = 0
        self.results = {}
        self.errors = 0
        self.inflight = 0
        self.max_inflight = 0
        # every verification request's time in the mock, ms: its request read
        # to its answer written (the delay and the event loop's lag, not TLS)
        self.answer_ms = []

    @staticmethod
    def response(status, reason, body, ctype="application/json", close=False):
        head = (f"HTTP/1.1 {status} {reason}\r\nServer: tpid-bench-mock/1\r\n"
                f"Content-Type: {ctype}\r\nContent-Length: {len(body)}\r\n")
        if close:
            head += "Connection: close\r\n"
        return (head + "\r\n").encode() + body

    def error(self, status, reason, code, text, close=False):
        body = json.dumps(ref.error_body("serviceError", code, text), separators=(",", ":")).encode()
        return self.response(status, reason, body, close=close)

    async def answer(self, method, path, qs, headers, body):
        if method == "GET" and path == "/healthz":
            return self.response(200, "OK", b"ok", ctype="text/plain")
        if method == "GET" and path == "/stats":
            st = {"requests": self.requests, "results": self.results, "errors": self.errors,
                  "max_inflight": self.max_inflight, "answered": len(self.answer_ms)}
            return self.response(200, "OK", json.dumps(st).encode())
        if method == "GET" and path == "/answer-times":
            # ?from=N: the answer times (ms) from the N-th request on
            try:
                first = int(urllib.parse.parse_qs(qs).get("from", ["0"])[0])
            except ValueError:
                first = 0
            return self.response(200, "OK", json.dumps(self.answer_ms[max(0, first):]).encode())
        if not path.endswith(ref.API_PATH):
            return self.error(404, "Not Found", "NOT_FOUND", "no such resource")
        if method != "POST":
            return self.error(405, "Method Not Allowed", "METHOD_NOT_ALLOWED", "use POST")
        self.requests += 1
        try:
            req = ref.parse_request(body)
        except ValueError as e:
            self.errors += 1
            return self.error(400, "Bad Request", "BAD_REQUEST", str(e))
        decision = self.directory.decide(req["servedUser"], req["tpid"])
        self.results[decision["result"]] = self.results.get(decision["result"], 0) + 1
        if self.delay:
            self.inflight += 1
            self.max_inflight = max(self.max_inflight, self.inflight)
            try:
                await asyncio.sleep(self.delay)
            finally:
                self.inflight -= 1
        body = json.dumps({"tpidVerificationResponse": decision}, separators=(",", ":")).encode()
        return self.response(200, "OK", body)

    async def serve(self, reader, writer):
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            while True:
                try:
                    head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), IDLE_TIMEOUT)
                except (asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                        asyncio.TimeoutError, ConnectionError, ssl.SSLError):
                    return
                lines = head.decode("latin-1").split("\r\n")
                parts = lines[0].split()
                if len(parts) != 3:
                    self.errors += 1
                    writer.write(self.error(400, "Bad Request", "BAD_REQUEST", "bad request line", True))
                    return
                method, path, version = parts
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        k, v = line.split(":", 1)
                        headers[k.strip().lower()] = v.strip()
                length = headers.get("content-length", "0")
                if headers.get("transfer-encoding") or not length.isdigit() \
                        or int(length) > ref.MAX_BODY:
                    self.errors += 1
                    writer.write(self.error(400, "Bad Request", "BAD_REQUEST",
                                            "Content-Length required, at most 64 KiB", True))
                    return
                body = await reader.readexactly(int(length)) if int(length) else b""
                route, _, qs = path.partition("?")
                t0 = time.monotonic()
                writer.write(await self.answer(method, route, qs, headers, body))
                if method == "POST" and route.endswith(ref.API_PATH):
                    self.answer_ms.append(round((time.monotonic() - t0) * 1000.0, 3))
                if headers.get("connection", "").lower() == "close" or version == "HTTP/1.0":
                    return
        except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError, OSError):
            return
        finally:
            try:
                writer.close()
            except Exception:
                pass


async def main_async(a):
    host, _, port = a.listen.rpartition(":")
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.minimum_version = ssl.TLSVersion.TLSv1_2
    tls.load_cert_chain(a.cert, a.key)

    def log(line):
        sys.stderr.write(time.strftime("%Y-%m-%dT%H:%M:%S%z ") + line + "\n")
        sys.stderr.flush()

    mock = Mock(ref.Directory(a.directory, log), a.delay_ms)
    srv = await asyncio.start_server(mock.serve, host.strip("[]"), int(port), ssl=tls,
                                     backlog=1024, ssl_handshake_timeout=HANDSHAKE_TIMEOUT)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for s in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(s, stop.set)
    log(f"listening on {a.listen} delay_ms={a.delay_ms or 0}")
    async with srv:
        await stop.wait()
    log(f"stopped: requests={mock.requests} results={mock.results} errors={mock.errors} "
        f"max_inflight={mock.max_inflight}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", default="127.0.0.1:8443", help="HOST:PORT")
    ap.add_argument("--cert", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--directory", required=True, help="directory JSON file")
    ap.add_argument("--delay-ms", type=int, default=0, help="delay every verification answer")
    a = ap.parse_args()
    asyncio.run(main_async(a))
    return 0


if __name__ == "__main__":
    sys.exit(main())
