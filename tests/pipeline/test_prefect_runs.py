"""Runs that read well in Prefect: named for their target, cluster and window; a summary artifact and a
Completed message; one run at a time per cluster; an event when teardown leaves something; the
teardown flow; the state hook called as a worker calls it."""

from __future__ import annotations

import fcntl
import json
import os
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey, FlowRunFilter, FlowRunFilterId
from prefect.events.filters import EventFilter, EventNameFilter, EventOccurredFilter
from prefect.settings import PREFECT_API_URL
from prefect.states import Cancelled

from bench.expected import expected_counts
from core.analytics import analytics_queries
from flows.sparkify import _teardown_on_abort, sparkify_etl, sparkify_teardown
from tests.support import NOTHING, SAMPLE, leftovers, run

ROOT = Path(__file__).resolve().parents[2]


def flow_run(run_id: str) -> Any:
    with get_client(sync_client=True) as client:
        return client.read_flow_run(run_id)


def artifact_rows(run_id: str, key: str) -> dict[str, str]:
    with get_client(sync_client=True) as client:
        [artifact] = client.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])),
        )
    return {row["item"]: row["value"] for row in json.loads(artifact.data)}


def test_a_run_is_named_for_what_it_loads_and_sums_up_what_it_built(isolated: Path) -> None:
    code, summary = run("--start", "2018-11-05", "--end", "2018-11-06", tmp=isolated)
    assert code == 0, summary

    recorded = flow_run(summary["flow_run_id"])
    assert recorded.name == "local-sparkify-dwh-2018-11-05-to-2018-11-06"
    tables = summary["tables"]
    assert recorded.state.message == (
        f"loaded {tables['songplays']:,} songplays and {tables['users']:,} users for 2018-11-05 to 2018-11-06; "
        f"{len(summary['checks'])} checks passed"
    )
    rows = artifact_rows(summary["flow_run_id"], "sparkify-summary-adhoc-local")
    assert rows["window"] == "2018-11-05 to 2018-11-06"
    assert rows["rows in songplays"] == f"{tables['songplays']:,}"
    assert rows["songplays matched to a song"] == f"{summary['songplays_matched']:,} of {tables['songplays']:,}"
    assert rows["checks"] == f"{len(summary['checks'])} passed, 0 failed"
    assert float(rows["duration"].removesuffix(" s")) == summary["duration_s"] > 0
    analytics = [f"sparkify-{q.artifact_kind}-adhoc-local" for q in analytics_queries()]
    assert summary["artifacts"] == [
        "sparkify-report-adhoc-local", "sparkify-checks-adhoc-local", *analytics, "sparkify-summary-adhoc-local"
    ]
    assert rows["artifacts"] == ", ".join([
        "sparkify-report-adhoc-local", "sparkify-checks-adhoc-local", "sparkify-summary-adhoc-local",
        f"{len(analytics)} analytics tables ({analytics[0]}, ...)",
    ])


def test_a_window_with_nothing_to_load_says_so(isolated: Path) -> None:
    code, summary = run("--start", "2026-11-01", "--end", "2026-11-01", tmp=isolated)
    assert code == 0, summary
    assert flow_run(summary["flow_run_id"]).state.message == (
        "nothing to load for 2026-11-01 to 2026-11-01: no event files in the window"
    )


def test_a_run_that_may_only_use_an_existing_cluster_creates_nothing(isolated: Path, aws: str) -> None:
    code, summary = run("--require-existing-cluster", tmp=isolated)
    assert code == 1
    assert summary["error"] == (
        "cluster sparkify-dwh does not exist, and this run may only use an existing one (require_existing_cluster): "
        "create it or correct cluster_id; nothing was created"
    )
    assert leftovers(aws) == NOTHING
    # Nor is the local warehouse's server left running.
    assert not (isolated / "state" / "pgdata" / "postmaster.pid").exists()


def holds(lock: Path) -> bool:
    """Whether another process holds the file lock."""
    with lock.open("a") as file:
        try:
            fcntl.flock(file, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        fcntl.flock(file, fcntl.LOCK_UN)
        return False


def test_a_second_run_on_the_same_cluster_waits_for_the_first(isolated: Path) -> None:
    """Run A holds the cluster; run B, willing to wait 1 s, gives up naming why; once A is done, B runs.

    A is stopped (SIGSTOP) while it holds the lock, and continued once B has given up: a run of the
    sample holds it for about 3 s, which B's own start, on a loaded machine, could outlast."""
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "PYTHONPATH": str(ROOT)}
    first = subprocess.Popen(
        [sys.executable, str(ROOT / "flows" / "sparkify.py")], env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    lock = isolated / "state" / "locks" / "sparkify-cluster-local-sparkify-dwh.lock"
    deadline = time.monotonic() + 120
    while not (lock.exists() and holds(lock)):
        assert first.poll() is None and time.monotonic() < deadline, "the first run never took the cluster"
        time.sleep(0.2)

    first.send_signal(signal.SIGSTOP)  # a stopped process keeps its locks
    try:
        code, summary = run("--cluster-lock-timeout-s", "1", tmp=isolated)
    finally:
        first.send_signal(signal.SIGCONT)
    assert code == 1
    assert summary["error"] == (
        "cluster sparkify-dwh (local) stayed in use by another run for 1 s; let that run finish, or raise "
        "--cluster-lock-timeout-s"
    )
    assert first.wait(timeout=300) == 0
    code, summary = run(tmp=isolated)
    assert code == 0, summary
    assert summary["tables"] == expected_counts(SAMPLE)["tables"]


@pytest.fixture
def deletions_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS refuses to delete the manifest bucket, as a policy missing s3:DeleteBucket would."""
    real = BaseClient._make_api_call

    def call(client: BaseClient, name: str, params: dict[str, Any]) -> Any:
        if name == "DeleteBucket":
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "injected by the test"}}, name)
        return real(client, name, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", call)


def teardown_events(run_id: str) -> list[Any]:
    """The `sparkify.teardown.incomplete` events naming flow run `run_id`, once Prefect has them."""
    since = flow_run(run_id).start_time - timedelta(minutes=1)
    deadline = time.monotonic() + 30
    with get_client(sync_client=True) as client:
        while True:
            # The server answers at most 50 events a page (the client's default asks for 100).
            page = client.read_events(
                EventFilter(
                    occurred=EventOccurredFilter(since=since),
                    event=EventNameFilter(name=["sparkify.teardown.incomplete"]),
                ),
                limit=50,
            )
            found = [e for e in page.events if any(r.id == f"prefect.flow-run.{run_id}" for r in e.related)]
            if found or time.monotonic() > deadline:
                return found
            time.sleep(0.5)


def test_a_teardown_that_leaves_something_emits_an_event_naming_it(
    isolated: Path, aws: str, deletions_refused: None
) -> None:
    code, summary = run(tmp=isolated)
    assert code == 1
    [event] = teardown_events(summary["flow_run_id"])
    assert event.resource.id == "sparkify.cluster.local.sparkify-dwh"
    assert event.payload["left"] == ["manifest bucket of sparkify-dwh"]
    assert "teardown" in event.payload["retry"]


def test_the_teardown_flow_deletes_what_a_kept_run_left(isolated: Path, aws: str) -> None:
    code, _ = run("--keep-cluster", tmp=isolated)
    assert code == 0 and leftovers(aws) != NOTHING
    assert sparkify_teardown(target="local", cluster_id="sparkify-dwh") == []
    assert leftovers(aws) == NOTHING


def test_the_hook_tears_down_when_called_as_a_worker_calls_it(isolated: Path, aws: str) -> None:
    """A worker calls the hook with keywords, in a process that never opened the run's target, for a
    run whose process died before its teardown: here, one that left what a kept run made."""
    code, summary = run("--keep-cluster", tmp=isolated)
    assert code == 0 and leftovers(aws) != NOTHING
    parameters = {**flow_run(summary["flow_run_id"]).parameters, "keep_cluster": False}
    with get_client(sync_client=True) as client:
        died = client.create_flow_run(sparkify_etl, parameters=parameters)
    _teardown_on_abort(flow=sparkify_etl, flow_run=died, state=Cancelled())
    assert leftovers(aws) == NOTHING
