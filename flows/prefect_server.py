"""Prefect as `python flows/sparkify.py` runs it: with the project's prefect.toml from any working
directory, and without the temporary servers that killed runs left behind.

A run without PREFECT_API_URL starts Prefect's temporary server as a child process and stops it at
exit; a run killed by SIGKILL cannot, and its server runs on with no one to talk to. Each run marks
the servers it starts with its own pid and the project's root in their environment (the child
inherits it), so that the next run, or teardown, stops those whose parent is gone.
"""

from __future__ import annotations

import contextlib
import contextvars
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
from prefect.settings import PREFECT_API_URL, PREFECT_SERVER_EPHEMERAL_ENABLED, temporary_settings

from core.settings import PROJECT_ROOT

try:
    import tomllib
except ImportError:  # Python 3.10: Prefect's own fallback, one of its dependencies
    import toml as tomllib  # type: ignore[no-redef]

logger = logging.getLogger(__name__)

MARK = "SPARKIFY_PREFECT_SERVER_OF"
# How Prefect starts its temporary server: python -m uvicorn ... --factory <this> ...
_SERVER_APP = "prefect.server.api.server:create_app"
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
def temporary_server_starting() -> Iterator[None]:
    """Start Prefect's temporary server in the background while the body runs, if a flow run would
    start it (no PREFECT_API_URL); return once it answers.

    The server takes 4 to 12 s to start, in a process of its own; the flow would otherwise wait for
    it before doing anything, where the body can use the time (load the target's code).
    """
    if PREFECT_API_URL.value() or not PREFECT_SERVER_EPHEMERAL_ENABLED.value():
        yield
        return
    from prefect.server.api.server import SubprocessASGIServer

    failed: list[BaseException] = []

    def start() -> None:
        try:
            # The instance the flow's client takes: Prefect keeps one per port.
            SubprocessASGIServer().start()
        except BaseException as exc:  # raised where the flow would have raised it
            failed.append(exc)

    # The thread sees this run's settings (prefect.toml's startup timeout among them).
    starting = threading.Thread(target=contextvars.copy_context().run, args=(start,), name="prefect-server-start")
    starting.start()
    try:
        yield
    finally:
        # The server counts as running from its launch on, before it answers: the flow's client
        # must not take it until start() has returned.
        starting.join()
    if failed:
        raise failed[0]


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
