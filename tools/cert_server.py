#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Reference certificate repository: serves the PEM files behind x5u URLs over HTTPS.

GET /<file> answers the file from --dir (names of letters, digits, '.', '_' and '-'
ending in .pem or .crt; a file holding a private key is never served) as application/pem-certificate-chain with "Cache-Control: max-age=<--max-age>".
For the module's robustness tests, a path may start with fault segments that make the
answer misbehave; they combine with any file name:

  /maxage/<N>/<file>   Cache-Control: max-age=N
  /nostore/<file>      Cache-Control: no-store
  /expires/<file>      no Cache-Control; Expires 120 s ahead (IMF-fixdate)
  /slow/<file>         answer after --slow-ms
  /lag/<file>          answer after --lag-ms (a slow but successful repository)
  /404/<file>          404
  /http500/<file>      500
  /redirect/<file>     302 to --redirect-to (default a cloud metadata address)
  /huge/<file>         a 2 MiB body of PEM-looking text
  /notpem/<file>       the first certificate as DER, not PEM
  /garbage/<file>      text that is not a certificate
  /close/<file>        close the connection without an answer

  cert_server.py --listen 127.0.0.1:8470 --cert srv.pem --key srv.key --dir DIR \
      [--max-age 300] [--slow-ms 10000] [--lag-ms 700] [--redirect-to URL] [--fault-file F] \
      [--log FILE] [--pidfile F]

--fault-file names a file whose line "FAULT [DELAY_MS]" (a fault segment's name) adds that
fault to every request while it says so; DELAY_MS replaces --slow-ms for "slow".

Every request is logged on one line: "<addr> GET <path> <note> status=<code>", so that
tests can count the fetches a path received.
"""
import argparse, email.utils, http.server, os, re, socket, ssl, sys, time

from tls_server import FaultSwitch, clean, make_log, make_server, send_reply, serve, server_tls

IDLE_TIMEOUT = 30
NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,95}\.(pem|crt)")
FAULTS = ("nostore", "expires", "slow", "lag", "404", "http500", "redirect", "huge", "notpem",
          "garbage", "close")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tpid-cert-repository/1"
    timeout = IDLE_TIMEOUT

    def log_request(self, code="-", size="-"):
        pass

    def log_message(self, fmt, *args):
        self.server.log(f"{self.client_address[0]} - - {fmt % args}")

    def reply(self, status, body=b"", ctype="application/pem-certificate-chain",
              headers=()):
        send_reply(self, status, body, ctype, headers)

    def do_GET(self):
        self.status, self.note = 0, "-"
        try:
            self.route()
        except (ConnectionError, socket.timeout, ssl.SSLError) as e:
            self.note, self.close_connection = f"io-error:{e.__class__.__name__}", True
        self.server.log(f"{self.client_address[0]} {self.command} {clean(self.path)} "
                        f"{self.note} status={self.status}")

    do_HEAD = do_GET

    def route(self):
        parts = self.path.split("?", 1)[0].lstrip("/").split("/")
        max_age, faults = self.server.max_age, []
        while len(parts) > 1:
            if parts[0] == "maxage" and len(parts) > 2 and parts[1].isdigit():
                max_age = int(parts[1])
                parts = parts[2:]
            elif parts[0] in FAULTS:
                faults.append(parts.pop(0))
            else:
                break
        scheduled, delay = self.server.faults.now()
        slow_ms = self.server.slow_ms
        if scheduled != "none":
            faults.append(scheduled)
            slow_ms = delay if delay is not None else slow_ms
        self.note = ",".join(faults) or "-"
        if len(parts) != 1 or not NAME.fullmatch(parts[0]):
            return self.reply(404)
        path = os.path.join(self.server.dir, parts[0])
        if "close" in faults:
            self.close_connection = True
            return
        if "slow" in faults:
            time.sleep(slow_ms / 1000.0)
        if "lag" in faults:
            time.sleep(self.server.lag_ms / 1000.0)
        if "404" in faults or not os.path.isfile(path):
            return self.reply(404)
        if "http500" in faults:
            return self.reply(500, b"injected fault\n", ctype="text/plain")
        if "redirect" in faults:
            return self.reply(302, headers=[("Location", self.server.redirect_to)])
        with open(path, "rb") as f:
            body = f.read()
        if b"PRIVATE KEY" in body:
            return self.reply(404)
        if "huge" in faults:
            body = body * (2 * 1024 * 1024 // max(len(body), 1) + 1)
        elif "notpem" in faults:
            body = ssl.PEM_cert_to_DER_cert(body.decode("ascii", errors="replace"))
        elif "garbage" in faults:
            body = b"<html>this is not a certificate</html>\n"
        headers = [("Cache-Control", f"max-age={max_age}")]
        if "nostore" in faults:
            headers = [("Cache-Control", "no-store")]
        elif "expires" in faults:
            headers = [("Expires", email.utils.formatdate(time.time() + 120, usegmt=True))]
        self.reply(200, body, headers=headers)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--listen", default="127.0.0.1:8470", help="HOST:PORT ([v6]:PORT)")
    ap.add_argument("--cert", required=True, help="the server's certificate (PEM)")
    ap.add_argument("--key", required=True, help="the server's key (PEM)")
    ap.add_argument("--dir", required=True, help="directory of the PEM files served")
    ap.add_argument("--max-age", type=int, default=300, help="Cache-Control max-age")
    ap.add_argument("--slow-ms", type=int, default=10000, help="delay of /slow/ paths")
    ap.add_argument("--lag-ms", type=int, default=700, help="delay of /lag/ paths")
    ap.add_argument("--redirect-to", default="http://169.254.169.254/latest/meta-data/",
                    help="Location of /redirect/ paths")
    ap.add_argument("--fault-file", help='a file of one line "FAULT [DELAY_MS]": that fault '
                    "on every request while it says so")
    ap.add_argument("--log", help="request log file (default: stderr)")
    ap.add_argument("--pidfile")
    a = ap.parse_args()
    srv = make_server(a.listen, Handler, server_tls(a.cert, a.key), make_log(a.log))
    srv.dir, srv.max_age, srv.slow_ms, srv.lag_ms = a.dir, a.max_age, a.slow_ms, a.lag_ms
    srv.redirect_to = a.redirect_to
    srv.faults = FaultSwitch("none", None, a.fault_file, FAULTS)
    return serve(srv, a.pidfile, f"dir={a.dir} max-age={a.max_age}")


if __name__ == "__main__":
    sys.exit(main())
