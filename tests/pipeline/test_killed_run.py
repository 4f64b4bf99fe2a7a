"""A local run killed with SIGKILL leaves nothing running once the next run and teardown are done."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.support import processes_of

ROOT = Path(__file__).resolve().parents[2]
# The moment to kill: staging_songs is loaded, so PostgreSQL and moto are busy with COPY.
_COPYING = "COPY loaded"


def command(*args: str) -> list[str]:
    return [sys.executable, str(ROOT / "flows" / "sparkify.py"), *args]


def helpers(state: Path, home: Path) -> list[str]:
    """The run's helper processes still running: moto's and the charts'."""
    return [p for p in processes_of(state, home) if "local.moto_process" in p or "core.charts" in p]


def test_nothing_is_left_running_after_a_killed_run(tmp_path: Path) -> None:
    state, home, log = tmp_path / "state", tmp_path / "prefect", tmp_path / "killed.log"
    env = {**os.environ, "SPARKIFY_STATE_DIR": str(state), "PREFECT_HOME": str(home)}
    env.pop("PREFECT_API_URL", None)  # each run starts Prefect's temporary server, as a user's does
    with log.open("w") as out:
        killed = subprocess.Popen(command(), cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 300
    while _COPYING not in log.read_text():
        assert killed.poll() is None and time.monotonic() < deadline, log.read_text()[-3000:]
        time.sleep(0.1)
    found = helpers(state, home)
    assert sorted("core.charts" in p for p in found) == [False, True], f"the run's two helpers, one each: {found}"
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert processes_of(state, home), "the killed run left nothing to clean up: the test shows nothing"
    # The helpers end on their own once the run is gone: their stdin closed with it.
    deadline = time.monotonic() + 10
    while helpers(state, home) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert helpers(state, home) == []

    for args in ((), ("teardown",)):
        done = subprocess.run(command(*args), cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        # One server per command, the project's: Prefect starts its own only for a run that lost its settings.
        assert "Starting temporary server on" not in done.stdout + done.stderr
    assert processes_of(state, home) == []
