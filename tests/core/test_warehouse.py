"""core.warehouse: scripts split into statements, SQL files loaded by name."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.warehouse import load_sql, split_statements

DDL = Path(__file__).resolve().parents[2] / "sql" / "ddl"


def test_split_statements_basic() -> None:
    """Statements are split on ';', stripped, and empty ones dropped."""
    assert split_statements("SELECT 1;\n\n  SELECT 2 ;;\nSELECT 3") == ["SELECT 1", "SELECT 2", "SELECT 3"]


def test_split_statements_ignores_semicolon_in_string() -> None:
    """A ';' inside a single-quoted literal (with a doubled quote) does not split."""
    script = "INSERT INTO t VALUES ('a;b', 'it''s; fine');SELECT 2;"
    assert split_statements(script) == ["INSERT INTO t VALUES ('a;b', 'it''s; fine')", "SELECT 2"]


def test_split_statements_ignores_semicolon_in_comment() -> None:
    """A ';' (or a quote) inside a -- comment does not split, and the comment is dropped."""
    script = "-- header; it's a comment\nSELECT 1 -- trailing; comment\n, 2;\n-- only a comment;\n"
    assert split_statements(script) == ["SELECT 1 \n, 2"]


def test_split_statements_keeps_double_dash_inside_string() -> None:
    """'--' inside a string literal is data, not a comment."""
    assert split_statements("SELECT '--;';SELECT 2") == ["SELECT '--;'", "SELECT 2"]


def test_split_statements_skips_block_comments() -> None:
    """A ';' or quote inside /* ... */ does not split; the comment is dropped."""
    script = "/* header; it's */ SELECT 1 /* a; b */ + 2; SELECT 3"
    assert split_statements(script) == ["SELECT 1   + 2", "SELECT 3"]


def test_split_statements_keeps_dollar_quoted_bodies() -> None:
    """A function body between $$ or $tag$ keeps its semicolons."""
    body = "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $fn$ BEGIN RETURN 1; END $fn$"
    assert split_statements(f"{body}; SELECT $$a;b$$") == [body, "SELECT $$a;b$$"]


def test_split_statements_real_ddl() -> None:
    """The real DDL files split into the expected number of statements."""
    assert len(split_statements((DDL / "create_staging_tables.sql").read_text())) == 4
    assert len(split_statements((DDL / "create_star_schema.sql").read_text())) == 5


def test_load_sql_names_a_missing_file() -> None:
    with pytest.raises(FileNotFoundError, match="no SQL file sql/marts/nothing.sql"):
        load_sql("marts/nothing")
