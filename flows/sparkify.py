"""The Sparkify ETL flow and its command line.

    python flows/sparkify.py                  # local target: moto + embedded PostgreSQL
    python flows/sparkify.py --target aws     # your AWS account
    python flows/sparkify.py teardown         # delete what a killed run left
"""

from __future__ import annotations

import argparse
import inspect
import json
import sys
from dataclasses import asdict
from datetime import date, timezone
from pathlib import Path
from typing import Annotated, Any, Literal

from prefect import flow, get_run_logger
from prefect.futures import PrefectFuture, wait
from prefect.logging import get_logger
from prefect.runtime import flow_run
from pydantic import Field, SecretStr, ValidationError

from tasks import aws
from tasks.checks import CHECKS, CheckResult, check_table
from tasks.cluster import (
    create_cluster,
    create_security_group,
    describe_cluster,
    is_ours,
    master_password,
    reuse_cluster,
    wait_for_cluster,
)
from tasks.iam import create_role
from tasks.manifest import write_manifests
from tasks.plan import describe_plan
from tasks.report import publish_report, summarize
from tasks.settings import NodeType, Settings
from tasks.sources import Window, survey_sources
from tasks.staging import copy_table, create_tables
from tasks.target import Target, open_target
from tasks.teardown import delete_resources, tagged_clusters, teardown, teardown_resources
from tasks.transforms import insert_table

# Runs of this process: targets not torn down yet, and runs whose teardown ran.
_OPEN_TARGETS: dict[str, Target] = {}
_TORN_DOWN: set[str] = set()


def _teardown_on_abort(flow: Any, run: Any, state: Any) -> None:
    """State hook: a cancelled or crashed run still deletes what it created.

    Prefect may run it in another process than the run's (a worker cancelling a run), so it
    rebuilds the target from the run's parameters when this process did not open it.
    """
    if str(run.id) in _TORN_DOWN:
        return
    settings = _settings(**run.parameters)
    target = _OPEN_TARGETS.pop(str(run.id), None) or open_target(settings)
    teardown_resources(target, settings.keep_cluster)


def build_warehouse(
    target: Target, window: Window, password: SecretStr, run_id: str, inflight: list[PrefectFuture]
) -> dict[str, Any]:
    """Provision, load, transform and check; return the run's summary. Every task submitted is
    added to `inflight`, so teardown can wait for it instead of racing a creation."""

    def submit(task: Any, *args: Any, **kwargs: Any) -> PrefectFuture:
        inflight.append(task.submit(*args, **kwargs))
        return inflight[-1]

    target.prepare_sources()
    sources = survey_sources(target, window)
    if not sources.events:
        get_run_logger().info("No event files for %s: nothing to load", window)
        return {"status": "completed", "flow_run_id": run_id, "window": str(window), "tables": {}, "note": "nothing to load"}
    existing = describe_cluster(target)
    reusing = existing is not None and not is_ours(existing)
    if reusing and not target.settings.password_secret_block:
        raise ValueError(
            f"cluster {target.settings.cluster_id} exists and was not created by this project: to load into it, "
            "name a Secret block holding its master password with --password-secret-block; "
            "to build a new cluster, choose another --cluster-id"
        )
    role = submit(create_role, target, run_id)
    manifests = submit(write_manifests, target, sources, run_id)
    if reusing:
        target = reuse_cluster(target, existing, role.result())
    else:
        cidr = target.caller_cidr()
        group = submit(create_security_group, target, cidr, run_id)
        create_cluster(target, role.result(), group.result(), cidr, password, run_id)
    endpoint = wait_for_cluster(target)
    dsn = target.dsn(endpoint, password)
    create_tables(target, dsn)

    s = target.settings
    common = {"iam_role": role.result(), "region": s.region, "max_errors": s.max_errors}
    events = submit(
        copy_table, target, dsn, "staging_events",
        {**common, "manifest": manifests.result()["events"], "jsonpaths": f"s3://{s.source_bucket}/{s.log_jsonpaths_key}"},
    )
    songs = submit(
        copy_table, target, dsn, "staging_songs", {**common, "manifest": manifests.result()["songs"]},
        signature=sources.songs_signature(),
    )
    # No insert starts unless both COPYs succeeded, so a failed load leaves the star schema as it
    # was. songplays reads only staging, so it runs beside the dimensions; time reads songplays.
    staged = [events, songs]
    inserts = {
        name: submit(insert_table, target, dsn, name, window, wait_for=staged)
        for name in ("songs", "artists", "users", "songplays")
    }
    inserts["time"] = submit(insert_table, target, dsn, "time", window, wait_for=[inserts["songplays"]])
    loads = {"staging_events": events.result(), "staging_songs": songs.result()}
    skipped = [e for load in loads.values() for e in load.skipped]
    tables = {name: load.rows for name, load in loads.items()}
    tables |= {name: future.result() for name, future in inserts.items()}

    check_futures = [submit(check_table, target, dsn, table) for table in CHECKS]
    checks: list[CheckResult] = [r for f in check_futures for r in f.result()]
    report = publish_report(target, dsn, tables, checks, [f"{e.tbl}: {e.describe()}" for e in skipped])
    failed = [c.name for c in checks if not c.passed]
    if failed:
        raise ValueError(f"data-quality checks failed: {', '.join(failed)}; see the sparkify-checks artifact")
    return {
        "status": "completed",
        "flow_run_id": run_id,
        "window": str(window),
        "tables": tables,
        "copied": {name: load.copied for name, load in loads.items()},
        **summarize(target, dsn),
        "checks": [c.__dict__ for c in checks],
        "load_errors": [asdict(e) for e in skipped],
        "report": report,
        "warehouse": dsn.url(),
    }


def run_window(settings: Settings) -> Window:
    """--start/--end if given; else the scheduled run's day (UTC) if asked for; else every day."""
    if settings.start is not None and settings.end is not None:
        return Window(settings.start, settings.end)
    if settings.scheduled_day:
        day = flow_run.scheduled_start_time.astimezone(timezone.utc).date()
        return Window(day, day)
    return Window()


def _settings(**params: Any) -> Settings:
    """Settings from the flow's parameters; a parameter left as None falls back to SPARKIFY_* or the default."""
    return Settings(**{k: v for k, v in params.items() if v is not None})


@flow(name="sparkify-etl", on_cancellation=[_teardown_on_abort], on_crashed=[_teardown_on_abort])
def sparkify_etl(
    target: Literal["local", "aws"] = "local",
    data_dir: Annotated[str | None, Field(description="local target: a folder laid out like the S3 source")] = None,
    keep_cluster: Annotated[bool, Field(description="leave the warehouse up to query it")] = False,
    max_errors: Annotated[int | None, Field(ge=0, description="records each COPY may reject")] = None,
    start: Annotated[date | None, Field(description="first event day to load (with end)")] = None,
    end: Annotated[date | None, Field(description="last event day to load, inclusive")] = None,
    scheduled_day: Annotated[bool, Field(description="load the scheduled run's day (UTC)")] = False,
    cluster_id: Annotated[str | None, Field(max_length=63, description="existing or new cluster id")] = None,
    node_type: NodeType | None = None,
    number_of_nodes: Annotated[int | None, Field(ge=1, le=128)] = None,
    port: Annotated[int | None, Field(ge=1150, le=65535)] = None,
    cluster_timeout_s: Annotated[int | None, Field(gt=0)] = None,
    connect_timeout_s: Annotated[int | None, Field(gt=0)] = None,
    allow_cidr: Annotated[str | None, Field(description="aws target: who may reach the cluster port")] = None,
    allow_any_ip: Annotated[bool, Field(description="admit 0.0.0.0/0 on the cluster port")] = False,
    aws_credentials_block: Annotated[str | None, Field(description="a prefect-aws AwsCredentials block")] = None,
    password_secret_block: Annotated[str | None, Field(description="a Secret block: the master password")] = None,
) -> dict[str, Any]:
    """Build the Sparkify star schema on `target`, check it, report on it, and always tear down.

    Parameters left empty take their SPARKIFY_* environment variable or the default.
    """
    settings = _settings(**locals())
    password = master_password(settings.password_secret_block)
    run_id = flow_run.id or "local"
    opened = open_target(settings)
    _OPEN_TARGETS[run_id] = opened
    inflight: list[PrefectFuture] = []
    failure: Exception | None = None
    try:
        summary = build_warehouse(opened, run_window(settings), password, run_id, inflight)
    except Exception as exc:
        failure = exc
        advice = aws.explain(exc)
        if advice is not None:
            failure = RuntimeError(advice)
            failure.__cause__ = exc
    finally:
        wait(inflight)
        _OPEN_TARGETS.pop(run_id, None)
        _TORN_DOWN.add(run_id)
        cleanup = teardown(opened, keep_cluster, return_state=True)
    left = cleanup.result(raise_on_failure=False) if cleanup.is_failed() else None
    if failure is not None:
        # The ETL's own error comes first; what teardown could not delete is said after it.
        if left is not None:
            raise RuntimeError(f"{failure}; then {left}") from failure
        raise failure
    if left is not None:
        raise left
    if keep_cluster and "warehouse" in summary:
        get_run_logger().info(
            "The warehouse is kept: connect with psql '%s' (password: your Secret block's; none locally). "
            "Delete it with: python flows/sparkify.py --target %s teardown",
            summary["warehouse"], settings.target,
        )
    return summary


# ---------------------------------------------------------------------------------------------
# Command line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Build the Sparkify warehouse, locally (default) or on AWS.")
    parser.add_argument("--target", choices=["local", "aws"], default="local")
    parser.add_argument("--data-dir", help="local target: a folder laid out like the S3 source (default: data/sample)")
    parser.add_argument("--summary-json", type=Path, help="write the run's summary to this file")
    parser.add_argument("--keep-cluster", action="store_true", help="leave the warehouse up to query it")
    parser.add_argument("--max-errors", type=int, help="records each COPY may reject (MAXERROR; default 0)")
    parser.add_argument("--start", type=date.fromisoformat, help="first event day to load, YYYY-MM-DD (with --end)")
    parser.add_argument("--end", type=date.fromisoformat, help="last event day to load, inclusive (with --start)")
    parser.add_argument("--cluster-id", help="the cluster identifier (default sparkify-dwh)")
    parser.add_argument("--node-type", help="Redshift node type (default dc2.large)")
    parser.add_argument("--number-of-nodes", type=int, help="nodes in the cluster (default 1)")
    parser.add_argument("--port", type=int, help="the cluster port (default 5439)")
    parser.add_argument("--cluster-timeout-s", type=int, help="seconds to wait for the cluster (default 1200)")
    parser.add_argument("--connect-timeout-s", type=int, help="seconds to keep trying the cluster's endpoint (default 60)")
    parser.add_argument("--allow-cidr", help="aws target: the CIDR admitted on the cluster port (default: your public IP/32)")
    parser.add_argument("--allow-any-ip", action="store_true", help="admit 0.0.0.0/0 on the cluster port (logs a warning)")
    parser.add_argument("--aws-credentials-block", help="a prefect-aws AwsCredentials block (default: boto3's chain)")
    parser.add_argument("--password-secret-block", help="a Prefect Secret block with the master password")
    parser.add_argument("--plan", action="store_true", help="print what a run would create and cost, and create nothing")
    commands = parser.add_subparsers(dest="command")
    cleanup = commands.add_parser(
        "teardown", help="delete what killed runs left: every resource tagged by this project, and --cluster-id's"
    )
    cleanup.add_argument("--run-id", help="only what the flow run with this id created")
    cleanup.add_argument("--wipe", action="store_true", help="local target: also delete the warehouse's data")
    return parser


def teardown_orphans(target: Target, run_id: str | None) -> list[str]:
    """Delete the resources of every cluster id the project's tags name (only run `run_id`'s, if
    given; else also `--cluster-id`'s, found by name), stop the target, return what is left."""
    logger = get_logger("sparkify.teardown")
    try:
        cluster_ids = tagged_clusters(target, run_id) | (set() if run_id else {target.settings.cluster_id})
        logger.info("Tearing down: %s", ", ".join(sorted(cluster_ids)) or "nothing found")
        left = [what for cid in sorted(cluster_ids) for what in delete_resources(target.with_settings(cluster_id=cid), False, logger)]
    finally:
        target.close()
    return left


def _one_sentence(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        # Our validators word their own message; pydantic's name the rule but not the parameter.
        # Neither echoes the input, which may be a password.
        return "; ".join(
            str(e["msg"]).removeprefix("Value error, ") if e["type"] == "value_error"
            else f"--{str(e['loc'][-1]).replace('_', '-')}: {e['msg'][0].lower()}{e['msg'][1:]}"
            for e in exc.errors()
        )
    return str(exc) or type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    params = {name: value for name, value in vars(args).items() if name in FLOW_PARAMETERS}
    try:
        # Fail on a bad parameter before Prefect, moto or AWS is touched.
        settings = _settings(**params)
    except ValidationError as exc:
        print(f"sparkify: invalid parameter: {_one_sentence(exc)}", file=sys.stderr)
        return 2
    if args.plan:
        print(describe_plan(settings))
        return 0
    if args.command == "teardown":
        left = teardown_orphans(open_target(settings.model_copy(update={"wipe_warehouse": args.wipe})), args.run_id)
        print("teardown: nothing left" if not left else f"teardown: could not delete {', '.join(left)}")
        return 1 if left else 0
    state = sparkify_etl(**params, return_state=True)
    result = state.result(raise_on_failure=False)
    if state.is_completed():
        summary = result
    else:
        summary = {
            "status": "failed",
            "flow_run_id": str(state.state_details.flow_run_id),
            "error": _one_sentence(result) if isinstance(result, BaseException) else state.message,
        }
        print(f"sparkify: the run failed: {summary['error']}", file=sys.stderr)
    if args.summary_json:
        args.summary_json.write_text(json.dumps(summary, indent=2, default=str))
    return 0 if state.is_completed() else 1


FLOW_PARAMETERS = frozenset(inspect.signature(sparkify_etl.fn).parameters)

if __name__ == "__main__":
    sys.exit(main())
