"""core.analytics: the queries of sql/analytics/ in their files' order, titled by their first line;
a file that does not follow the layout is named."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.analytics import ANALYTICS_DIR, analytics_queries
from core.redshift_sql import split


def test_queries_come_in_file_order_with_their_titles(tmp_path: Path) -> None:
    (tmp_path / "10_second.sql").write_text("-- The second\nSELECT 2;\n")
    (tmp_path / "02_first.sql").write_text("--  The first  \n-- more words\nSELECT 1;\n")
    queries = analytics_queries(tmp_path)
    assert [(q.name, q.title, q.artifact_kind) for q in queries] == [
        ("first", "The first", "analytics-first"), ("second", "The second", "analytics-second"),
    ]
    assert queries[0].sql == "--  The first  \n-- more words\nSELECT 1;\n"


@pytest.mark.parametrize(("file", "text"), [("01_untitled.sql", "SELECT 1;"), ("first.sql", "-- First\nSELECT 1;")])
def test_a_file_out_of_layout_is_named(tmp_path: Path, file: str, text: str) -> None:
    (tmp_path / file).write_text(text)
    with pytest.raises(ValueError, match=f"{file} is not an analytics query: name it NN_<name>.sql"):
        analytics_queries(tmp_path)


def test_the_shipped_queries_are_each_one_statement_with_a_title() -> None:
    queries = analytics_queries(ANALYTICS_DIR)
    assert len(queries) >= 10
    assert all(q.title and len(split(q.sql)) == 1 for q in queries)
