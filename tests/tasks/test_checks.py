"""tasks.checks: each kind of check, run on the real PostgreSQL, passes on good rows and names bad ones."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import sql

from core.warehouse import Session
from local.engine import LocalEngine
from tasks.checks import CHECKS, AcceptedValues, ForeignKey, NotNull, RowCount, Unique, tables_checked


@pytest.fixture
def session(pg: psycopg.Connection) -> Session:
    pg.execute("CREATE TABLE parent (id INTEGER, label VARCHAR(8))")
    pg.execute("CREATE TABLE child (id INTEGER, parent_id INTEGER)")
    pg.execute("INSERT INTO parent VALUES (1, 'free'), (2, 'paid')")
    pg.execute("INSERT INTO child VALUES (10, 1), (11, 2), (12, NULL)")
    return Session(pg, LocalEngine(lambda: None))


def test_good_rows_pass_every_kind(session: Session) -> None:
    checks = [
        RowCount("child"),
        RowCount("child", "SELECT COUNT(*) + 1 FROM parent"),
        Unique("parent", "id"),
        NotNull("parent", "label"),
        AcceptedValues("parent", "label", ("free", "paid")),
        ForeignKey("child", "parent_id", "parent", "id"),
    ]
    results = [c.run(session) for c in checks]
    assert [r.passed for r in results] == [True] * len(checks), results
    assert results[1].detail == "3 rows, expected 3"


def test_bad_rows_fail_and_are_counted(session: Session, pg: psycopg.Connection) -> None:
    pg.execute("INSERT INTO parent VALUES (2, NULL), (3, 'gold')")
    pg.execute("INSERT INTO child VALUES (13, 99)")
    results = {
        r.name: r
        for r in (
            Unique("parent", "id").run(session),
            NotNull("parent", "label").run(session),
            AcceptedValues("parent", "label", ("free", "paid")).run(session),
            ForeignKey("child", "parent_id", "parent", "id").run(session),
            RowCount("child", "SELECT COUNT(DISTINCT id) FROM parent").run(session),
        )
    }
    assert not any(r.passed for r in results.values())
    assert results["unique:parent.id"].detail == "1 duplicated values"
    assert results["not_null:parent.label"].detail == "1 nulls"
    # NULL is neither accepted nor rejected by NOT IN: only 'gold' counts.
    assert results["accepted_values:parent.label"].detail == "1 rows outside free, paid"
    assert results["foreign_key:child.parent_id->parent"].detail == "1 orphans"
    assert results["row_count:child"].detail == "4 rows, expected 3"


def test_an_empty_table_fails_its_row_count(pg: psycopg.Connection) -> None:
    pg.execute("CREATE TABLE empty (id INTEGER)")
    session = Session(pg, LocalEngine(lambda: None))
    assert not RowCount("empty").run(session).passed
    assert not RowCount("empty", "SELECT 0").run(session).passed


def test_every_table_of_the_star_schema_and_staging_is_checked() -> None:
    assert set(CHECKS) == {"staging_events", "staging_songs", "songplays", "users", "songs", "artists", "time"}
    assert all(any(isinstance(c, RowCount) for c in checks) for checks in CHECKS.values())


@pytest.mark.parametrize("table", sorted(CHECKS))
def test_a_tables_checks_read_only_the_tables_it_waits_for(pg: psycopg.Connection, table: str) -> None:
    """The flow starts a table's checks once `tables_checked` are built: run as a role that may read
    only those, every check still runs (PostgreSQL refuses any other table)."""
    session = Session(pg, LocalEngine(lambda: None))
    session.run("ddl/create_staging_tables")
    session.run("ddl/create_star_schema")
    role = f"checks_{table}"
    pg.execute(sql.SQL("CREATE ROLE {}").format(sql.Identifier(role)))
    pg.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(
        sql.SQL(", ").join(map(sql.Identifier, sorted(tables_checked(table)))), sql.Identifier(role)
    ))
    pg.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(role)))
    try:
        assert [check.run(session).name for check in CHECKS[table]] == [check.name for check in CHECKS[table]]
    finally:
        pg.execute("RESET ROLE")
        pg.execute(sql.SQL("DROP OWNED BY {}").format(sql.Identifier(role)))
        pg.execute(sql.SQL("DROP ROLE {}").format(sql.Identifier(role)))


def test_the_songplays_checks_wait_for_every_table_they_join_but_time() -> None:
    """time is built from songplays; the foreign key between them is checked with time."""
    assert tables_checked("songplays") == {"songplays", "staging_events", "users", "songs", "artists"}
    assert tables_checked("time") == {"time", "songplays"}
    assert "foreign_key:songplays.start_time->time" in [check.name for check in CHECKS["time"]]
