"""flows.prefect_server: the project's Prefect settings anywhere; the temporary server; orphans stopped."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from prefect.settings import PREFECT_API_URL, get_current_settings, temporary_settings

from core.settings import PROJECT_ROOT
from flows.prefect_server import MARK, prefect_api, project_prefect, stop_orphaned_servers, tomllib
from tests.support import processes_of

TIMEOUT = tomllib.loads((PROJECT_ROOT / "prefect.toml").read_text())["server"]["ephemeral"]["startup_timeout_seconds"]


def test_a_run_started_elsewhere_gets_the_projects_prefect_settings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with project_prefect():
        assert get_current_settings().server.ephemeral.startup_timeout_seconds == TIMEOUT
    # What the user set still wins.
    with temporary_settings(updates={"server.ephemeral.startup_timeout_seconds": TIMEOUT + 1}), project_prefect():
        assert get_current_settings().server.ephemeral.startup_timeout_seconds == TIMEOUT + 1


@pytest.fixture
def servers() -> Iterator[dict[str, subprocess.Popen]]:
    """Stand-ins for temporary servers (the command line Prefect gives them), children of this
    process: of a run still alive (this one), of a dead run, and of a dead run of another checkout."""
    dead = subprocess.Popen(["true"])
    dead.wait()
    marks = {"live": f"{os.getpid()}:{PROJECT_ROOT}", "orphan": f"{dead.pid}:{PROJECT_ROOT}",
             "other project": f"{dead.pid}:/elsewhere/sparkify-dwh"}
    started = {
        name: subprocess.Popen(
            [sys.executable, "-c", "import time; time.sleep(120)", "prefect.server.api.server:create_app"],
            env={**os.environ, MARK: mark},
        )
        for name, mark in marks.items()
    }
    yield started
    for process in started.values():
        process.kill()
        process.wait()


def test_only_servers_whose_run_is_gone_are_stopped(servers: dict[str, subprocess.Popen]) -> None:
    """The orphan's parent is alive here (this test), as a dead run's server is reparented; its mark
    names a pid that is not its parent, which is how a dead run's server looks."""
    stopped = stop_orphaned_servers()
    assert servers["orphan"].pid in stopped
    assert servers["live"].pid not in stopped and servers["other project"].pid not in stopped
    assert servers["orphan"].wait(timeout=10) is not None
    assert servers["live"].poll() is None and servers["other project"].poll() is None


def test_with_an_api_to_talk_to_no_server_is_started() -> None:
    children = psutil.Process().children()
    with temporary_settings(updates={"api.url": "http://127.0.0.1:9/api"}), prefect_api() as answers:
        answers()
        assert PREFECT_API_URL.value() == "http://127.0.0.1:9/api"
    assert psutil.Process().children() == children


STARTED = """
import httpx, psutil
from prefect import flow
from prefect.settings import PREFECT_API_URL, PREFECT_FLOWS_HEARTBEAT_FREQUENCY
from flows.prefect_server import project_prefect, prefect_api

@flow
def hello() -> str:
    return f"hello,heartbeats:{PREFECT_FLOWS_HEARTBEAT_FREQUENCY.value()}"

with project_prefect(), prefect_api() as answers:
    [server] = psutil.Process().children()
    answers()
    print(server.pid, httpx.get(PREFECT_API_URL.value() + "/health").status_code, hello())
"""


def test_the_temporary_server_answers_the_run_and_stops_at_exit(tmp_path: Path) -> None:
    """The server launched beside the body answers once it is done, a flow run records itself there
    without heartbeats (no one outlives it to read them), and the server is gone when the command is."""
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")}
    env.pop("PREFECT_API_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", STARTED], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=3 * TIMEOUT
    )
    assert done.returncode == 0, done.stderr[-3000:]
    pid, health, result = done.stdout.split()[-3:]
    assert (health, result) == ("200", "hello,heartbeats:None")
    assert "Beginning flow run" in done.stderr and "View at" not in done.stderr  # no UI to link to
    assert not psutil.pid_exists(int(pid))


RELAUNCHED = """
import socket
import httpx
from prefect import flow
from prefect.settings import PREFECT_API_URL
import flows.prefect_server as prefect_server

# The first port handed out is taken by another process between the probe and the server's bind.
taken = socket.create_server(("127.0.0.1", 0))
ports, free_port = iter([taken.getsockname()[1]]), prefect_server.free_port
prefect_server.free_port = lambda: next(ports, None) or free_port()

@flow
def hello() -> str:
    return "hello"

with prefect_server.project_prefect(), prefect_server.prefect_api() as answers:
    answers()
    print(PREFECT_API_URL.value(), taken.getsockname()[1], hello())
"""


def test_a_server_whose_port_was_taken_is_relaunched_and_the_run_talks_to_the_new_one(tmp_path: Path) -> None:
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")}
    env.pop("PREFECT_API_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", RELAUNCHED], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
        timeout=3 * TIMEOUT,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    api, taken, result = done.stdout.split()[-3:]
    assert result == "hello" and not api.startswith(f"http://127.0.0.1:{taken}/")
    assert done.stderr.count("Starting Prefect's temporary server") == 2


def test_a_server_that_cannot_start_fails_the_command_in_one_sentence(tmp_path: Path) -> None:
    """Its database cannot be created: the command exits with status 1 before the run, naming what
    to do, and leaves no process of its own behind."""
    state, home = tmp_path / "state", tmp_path / "prefect"
    env = {
        **os.environ,
        "PREFECT_HOME": str(home),
        "PREFECT_API_DATABASE_CONNECTION_URL": f"sqlite+aiosqlite:///{tmp_path}/missing/dir/prefect.db",
        "SPARKIFY_STATE_DIR": str(state),
    }
    env.pop("PREFECT_API_URL", None)
    done = subprocess.run(
        [sys.executable, "flows/sparkify.py"], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True,
        timeout=3 * TIMEOUT,
    )
    assert done.returncode == 1, done.stderr[-3000:]
    assert done.stderr.splitlines()[-1] == (
        "sparkify: Prefect's temporary server exited with status 3 before answering; see its output above, "
        "or start one with `prefect server start` and set PREFECT_API_URL to its API"
    )
    assert "Beginning flow run" not in done.stderr
    assert processes_of(state, home) == []
