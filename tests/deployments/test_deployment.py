"""The README's deployment walkthrough, for real: a Prefect server and a process worker in their
own processes, the deployment from deployments/prefect.yaml, one day loaded. Skip locally with
`pytest -m "not deployment"`; CI runs it."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, FlowRunFilter, FlowRunFilterId
from prefect.settings import PREFECT_API_URL, temporary_settings

from local.postgres import start_postgres
from tests.support import SAMPLE

ROOT = Path(__file__).resolve().parents[2]
PREFECT = [sys.executable, "-m", "prefect"]
DAY = "2018-11-05"

pytestmark = pytest.mark.deployment


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(tmp_path: Path) -> Iterator[dict[str, str]]:
    """`prefect server start` on a free port with its own PREFECT_HOME; yields the environment
    every other process of the walkthrough uses."""
    port = free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp_path / "prefect"),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "SPARKIFY_STATE_DIR": str(tmp_path / "state"),
        "SPARKIFY_RESULTS_DIR": str(tmp_path / "results"),
    }
    log = (tmp_path / "server.log").open("w")
    process = subprocess.Popen(
        [*PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{env['PREFECT_API_URL']}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert process.poll() is None and time.monotonic() < deadline, (tmp_path / "server.log").read_text()
            time.sleep(0.5)
        yield env
    finally:
        process.terminate()
        process.wait(timeout=60)


def prefect(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([*PREFECT, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_local_deployment_runs_one_day_on_a_worker(server: dict[str, str], tmp_path: Path) -> None:
    prefect(server, "work-pool", "create", "sparkify", "--type", "process")
    prefect(server, "--no-prompt", "deploy", "--prefect-file", "deployments/prefect.yaml", "--all")
    out = prefect(server, "deployment", "run", "sparkify-etl/local-daily", "-p", f"start={DAY}", "-p", f"end={DAY}")
    run_id = next(line.split()[-1] for line in out.splitlines() if "UUID" in line)

    worker = subprocess.Popen(
        [*PREFECT, "worker", "start", "--pool", "sparkify", "--type", "process"],
        env=server, cwd=ROOT, stdout=(tmp_path / "worker.log").open("w"), stderr=subprocess.STDOUT,
    )
    try:
        with temporary_settings({PREFECT_API_URL: server["PREFECT_API_URL"]}), get_client(sync_client=True) as client:
            deadline = time.monotonic() + 300
            while not (run := client.read_flow_run(run_id)).state.is_final():
                assert time.monotonic() < deadline and worker.poll() is None, (tmp_path / "worker.log").read_text()
                time.sleep(1)
            assert run.state.is_completed(), (tmp_path / "worker.log").read_text()
            deployments = {d.name: d for d in client.read_deployments()}
            artifacts = {
                a.key: a for a in client.read_artifacts(
                    artifact_filter=ArtifactFilter(), flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id]))
                )
            }
    finally:
        worker.terminate()
        worker.wait(timeout=60)

    assert set(deployments) == {"local-daily", "aws-daily"}
    assert deployments["local-daily"].schedules[0].schedule.cron == "0 6 * * *"
    assert deployments["aws-daily"].schedules[0].active is False
    assert {"sparkify-report", "sparkify-checks"} <= set(artifacts)
    assert str(artifacts["sparkify-report"].data).count("data:image/png;base64,") == 5

    # The warehouse holds that day, and only it: compared with the day's file itself.
    events = [json.loads(line) for line in (SAMPLE / "log_data" / "2018" / "11" / f"{DAY}-events.json").open()]
    plays = {(e["userId"], e["sessionId"], e["itemInSession"], e["ts"]) for e in events if e["page"] == "NextSong"}
    users = {int(e["userId"]) for e in events if e["userId"]}
    postgres = start_postgres(Path(server["SPARKIFY_STATE_DIR"]) / "pgdata")
    try:
        with psycopg.connect(**{**postgres.superuser_dsn(), "dbname": "sparkify-dwh"}) as conn:
            assert conn.execute("SELECT COUNT(*) FROM songplays").fetchone()[0] == len(plays)
            assert {r[0] for r in conn.execute("SELECT user_id FROM users")} == users
            days = conn.execute("SELECT DISTINCT CAST(start_time AS DATE) FROM songplays").fetchall()
            assert [str(d[0]) for d in days] == [DAY]
    finally:
        postgres.stop()
