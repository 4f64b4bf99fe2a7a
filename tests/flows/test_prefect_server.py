"""flows.prefect_server: the project's Prefect settings from any directory; orphaned servers stopped."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import pytest
from prefect.settings import get_current_settings, temporary_settings

from core.settings import PROJECT_ROOT
from flows.prefect_server import MARK, project_prefect, stop_orphaned_servers, temporary_server_starting, tomllib

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
    with temporary_settings(updates={"api.url": "http://127.0.0.1:9/api"}), temporary_server_starting():
        pass
    assert psutil.Process().children() == children


STARTED = """
import httpx
from prefect.server.api.server import SubprocessASGIServer
from flows.prefect_server import project_prefect, temporary_server_starting

with project_prefect(), temporary_server_starting():
    pass
print(httpx.get(SubprocessASGIServer().api_url + "/health").status_code)
"""


def test_the_temporary_server_started_beside_the_body_answers_once_it_is_done(tmp_path: Path) -> None:
    """What the flow's client then takes: Prefect's one temporary server of the process, healthy."""
    env = {**os.environ, "PREFECT_HOME": str(tmp_path / "prefect")}
    env.pop("PREFECT_API_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", STARTED], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=3 * TIMEOUT
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.split()[-1] == "200"
