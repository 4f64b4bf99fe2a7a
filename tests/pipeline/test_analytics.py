"""The analytics team's queries (sql/analytics/) on the sample, as a run leaves the warehouse, through
the local Redshift SQL layer: each returns what polars computes from the raw files
(tests/analytics_expected.py), the report publishes each as a table artifact, and
`query --analytics` prints them under their titles."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from core.analytics import analytics_queries
from core.artifacts import artifact_key
from core.settings import Settings
from core.warehouse import connect
from flows.cli import main
from flows.targets import open_target
from tests.analytics_expected import EXPECTED
from tests.support import SAMPLE, read_artifact


def approximately(rows: list[tuple]) -> list[tuple]:
    """`rows` with each float exact to 0.05, as a query's percentage rounded to 0.1 (or finer) is."""
    return [tuple(pytest.approx(v, abs=0.05) if isinstance(v, float) else v for v in row) for row in rows]


def numbers(rows: list[tuple]) -> list[tuple]:
    """`rows` with NUMERIC values (a ROUND's) as floats."""
    return [tuple(float(v) if isinstance(v, Decimal) else v for v in row) for row in rows]


def test_every_query_returns_what_polars_computes_from_the_raw_files(
    sample_warehouse: tuple[Path, dict[str, Any]]
) -> None:
    state, _ = sample_warehouse
    queries = analytics_queries()
    assert [q.name for q in queries] == list(EXPECTED)
    target = open_target(Settings(state_dir=state))
    try:
        with connect(target.existing_warehouse(None), target.engine) as session:
            results = {q.name: session.cursor(q.sql).fetchall() for q in queries}
    finally:
        target.close()
    for name, expected in EXPECTED.items():
        rows = expected(SAMPLE)
        assert rows, name
        assert numbers(results[name]) == approximately(rows), name


def test_the_report_publishes_each_result_as_a_table_artifact(sample_warehouse: tuple[Path, dict[str, Any]]) -> None:
    _, summary = sample_warehouse
    for q in analytics_queries():
        key = artifact_key(q.artifact_kind, "local")
        assert key in summary["artifacts"]
        table = json.loads(read_artifact(summary["flow_run_id"], key))
        rows = [tuple(row.values()) for row in table]
        expected = [tuple(v.isoformat() if isinstance(v, date) else v for v in r) for r in EXPECTED[q.name](SAMPLE)]
        assert rows == approximately(expected), q.name


def test_query_analytics_prints_every_title_and_its_table(
    sample_warehouse: tuple[Path, dict[str, Any]], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    state, _ = sample_warehouse
    monkeypatch.setenv("SPARKIFY_STATE_DIR", str(state))
    assert main(["query", "--analytics"]) == 0
    out = capsys.readouterr().out
    titles = [line.removeprefix("-- ") for line in out.splitlines() if line.startswith("-- ")]
    assert titles == [q.title for q in analytics_queries()]
    [(song, artist, *_), *_] = EXPECTED["most_played_songs"](SAMPLE)
    assert song in out and artist in out
