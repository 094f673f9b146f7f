#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A forward HTTP proxy for the agent's end-to-end tests (standard library only).

Listens on 127.0.0.1, prints "listening PORT" as its first stdout line, forwards
absolute-URI requests (GET, POST, HEAD, ...) and CONNECT tunnels, but only to
loopback origins (127.0.0.0/8, ::1): anything else gets 403, so a test can never
reach the network through it. Appends "METHOD URL STATUS" per request to --log,
which is what the tests assert on (the agent really went through the proxy).

    kc-test-proxy.py --port 0 --log FILE
"""

import argparse
import http.client
import http.server
import ipaddress
import select
import socket
import sys
import threading
import urllib.parse

# hop-by-hop headers (RFC 9110 7.6.1) are the proxy's, not forwarded
HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authenticate",
       "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade"}


def loopback(host):
    """Whether @host is a loopback address literal or "localhost"."""
    host = host.strip("[]")
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        pass
    if host.lower() != "localhost":
        # names are not resolved: a DNS answer must not open a way out
        return False
    return True


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    log_path = None
    log_lock = threading.Lock()

    def log_message(self, fmt, *args):  # quiet: the log file is the record
        pass

    def record(self, url, status):
        if not self.log_path:
            return
        with self.log_lock, open(self.log_path, "a", encoding="utf-8") as f:
            f.write("%s %s %d\n" % (self.command, url, status))

    def fail(self, status, why):
        body = (why + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.record(self.path, status)

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else None

    def forward(self):
        # the body is read first so that a refused request leaves the connection usable
        body = self.read_body()
        u = urllib.parse.urlsplit(self.path)
        if u.scheme != "http" or not u.hostname:
            return self.fail(400, "absolute http:// url expected")
        if not loopback(u.hostname):
            return self.fail(403, "origin not allowed: %s" % u.hostname)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        target = urllib.parse.urlunsplit(("", "", u.path or "/", u.query, ""))
        try:
            conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=30)
            conn.request(self.command, target, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except OSError as e:
            return self.fail(502, "origin failed: %s" % e)
        self.send_response(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in HOP and k.lower() != "content-length":
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        conn.close()
        self.record(self.path, resp.status)

    do_GET = do_POST = do_PUT = do_HEAD = do_DELETE = forward

    def do_CONNECT(self):
        host, _, port = self.path.rpartition(":")
        if not host or not port.isdigit():
            return self.fail(400, "host:port expected")
        if not loopback(host):
            return self.fail(403, "origin not allowed: %s" % host)
        try:
            up = socket.create_connection((host.strip("[]"), int(port)), timeout=30)
        except OSError as e:
            return self.fail(502, "origin failed: %s" % e)
        self.send_response(200, "Connection established")
        self.end_headers()
        self.record(self.path, 200)
        self.close_connection = True
        down = self.connection
        try:
            while True:
                ready, _, _ = select.select([down, up], [], [], 60)
                if not ready:
                    break
                for s in ready:
                    data = s.recv(65536)
                    if not data:
                        return
                    (up if s is down else down).sendall(data)
        except OSError:
            pass
        finally:
            up.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--log", default=None)
    args = ap.parse_args()
    Proxy.log_path = args.log
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Proxy)
    srv.daemon_threads = True
    print("listening %d" % srv.server_address[1], flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
