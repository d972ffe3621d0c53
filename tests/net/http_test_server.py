#!/usr/bin/env python3
"""A small HTTP/1.1 server for the tests of src/net/http_client (tests/unit/http_client_test.cpp).

Listens on 127.0.0.1 and a free port; prints "PORT PID" on its first line of stdout, then serves
until it is sent SIGTERM. Keep-alive (HTTP/1.1), one thread per connection.

  /echo                       200, JSON: method, path, headers, body, client port (a reused
                              connection keeps its port)
  /fail/STATUS?key=K&n=N      STATUS for the first N requests with key K, then 200 "ok"; with
                              &after=S a Retry-After: S header
  /count?key=K                200, how many requests key K got so far
  /slow?ms=N                  waits N ms, then 200 "slow"
  /gzip                       200, a gzip-encoded body ("compressed " * 1000)
  /drop?key=K&n=N             closes the connection without answering, the first N times

A fake EC2 instance metadata service (IMDSv2), for the S3 credentials chain
(tests/unit/s3_credentials_test.cpp); each request is counted under its key (see /count):
  PUT /latest/api/token       needs X-aws-ec2-metadata-token-ttl-seconds (else 400): 200, a new
                              session token (key imds-token)
  /latest/meta-data/iam/security-credentials/
                              with a token from /latest/api/token in X-aws-ec2-metadata-token
                              (else 401): 200, the role's name; 404 when no role is set (key
                              imds-roles)
  /latest/meta-data/iam/security-credentials/ROLE
                              with a token (else 401): 200, JSON {Code, AccessKeyId "ASIAFAKEN",
                              SecretAccessKey "imds-secret-N", Token "imds-token-N", Expiration:
                              now + expires_in seconds}, N counting these answers from 1; 404 for
                              another role (key imds-credentials)
  /imds?role=R&expires_in=S&code=C
                              sets the role ("" for none; default "dkdata-test-role"), the
                              credentials' lifetime (default 21600 s) and Code (default Success)
"""
import gzip
import json
import os
import signal
import sys
import threading
import time
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

counts = {}
lock = threading.Lock()
imds = {"role": "dkdata-test-role", "expires_in": 21600, "code": "Success", "tokens": set()}


def bump(key):
    with lock:
        counts[key] = counts.get(key, 0) + 1
        return counts[key]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

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

    def handle_any(self):
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = url.path.strip("/").split("/")
        if parts[0] == "echo":
            self.reply(200, json.dumps({
                "method": self.command, "path": self.path,
                "headers": {k.lower(): v for k, v in self.headers.items()},
                "body": body.decode("utf-8", "replace"), "port": self.client_address[1]}),
                [("Content-Type", "application/json")])
        elif parts[0] == "fail":
            n = bump(query.get("key", ""))
            if n <= int(query.get("n", "1")):
                headers = [("Retry-After", query["after"])] if "after" in query else []
                self.reply(int(parts[1]), "failing", headers)
            else:
                self.reply(200, "ok")
        elif parts[0] == "count":
            with lock:
                self.reply(200, str(counts.get(query.get("key", ""), 0)))
        elif parts[0] == "slow":
            time.sleep(int(query.get("ms", "1000")) / 1000)
            self.reply(200, "slow")
        elif parts[0] == "gzip":
            self.reply(200, gzip.compress(b"compressed " * 1000), [("Content-Encoding", "gzip")])
        elif parts[0] == "drop":
            if bump(query.get("key", "")) <= int(query.get("n", "1")):
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self.reply(200, "ok")
        elif parts[0] == "latest":
            self.metadata(parts)
        elif parts[0] == "imds":
            query = {k: v[0] for k, v in parse_qs(url.query, keep_blank_values=True).items()}
            with lock:
                imds["role"] = query.get("role", imds["role"])
                imds["expires_in"] = int(query.get("expires_in", imds["expires_in"]))
                imds["code"] = query.get("code", imds["code"])
            self.reply(200, "ok")
        else:
            self.reply(404, "no such path")

    def metadata(self, parts):
        """The fake IMDSv2 (see the docstring)."""
        if parts[1:] == ["api", "token"]:
            bump("imds-token")
            if self.command != "PUT":
                self.reply(405, "a token needs PUT")
            elif not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                self.reply(400, "missing X-aws-ec2-metadata-token-ttl-seconds")
            else:
                token = "session-%d" % bump("imds-issued")
                with lock:
                    imds["tokens"].add(token)
                self.reply(200, token)
            return
        if parts[1:4] != ["meta-data", "iam", "security-credentials"] or len(parts) > 5:
            self.reply(404, "no such path")
            return
        bump("imds-roles" if len(parts) == 4 else "imds-credentials")
        with lock:
            known = self.headers.get("X-aws-ec2-metadata-token") in imds["tokens"]
            role, expires_in, code = imds["role"], imds["expires_in"], imds["code"]
        if not known:
            self.reply(401, "")
        elif len(parts) == 4:
            if role:
                self.reply(200, role)
            else:
                self.reply(404, "no role")
        elif parts[4] != role:
            self.reply(404, "no such role")
        else:
            n = bump("imds-answered")
            now = datetime.now(timezone.utc)
            expiration = now + timedelta(seconds=expires_in)
            self.reply(200, json.dumps({
                "Code": code, "LastUpdated": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "Type": "AWS-HMAC", "AccessKeyId": "ASIAFAKE%d" % n,
                "SecretAccessKey": "imds-secret-%d" % n, "Token": "imds-token-%d" % n,
                "Expiration": expiration.strftime("%Y-%m-%dT%H:%M:%SZ")}),
                [("Content-Type", "application/json")])

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    print(server.server_address[1], os.getpid(), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
