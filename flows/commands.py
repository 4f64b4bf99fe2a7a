"""What `python flows/sparkify.py` does once its flags are read (flows/cli.py): plan, tear down,
query, or run the flow with Prefect's temporary server or your own."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from typing import Any

import polars as pl
import psycopg
from pydantic import ValidationError

from core.analytics import analytics_queries
from core.plan import describe_plan
from core.redshift_sql import parse_copy, split
from core.secrets import master_password
from core.settings import Settings, run_parameters
from core.warehouse import Session, SqlError, connect
from flows.cli import invalid_parameters
from flows.prefect_server import ServerNotStarted
from flows.sparkify import sparkify_etl
from flows.summary import summary_text
from flows.targets import open_target
from tasks.teardown import teardown_orphans


def run(args: argparse.Namespace, settings: Settings, api_answers: Callable[[], None] | None) -> int:
    """Plan, tear down, query, or run the flow, as `args` ask, with the project's Prefect settings
    (flows.prefect_server.project_prefect); return the exit status. `api_answers`, for a run of the
    flow, returns once its Prefect API answers (flows.prefect_server.prefect_api)."""
    if args.plan:
        try:
            print(describe_plan(settings))
        except ValueError as exc:  # what AWS does not sell, or a credentials block of another region
            print(f"sparkify: invalid parameter: {exc}", file=sys.stderr)
            return 2
        return 0
    if args.command == "query":
        if args.analytics:
            return run_query(settings, [(q.title, q.sql) for q in analytics_queries()])
        return run_query(settings, [(None, args.file.read_text() if args.file else args.sql)])
    if args.command == "teardown":
        target = open_target(settings.model_copy(update={"wipe_warehouse": bool(args.wipe)}))
        left = teardown_orphans(target, args.run_id)
        print("teardown: nothing left" if not left else f"teardown: could not delete {', '.join(left)}")
        return 1 if left else 0
    assert api_answers is not None, "a run of the flow needs its Prefect API"
    return run_flow(settings, args.summary_json, api_answers)


def run_flow(settings: Settings, summary_json: Any, api_answers: Callable[[], None]) -> int:
    """Run the flow once `api_answers` says its Prefect API (the temporary server, or
    PREFECT_API_URL's) answers; print its summary."""
    try:
        api_answers()
    except ServerNotStarted as exc:
        print(f"sparkify: {exc}", file=sys.stderr)
        return 1
    started = time.monotonic()
    # The run gets every parameter as resolved here (flag, else variable, else default), so the
    # flow run records the values it used.
    state = sparkify_etl(**{name: getattr(settings, name) for name in run_parameters()}, return_state=True)
    result = state.result(raise_on_failure=False)
    if state.is_completed():
        summary = result
    else:
        error = one_sentence(result) if isinstance(result, BaseException) else state.message
        # The flow's own summary of a failure, unless it failed before it could write one.
        summary = {**getattr(result, "summary", {}), "status": "failed", "error": error}
        summary.setdefault("flow_run_id", str(state.state_details.flow_run_id))
        summary.setdefault("duration_s", round(time.monotonic() - started, 1))
        print(f"sparkify: the run failed: {error}", file=sys.stderr)
    print(summary_text(summary))
    if summary_json:
        summary_json.write_text(json.dumps(summary, indent=2, default=str))
    return 0 if state.is_completed() else 1


def one_sentence(exc: BaseException) -> str:
    """An error as one line for stderr."""
    if isinstance(exc, ValidationError):
        return invalid_parameters(exc)
    if isinstance(exc, psycopg.Error) and exc.diag.message_primary:
        return exc.diag.message_primary
    return str(exc) or type(exc).__name__


def run_query(settings: Settings, scripts: list[tuple[str | None, str]]) -> int:
    """Run each statement of each (title, script) through the target's engine on its warehouse; print
    the rows under the title, or under the statement's start for a script without one."""
    target = open_target(settings)
    try:
        password = master_password(settings.password_secret_block) if settings.password_secret_block else None
        with connect(target.existing_warehouse(password), target.engine) as session:
            for title, text in scripts:
                for statement in split(text):
                    print(f"-- {title or ' '.join(statement.split())[:100]}")
                    print(result_table(session, statement))
    except (ValueError, SqlError, psycopg.Error) as exc:
        print(f"sparkify: the query failed: {one_sentence(exc)}", file=sys.stderr)
        return 1
    finally:
        target.close()
    return 0


def result_table(session: Session, statement: str) -> str:
    """What one statement returned, as a table; or what it did, for one that returns no rows."""
    if parse_copy(statement) is not None:
        loaded = session.execute(statement)
        return f"(COPY loaded {loaded.rows} rows)" if loaded and loaded.rows is not None else "(COPY done)"
    cursor = session.cursor(statement)
    if cursor.description is None:
        return f"({cursor.rowcount} rows affected)" if cursor.rowcount >= 0 else "(done)"
    frame = pl.DataFrame(cursor.fetchall(), schema=[c.name for c in cursor.description], orient="row")
    with pl.Config(tbl_rows=-1, tbl_cols=-1, fmt_str_lengths=80, tbl_hide_dataframe_shape=True,
                   tbl_hide_column_data_types=True):
        return str(frame)
