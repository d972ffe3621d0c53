#!/usr/bin/env python3
"""A fault-injecting HTTP proxy in front of an Elasticsearch node, for
tests/unit/elasticsearch_backend_test.cpp.

  python3 es_fault_proxy.py http://127.0.0.1:9200

Listens on 127.0.0.1 and a free port; prints "PORT PID" on its first line of stdout, then forwards
every request to the node (keep-alive, one thread per client connection) until it is sent SIGTERM.
Requests to /__fault/... are its own, never forwarded:

  POST /__fault/rule?key=K&path=P[&method=M][&skip=S][&n=N][&mode=MODE][&status=C][&after=A]
      adds rule K: the requests whose path (with its query) contains P (and whose method is M)
      are counted; after the first S of them (default 0), the next N (default 1) are faulted:
        mode=status  (default) answered with status C (default 429) and an Elasticsearch-like
                     error body, never forwarded; with &after=A a Retry-After: A header
        mode=drop_after   forwarded (the node processes them), then the client's connection is
                          closed without an answer: a response lost on the way back
        mode=drop_before  the client's connection is closed without forwarding anything
      The first rule that matches a request decides it.
  GET  /__fault/count?key=K   200, how many requests rule K matched so far (faulted or not)
  POST /__fault/reset         removes every rule
"""
import http.client
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

TARGET = urlparse(sys.argv[1])
HOP_HEADERS = {"connection", "keep-alive", "transfer-encoding", "content-length", "host",
               "proxy-connection", "te", "trailer", "upgrade"}

rules = []  # dicts: key, path, method, skip, n, mode, status, after, seen
lock = threading.Lock()

ERROR_TYPES = {
    401: "security_exception",
    429: "es_rejected_execution_exception",
    500: "exception",
    502: "bad_gateway",
    503: "unavailable_shards_exception",
    504: "timeout_exception",
}


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
    # TCP_NODELAY towards the client: the headers and the body are written separately, and Nagle's
    # algorithm would hold the body until the client's delayed ACK (~40 ms) on a kept-alive
    # connection (tests/s3/s3_fault_proxy.py measured it).
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
            rule = {"key": query.get("key", ""), "path": query.get("path", ""),
                    "method": query.get("method", ""), "skip": int(query.get("skip", "0")),
                    "n": int(query.get("n", "1")), "mode": query.get("mode", "status"),
                    "status": int(query.get("status", "429")), "after": query.get("after"),
                    "seen": 0}
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
            self.connection.shutdown(2)
        except OSError:
            pass

    def forward(self, body):
        conn = getattr(self, "upstream", None)
        for attempt in range(2):
            if conn is None:
                conn = http.client.HTTPConnection(TARGET.hostname, TARGET.port, timeout=120)
                self.upstream = conn
            headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_HEADERS}
            try:
                conn.request(self.command, self.path, body=body if body else None,
                             headers=headers)
                response = conn.getresponse()
                data = response.read()
                return response.status, response.getheaders(), data
            except (ConnectionError, http.client.HTTPException, OSError):
                conn.close()
                conn = None
                self.upstream = None
                if attempt == 1:
                    raise
        raise RuntimeError("unreachable")

    def handle_any(self):
        url = urlparse(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if url.path.startswith("/__fault/"):
            self.control(url)
            return
        rule = decide(self.command, self.path)
        if rule is not None and rule["mode"] == "drop_before":
            self.drop()
            return
        if rule is not None and rule["mode"] == "status":
            status = rule["status"]
            error = {"error": {"type": ERROR_TYPES.get(status, "exception"),
                               "reason": "injected by es_fault_proxy"}, "status": status}
            headers = [("Content-Type", "application/json")]
            if rule["after"] is not None:
                headers.append(("Retry-After", rule["after"]))
            self.reply(status, json.dumps(error), headers)
            return
        try:
            status, headers, data = self.forward(body)
        except Exception as e:  # the node is gone: what a proxy says then
            self.reply(502, json.dumps({"error": "es_fault_proxy: " + str(e)}),
                       [("Content-Type", "application/json")])
            return
        if rule is not None and rule["mode"] == "drop_after":
            self.drop()
            return
        kept = [(k, v) for k, v in headers if k.lower() not in HOP_HEADERS]
        self.send_response(status)
        for name, value in kept:
            self.send_header(name, value)
        if self.command == "HEAD":
            original = [v for k, v in headers if k.lower() == "content-length"]
            self.send_header("Content-Length", original[0] if original else "0")
            self.end_headers()
        else:
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    print(server.server_address[1], os.getpid(), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
