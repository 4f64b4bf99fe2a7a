"""The command line of `python flows/sparkify.py`: its flags are generated from the run parameters
declared in core.settings; `teardown` deletes what killed runs left."""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any, Literal, get_args, get_origin

import polars as pl
import psycopg
from prefect import Flow
from pydantic import ValidationError
from pydantic.fields import FieldInfo

from core.analytics import analytics_queries
from core.plan import describe_plan
from core.redshift_sql import parse_copy, split
from core.secrets import master_password
from core.settings import Settings, run_parameters, settings_from
from core.warehouse import Session, SqlError, connect
from flows.parameters import TEARDOWN_PARAMETERS, describe
from flows.prefect_server import ServerNotStarted, prefect_api
from flows.summary import summary_text
from flows.targets import open_target, target_class
from tasks.teardown import teardown_orphans


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python flows/sparkify.py", description="Build the Sparkify warehouse, locally (default) or on AWS."
    )
    add_flags(parser, run_parameters(flags=True))
    parser.add_argument("--summary-json", type=Path, metavar="FILE", help="write the run's summary to this file")
    parser.add_argument("--plan", action="store_true", help="print what a run would create and cost; create nothing")
    commands = parser.add_subparsers(dest="command")
    cleanup = commands.add_parser(
        "teardown", help="delete what killed runs left: every resource tagged by this project, and --cluster-id's"
    )
    add_flags(cleanup, TEARDOWN_PARAMETERS, variables=False)
    query = commands.add_parser(
        "query", help="run Redshift SQL on the warehouse (the local one, or --cluster-id's on AWS); print the results"
    )
    source = query.add_mutually_exclusive_group(required=True)
    source.add_argument("sql", nargs="?", help="the statements, separated by ';'")
    source.add_argument("--file", type=Path, help="a file of Redshift SQL")
    source.add_argument(
        "--analytics", action="store_true", help="the analytics team's queries (sql/analytics/), each under its title"
    )
    return parser


def add_flags(parser: argparse.ArgumentParser, fields: dict[str, FieldInfo], variables: bool = True) -> None:
    """One flag per declared parameter, with its help; values are checked by Settings, whose errors
    name the rule, so argparse only shows the choices."""
    for name, field in fields.items():
        flag, text = "--" + name.replace("_", "-"), describe(name, field, variables)
        if field.annotation is bool:
            # None when absent, so that the SPARKIFY_* variable applies.
            parser.add_argument(flag, action="store_true", default=None, help=text)
        else:
            parser.add_argument(flag, metavar=_metavar(field), help=text)


def _metavar(field: FieldInfo) -> str | None:
    if get_origin(field.annotation) is Literal:
        return "{" + ",".join(get_args(field.annotation)) + "}"
    types = (field.annotation, *get_args(field.annotation))  # T, or the T of T | None
    return next((shown for kind, shown in {int: "N", date: "YYYY-MM-DD", Path: "DIR"}.items() if kind in types), None)


def one_sentence(exc: BaseException) -> str:
    """An error as one line for stderr."""
    if isinstance(exc, ValidationError):
        # Our validators word their own message; pydantic's name the rule but not the parameter.
        # Neither echoes the input, which may be a password.
        return "; ".join(
            str(e["msg"]).removeprefix("Value error, ") if e["type"] == "value_error"
            else f"--{str(e['loc'][-1]).replace('_', '-')}: {e['msg'][0].lower()}{e['msg'][1:]}"
            for e in exc.errors()
        )
    if isinstance(exc, psycopg.Error) and exc.diag.message_primary:
        return exc.diag.message_primary
    return str(exc) or type(exc).__name__


def main(argv: list[str] | None, etl: Flow[..., dict[str, Any]]) -> int:
    """Parse `argv`, then plan, tear down, or run the flow `etl`; return the exit status."""
    args = build_parser().parse_args(argv)
    params = {name: getattr(args, name) for name in run_parameters(flags=True)}
    try:
        # Fail on a bad parameter before Prefect, moto or AWS is touched.
        settings = settings_from(params)
    except ValidationError as exc:
        print(f"sparkify: invalid parameter: {one_sentence(exc)}", file=sys.stderr)
        return 2
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
    # The run gets every parameter as resolved here (flag, else variable, else default), so the
    # flow run records the values it used.
    with prefect_api() as api_answers, target_class(settings).starting(settings):
        # The target's code has loaded, and what it is slow to start is starting, while the server starts.
        try:
            api_answers()
        except ServerNotStarted as exc:
            print(f"sparkify: {exc}", file=sys.stderr)
            return 1
        started = time.monotonic()
        state = etl(**{name: getattr(settings, name) for name in run_parameters()}, return_state=True)
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
    if args.summary_json:
        args.summary_json.write_text(json.dumps(summary, indent=2, default=str))
    return 0 if state.is_completed() else 1


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
