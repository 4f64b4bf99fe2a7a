"""local.engine: the project's real DDL runs on the real PostgreSQL through the local engine."""

from __future__ import annotations

from pathlib import Path

import psycopg

from core.redshift_sql import split
from local.engine import LocalEngine

DDL = Path(__file__).resolve().parents[2] / "sql" / "ddl"


def columns(pg: psycopg.Connection, table: str) -> list[tuple[str, str, str]]:
    """(name, data_type, is_nullable) of `table` in column order."""
    return pg.execute(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns"
        " WHERE table_schema = 'public' AND table_name = %s ORDER BY ordinal_position",
        (table,),
    ).fetchall()


def run_script(pg: psycopg.Connection, path: Path) -> None:
    engine = LocalEngine(lambda: None)
    for statement in split(path.read_text()):
        engine.execute(pg, statement)


def test_staging_ddl_runs_on_postgres(pg: psycopg.Connection) -> None:
    """create_staging_tables.sql, rewritten, creates both staging tables with their columns."""
    run_script(pg, DDL / "create_staging_tables.sql")
    events = columns(pg, "staging_events")
    assert [c[0] for c in events] == [
        "artist", "auth", "first_name", "gender", "item_in_session", "last_name", "length", "level",
        "location", "method", "page", "registration", "session_id", "song", "status", "ts",
        "user_agent", "user_id",
    ]  # fmt: skip
    types = {name: type_ for name, type_, _ in events}
    assert types["ts"] == "timestamp without time zone"
    assert types["status"] == "smallint"
    assert types["gender"] == "character"
    songs = columns(pg, "staging_songs")
    assert [c[0] for c in songs] == [
        "num_songs", "artist_id", "artist_latitude", "artist_longitude", "artist_location",
        "artist_name", "song_id", "title", "duration", "year",
    ]  # fmt: skip
    # The script is rerunnable: it drops and recreates.
    run_script(pg, DDL / "create_staging_tables.sql")
    assert len(columns(pg, "staging_songs")) == 10


def test_star_schema_ddl_runs_on_postgres(pg: psycopg.Connection) -> None:
    """create_star_schema.sql, rewritten, creates the five tables with their NOT NULLs and no keys."""
    run_script(pg, DDL / "create_star_schema.sql")
    tables = {
        r[0]
        for r in pg.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        ).fetchall()
    }
    assert tables == {"users", "artists", "songs", "time", "songplays", "stl_load_errors"}
    time_cols = columns(pg, "time")
    assert time_cols[0] == ("start_time", "timestamp without time zone", "NO")
    assert [c[0] for c in time_cols] == ["start_time", "hour", "day", "week", "month", "year", "weekday"]
    assert ("level", "character varying", "NO") in columns(pg, "users")
    assert ("level", "character varying", "YES") in columns(pg, "songplays")
    keys = dict(
        pg.execute(
            "SELECT tc.table_name, kcu.column_name FROM information_schema.table_constraints tc"
            " JOIN information_schema.key_column_usage kcu USING (constraint_schema, constraint_name)"
            " WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = 'public'"
        ).fetchall()
    )
    # No table declares a key: Redshift's planner would trust it unchecked; the unique:* checks verify them.
    assert keys == {}
    # IF NOT EXISTS: running it again is harmless.
    run_script(pg, DDL / "create_star_schema.sql")


def test_identity_column_runs_on_postgres(pg: psycopg.Connection) -> None:
    """The IDENTITY mapping is valid PostgreSQL and numbers rows from the seed by the step."""
    engine = LocalEngine(lambda: None)
    engine.execute(pg, "CREATE TABLE t (id INTEGER IDENTITY(1,2), v VARCHAR(8) ENCODE zstd) DISTSTYLE AUTO")
    engine.execute(pg, "INSERT INTO t (v) VALUES ('a'), ('b')")
    assert pg.execute("SELECT id, v FROM t ORDER BY id").fetchall() == [(1, "a"), (3, "b")]


def test_identity_zero_seed_runs_on_postgres(pg: psycopg.Connection) -> None:
    """Redshift's usual IDENTITY(0,1) creates a table that numbers rows 0, 1, ...

    Regression: START WITH 0 without MINVALUE was rejected by PostgreSQL
    ('START value (0) cannot be less than MINVALUE (1)').
    """
    engine = LocalEngine(lambda: None)
    engine.execute(pg, "CREATE TABLE t (id INTEGER IDENTITY(0,1), v VARCHAR(8))")
    engine.execute(pg, "INSERT INTO t (v) VALUES ('a'), ('b')")
    assert pg.execute("SELECT id, v FROM t ORDER BY id").fetchall() == [(0, "a"), (1, "b")]
