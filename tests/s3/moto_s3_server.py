#!/usr/bin/env python3
"""moto's S3 server with AWS Signature V4 enforced, for tests/s3/s3_server.sh (which runs it with the
Python of its cached moto venv; it is not meant to be run by hand).

  python moto_s3_server.py --dir DIR [--port PORT] [--region REGION]

Binds 127.0.0.1:PORT (0, the default, lets the kernel pick a free port, so no other process can
take it between a probe and the bind), then writes into DIR (all files replaced atomically):
  server.pid   this process's PID
  credentials  "ACCESS_KEY SECRET_KEY" (mode 600): the IAM user's key pair, the one long-term
               key that is accepted
  session      "ACCESS_KEY SECRET_KEY SESSION_TOKEN" (mode 600): temporary credentials of an STS
               session (AssumeRole, 12 h; moto does not check the expiry), for testing
               x-amz-security-token; the token is checked, the key fails without it
  port         the port it listens on; written last, once it accepts connections
and serves until SIGTERM or SIGINT (exit 0).

How authentication is enforced:
  * INITIAL_NO_AUTH_ACTION_COUNT=0 (set before moto is imported; moto reads it at import): moto
    checks every request against IAM from the first one. moto then accepts only access keys of IAM
    users (or of STS assumed-role sessions) of its own IAM backend, and recomputes the SigV4
    signature with botocore from the secret it holds: a wrong secret is 403 SignatureDoesNotMatch,
    an unknown key 403 InvalidAccessKeyId, an IAM user key sent with x-amz-security-token 403
    InvalidToken.
  * The user `dkdata-test` and its access key are made here, in-process, before the socket is
    bound (not through moto's IAM API before auth kicks in, which would race with other clients).
    An inline policy allows every action on every resource, so S3 calls pass moto's IAM policy
    check.
  * moto answers a request without an Authorization header with a 500 (KeyError) once auth is on,
    and lets anybody turn auth off through /moto-api/reset-auth. A WSGI layer in front of it
    answers 403 AccessDenied to every request that has no `Authorization: AWS4-HMAC-SHA256 ...`
    header (unsigned requests, SigV2, presigned URLs: moto does not verify query-string
    signatures with auth on) and to every /moto-api/ path.

One more change to moto: its Flask request parses a body sent with
`Content-Type: application/x-www-form-urlencoded` as a form, so a PUT or POST with that type (what
libcurl sends by default with CURLOPT_POSTFIELDS) reached S3 with an empty body: the object was
stored empty and CompleteMultipartUpload saw no XML. S3 never parses such a body, so for requests
signed for the s3 service the form is not parsed and the body arrives as sent.
"""
import argparse
import json
import os
import signal
import sys

# Must be set before `moto` is imported: moto.settings reads it once.
os.environ["INITIAL_NO_AUTH_ACTION_COUNT"] = "0"
# The account is taken from the access key; a MOTO_ACCOUNT_ID from the caller's environment would
# put requests in an account where the key does not exist.
os.environ.pop("MOTO_ACCOUNT_ID", None)

USER = "dkdata-test"
ROLE = "dkdata-test-role"
ADMIN_POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}],
}


def write_atomic(path, text, mode=0o644):
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def make_principals(region):
    """Creates the IAM user and the role, each with an allow-all inline policy, and a session of
    the role; returns ((access key, secret), (access key, secret, token))."""
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.iam.models import iam_backends
    from moto.sts.models import sts_backends
    from moto.utilities.utils import get_partition

    partition = get_partition(region)
    iam = iam_backends[DEFAULT_ACCOUNT_ID][partition]
    iam.create_user(region_name=region, user_name=USER)
    iam.put_user_policy(USER, "dkdata-test-allow-all", json.dumps(ADMIN_POLICY))
    key = iam.create_access_key(USER)

    user_arn = f"arn:{partition}:iam::{DEFAULT_ACCOUNT_ID}:user/{USER}"
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": user_arn}, "Action": "sts:AssumeRole"}]}
    role = iam.create_role(ROLE, json.dumps(trust), "/", None, "dkdata test role", [], "43200")
    iam.put_role_policy(ROLE, "dkdata-test-allow-all", json.dumps(ADMIN_POLICY))
    session = sts_backends[DEFAULT_ACCOUNT_ID][partition].assume_role(
        region_name=region, role_session_name="dkdata-test", role_arn=role.arn, policy="",
        duration=43200, external_id="")
    return ((key.access_key_id, key.secret_access_key),
            (session.access_key_id, session.secret_access_key, session.session_token))


def keep_s3_form_bodies():
    """See the top: S3 requests with a form content type keep their raw body."""
    from moto.moto_server.werkzeug_app import BackendRequest

    parse_form = BackendRequest.want_form_data_parsed

    def want_form_data_parsed(request):
        if "/s3/aws4_request" in request.environ.get("HTTP_AUTHORIZATION", ""):
            return False
        return parse_form.__get__(request)

    BackendRequest.want_form_data_parsed = property(want_form_data_parsed)


def error_xml(code, message):
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{code}</Code><Message>{message}</Message>"
        "<RequestId>dkdata-test</RequestId></Error>"
    ).encode()


def signature_required(app):
    """WSGI layer: 403 for what moto would let through or answer with a 500 (see the top)."""

    def deny(start_response, message):
        body = error_xml("AccessDenied", message)
        start_response("403 Forbidden", [("Content-Type", "application/xml"),
                                         ("Content-Length", str(len(body)))])
        return [body]

    def wrapped(environ, start_response):
        if environ.get("PATH_INFO", "").startswith("/moto-api"):
            return deny(start_response, "moto's control API is disabled on this test server")
        if not environ.get("HTTP_AUTHORIZATION", "").startswith("AWS4-HMAC-SHA256 "):
            return deny(start_response,
                        "This test server requires an AWS Signature Version 4 Authorization header")
        return app(environ, start_response)

    return wrapped


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dir", required=True)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args()

    from werkzeug.serving import make_server

    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )

    write_atomic(os.path.join(args.dir, "server.pid"), f"{os.getpid()}\n")
    user, session = make_principals(args.region)
    write_atomic(os.path.join(args.dir, "credentials"), " ".join(user) + "\n", 0o600)
    write_atomic(os.path.join(args.dir, "session"), " ".join(session) + "\n", 0o600)

    keep_s3_form_bodies()
    app = signature_required(DomainDispatcherApplication(create_backend_app))
    server = make_server("127.0.0.1", args.port, app, threaded=True,
                         request_handler=MotoRequestHandler)
    server.daemon_threads = True  # a client that holds a connection open does not block the exit
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    write_atomic(os.path.join(args.dir, "port"), f"{server.server_port}\n")
    print(f"moto_s3_server: listening on 127.0.0.1:{server.server_port}", file=sys.stderr,
          flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
