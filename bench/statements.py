"""The statements a run sends to the warehouse, gathered without running it: the SQL files with their
placeholders bound, the checks' queries and the report's. The benchmark times the Redshift SQL
layer on them; a test checks that the layer takes every one."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from psycopg import sql

from core.redshift_sql import split
from core.settings import PROJECT_ROOT
from core.warehouse import bind

# The values the flow binds to the SQL files' {placeholders}; a run over all days binds NULL windows.
EXAMPLE_PARAMETERS = {
    "window_start": None, "window_end": None, "manifest": "s3://b/manifests/k.manifest",
    "iam_role": "arn:aws:iam::123456789012:role/sparkify-dwh/r", "region": "us-west-2",
    "jsonpaths": "s3://b/log_json_path.json", "max_errors": 0, "table_name": "staging_songs", "value": "etag-1",
    "at": "2018-11-30 00:00:00",
}


def bound_sql(path: Path) -> str:
    """A SQL file of the project's with its placeholders bound as the flow binds them."""
    return bind(path.read_text(), EXAMPLE_PARAMETERS)


class _Recorder:
    """Answers a check's queries with 0 and keeps their text."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def scalar(self, statement: str | sql.Composable, params: tuple[Any, ...] = ()) -> int:
        self.statements.append(statement if isinstance(statement, str) else statement.as_string(None))
        return 0

    def count(self, table: str) -> int:
        return self.scalar(sql.SQL("SELECT COUNT(*) FROM {}").format(sql.Identifier(table)))


def pipeline_statements() -> list[str]:
    """Every statement of a full run, once each (a run sends each of them once)."""
    from tasks.checks import CHECKS
    from tasks.report import CHARTS

    statements = [s for path in sorted((PROJECT_ROOT / "sql").rglob("*.sql")) for s in split(bound_sql(path))]
    recorder = _Recorder()
    for checks in CHECKS.values():
        for check in checks:
            check.run(recorder)  # type: ignore[arg-type]
    # The analytics queries are SQL files; the report's own charts hold their queries.
    charts = [source[1] for source in CHARTS.values() if not isinstance(source, str)]
    return statements + recorder.statements + charts
