"""The command line of `python flows/sparkify.py`: its flags are generated from the run parameters
declared in core.settings; `teardown` deletes what killed runs left.

Light to import, on purpose: it reads the flags, and a run's target starts what it is slow to start
before Prefect and the flow are loaded; then Prefect's temporary server, if the run needs one, is
launched before the flow is loaded (flows/commands.py: about 1.5 s of imports, which run beside both).
"""

from __future__ import annotations

import argparse
import sys
from contextlib import ExitStack, nullcontext
from datetime import date
from pathlib import Path
from typing import Literal, get_args, get_origin

from pydantic import ValidationError
from pydantic.fields import FieldInfo

from core.long_lived import long_lived
from core.settings import run_parameters, settings_from
from flows.parameters import TEARDOWN_PARAMETERS, describe
from flows.targets import starting


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


def invalid_parameters(exc: ValidationError) -> str:
    """What was wrong with the parameters, in one line."""
    # Our validators word their own message; pydantic's name the rule but not the parameter.
    # Neither echoes the input, which may be a password.
    return "; ".join(
        str(e["msg"]).removeprefix("Value error, ") if e["type"] == "value_error"
        else f"--{str(e['loc'][-1]).replace('_', '-')}: {e['msg'][0].lower()}{e['msg'][1:]}"
        for e in exc.errors()
    )


def main(argv: list[str] | None = None) -> int:
    """Parse `argv`, then plan, tear down, query, or run the flow; return the exit status."""
    args = build_parser().parse_args(argv)
    params = {name: getattr(args, name) for name in run_parameters(flags=True)}
    try:
        # Fail on a bad parameter before Prefect, moto or AWS is touched.
        settings = settings_from(params)
    except ValidationError as exc:
        print(f"sparkify: invalid parameter: {invalid_parameters(exc)}", file=sys.stderr)
        return 2
    runs_flow = args.command is None and not args.plan
    with ExitStack() as run:
        # A run's target starts what it is slow to start (the local twin's moto process: 1.5 s of the
        # other core) now, beside the imports of Prefect and the flow.
        if runs_flow:
            run.enter_context(starting(settings))
        # Frozen once per process: tests call main() again and again, and a later freeze would keep
        # the garbage cycles of their earlier runs for good.
        with long_lived() if "flows.commands" not in sys.modules else nullcontext():
            from prefect.logging.configuration import ensure_logging_setup

            from flows.prefect_server import prefect_api, project_prefect

            # Prefect sets its logging up when the flow's import loads prefect.main, after this:
            # without it, the server's "Starting Prefect's temporary server" line would be dropped.
            ensure_logging_setup()
            run.enter_context(project_prefect())
            # Prefect's temporary server, if the run needs one, is launched before the rest of the
            # run's code is imported (about 1.5 s), which then loads while the server starts.
            api_answers = run.enter_context(prefect_api()) if runs_flow else None
            from flows import commands

        return commands.run(args, settings, api_answers)
