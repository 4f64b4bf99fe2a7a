"""moto's server in a process of its own, on a loopback port: the local twin's AWS APIs.

moto answers every request in Python. In a process of its own it works beside the COPY's
conversion on the other core instead of taking turns with it for one interpreter lock. moto keeps
its state per process, and the twin keeps that: one moto process per Python process, shared by
every twin and test fixture open in it, ended when the last of them stops, or with this process
however it ends (local.moto_process exits when its stdin closes, which the kernel does even
after a SIGKILL).
"""

from __future__ import annotations

import threading
from typing import Any

from core.child_process import ChildProcess

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
        self._process = ChildProcess(
            "local.moto_process", [warm_region] if warm_region else [], "moto's process", MotoProcessError
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
            self._endpoint_url = self._process.reply()["endpoint"]
        return self._endpoint_url

    def call(self, op: str, **arguments: Any) -> Any:
        """Run one of local.moto_process's commands there and return its result."""
        with self._calls:
            self._endpoint()
            return self._process.call(op, **arguments)

    def stop(self) -> None:
        """Let go of the server; the last user ends its process."""
        global _running
        with _lock:
            self.users -= 1
            if self.users > 0:
                return
            _running = None
        self._process.stop()
