"""Prefect as `python flows/sparkify.py` runs it: with the project's prefect.toml from any working
directory, and without the temporary servers that killed runs left behind.

A run without PREFECT_API_URL starts Prefect's temporary server as a child process and stops it at
exit; a run killed by SIGKILL cannot, and its server runs on with no one to talk to. Each run marks
the servers it starts with its own pid and the project's root in their environment (the child
inherits it), so that the next run, or teardown, stops those whose parent is gone.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import prefect
import psutil
from prefect.logging import get_logger
from prefect.settings import (
    PREFECT_API_URL,
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
    PREFECT_SERVER_EPHEMERAL_ENABLED,
    PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS,
    PREFECT_UI_URL,
    get_current_settings,
    temporary_settings,
)

from core.settings import PROJECT_ROOT

try:
    import tomllib
except ImportError:  # Python 3.10: Prefect's own fallback, one of its dependencies
    import toml as tomllib  # type: ignore[no-redef]

# Prefect's console handler shows it: these lines come before and after any flow run's.
logger = get_logger("sparkify.prefect_server")

MARK = "SPARKIFY_PREFECT_SERVER_OF"
# How Prefect starts its temporary server: python -m uvicorn ... --factory <this> ...
_SERVER_APP = "prefect.server.api.server:create_app"
# uvicorn's exit status when it cannot start, a taken port among the causes: then, as Prefect does,
# the server is launched again on another port, here a few times at most.
_STARTUP_FAILED = 3
_RELAUNCHES = 2
_STOP_WAIT_S = 5


@contextmanager
def project_prefect() -> Iterator[None]:
    """Stop the temporary servers of killed runs, then run the body with the project's Prefect
    settings and its temporary server marked as this run's."""
    stop_orphaned_servers()
    before = os.environ.get(MARK)
    os.environ[MARK] = f"{os.getpid()}:{PROJECT_ROOT}"
    try:
        with _project_settings():
            yield
    finally:
        if before is None:
            os.environ.pop(MARK, None)
        else:
            os.environ[MARK] = before


@contextmanager
def _project_settings() -> Iterator[None]:
    """The project's prefect.toml, which Prefect reads only from the working directory, for a run
    started elsewhere: its values apply where nothing else (a variable, a profile) set them."""
    toml = PROJECT_ROOT / "prefect.toml"
    if Path.cwd().resolve() == PROJECT_ROOT or not toml.is_file():
        yield
        return
    with temporary_settings(set_defaults=_dotted(tomllib.loads(toml.read_text()))):
        yield


def _dotted(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"server": {"analytics_enabled": False}} as {"server.analytics_enabled": False}."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat |= _dotted(value, f"{prefix}{key}.")
        else:
            flat[prefix + key] = value
    return flat


@contextmanager
def prefect_api() -> Iterator[Callable[[], None]]:
    """The Prefect API the body's flow runs talk to: PREFECT_API_URL's, else Prefect's temporary
    server, launched now and stopped at exit. Yields a function that returns once the API answers.

    The server takes 4 to 12 s to start, in a process of its own; the body can use the time (load
    the target's code) and then wait. Prefect's own launcher (SubprocessASGIServer) lives in its
    server's module, whose import takes 1.5 to 3 s in this process before it can launch anything;
    this launches the same app with the same environment without that import.
    """
    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        yield lambda: None
        return
    server = _TemporaryServer()
    # At exit, as Prefect stops its own: after its log and event workers have drained to it.
    atexit.register(server.stop)
    with contextlib.ExitStack() as pointed:

        def answers() -> None:
            server.wait()
            # Its address once it answers: a relaunch moves it to another port. No UI: a link to it
            # would lead nowhere. No heartbeats: they tell a server that outlives a run whether the
            # run is alive, and this one stops with it; at the run's end Prefect joins their thread,
            # which sleeps in 1 s steps (0.5 s per run on average).
            updates = {PREFECT_API_URL: server.api_url, PREFECT_UI_URL: "", PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None}
            pointed.enter_context(temporary_settings(updates=updates))

        yield answers


def free_port() -> int:
    """A loopback port free now; another process may take it before the server binds it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServerNotStarted(RuntimeError):
    """Prefect's temporary server did not start."""


class _TemporaryServer:
    """Prefect's API server in a child process: the command line and environment of Prefect's
    temporary server (prefect.server.api.server.SubprocessASGIServer), on a free loopback port."""

    def __init__(self) -> None:
        # The child gets the settings in force now: the project's prefect.toml among them.
        self._env = {
            **os.environ,
            **get_current_settings().to_environment_variables(exclude_unset=True),
            "PREFECT_UI_ENABLED": "0",
            "PREFECT__SERVER_EPHEMERAL": "1",
            "PREFECT__SERVER_FINAL": "1",
        }
        self._process = self._launch()

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self._port}/api"

    def _launch(self) -> subprocess.Popen[bytes]:
        self._port = free_port()
        logger.info("Starting Prefect's temporary server on %s (set PREFECT_API_URL to use your own)", self.api_url)
        app_dir = str(Path(prefect.__file__).parent.parent)
        return subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--app-dir", app_dir, "--factory", _SERVER_APP,
             "--host", "127.0.0.1", "--port", str(self._port), "--log-level", "error", "--lifespan", "on"],
            env=self._env,
        )

    def wait(self) -> None:
        """Return once the server answers; raise, naming what to do, if it does not within the
        startup timeout (prefect.toml's server.ephemeral.startup_timeout_seconds)."""
        timeout = PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS.value()
        deadline, relaunches = time.monotonic() + timeout, _RELAUNCHES
        with httpx.Client() as client:
            while time.monotonic() < deadline:
                ended = self._process.poll()
                if ended == _STARTUP_FAILED and relaunches:  # its port may have been taken since it was probed
                    self._process, relaunches = self._launch(), relaunches - 1
                elif ended is not None:
                    break
                with contextlib.suppress(httpx.TransportError):
                    if client.get(f"{self.api_url}/health").status_code == 200:
                        return
                time.sleep(0.1)
        ended = self._process.poll()
        self.stop()
        what = f"did not answer within {timeout} s" if ended is None else f"exited with status {ended} before answering"
        raise ServerNotStarted(
            f"Prefect's temporary server {what}; see its output above, or start one with `prefect server start` "
            "and set PREFECT_API_URL to its API"
        )

    def stop(self) -> None:
        if self._process.poll() is not None:
            return
        logger.info("Stopping Prefect's temporary server on %s", self.api_url)
        self._process.terminate()
        try:
            self._process.wait(timeout=_STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()


def stop_orphaned_servers() -> list[int]:
    """Stop Prefect's temporary servers that a run of this project started and that outlived it;
    return their pids. A server whose run is alive is its child, and is left alone."""
    orphans = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            if _SERVER_APP not in (process.info["cmdline"] or []):
                continue
            starter, _, root = process.environ().get(MARK, "").partition(":")
            if root == str(PROJECT_ROOT) and starter.isdigit() and process.ppid() != int(starter):
                orphans.append(process)
        except psutil.Error:  # gone meanwhile, or another user's
            continue
    for process in orphans:
        logger.info("Stopping Prefect's temporary server %d, left by a run that was killed", process.pid)
        with contextlib.suppress(psutil.NoSuchProcess):  # another run or teardown stopped it first
            process.terminate()
    _, alive = psutil.wait_procs(orphans, timeout=_STOP_WAIT_S)
    for process in alive:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.kill()
    return [p.pid for p in orphans]
