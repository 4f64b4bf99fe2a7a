"""core.warehouse and core.redshift_sql: scripts split into statements as the Redshift grammar reads
them, and SQL files loaded by name."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlglot

from bench.statements import bound_sql
from core.redshift_sql import REDSHIFT, split, tables_read
from core.warehouse import load_sql

SQL = Path(__file__).resolve().parents[2] / "sql"


@pytest.mark.parametrize("path", sorted(SQL.rglob("*.sql")), ids=lambda p: str(p.relative_to(SQL)))
def test_split_agrees_with_the_grammar_statement_for_statement(path: Path) -> None:
    text = bound_sql(path)
    pieces = split(text)
    trees = [t for t in sqlglot.parse(text, dialect=REDSHIFT) if t is not None]
    assert pieces and len(pieces) == len(trees)
    for piece, tree in zip(pieces, trees, strict=True):
        assert sqlglot.parse_one(piece, dialect=REDSHIFT) == tree


def test_split_keeps_semicolons_inside_strings_dollar_bodies_and_comments() -> None:
    text = (
        "SELECT ';' AS a, 'it''s; fine'; -- a comment; with a semicolon\n"
        "CREATE FUNCTION f() RETURNS INT STABLE AS $$ SELECT 1; $$ LANGUAGE sql;\n"
        "/* block; comment */ SELECT 2;;\nSELECT '--;'"
    )
    assert split(text) == [
        "SELECT ';' AS a, 'it''s; fine'",
        "CREATE FUNCTION f() RETURNS INT STABLE AS $$ SELECT 1; $$ LANGUAGE sql",
        "SELECT 2",
        "SELECT '--;'",
    ]


def test_the_real_ddl_splits_into_its_tables() -> None:
    assert len(split((SQL / "ddl" / "create_staging_tables.sql").read_text())) == 4
    assert len(split((SQL / "ddl" / "create_star_schema.sql").read_text())) == 5


def test_load_sql_names_a_missing_file() -> None:
    with pytest.raises(FileNotFoundError, match="no SQL file sql/marts/nothing.sql"):
        load_sql("marts/nothing")


def test_psycopg_decodes_redshifts_client_encoding() -> None:
    """Redshift reports client_encoding UNICODE; psycopg before 3.3.5 could not decode it (psycopg#1363)."""
    from psycopg._encodings import pg2pyenc

    assert pg2pyenc(b"UNICODE") == "utf-8"


def test_tables_read_are_the_tables_not_a_with_querys_own_names() -> None:
    statement = (
        "WITH plays AS (SELECT user_id FROM Songplays) "
        "SELECT COUNT(*) FROM plays JOIN users USING (user_id) WHERE user_id IN (SELECT user_id FROM staging_events)"
    )
    assert tables_read(statement) == {"songplays", "users", "staging_events"}
    # A WITH query's name folds as a table's does.
    assert tables_read("WITH Plays AS (SELECT 1 AS n FROM songplays) SELECT n FROM plays") == {"songplays"}
