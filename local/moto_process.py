"""The process moto runs in (`python -m local.moto_process [REGION]`, started by local.moto_server):
moto's threaded server on a free loopback port, and the twin's set-up done directly on moto's
backends, as commands read from stdin.

Protocol (core.child_process): one JSON line out first, {"endpoint": URL}; then for each JSON line in,
{"op": NAME, ...arguments}, one JSON line back, {"result": ...} or {"error": "one sentence"}. The
process exits when its stdin closes: when the parent stops it, or the parent dies however it dies.
"""

from __future__ import annotations

import gc
import hashlib
import io
import json
import logging
import os
import socket
import sys
import threading
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import ExitStack
from pathlib import Path
from typing import Any

from moto.backends import get_backend
from moto.core import DEFAULT_ACCOUNT_ID, enable_iam_authentication
from moto.core.utils import get_service_model
from moto.iam.models import iam_backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.s3.exceptions import BucketAlreadyExists, MissingBucket
from moto.s3.models import s3_backends
from werkzeug.serving import make_server

from core.child_process import reply_channel, serve
from core.long_lived import long_lived
from core.resources import BOUNDARY_NAME, ROLE_PATH
from local.malloc import fewer_malloc_arenas
from local.operator import ADMIN, ADMIN_KEYS, BOUNDARY_POLICY, OPERATOR, moto_view

_background = ThreadPoolExecutor(1, thread_name_prefix="prefill")
# The services whose requests wait for _warm_up() to load them, and the others a run calls.
_WARMED = ("redshift", "ec2")
_OTHERS = ("sts", "iam")
_warm = threading.Event()


class _Dispatcher(DomainDispatcherApplication):
    """moto's request dispatcher, remembering which backend serves each service host.

    moto looks the backend up afresh for every request, listing and stat-ing its ~180 service
    folders on the way: half the server's time for a small S3 GET. The answer for a host never
    changes while the process runs.
    """

    def __init__(self) -> None:
        super().__init__(_create_app)
        self._backends: dict[str | None, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        # moto calls this under its own lock, so the dict needs none.
        if host not in self._backends:
            self._backends[host] = super().get_backend_for_host(host)
        return self._backends[host]

    def load(self, service: str) -> None:
        """Build `service`'s app and read its API model now, as its first request would: 40 ms for
        most services, 150 ms for EC2's."""
        app = self.create_app(service)  # outside the lock, which every request takes
        with self.lock:
            self.app_instances.setdefault(service, app)
        get_service_model(service)


# Always readable, at its end: what Werkzeug's after-response drain is shown instead of the connection.
_AT_END, _peer = socket.socketpair()
_peer.close()


class _KeepAliveHandler(MotoRequestHandler):
    """moto's request handler, keeping each connection open for the client's next request.

    Werkzeug's server closes every connection (werkzeug.serving, run_wsgi: "Always close the
    connection") because it cannot tell where a request's unread body ends; so every S3 GET paid
    for a TCP connection and a thread in this process, and left a socket in TIME-WAIT: 2,000 of them
    for the song COPY at 1M events. Here each request's body is read whole before moto sees it,
    as moto reads it anyway, so the next request starts where it ends; Werkzeug's drain after the
    response, which would read into that next request, is shown an empty stream.
    """

    protocol_version = "HTTP/1.1"
    # The headers and the body are sent apart: without TCP_NODELAY, the body of a kept connection's
    # response waits for the client's delayed acknowledgement of the headers.
    disable_nagle_algorithm = True

    def make_environ(self) -> dict[str, Any]:
        environ = super().make_environ()
        stream = environ["wsgi.input"]
        # A chunked body (wsgi.input_terminated) is read to its last chunk; any other to its length.
        if environ.get("wsgi.input_terminated"):
            body = stream.read()
        else:
            body = stream.read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        self.rfile, self.connection = io.BytesIO(), _AT_END  # for the drain only; run_wsgi puts them back
        return environ

    def run_wsgi(self) -> None:
        rfile, connection = self.rfile, self.connection
        try:
            super().run_wsgi()
        finally:
            self.rfile, self.connection = rfile, connection

    def send_header(self, keyword: str, value: str) -> None:
        # Werkzeug's "Connection: close" on every response; the client's own still closes (http.server).
        if keyword.lower() != "connection" or value.lower() != "close":
            super().send_header(keyword, value)


def _fill(bucket: str, region: str, files: list[tuple[str, str]]) -> int:
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    try:
        backend.create_bucket(bucket, region)
    except BucketAlreadyExists:
        pass
    stale = set(backend.get_bucket(bucket).keys.keys())
    for path, key in files:
        body = Path(path).read_bytes()
        # An object's ETag is its MD5, as AWS computes it on upload. moto would compute it at the first
        # listing instead, re-reading every spilled object then: 0.9 s of the survey at 1M events.
        backend.put_object(bucket, key, body, etag=hashlib.md5(body, usedforsecurity=False).hexdigest())
        stale.discard(key)
    for key in stale:
        backend.delete_object(bucket, key)
    return len(files)


def _holds(bucket: str, files: list[tuple[str, str]]) -> bool:
    """Whether `bucket` exists and holds exactly the files' keys."""
    try:
        keys = s3_backends[DEFAULT_ACCOUNT_ID]["aws"].get_bucket(bucket).keys.keys()
    except MissingBucket:
        return False
    return set(keys) == {key for _, key in files}


# The fill that prefill() began, and what it was asked for.
_prefilling: tuple[list[Any], Future[int]] | None = None


def prefill(bucket: str, region: str, files: list[tuple[str, str]]) -> None:
    """Begin fill() in the background: the command line asks while Prefect starts, the flow's fill then waits for it."""
    global _prefilling
    if _prefilling is not None:
        wait([_prefilling[1]])  # one that no fill asked for: it must not race this one
    _prefilling = [bucket, region, files], _background.submit(_fill, bucket, region, files)


def fill(bucket: str, region: str, files: list[tuple[str, str]]) -> int:
    """Make `bucket` hold exactly the (file, key) pairs, put through moto's S3 backend.

    This stands in for data that is in S3 already, so it is set up rather than transferred:
    over HTTP each small object costs milliseconds (see bench/README.md), here microseconds. One
    file is in memory at a time; moto spills objects over 5 MB to temporary files. moto's state
    lives as long as this process, so keys an earlier fill left are deleted: the bucket mirrors
    the files. A prefill of the same files is waited for instead (its error is this fill's).
    """
    global _prefilling
    if _prefilling is not None:
        (asked, pending), _prefilling = _prefilling, None
        if asked == [bucket, region, files]:
            count = pending.result()
            if _holds(bucket, files):
                return count
            # moto was reset since (tests do): fill afresh.
        wait([pending])  # another bucket or other files: it must not race this fill
    return _fill(bucket, region, files)


# moto's enforcement is one switch for the process: on while any operator key is open.
_enforcing = ExitStack()
_operator_keys: set[str] = set()


def open_operator(policy: dict[str, Any]) -> dict[str, str]:
    """Set moto's account up as an administrator's console would (no request to authorize): the
    role boundary, the administrator, the operator user holding `policy` as moto can evaluate it;
    give the operator a new key, and enforce IAM until every key given is closed."""
    account_id = DEFAULT_ACCOUNT_ID
    iam = iam_backends[account_id]["aws"]
    if f"arn:aws:iam::{account_id}:policy{ROLE_PATH}{BOUNDARY_NAME}" not in iam.managed_policies:
        iam.create_policy(
            description="What a role the sparkify-dwh operator creates may do at most",
            path=ROLE_PATH, policy_document=BOUNDARY_POLICY.read_text(), policy_name=BOUNDARY_NAME, tags=[],
        )
    if ADMIN not in iam.users:
        iam.create_user("us-east-1", ADMIN)
        iam.put_user_policy(ADMIN, "everything", json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
        ))
        key = iam.create_access_key(ADMIN)
        iam.access_keys.pop(key.physical_resource_id)
        key.access_key_id, key.secret_access_key = ADMIN_KEYS.values()
        iam.access_keys[key.physical_resource_id] = key
    if OPERATOR not in iam.users:
        iam.create_user("us-east-1", OPERATOR)
    iam.put_user_policy(OPERATOR, "operator", json.dumps(moto_view(policy, account_id)))
    key = iam.create_access_key(OPERATOR)
    if not _operator_keys:
        _enforcing.enter_context(enable_iam_authentication())
    _operator_keys.add(key.access_key_id)
    return {"aws_access_key_id": key.access_key_id, "aws_secret_access_key": key.secret_access_key}


def close_operator(access_key_id: str) -> None:
    """Delete the operator's key (moto allows a user two) and, with the last key, stop enforcing."""
    if access_key_id not in _operator_keys:
        return
    _operator_keys.discard(access_key_id)
    if not _operator_keys:
        _enforcing.close()
    iam = iam_backends[DEFAULT_ACCOUNT_ID]["aws"]
    if OPERATOR in iam.users:  # unless moto was reset meanwhile
        iam.delete_access_key(access_key_id, OPERATOR)


_COMMANDS = {"fill": fill, "prefill": prefill, "open_operator": open_operator, "close_operator": close_operator}


def _create_app(service: str) -> Any:
    """moto's app for `service`; for EC2 and Redshift, one whose requests wait for _warm_up()."""
    app = create_backend_app(service)
    if service not in _WARMED:
        return app

    def once_warm(environ: dict[str, Any], start_response: Any) -> Any:
        _warm.wait()
        return app(environ, start_response)

    return once_warm


def _warm_up(dispatcher: _Dispatcher, region: str | None) -> None:
    """Load what a run calls, while the server already serves S3: importing EC2 and Redshift, and
    adding the Redshift actions moto lacks, takes half a second, loading a region's EC2 as long
    again, and each service's app and API model 40 to 150 ms. All of it lives as long as the
    process; collection is off meanwhile, also for the requests served and the fill."""
    with long_lived():
        try:
            dispatcher.load("s3")  # the first service a run calls
            from local import moto_redshift  # imports moto's Redshift and EC2

            # Importing moto's EC2 leaves 140,000 objects of garbage (100 MB, read from its JSON
            # resources): collected here, not frozen with the rest. With collection off since
            # the block began, they are all still in the young generation.
            gc.collect(0)
            moto_redshift.install()
            for service in _WARMED:
                dispatcher.load(service)
                if region:
                    get_backend(service)[DEFAULT_ACCOUNT_ID][region]
        finally:
            _warm.set()  # a failure above is printed; the requests then get moto's own answer
        for service in _OTHERS:
            dispatcher.load(service)


def main(warm_region: str | None) -> None:
    replies = reply_channel()
    fewer_malloc_arenas()
    # One access-log line per S3 request would drown the run's own log.
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    dispatcher = _Dispatcher()
    server = make_server("127.0.0.1", 0, dispatcher, threaded=True, request_handler=_KeepAliveHandler)
    # Never shut down: the process ends with os._exit below, however many requests are in flight.
    threading.Thread(target=server.serve_forever, daemon=True).start()
    threading.Thread(target=_warm_up, args=(dispatcher, warm_region), daemon=True).start()
    print(json.dumps({"endpoint": f"http://127.0.0.1:{server.port}"}), file=replies, flush=True)
    serve(_COMMANDS, replies)
    # No cleanup is owed: the server's threads are daemons and moto's spilled objects are unlinked files.
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else None)
