#!/usr/bin/env python3
"""A fault-injecting HTTP proxy in front of the S3 test server (tests/s3/s3_server.sh), for the s3
backend's retry and timeout tests. Its interface is that of tests/elasticsearch/es_fault_proxy.py,
which cannot serve here: it rewrites the Host header (the SigV4 signature covers it), answers
with Elasticsearch's JSON errors, and cannot stall.

  python3 s3_fault_proxy.py http://127.0.0.1:PORT     (the server's DKDATA_S3_ENDPOINT)

Listens on 127.0.0.1 and a free port; prints "PORT PID" on its first line of stdout, then forwards
every request to the server (one thread per client connection, keep-alive towards the client, a
new connection to the server for each request; TCP_NODELAY on both sides: without it a response,
written as headers then body, waited for the client's delayed ACK, ~45-50 ms a request on a
kept-alive connection) until it is sent SIGTERM. Requests are forwarded byte for byte where a
signature can see it: the method, the path and query exactly as received, the Host header as the
client sent it (the client signs the proxy's host:port; moto checks the signature against the Host
it receives), every other header but the hop-by-hop ones, and the body (a chunked request body is
forwarded de-chunked, with a Content-Length). Requests to /__fault/... are its own, never
forwarded:

  POST /__fault/rule?key=K&path=P[&method=M][&skip=S][&n=N][&mode=MODE][&status=C][&after=A]
                    [&seconds=T]
      adds rule K: the requests whose path (with its query) contains P (and whose method is M)
      are counted; after the first S of them (default 0), the next N (default 1) are faulted:
        mode=status  (default) answered with status C (default 503) and an S3 error body, never
                     forwarded: 503 SlowDown, 500 InternalError, 501 NotImplemented, 400
                     BadRequest, 403 AccessDenied, 404 NoSuchKey, 409 OperationAborted, 412
                     PreconditionFailed, anything else InternalError; with &after=A a
                     Retry-After: A header
        mode=drop_after    forwarded (the server processes it), then the client's connection is
                           closed without an answer: a response lost on the way back
        mode=drop_before   the client's connection is closed without forwarding anything
        mode=stall_before  nothing is sent anywhere for T seconds (default 30), then the client's
                           connection is closed: the request never reaches the server
        mode=stall_after   forwarded at once (the server processes it), then nothing is sent to
                           the client for T seconds, then the server's answer is (a client with a
                           shorter timeout gave up after the change was made)
        mode=delay         held T seconds (fractions allowed), then forwarded as any other
                           request: network latency, for benchmarks (bench/s3_bench.cpp
                           --latency-ms). Each client connection has its own thread, so requests
                           in flight on different connections are delayed at the same time, not
                           one after another. With path=/ and a large N (e.g. n=1000000000) it
                           delays every request.
      The first rule that matches a request decides it.
  GET  /__fault/count?key=K   200, how many requests rule K matched so far (faulted or not)
  POST /__fault/reset         removes every rule
"""
import http.client
import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

TARGET = urlparse(sys.argv[1])
# Not forwarded: they describe one hop. Host is forwarded as received (see the top); Expect is
# answered by this proxy (100 Continue), and the body is forwarded whole.
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "expect",
               "proxy-connection", "te", "trailer", "upgrade"}

rules = []  # dicts: key, path, method, skip, n, mode, status, after, seconds, seen
lock = threading.Lock()

S3_ERRORS = {
    400: ("BadRequest", "Injected by s3_fault_proxy."),
    403: ("AccessDenied", "Access Denied (injected by s3_fault_proxy)."),
    404: ("NoSuchKey", "The specified key does not exist (injected by s3_fault_proxy)."),
    409: ("OperationAborted", "A conflicting conditional operation is currently in progress "
                              "against this resource (injected by s3_fault_proxy)."),
    412: ("PreconditionFailed", "At least one of the pre-conditions you specified did not hold "
                                "(injected by s3_fault_proxy)."),
    500: ("InternalError", "We encountered an internal error. Please try again "
                           "(injected by s3_fault_proxy)."),
    501: ("NotImplemented", "A header you provided implies functionality that is not "
                            "implemented (injected by s3_fault_proxy)."),
    503: ("SlowDown", "Please reduce your request rate (injected by s3_fault_proxy)."),
}


def error_body(status):
    code, message = S3_ERRORS.get(status, S3_ERRORS[500])
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
            f"<Message>{message}</Message><RequestId>s3-fault-proxy</RequestId>"
            f"<HostId>s3-fault-proxy</HostId></Error>")


def decide(method, path):
    """The fault for a request, or None to forward it."""
    with lock:
        for rule in rules:
            if rule["path"] not in path:
                continue
            if rule["method"] and rule["method"] != method:
                continue
            rule["seen"] += 1
            k = rule["seen"] - rule["skip"]
            return rule if 1 <= k <= rule["n"] else None
    return None


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # TCP_NODELAY towards the client (StreamRequestHandler.setup): the headers and the body are
    # written separately, and Nagle's algorithm held the body until the client's delayed ACK of
    # the headers (~40 ms) on a kept-alive connection.
    disable_nagle_algorithm = True

    def log_message(self, *args):
        pass

    def reply(self, status, body, headers=()):
        data = body if isinstance(body, bytes) else body.encode()
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def control(self, url):
        query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
        action = url.path[len("/__fault/"):]
        if action == "rule":
            try:
                rule = {"key": query.get("key", ""), "path": query.get("path", ""),
                        "method": query.get("method", ""), "skip": int(query.get("skip", "0")),
                        "n": int(query.get("n", "1")), "mode": query.get("mode", "status"),
                        "status": int(query.get("status", "503")), "after": query.get("after"),
                        "seconds": float(query.get("seconds", "30")), "seen": 0}
            except ValueError as e:
                self.reply(400, f"bad rule: {e}")
                return
            if rule["mode"] not in ("status", "drop_after", "drop_before", "stall_before",
                                    "stall_after", "delay"):
                self.reply(400, "unknown mode: " + rule["mode"])
                return
            with lock:
                rules.append(rule)
            self.reply(200, "ok")
        elif action == "count":
            with lock:
                seen = sum(r["seen"] for r in rules if r["key"] == query.get("key", ""))
            self.reply(200, str(seen))
        elif action == "reset":
            with lock:
                rules.clear()
            self.reply(200, "ok")
        else:
            self.reply(404, "no such control: " + action)

    def drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def forward(self, body):
        """Sends the request to the server on a new connection: (status, headers, body)."""
        conn = http.client.HTTPConnection(TARGET.hostname, TARGET.port, timeout=300)
        try:
            conn.connect()
            conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            # skip_host: the client's Host goes through untouched, in its place among the headers.
            conn.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for name, value in self.headers.items():
                if name.lower() not in HOP_HEADERS:
                    conn.putheader(name, value)
            if body or "Content-Length" in self.headers or self.command in ("PUT", "POST"):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body if body else None)
            response = conn.getresponse()
            data = response.read()
            return response.status, response.getheaders(), data
        finally:
            conn.close()

    def handle_any(self):
        url = urlparse(self.path)
        body = self.read_body()
        if url.path.startswith("/__fault/"):
            self.control(url)
            return
        rule = decide(self.command, self.path)
        mode = rule["mode"] if rule is not None else None
        if mode == "drop_before":
            self.drop()
            return
        if mode == "stall_before":
            time.sleep(rule["seconds"])
            self.drop()
            return
        if mode == "delay":
            time.sleep(rule["seconds"])
        if mode == "status":
            status = rule["status"]
            headers = [("Content-Type", "application/xml")]
            if rule["after"] is not None:
                headers.append(("Retry-After", rule["after"]))
            self.reply(status, error_body(status), headers)
            return
        try:
            status, headers, data = self.forward(body)
        except Exception as e:  # the server is gone: what a proxy says then
            self.reply(502, f"s3_fault_proxy: {e}", [("Content-Type", "text/plain")])
            return
        if mode == "drop_after":
            self.drop()
            return
        if mode == "stall_after":
            time.sleep(rule["seconds"])
        kept = [(k, v) for k, v in headers if k.lower() not in HOP_HEADERS]
        try:
            self.send_response(status)
            for name, value in kept:
                self.send_header(name, value)
            if self.command == "HEAD" or status in (204, 304):
                # No body; the server's Content-Length (of the object, for HEAD) is kept.
                for k, v in headers:
                    if k.lower() == "content-length":
                        self.send_header(k, v)
                self.end_headers()
            else:
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
        except OSError:  # the client gave up (stall_after)
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any


class Server(ThreadingHTTPServer):
    request_queue_size = 128  # 16 or more connections opened at once are all accepted


def main():
    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    print(server.server_address[1], os.getpid(), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
