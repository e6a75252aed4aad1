# SPDX-License-Identifier: GPL-2.0-or-later
"""What the reference HTTPS services in tools/ share: a threaded TLS server whose
handshakes run in the connection's own thread, a one-line log, and a serve loop that
writes a pidfile and stops cleanly on SIGTERM/SIGINT."""
import http.server, os, signal, socket, ssl, sys, threading, time

HANDSHAKE_TIMEOUT = 10         # seconds; a silent client must not pin a thread forever


def clean(v, cap=200):
    """A client-supplied value made safe for a one-line log."""
    return str(v)[:cap].encode("unicode_escape").decode("ascii").replace(" ", "\\x20")


class FaultSwitch:
    """The fault a service applies now: the one it was started with (--fault,
    --delay-ms) or, with --fault-file, the file's one line "FAULT [DELAY_MS]", re-read
    whenever the file changes, so that a soak can schedule faults without restarting
    the service. A missing file, an empty one or a fault not in known means none."""

    def __init__(self, fault, delay_ms, path=None, known=()):
        self.fixed, self.path, self.known = (fault, delay_ms), path, set(known)
        self.current = ("none", None)
        self.lock = threading.Lock()

    def now(self):
        """(fault, delay in ms or None)."""
        if not self.path:
            return self.fixed
        # Read every time, not on a changed stat: two faults of the same length
        # written within one timestamp tick (the inode recycled by os.replace) have
        # the same size, mtime and inode. The file is one short line.
        try:
            with open(self.path, encoding="utf-8") as f:
                words = f.read(200).split()
        except OSError:
            words = []
        with self.lock:
            fault = words[0] if words and words[0] in self.known else "none"
            delay = int(words[1]) if len(words) > 1 and words[1].isdigit() else None
            self.current = (fault, delay)
            return self.current


def make_log(path):
    """A thread-safe log(line) writing timestamped lines to path (stderr if None)."""
    logf = open(path, "a", buffering=1, encoding="utf-8") if path else sys.stderr
    lock = threading.Lock()

    def log(line):
        with lock:
            logf.write(time.strftime("%Y-%m-%dT%H:%M:%S%z ") + line + "\n")
            logf.flush()
    return log


def server_tls(cert, key, client_ca=None, optional=False):
    """A TLS 1.2+ server context; with client_ca, a client certificate is required (or,
    with optional, verified when one is offered, for services that also take clients
    without one)."""
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.minimum_version = ssl.TLSVersion.TLSv1_2
    tls.load_cert_chain(cert, key)
    if client_ca:
        tls.load_verify_locations(client_ca)
        tls.verify_mode = ssl.CERT_OPTIONAL if optional else ssl.CERT_REQUIRED
    return tls


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True          # a slow answer must not hold up shutdown
    request_queue_size = 128       # socketserver's 5 makes a burst of clients wait

    def finish_request(self, request, client_address):
        # The TLS handshake runs here, in the connection's own thread, so one client
        # that never completes it cannot block accept() for everybody else.
        request.settimeout(HANDSHAKE_TIMEOUT)
        # Headers and body go out in separate writes: without this, Nagle and
        # delayed ACKs add ~40 ms to every answer.
        request.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        try:
            conn = self.tls.wrap_socket(request, server_side=True)
        except (OSError, ValueError) as e:
            return self.log(f"{client_address[0]} TLS handshake failed: {e}")
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            conn.close()

    def handle_error(self, request, client_address):
        self.log(f"{client_address[0]} connection error: {sys.exc_info()[1]!r}")


def send_reply(handler, status, body, ctype, headers=()):
    """One complete HTTP response with a Content-Length (no body for HEAD); records the
    status on the handler for its log line."""
    handler.send_response(status)
    if body:
        handler.send_header("Content-Type", ctype)
    handler.send_header("Content-Length", str(len(body)))
    for k, v in headers:
        handler.send_header(k, v)
    handler.end_headers()
    if handler.command != "HEAD":
        handler.wfile.write(body)
    handler.status = status


def make_server(listen, handler, tls, log):
    """A Server on "HOST:PORT" ("[v6]:PORT") with tls and log attached."""
    host, _, port = listen.rpartition(":")
    host = host.strip("[]")
    Server.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
    srv = Server((host, int(port)), handler)
    srv.tls, srv.log = tls, log
    return srv


def serve(srv, pidfile, banner):
    """Runs srv until SIGTERM/SIGINT; the pidfile exists while it runs. Returns 0."""
    if pidfile:
        with open(pidfile, "w") as f:
            f.write(f"{os.getpid()}\n")

    def stop(*_):
        # shutdown() waits for serve_forever() to return, so it must run in another thread.
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    srv.log(f"listening on {srv.server_address[0]}:{srv.server_address[1]} {banner}")
    try:
        srv.serve_forever(poll_interval=0.1)   # how quickly SIGTERM is noticed
    finally:
        srv.server_close()
        if pidfile:
            try:
                os.unlink(pidfile)
            except OSError:
                pass
        srv.log("stopped")
    return 0
