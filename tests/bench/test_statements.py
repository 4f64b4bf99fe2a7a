"""bench.statements: the statements a run sends, as the benchmark times the Redshift SQL layer on them."""

from __future__ import annotations

from bench.statements import pipeline_statements
from core.warehouse import load_sql
from local.redshift import translate
from tasks.report import CHARTS


def test_every_statement_of_a_run_is_gathered_and_the_layer_takes_it() -> None:
    statements = pipeline_statements()
    assert "MERGE INTO users" in "\n".join(statements)
    assert all(query in statements for _, query in (s for s in CHARTS.values() if not isinstance(s, str)))
    assert any(s.strip() in load_sql("analytics/01_most_played_songs") for s in statements)
    for statement in statements:
        translate(statement)  # as the benchmark times it; raises if a rule refuses the statement
