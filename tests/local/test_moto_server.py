"""local.moto_server: moto's process, shared by everything in one Python process, and its commands."""

from __future__ import annotations

import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from local.moto_server import MotoProcessError, MotoServer, open_moto
from tests.support import client

ROOT = Path(__file__).resolve().parents[2]


def test_one_moto_process_serves_a_python_process_and_ends_with_its_last_user() -> None:
    # In a process of its own: this one's moto is held open by the session's fixture.
    script = textwrap.dedent("""
        import psutil
        from local.moto_server import open_moto
        first, second = open_moto(), open_moto()
        assert first is second and first.endpoint_url == second.endpoint_url
        moto = psutil.Process(first.pid)
        first.stop()
        assert moto.is_running(), "stopped while a user was left"
        second.stop()
        assert not moto.is_running(), "still running after its last user stopped it"
        assert open_moto().pid != first.pid, "a stopped server was handed out again"
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_failed_command_names_its_cause_and_the_server_serves_on(moto: MotoServer, aws: str, tmp_path: Path) -> None:
    missing = tmp_path / "gone.json"
    with pytest.raises(MotoProcessError, match=f"FileNotFoundError: .*{missing}"):
        moto.call("fill", bucket="udacity-dend", region="us-west-2", files=[(str(missing), "song_data/gone.json")])
    (tmp_path / "here.json").write_text("{}")
    assert moto.call("fill", bucket="udacity-dend", region="us-west-2",
                     files=[(str(tmp_path / "here.json"), "song_data/here.json")]) == 1
    listed = client(aws, "s3").list_objects_v2(Bucket="udacity-dend")["Contents"]
    assert [o["Key"] for o in listed] == ["song_data/here.json"]
    assert open_moto() is moto
    moto.stop()  # the reference open_moto() just took


def keys(endpoint: str) -> list[str]:
    return [o["Key"] for o in client(endpoint, "s3").list_objects_v2(Bucket="udacity-dend").get("Contents", [])]


def test_a_fill_of_what_was_prefilled_waits_for_it_and_another_fill_replaces_it(
    moto: MotoServer, aws: str, tmp_path: Path
) -> None:
    files = []
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.json").write_text(f'{{"name": "{name}"}}')
        files.append((str(tmp_path / f"{name}.json"), f"song_data/{name}.json"))
    moto.call("prefill", bucket="udacity-dend", region="us-west-2", files=files)
    assert moto.call("fill", bucket="udacity-dend", region="us-west-2", files=files) == 3
    assert keys(aws) == [key for _, key in files]

    moto.call("prefill", bucket="udacity-dend", region="us-west-2", files=files)
    assert moto.call("fill", bucket="udacity-dend", region="us-west-2", files=files[:1]) == 1
    assert keys(aws) == [files[0][1]]  # the prefill ended first; the later fill decides


def test_a_failed_prefill_fails_the_fill_that_waits_for_it(moto: MotoServer, aws: str, tmp_path: Path) -> None:
    files = [(str(tmp_path / "gone.json"), "song_data/gone.json")]
    moto.call("prefill", bucket="udacity-dend", region="us-west-2", files=files)
    with pytest.raises(MotoProcessError, match="FileNotFoundError"):
        moto.call("fill", bucket="udacity-dend", region="us-west-2", files=files)


def test_a_fill_after_a_reset_fills_again_what_a_prefill_had_filled(
    moto: MotoServer, aws: str, tmp_path: Path
) -> None:
    (tmp_path / "a.json").write_text("{}")
    files = [(str(tmp_path / "a.json"), "song_data/a.json")]
    moto.call("prefill", bucket="udacity-dend", region="us-west-2", files=files)
    moto.call("prefill", bucket="udacity-dend", region="us-west-2", files=files)  # the later one counts
    time.sleep(0.5)  # the prefill is done
    requests.post(f"{aws}/moto-api/reset", timeout=10)
    assert moto.call("fill", bucket="udacity-dend", region="us-west-2", files=files) == 1
    assert keys(aws) == ["song_data/a.json"]


def _responses(reader: Any, count: int) -> list[tuple[int, dict[str, str], bytes]]:
    """`count` HTTP/1.1 responses read off one connection: status, headers (lower-case names), body."""
    answers = []
    for _ in range(count):
        status_line = reader.readline()
        assert status_line, "moto closed the connection before answering every request sent on it"
        status = int(status_line.split()[1])
        headers = {}
        while (line := reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        answers.append((status, headers, reader.read(int(headers.get("content-length", 0)))))
    return answers


def _signed(
    endpoint: str, method: str, path: str, body: bytes = b"", chunked: bool = False, close: bool = False
) -> bytes:
    """An S3 request as bytes on the wire, signed as the tests' boto3 clients sign; a chunked body
    is sent in chunks of two bytes."""
    request = AWSRequest(method, endpoint + path, data=body)
    S3SigV4Auth(Credentials("local", "local"), "s3", "us-west-2").add_auth(request)
    headers = {**request.headers, "Host": endpoint.removeprefix("http://")}
    if close:
        headers["Connection"] = "close"
    if chunked:
        headers["Transfer-Encoding"] = "chunked"
        sent = b"".join(b"%x\r\n%s\r\n" % (len(body[i:i + 2]), body[i:i + 2]) for i in range(0, len(body), 2))
        body = sent + b"0\r\n\r\n"
    elif body:
        headers["Content-Length"] = str(len(body))
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    return f"{method} {path} HTTP/1.1\r\n{head}\r\n".encode() + body


def test_moto_keeps_a_connection_open_and_answers_each_request_sent_on_it(aws: str) -> None:
    # Each S3 GET on a connection of its own cost a TCP connection and a thread in moto's process.
    # Sent at once (pipelined), so that a server reading past a request's end would lose the next.
    client(aws, "s3").create_bucket(Bucket="kept", CreateBucketConfiguration={"LocationConstraint": "us-west-2"})
    sent = [
        _signed(aws, "PUT", "/kept/a", b"alpha"),
        _signed(aws, "PUT", "/kept/b", b"beta!", chunked=True),
        _signed(aws, "GET", "/kept/missing"),
        _signed(aws, "GET", "/kept/a"),
        _signed(aws, "GET", "/kept/b"),
    ]
    host, port = aws.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn, conn.makefile("rb") as reader:
        conn.sendall(b"".join(sent))
        answers = _responses(reader, len(sent))
        assert [status for status, _, _ in answers] == [200, 200, 404, 200, 200]
        assert b"NoSuchKey" in answers[2][2]
        assert [body for _, _, body in answers[3:]] == [b"alpha", b"beta!"]
        assert all(headers.get("connection") != "close" for _, headers, _ in answers)
        # The connection is still open after them, and a client's "Connection: close" is kept to.
        conn.sendall(_signed(aws, "GET", "/kept/a", close=True))
        [(status, _, body)] = _responses(reader, 1)
        assert (status, body) == (200, b"alpha")
        assert reader.read() == b"", "moto left open a connection its client asked to close"
