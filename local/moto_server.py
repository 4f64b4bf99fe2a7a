"""moto's server in a process of its own, on a loopback port: the local twin's AWS APIs.

moto answers every request in Python. In a process of its own it works beside the COPY's
conversion on the other core instead of taking turns with it for one interpreter lock. moto keeps
its state per process, and the twin keeps that: one moto process per Python process, shared by
every twin and test fixture open in it, ended when the last of them stops, or with this process
however it ends (local.moto_process exits when its stdin closes, which the kernel does even
after a SIGKILL).
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from typing import Any

from core.settings import PROJECT_ROOT

_STOP_TIMEOUT_S = 5.0

_lock = threading.Lock()
_running: MotoServer | None = None


class MotoProcessError(RuntimeError):
    """What moto's process refused or failed to do, in its own words."""


def open_moto(warm_region: str | None = None) -> MotoServer:
    """This process's moto server, started if none is open; stop() it when done.

    A server started here loads EC2 and Redshift for `warm_region` ahead of the first request.
    """
    global _running
    with _lock:
        if _running is None:
            _running = MotoServer(warm_region)
        _running.users += 1
        return _running


class MotoServer:
    """A running `python -m local.moto_process` and the commands it takes."""

    def __init__(self, warm_region: str | None) -> None:
        self.users = 0
        self._calls = threading.Lock()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "local.moto_process", *([warm_region] if warm_region else [])],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=PROJECT_ROOT,
        )
        self.pid = self._process.pid
        self._endpoint_url: str | None = None

    @property
    def endpoint_url(self) -> str:
        """The server's URL, once moto's server listens: about 0.4 s after the start, which the
        caller can spend starting something else."""
        with self._calls:
            return self._endpoint()

    def _endpoint(self) -> str:
        # With self._calls held: the first line out is the endpoint's, the replies come after it.
        if self._endpoint_url is None:
            self._endpoint_url = self._reply()["endpoint"]
        return self._endpoint_url

    def call(self, op: str, **arguments: Any) -> Any:
        """Run one of local.moto_process's commands there and return its result."""
        assert self._process.stdin is not None
        with self._calls:
            self._endpoint()
            self._process.stdin.write(json.dumps({"op": op, **arguments}) + "\n")
            self._process.stdin.flush()
            reply = self._reply()
        if "error" in reply:
            raise MotoProcessError(reply["error"])
        return reply["result"]

    def _reply(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise MotoProcessError(f"moto's process (pid {self.pid}) ended: its error, if any, is printed above")
        return json.loads(line)

    def stop(self) -> None:
        """Let go of the server; the last user ends its process."""
        global _running
        with _lock:
            self.users -= 1
            if self.users > 0:
                return
            _running = None
        assert self._process.stdin is not None
        self._process.stdin.close()
        try:
            self._process.wait(_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()
