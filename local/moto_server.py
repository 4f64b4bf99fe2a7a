"""moto's server on a loopback port, a thread of this process: the local twin's AWS APIs, which end
with the process however it ends (even by SIGKILL), so nothing of moto outlives a run."""

from __future__ import annotations

import threading
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from werkzeug.serving import make_server

from local import moto_redshift

_POLL_S = 0.05


class _Dispatcher(DomainDispatcherApplication):
    """moto's request dispatcher, remembering which backend serves each service host.

    moto looks the backend up afresh for every request, listing and stat-ing its ~180 service
    folders on the way: half the server's time for a small S3 GET. The answer for a host never
    changes while the process runs.
    """

    def __init__(self) -> None:
        super().__init__(create_backend_app)
        self._backends: dict[str | None, Any] = {}

    def get_backend_for_host(self, host: str | None) -> Any:
        # moto calls this under its own lock, so the dict needs none.
        if host not in self._backends:
            self._backends[host] = super().get_backend_for_host(host)
        return self._backends[host]


class MotoServer:
    """moto's threaded server (as moto.server.ThreadedMotoServer runs it) on a free loopback port."""

    def __init__(self) -> None:
        moto_redshift.install()
        self._server = make_server("127.0.0.1", 0, _Dispatcher(), threaded=True, request_handler=MotoRequestHandler)
        # A handler still writing to a client that went away must not hold up stop().
        self._server.block_on_close = False
        self.endpoint_url = f"http://127.0.0.1:{self._server.port}"
        # stop() waits for the loop to see its flag: up to a poll interval, half a second by default.
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": _POLL_S}, name="moto", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
