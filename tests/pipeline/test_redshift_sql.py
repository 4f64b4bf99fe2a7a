"""A full local run sends only SQL that Redshift accepts, checked at the engine, and the Redshift engine
(the AWS path) would send exactly those statements."""

from __future__ import annotations

import threading
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from core.engine import RedshiftEngine
from core.redshift_sql import parse
from local.engine import LocalEngine
from local.redshift import translate
from tests.support import run


class RecordingConnection:
    """Stands in for Redshift's connection: records each statement sent, answers with no rows."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.description = None

    def execute(self, statement: str, params: tuple[Any, ...] = ()) -> RecordingConnection:
        self.sent.append(statement)
        return self

    def fetchall(self) -> list[tuple[Any, ...]]:
        return []


@pytest.fixture
def engine_calls(monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[tuple[str, str, tuple]]]:
    """Every statement the local engine receives, and the calls the pipeline itself makes (not those
    the engine makes of itself, such as reading stl_load_errors after a COPY)."""
    received: list[str] = []
    outermost: list[tuple[str, str, tuple]] = []
    depth = threading.local()

    def spy(kind: str) -> Any:
        real = getattr(LocalEngine, kind)

        def call(self: LocalEngine, conn: Any, statement: str, *args: Any) -> Any:
            level = getattr(depth, "level", 0)
            if level == 0:
                outermost.append((kind, statement, args))
            received.append(statement)
            depth.level = level + 1
            try:
                return real(self, conn, statement, *args)
            finally:
                depth.level = level

        return call

    for kind in ("execute", "query"):
        monkeypatch.setattr(LocalEngine, kind, spy(kind))
    return received, outermost


def test_every_statement_of_a_full_run_is_redshift_sql_and_the_aws_path_sends_the_same(
    isolated: Path, engine_calls: tuple[list[str], list[tuple[str, str, tuple]]]
) -> None:
    received, outermost = engine_calls
    code, summary = run(tmp=isolated)
    assert code == 0, summary

    # DDL, COPY, the marts, checks, report, summary and the stl_load_errors query all came this way.
    kinds = Counter(type(parse(s)).__name__ for s in received)
    assert {"Drop", "Create", "Copy", "Merge", "Insert", "Delete", "Select"} <= set(kinds), kinds
    assert kinds["Copy"] == 2 and kinds["Merge"] == 1  # users; songs and artists are rebuilt
    assert sum("stl_load_errors" in s for s in received) == 2  # read back after each COPY
    assert any("FROM songplays" in s and "GROUP BY" in s for s in received)  # the report
    for statement in set(received):
        translate(statement)  # raises if the grammar cannot read it or a rule refuses it

    redshift = RecordingConnection()
    for kind, statement, args in outermost:
        getattr(RedshiftEngine(), kind)(redshift, statement, *args)
    assert Counter(redshift.sent) == Counter(received)
