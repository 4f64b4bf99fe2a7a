"""Helpers shared by tests."""

from __future__ import annotations

import concurrent.futures
import json
import shutil
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import psutil
import psycopg

from core.aws import bucket_location
from core.settings import Settings
from local.postgres import data_directory, start_postgres
from local.source_bucket import data_files
from local.target import warehouse_database

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"


def client(endpoint: str, service: str, region: str = "us-west-2") -> Any:
    """A boto3 client on the test's moto server."""
    return boto3.client(
        service, endpoint_url=endpoint, region_name=region, aws_access_key_id="local", aws_secret_access_key="local"
    )


def read_artifact(flow_run_id: str, key: str) -> str:
    """The data of the artifact `key` that the flow run published, from Prefect's API."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey, FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as prefect:
        [artifact] = prefect.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
        )
    return str(artifact.data)


def leftovers(endpoint: str) -> dict[str, list[str]]:
    """What the run created that still exists in moto (the source bucket is the emulated input)."""
    iam, redshift, ec2, s3 = (client(endpoint, s) for s in ("iam", "redshift", "ec2", "s3"))
    return {
        "roles": [r["RoleName"] for r in iam.list_roles()["Roles"]],
        "clusters": [c["ClusterIdentifier"] for c in redshift.describe_clusters()["Clusters"]],
        "security_groups": [
            g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"] if g["GroupName"] != "default"
        ],
        "buckets": [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"] != "udacity-dend"],
    }


@contextmanager
def local_warehouse(state: Path, data: Path = SAMPLE) -> Iterator[psycopg.Connection]:
    """The local warehouse of source `data` that a --keep-cluster run left in `state`, as the superuser."""
    server = start_postgres(data_directory(state))
    try:
        database = warehouse_database(Settings(data_dir=data, state_dir=state))
        with psycopg.connect(**{**server.superuser_dsn(), "dbname": database}) as conn:
            yield conn
    finally:
        server.stop()


NOTHING = {"roles": [], "clusters": [], "security_groups": [], "buckets": []}


def run(*args: str, tmp: Path) -> tuple[int, dict]:
    """The command line, in this process; return its exit status and its --summary-json."""
    from flows.cli import main

    summary = tmp / "summary.json"
    code = main([*args, "--summary-json", str(summary)])
    return code, json.loads(summary.read_text())


def sample_copy(tmp: Path) -> Path:
    """A copy of the sample under `tmp`, for a test to spoil."""
    data = tmp / "data"
    shutil.copytree(SAMPLE, data)
    return data


def cut_a_line(data: Path) -> str:
    """Cut line 3 of one event file in half; return where the error is."""
    broken = data / "log_data" / "2018" / "11" / "2018-11-07-events.json"
    lines = broken.read_text().splitlines(keepends=True)
    lines[2] = lines[2][: len(lines[2]) // 2] + "\n"
    broken.write_text("".join(lines))
    return f"{broken.name} line 3"


def upload_data_dir(
    s3: Any, bucket: str, data_dir: Path, prefixes: tuple[str, ...], extra: tuple[str, ...] = ()
) -> int:
    """Fill `bucket` from `data_dir` over the S3 API with parallel PUTs: an S3 that stands for
    the user's own bucket."""
    try:
        s3.create_bucket(Bucket=bucket, **bucket_location(s3.meta.region_name))
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    files = data_files(data_dir, prefixes, extra)
    with ThreadPoolExecutor(16) as pool:
        list(pool.map(lambda item: s3.put_object(Bucket=bucket, Key=item[1], Body=item[0].read_bytes()), files))
    return len(files)


def drain_prefect_workers(timeout: float) -> None:
    """Let Prefect's log and event workers in this process finish sending, within `timeout`, and stop.

    A worker binds to the API it first sends to, for as long as it runs; stopped, it is replaced by
    a fresh one on next use. So a test that points this process at a server of its own drains them
    before that server goes. Prefect's test harness drains them too, but without a timeout, and so
    does every worker at interpreter exit: seen with Prefect 3.9, a log worker bound to a server
    that had stopped never finished, and the session hung until CI's limit. A worker that does not
    finish in time is marked done (the state `_drain` checks), so no later drain waits for it.
    """
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for service in (APILogWorker, EventsWorker):
        for worker in list(service._instances.values()):
            try:
                worker._drain().result(timeout=timeout)
            except concurrent.futures.TimeoutError:  # not the builtin one before Python 3.11
                print(f"\n{service.__name__} did not drain within {timeout:.0f} s; its remaining items are dropped")
                worker._done_event = None


def processes_of(state: Path, home: Path) -> list[str]:
    """The processes a run with this state directory and Prefect home started, still running:
    the run, its PostgreSQL and its Prefect server all inherit them in their environment."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        try:
            env = process.environ()
            cmdline = " ".join(process.info["cmdline"] or [])
        except psutil.Error:  # gone, or a zombie
            continue
        if env.get("SPARKIFY_STATE_DIR") == str(state) or env.get("PREFECT_HOME") == str(home) or str(state) in cmdline:
            found.append(f"{process.pid}: {cmdline}")
    return found
