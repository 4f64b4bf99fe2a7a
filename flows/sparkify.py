"""The Sparkify ETL flow and its command line.

    python flows/sparkify.py                  # local target: moto + embedded PostgreSQL
    python flows/sparkify.py --target aws     # your AWS account
    python flows/sparkify.py teardown         # delete what a killed run left
"""

from __future__ import annotations

import atexit
import gc
import sys

if __name__ == "__main__":
    # Python's last garbage collection at exit walks every object the run made, moto's and
    # botocore's among them: 0.6 to 1.1 s measured, for memory the process returns anyway. Frozen
    # objects are left out of it; this handler runs after those registered during the run.
    atexit.register(gc.freeze)
    # The command line reads its flags and starts what the run's target is slow to start before
    # the imports below (about 2 s), then imports this module as flows.sparkify to run its flow.
    from flows.cli import main

    sys.exit(main())

import time
from dataclasses import asdict
from datetime import timedelta, timezone
from typing import Any

from prefect import Flow, flow, get_run_logger
from prefect.client.orchestration import get_client
from prefect.client.schemas.filters import (
    FlowRunFilter,
    FlowRunFilterId,
    TaskRunFilter,
    TaskRunFilterName,
    TaskRunFilterState,
    TaskRunFilterStateType,
)
from prefect.client.schemas.objects import FlowRun, StateType
from prefect.futures import PrefectFuture, wait
from prefect.logging.loggers import flow_run_logger
from prefect.runtime import flow_run
from prefect.states import Completed, State
from pydantic import SecretStr

from core import aws
from core.artifacts import artifact_key
from core.charts import start_drawing
from core.secrets import master_password
from core.settings import Settings, run_parameters, settings_from
from core.target import Target
from core.window import Window
from flows.locks import cluster_lock
from flows.parameters import TEARDOWN_PARAMETERS, takes
from flows.summary import completion_message, publish_summary
from flows.targets import open_target
from tasks.checks import CHECKS, CheckResult, check_table, publish_checks, tables_checked
from tasks.cluster import cluster_to_reuse, create_cluster, reuse_cluster, wait_for_cluster
from tasks.iam import create_role
from tasks.manifest import write_manifests
from tasks.marts import build_table
from tasks.network import create_security_group
from tasks.report import publish_report, summarize
from tasks.sources import survey_sources
from tasks.staging import copy_table, create_tables
from tasks.teardown import (
    ResourcesLeft,
    report_left,
    retry_hint,
    teardown,
    teardown_orphans,
    teardown_resources,
)

# Runs of this process: targets not torn down yet, and runs whose teardown ran.
_OPEN_TARGETS: dict[str, Target] = {}
_TORN_DOWN: set[str] = set()


def _teardown_on_abort(flow: Flow, flow_run: FlowRun, state: State) -> None:
    """State hook: a cancelled or crashed run still deletes what it created.

    The engine calls it positionally in the run's own process; a worker calls it with keywords
    (flow=, flow_run=, state=) in a fresh process once the run's process has ended, so it rebuilds
    the target from the run's parameters there. Its lines reach the run's logs in both places.
    """
    logger = flow_run_logger(flow_run, flow)
    if str(flow_run.id) in _TORN_DOWN or _teardown_completed(flow_run.id):
        logger.info("The run's own teardown completed before it was %s: nothing to do", state.name)
        return
    settings = settings_from(flow_run.parameters)
    target = _OPEN_TARGETS.pop(str(flow_run.id), None) or open_target(settings)
    logger.info("The run was %s: tearing down what it created", state.name)
    left = teardown_resources(target, keeps_cluster(settings), logger)
    if left:
        report_left(target, left, str(flow_run.id))
        logger.error("Teardown after %s left the %s; %s", state.name, ", ".join(left), retry_hint(target))
    else:
        logger.info("Teardown after %s: nothing left", state.name)


def _teardown_completed(run_id: Any) -> bool:
    """Whether the run's own teardown task completed (a worker's hook comes after the run's finally)."""
    with get_client(sync_client=True) as client:
        return bool(
            client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run_id])),
                task_run_filter=TaskRunFilter(
                    name=TaskRunFilterName(like_="teardown-"),
                    state=TaskRunFilterState(type=TaskRunFilterStateType(any_=[StateType.COMPLETED])),
                ),
            )
        )


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
        return {
            "status": "completed",
            "flow_run_id": run_id,
            "window": str(window),
            "tables": {},
            "note": "nothing to load",
        }
    # The report's charts process takes about 1 s to start, in a process of its own.
    start_drawing()
    existing = cluster_to_reuse(target)
    role = submit(create_role, target, run_id)
    manifests = submit(write_manifests, target, sources, run_id)
    if existing is not None:
        target = reuse_cluster(target, existing, role.result())
    else:
        cidr = target.caller_cidr()
        group = submit(create_security_group, target, cidr, run_id)
        create_cluster(target, role.result(), group.result(), cidr, password, run_id)
    endpoint = wait_for_cluster(target)
    dsn = target.dsn(endpoint, password)
    create_tables(target, dsn)

    s = target.settings
    # COPY reads from the source's region; the manifests are there too (tasks/manifest.py).
    common = {"iam_role": role.result(), "region": sources.region, "max_errors": s.max_errors}
    events = submit(
        copy_table, target, dsn, "staging_events",
        {**common, "manifest": manifests.result()["events"], "jsonpaths": manifests.result()["jsonpaths"]},
    )
    songs = submit(
        copy_table, target, dsn, "staging_songs", {**common, "manifest": manifests.result()["songs"]},
        signature=sources.songs_signature(),
    )
    # No insert starts unless both COPYs succeeded, so a failed load leaves the star schema as it
    # was. songplays reads only staging, so it runs beside the dimensions; time reads songplays.
    staged = [events, songs]
    inserts = {
        name: submit(build_table, target, dsn, name, window, wait_for=staged)
        for name in ("songs", "artists", "users", "songplays")
    }
    inserts["time"] = submit(build_table, target, dsn, "time", window, wait_for=[inserts["songplays"]])
    # Each table's checks, and the summary's facts, start once the tables they read are built: the
    # checks of staging and of the dimensions run beside the songplays transform, and songplays'
    # checks and the facts beside time's. Each reads on a connection of its own.
    built = {"staging_events": events, "staging_songs": songs, **inserts}
    check_futures = [
        submit(check_table, target, dsn, table, wait_for=[built[t] for t in sorted(tables_checked(table))])
        for table in CHECKS
    ]
    facts = submit(summarize, target, dsn, wait_for=[inserts["songplays"], inserts["users"]])
    loads = {"staging_events": events.result(), "staging_songs": songs.result()}
    skipped = [e for load in loads.values() for e in load.skipped]
    tables = {name: load.rows for name, load in loads.items()}
    tables |= {name: future.result() for name, future in inserts.items()}
    report_future = submit(publish_report, target, dsn, tables, [f"{e.tbl}: {e.describe()}" for e in skipped])
    checks: list[CheckResult] = [r for f in check_futures for r in f.result()]
    publish_checks(target, checks)
    report = report_future.result()
    failed = [c.name for c in checks if not c.passed]
    if failed:
        raise ValueError(
            f"data-quality checks failed: {', '.join(failed)}; see the {artifact_key('checks', target.name)} artifact"
        )
    return {
        "status": "completed",
        "flow_run_id": run_id,
        "window": str(window),
        "tables": tables,
        "copied": {name: load.copied for name, load in loads.items()},
        **facts.result(),
        "checks": [c.__dict__ for c in checks],
        "load_errors": [asdict(e) for e in skipped],
        "report": report,
        "warehouse": dsn.url(),
    }


def run_window(settings: Settings) -> Window:
    """--start/--end if given; else, for a scheduled run, the complete UTC day `schedule_lag_days`
    before its scheduled start (the previous day, by default); else every day."""
    if settings.start is not None and settings.end is not None:
        return Window(settings.start, settings.end)
    if settings.scheduled_day:
        day = flow_run.scheduled_start_time.astimezone(timezone.utc).date() - timedelta(days=settings.schedule_lag_days)
        return Window(day, day)
    return Window()


def keeps_cluster(settings: Settings) -> bool:
    """Whether teardown leaves the cluster, with the role and network it needs: asked for, or a run
    that may only use an existing cluster, which it must never delete."""
    return settings.keep_cluster or settings.require_existing_cluster


def run_name() -> str:
    """A run's name in the UI: its target, cluster and window, e.g. local-sparkify-dwh-2018-11-05."""
    settings = settings_from(flow_run.parameters)
    window = run_window(settings)
    days = "all-days" if window.start is None else str(window.start) if window.start == window.end else (
        f"{window.start}-to-{window.end}"
    )
    return f"{settings.target}-{settings.cluster_id}-{days}"


@flow(
    name="sparkify-etl",
    flow_run_name=run_name,
    on_cancellation=[_teardown_on_abort],
    on_crashed=[_teardown_on_abort],
)
@takes(run_parameters())
def sparkify_etl(**parameters: Any) -> State:
    """Build the Sparkify star schema on `target`, check it, report on it, and always tear down.

    Parameters left empty take their SPARKIFY_* environment variable or the default.
    """
    started = time.monotonic()
    settings = settings_from(parameters)
    password = master_password(settings.password_secret_block)
    run_id = str(flow_run.id or "local")
    with cluster_lock(settings):
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
            cleanup = teardown(opened, keeps_cluster(settings), return_state=True)
    left = cleanup.result(raise_on_failure=False) if cleanup.is_failed() else None
    if failure is not None and left is not None:
        # The ETL's own error comes first; what teardown could not delete is said after it.
        failure, cause = RuntimeError(f"{failure}; then {left}"), failure
        failure.__cause__ = cause
    failure = failure or left
    if failure is not None:
        failed = {"status": "failed", "flow_run_id": run_id, "error": str(failure)}
        if left is None or isinstance(left, ResourcesLeft):
            # What teardown itself failed on, it could not say; the error names it instead.
            failed["left"] = left.left if left else []
        # The command line prints it: a failed run's result is its exception.
        failure.summary = publish_summary(failed, settings.target, started)  # type: ignore[attr-defined]
        raise failure
    if settings.keep_cluster and "warehouse" in summary:
        get_run_logger().info(
            "The warehouse is kept: connect with psql '%s' (password: your Secret block's; none locally). "
            "Delete it with: python flows/sparkify.py --target %s teardown",
            summary["warehouse"], settings.target,
        )
    summary = publish_summary(summary, settings.target, started)
    return Completed(message=completion_message(summary), data=summary)


@flow(name="sparkify-teardown", flow_run_name="teardown-{target}-{cluster_id}")
@takes(run_parameters(flags=True) | TEARDOWN_PARAMETERS)
def sparkify_teardown(**parameters: Any) -> list[str]:
    """Delete what killed runs left, as `python flows/sparkify.py teardown` does: every resource tagged
    by this project (only by run `run_id`, if given) and cluster_id's. Fails naming what is left."""
    run_id, wipe = parameters.pop("run_id", None), bool(parameters.pop("wipe", False))
    settings = settings_from(parameters).model_copy(update={"wipe_warehouse": wipe})
    target = open_target(settings)
    left = teardown_orphans(target, run_id, get_run_logger())
    if left:
        report_left(target, left, str(flow_run.id))
        raise ResourcesLeft(left, retry_hint(target))
    return left

