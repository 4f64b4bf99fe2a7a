"""The Sparkify ETL flow and its command line.

    python flows/sparkify.py                  # local target: moto + embedded PostgreSQL
    python flows/sparkify.py --target aws     # your AWS account
    python flows/sparkify.py teardown         # delete what a killed run left
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Literal

from prefect import flow, get_run_logger
from prefect.runtime import flow_run
from pydantic import SecretStr, ValidationError

from tasks.checks import CHECKS, CheckResult, check_table
from tasks.cluster import create_cluster, create_security_group, master_password, wait_for_cluster
from tasks.iam import create_role
from tasks.manifest import write_manifest
from tasks.report import publish_report, summarize
from tasks.settings import Settings
from tasks.staging import copy_table, create_tables
from tasks.target import Target, open_target
from tasks.teardown import teardown, teardown_resources
from tasks.transforms import insert_table

# Targets of runs in this process, so the cancellation and crash hooks can tear them down.
_OPEN_TARGETS: dict[str, Target] = {}


def _teardown_on_abort(flow: Any, run: Any, state: Any) -> None:
    """State hook: a cancelled or crashed run still deletes what it created."""
    target = _OPEN_TARGETS.pop(str(run.id), None)
    if target is not None:
        teardown_resources(target)


def build_warehouse(target: Target, password: SecretStr, run_id: str) -> dict[str, Any]:
    """Provision, load, transform and check; return the run's summary."""
    s = target.settings
    target.prepare_sources()
    role = create_role.submit(target, run_id)
    group = create_security_group.submit(target, target.caller_cidr(), run_id)
    manifest = write_manifest.submit(target, run_id)
    create_cluster(target, role.result(), group.result(), password, run_id)
    endpoint = wait_for_cluster(target)
    dsn = target.dsn(endpoint.address, endpoint.port, password)
    create_tables(target, dsn)

    common = {"iam_role": role.result(), "region": s.region, "max_errors": s.max_errors}
    events = copy_table.submit(
        target, dsn, "staging_events",
        {**common, "source": f"s3://{s.source_bucket}/{s.log_prefix}",
         "jsonpaths": f"s3://{s.source_bucket}/{s.log_jsonpaths_key}"},
    )
    songs = copy_table.submit(target, dsn, "staging_songs", {**common, "manifest": manifest.result()})
    staged = [events, songs]

    inserts = {name: insert_table.submit(target, dsn, name, wait_for=staged) for name in ("songs", "artists", "users")}
    inserts["songplays"] = insert_table.submit(target, dsn, "songplays", wait_for=[inserts["songs"], inserts["artists"]])
    inserts["time"] = insert_table.submit(target, dsn, "time", wait_for=[inserts["songplays"]])
    tables = {"staging_events": events.result(), "staging_songs": songs.result()}
    tables |= {name: future.result() for name, future in inserts.items()}

    check_futures = [check_table.submit(target, dsn, table) for table in CHECKS]
    checks: list[CheckResult] = [r for f in check_futures for r in f.result()]
    report = publish_report(target, dsn, tables, checks, [])
    failed = [c.name for c in checks if not c.passed]
    if failed:
        raise ValueError(f"data-quality checks failed: {', '.join(failed)}; see the sparkify-checks artifact")
    return {
        "status": "completed",
        "tables": tables,
        **summarize(target, dsn),
        "checks": [c.__dict__ for c in checks],
        "report": report,
        "warehouse": dsn.url(),
    }


def _settings(data_dir: str | None, **params: Any) -> Settings:
    return Settings(**params, **({"data_dir": Path(data_dir)} if data_dir else {}))


@flow(name="sparkify-etl", on_cancellation=[_teardown_on_abort], on_crashed=[_teardown_on_abort])
def sparkify_etl(
    target: Literal["local", "aws"] = "local",
    data_dir: str | None = None,
    keep_cluster: bool = False,
    max_errors: int = 0,
    cluster_id: str = "sparkify-dwh",
    allow_cidr: str | None = None,
    aws_credentials_block: str | None = None,
    password_secret_block: str | None = None,
) -> dict[str, Any]:
    """Build the Sparkify star schema on `target`, check it, report on it, and always tear down."""
    settings = _settings(
        target=target,
        data_dir=data_dir,
        keep_cluster=keep_cluster,
        max_errors=max_errors,
        cluster_id=cluster_id,
        allow_cidr=allow_cidr,
        aws_credentials_block=aws_credentials_block,
        password_secret_block=password_secret_block,
    )
    password = master_password(settings.password_secret_block)
    run_id = flow_run.id or "local"
    opened = open_target(settings)
    _OPEN_TARGETS[run_id] = opened
    try:
        summary = build_warehouse(opened, password, run_id)
    finally:
        _OPEN_TARGETS.pop(run_id, None)
        # A teardown failure must not hide the ETL's own error; it fails the run only on success.
        cleanup = teardown(opened, keep_cluster, return_state=True)
    if cleanup.is_failed():
        cleanup.result()
    if keep_cluster:
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
    parser.add_argument("--max-errors", type=int, default=0, help="records each COPY may reject (MAXERROR)")
    parser.add_argument("--cluster-id", default="sparkify-dwh")
    parser.add_argument("--allow-cidr", help="aws target: the CIDR admitted on the cluster port (default: your public IP/32)")
    parser.add_argument("--aws-credentials-block", help="a prefect-aws AwsCredentials block (default: boto3's chain)")
    parser.add_argument("--password-secret-block", help="a Prefect Secret block with the master password")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("teardown", help="delete the resources of a cluster a killed run left behind")
    return parser


def _one_sentence(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        # Pydantic would echo the input, which may be a password.
        return "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
    return str(exc) or type(exc).__name__


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    params = dict(
        target=args.target,
        data_dir=args.data_dir,
        keep_cluster=args.keep_cluster,
        max_errors=args.max_errors,
        cluster_id=args.cluster_id,
        allow_cidr=args.allow_cidr,
        aws_credentials_block=args.aws_credentials_block,
        password_secret_block=args.password_secret_block,
    )
    try:
        # Fail on a bad parameter before Prefect, moto or AWS is touched.
        settings = _settings(**params)
    except ValidationError as exc:
        print(f"sparkify: invalid parameter: {_one_sentence(exc)}", file=sys.stderr)
        return 2
    if args.command == "teardown":
        left = teardown_resources(open_target(settings))
        print("teardown: nothing left" if not left else f"teardown: could not delete {', '.join(left)}")
        return 1 if left else 0
    state = sparkify_etl(**params, return_state=True)
    result = state.result(raise_on_failure=False)
    if state.is_completed():
        summary = result
    else:
        summary = {"status": "failed", "error": _one_sentence(result) if isinstance(result, BaseException) else state.message}
        print(f"sparkify: the run failed: {summary['error']}", file=sys.stderr)
    if args.summary_json:
        args.summary_json.write_text(json.dumps(summary, indent=2, default=str))
    return 0 if state.is_completed() else 1


if __name__ == "__main__":
    sys.exit(main())
