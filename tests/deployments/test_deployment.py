"""The README's deployment walkthrough, for real: a Prefect server and a process worker in their own
processes, the deployments from deployments/prefect.yaml. A scheduled run loads the previous day;
the run form explains each parameter; a run cancelled from the API, or whose process is killed, is
torn down by the worker-side hook; a run waits for another holding its cluster; the teardown
deployment runs. Skip locally with `pytest -m "not deployment"`; CI runs it."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, TypeVar

import httpx
import psutil
import pytest
from prefect.client.orchestration import SyncPrefectClient, get_client
from prefect.client.schemas.filters import (
    ArtifactFilter,
    FlowRunFilter,
    FlowRunFilterId,
    LogFilter,
    LogFilterFlowRunId,
    TaskRunFilter,
    TaskRunFilterName,
)
from prefect.concurrency.sync import concurrency
from prefect.settings import PREFECT_API_URL, temporary_settings
from prefect.states import Cancelling, Scheduled

from core.settings import run_parameters
from flows.locks import _ensure_limit
from flows.parameters import describe_parameter
from tests.support import NOTHING, SAMPLE, drain_prefect_workers, leftovers, local_warehouse, upload_data_dir

ROOT = Path(__file__).resolve().parents[2]
PREFECT = [sys.executable, "-m", "prefect"]
DAY = "2018-11-05"
T = TypeVar("T")

pytestmark = pytest.mark.deployment


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(probe: Callable[[], T], timeout_s: float, what: str, explain: Callable[[], str]) -> T:
    deadline = time.monotonic() + timeout_s
    while not (value := probe()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}\n{explain()}"
        time.sleep(0.5)
    return value


def prefect(env: dict[str, str], *args: str) -> str:
    # prefect.yaml's {{ $PWD }} reads the PWD variable, which subprocess's cwd= does not set.
    done = subprocess.run([*PREFECT, *args], env={**env, "PWD": str(ROOT)}, cwd=ROOT, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


class Walkthrough:
    """A server, the deployments and a worker, as the README sets them up; and an AWS account on moto."""

    def __init__(self, env: dict[str, str], client: SyncPrefectClient, worker_log: Path, moto: str) -> None:
        self.env, self.client, self.worker_log, self.moto = env, client, worker_log, moto

    def explain(self) -> str:
        return self.worker_log.read_text()[-6000:]

    def deployment(self, name: str) -> Any:
        return self.client.read_deployment_by_name(name)

    def start(self, name: str, job_variables: dict[str, Any] | None = None, **parameters: Any) -> Any:
        deployment = self.deployment(name).id
        return self.client.create_flow_run_from_deployment(deployment, parameters=parameters,
                                                            job_variables=job_variables).id

    def final(self, run_id: Any, timeout_s: float = 300) -> Any:
        def done() -> Any:
            run = self.client.read_flow_run(run_id)
            return run if run.state.is_final() else None

        return wait_for(done, timeout_s, f"run {run_id} to end", self.explain)

    def task_done(self, run_id: Any, prefix: str) -> bool:
        tasks = self.client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])),
            task_run_filter=TaskRunFilter(name=TaskRunFilterName(like_=prefix)),
        )
        return any(t.state and t.state.is_completed() for t in tasks)

    def logs(self, run_id: Any) -> list[str]:
        return [log.message for log in self.client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[run_id])))]


@pytest.fixture(scope="module")
def walkthrough(tmp_path_factory: pytest.TempPathFactory, moto_endpoint: str) -> Iterator[Walkthrough]:
    """Steps 1-5 of the README: `prefect server start`, the pool, `prefect deploy`, a process worker.
    The worker's runs reach AWS at the test session's moto server."""
    tmp = tmp_path_factory.mktemp("walkthrough")
    port = free_port()
    env = {
        **os.environ,
        "PREFECT_HOME": str(tmp / "prefect"),
        "PREFECT_API_URL": f"http://127.0.0.1:{port}/api",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_WORKER_QUERY_SECONDS": "2",  # runs are picked up within 2 s, not 10 s
        "SPARKIFY_STATE_DIR": str(tmp / "state"),
        "SPARKIFY_RESULTS_DIR": str(tmp / "results"),
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "AKIATESTKEYID0000000",
        "AWS_SECRET_ACCESS_KEY": "not-a-real-secret",
        "AWS_DEFAULT_REGION": "us-west-2",
    }
    server_log = (tmp / "server.log").open("w")
    server = subprocess.Popen([*PREFECT, "server", "start", "--host", "127.0.0.1", "--port", str(port)], env=env,
                              stdout=server_log, stderr=server_log)
    worker = None
    try:
        wait_for(lambda: _healthy(env["PREFECT_API_URL"]), 120, "the server", lambda: (tmp / "server.log").read_text())
        prefect(env, "work-pool", "create", "sparkify", "--type", "process")
        prefect(env, "--no-prompt", "deploy", "--prefect-file", "deployments/prefect.yaml", "--all")
        worker_log = tmp / "worker.log"
        worker = subprocess.Popen([*PREFECT, "worker", "start", "--pool", "sparkify", "--type", "process"], env=env,
                                  cwd=ROOT, stdout=worker_log.open("w"), stderr=subprocess.STDOUT)
        with temporary_settings({PREFECT_API_URL: env["PREFECT_API_URL"]}), get_client(sync_client=True) as client:
            yield Walkthrough(env, client, worker_log, moto_endpoint)
            drain_prefect_workers(60)
    finally:
        if worker is not None:
            worker.terminate()
            worker.wait(timeout=90)
        server.terminate()
        server.wait(timeout=60)


def _healthy(api_url: str) -> bool:
    try:
        return httpx.get(f"{api_url}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_the_deployments_and_their_run_form(walkthrough: Walkthrough) -> None:
    """Every parameter's description reaches the deployment's schema, read back from the API."""
    local, aws, teardown = (walkthrough.deployment(n) for n in ("sparkify-etl/local-daily", "sparkify-etl/aws-daily",
                                                                "sparkify-teardown/teardown"))
    properties = local.parameter_openapi_schema["properties"]
    assert list(properties) == list(run_parameters())
    for name, field in run_parameters().items():
        assert properties[name]["description"] == describe_parameter(name, field), name
    assert (properties["port"]["minimum"], properties["port"]["maximum"], properties["port"]["default"]) == (
        1150, 65535, 5439
    )
    assert local.schedules[0].schedule.cron == "0 6 * * *" and aws.schedules[0].active is False
    assert aws.parameters["require_existing_cluster"] is True
    for deployment in (local, aws):
        assert deployment.global_concurrency_limit.limit == 1
        assert deployment.concurrency_options.collision_strategy == "ENQUEUE"
    assert "run_id" in teardown.parameter_openapi_schema["properties"]


def test_a_scheduled_run_loads_the_previous_complete_day(walkthrough: Walkthrough) -> None:
    client = walkthrough.client
    slot = datetime(2018, 11, 6, 6, 0, tzinfo=timezone.utc)  # the 06:00 UTC schedule, on the day after DAY
    run = client.create_flow_run_from_deployment(
        walkthrough.deployment("sparkify-etl/local-daily").id, state=Scheduled(scheduled_time=slot)
    )
    run = walkthrough.final(run.id)
    assert run.state.is_completed(), walkthrough.explain()
    assert run.name == f"local-sparkify-dwh-{DAY}"
    artifacts = {
        a.key: a for a in client.read_artifacts(
            artifact_filter=ArtifactFilter(), flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id]))
        )
    }
    assert {f"sparkify-{kind}-local-daily-local" for kind in ("report", "checks", "summary")} <= set(artifacts)
    assert str(artifacts["sparkify-report-local-daily-local"].data).count("data:image/png;base64,") == 5
    summary = {row["item"]: row["value"] for row in json.loads(artifacts["sparkify-summary-local-daily-local"].data)}
    assert summary["window"] == f"{DAY} to {DAY}"

    # The warehouse holds that day, and only it: compared with the day's file itself.
    events = [json.loads(line) for line in (SAMPLE / "log_data" / "2018" / "11" / f"{DAY}-events.json").open()]
    plays = {(e["userId"], e["sessionId"], e["itemInSession"], e["ts"]) for e in events if e["page"] == "NextSong"}
    with local_warehouse(Path(walkthrough.env["SPARKIFY_STATE_DIR"])) as conn:
        assert conn.execute("SELECT COUNT(*) FROM songplays").fetchone()[0] == len(plays)
        days = conn.execute("SELECT DISTINCT CAST(start_time AS DATE) FROM songplays").fetchall()
        assert [str(d[0]) for d in days] == [DAY]
    assert summary["rows in songplays"] == f"{len(plays):,}"


@pytest.fixture
def account(walkthrough: Walkthrough) -> Iterator[str]:
    """moto's server as an AWS account holding the source bucket; what a test leaves is removed."""
    httpx.post(f"{walkthrough.moto}/moto-api/reset", timeout=10)
    from tests.support import client

    upload_data_dir(client(walkthrough.moto, "s3"), "udacity-dend", SAMPLE, ("song_data", "log_data"))
    yield walkthrough.moto
    httpx.post(f"{walkthrough.moto}/moto-api/reset", timeout=10)


def start_aws_run(walkthrough: Walkthrough) -> Any:
    """An AWS run that creates its resources, then waits on the cluster's endpoint (moto's does not
    resolve) for up to 300 s: the time to cancel it or kill it."""
    run_id = walkthrough.start(
        "sparkify-etl/aws-daily", require_existing_cluster=False, scheduled_day=False, start=DAY, end=DAY,
        cluster_id="sparkify-dwh", password_secret_block=None, allow_cidr="203.0.113.7/32", connect_timeout_s=300,
    )
    wait_for(lambda: walkthrough.task_done(run_id, "wait_for_cluster-"), 180, "the cluster", walkthrough.explain)
    assert leftovers(walkthrough.moto) != NOTHING
    return run_id


def assert_the_hook_tore_down(walkthrough: Walkthrough, run_id: Any) -> None:
    def told() -> bool:
        return any(m.startswith(("The run was ", "The run's own teardown completed")) for m in walkthrough.logs(run_id))

    # The hook's process sends its log lines as it exits, after the teardown they tell of.
    wait_for(told, 60, "the hook's log lines", lambda: "\n".join(walkthrough.logs(run_id)))
    logs = walkthrough.logs(run_id)
    assert not [m for m in logs if "error was encountered while running hook" in m.lower()], logs


def test_a_run_cancelled_from_the_api_is_torn_down_by_the_worker(walkthrough: Walkthrough, account: str) -> None:
    run_id = start_aws_run(walkthrough)
    walkthrough.client.set_flow_run_state(run_id, Cancelling())  # what the UI's Cancel button does
    run = walkthrough.final(run_id)
    # The worker runs the hooks after the run's process ended, and only then proposes Cancelled.
    assert run.state.is_cancelled()
    assert leftovers(account) == NOTHING
    assert_the_hook_tore_down(walkthrough, run_id)


def test_a_run_whose_process_is_killed_is_torn_down_by_the_worker(walkthrough: Walkthrough, account: str) -> None:
    """SIGKILL: nothing of the run's own process can clean up; only the worker's on_crashed hook can."""
    run_id = start_aws_run(walkthrough)
    os.kill(int(walkthrough.client.read_flow_run(run_id).infrastructure_pid), signal.SIGKILL)
    run = walkthrough.final(run_id)
    assert run.state.is_crashed()
    wait_for(lambda: leftovers(account) == NOTHING, 120, "the hook's teardown", walkthrough.explain)
    wait_for(lambda: any(m.startswith("Teardown after ") for m in walkthrough.logs(run_id)), 60, "the hook's log",
             walkthrough.explain)
    assert_the_hook_tore_down(walkthrough, run_id)


def postgres_processes(pgdata: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        try:
            if process.info["name"] == "postgres" and str(pgdata) in " ".join(process.info["cmdline"] or []):
                found.append(process)
        except psutil.Error:
            continue
    return found


def test_a_killed_local_run_leaves_no_postgres_behind(walkthrough: Walkthrough, tmp_path: Path) -> None:
    """The local target's moto dies with the run's process; its PostgreSQL is stopped by the hook."""
    state = tmp_path / "state"
    # A state dir of its own: the run's PostgreSQL is the only one on it.
    run_id = walkthrough.start("sparkify-etl/local-daily", job_variables={"env": {"SPARKIFY_STATE_DIR": str(state)}},
                               scheduled_day=False, start=DAY, end=DAY)
    wait_for(lambda: walkthrough.task_done(run_id, "create_tables-"), 180, "the warehouse", walkthrough.explain)
    assert postgres_processes(state / "pgdata")
    os.kill(int(walkthrough.client.read_flow_run(run_id).infrastructure_pid), signal.SIGKILL)
    assert walkthrough.final(run_id).state.is_crashed()
    wait_for(lambda: not postgres_processes(state / "pgdata"), 120, "PostgreSQL to stop", walkthrough.explain)
    assert_the_hook_tore_down(walkthrough, run_id)


def test_a_run_waits_while_another_holds_its_cluster(walkthrough: Walkthrough) -> None:
    """The flow's lock, shared by all deployments: a run willing to wait 3 s gives up while it is held."""
    name = "sparkify-cluster-local-sparkify-dwh"
    _ensure_limit(name)
    with concurrency(name, occupy=1, strict=True):
        run_id = walkthrough.start("sparkify-etl/local-daily", scheduled_day=False, start=DAY, end=DAY,
                                   cluster_lock_timeout_s=3)
        run = walkthrough.final(run_id)
    assert run.state.is_failed()
    assert "stayed in use by another run for 3 s" in run.state.message


def test_the_teardown_deployment_deletes_what_a_kept_run_left(walkthrough: Walkthrough, account: str) -> None:
    kept = walkthrough.start(
        "sparkify-etl/aws-daily", require_existing_cluster=False, scheduled_day=False, start=DAY, end=DAY,
        cluster_id="sparkify-dwh", keep_cluster=True, password_secret_block=None, allow_cidr="203.0.113.7/32",
        connect_timeout_s=2,
    )
    assert walkthrough.final(kept).state.is_failed()  # moto's endpoint does not resolve
    assert leftovers(account)["clusters"] == ["sparkify-dwh"]
    teardown = walkthrough.final(walkthrough.start("sparkify-teardown/teardown", target="aws"))
    assert teardown.state.is_completed(), walkthrough.explain()
    assert teardown.name == "teardown-aws-sparkify-dwh"
    assert leftovers(account) == NOTHING
