"""tasks.report: every chart is computed from the star schema (not staging) on the real PostgreSQL,
through the analytics queries where it draws one; the markdown report holds the row counts, the
skipped records and the charts."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import psycopg
import pytest

from core.analytics import analytics_queries
from core.charts import chart
from core.redshift_sql import split
from core.warehouse import Dsn, Session
from local.engine import LocalEngine
from tasks.report import (
    REPORT_SESSIONS,
    _markdown,
    chart_sources,
    frame,
    query_results,
    report_queries,
    table_rows,
)

DDL = Path(__file__).resolve().parents[2] / "sql" / "ddl"


@pytest.fixture
def session(pg: psycopg.Connection) -> Session:
    engine = LocalEngine(lambda: None)
    for script in ("create_staging_tables", "create_star_schema"):
        for statement in split((DDL / f"{script}.sql").read_text()):
            engine.execute(pg, statement)
    plays = [
        (datetime(2018, 11, 5, 7), "free", "Song A"),
        (datetime(2018, 11, 5, 7, 30), "paid", "Song A"),
        (datetime(2018, 11, 6, 21), "paid", "Song B"),
    ]
    for i, (start, level, song) in enumerate(plays):
        pg.execute(
            "INSERT INTO songplays (songplay_id, start_time, user_id, level, song_title, artist_name)"
            " VALUES (%s, %s, %s, %s, %s, 'Artist X')",
            (f"{i:032d}", start, i, level, song),
        )
        pg.execute("INSERT INTO time VALUES (%s, %s, %s, 45, 11, 2018, 1)", (start, start.hour, start.day))
        pg.execute("INSERT INTO users VALUES (%s, 'F', 'L', 'F', %s, %s)", (i, level, start))
    # Staging holds only the last window's events, here another day's: no chart may show them.
    pg.execute(
        "INSERT INTO staging_events (page, song, artist, level, ts)"
        " VALUES ('NextSong', 'Staged', 'Artist Y', 'free', %s)",
        (datetime(2018, 11, 7, 12),),
    )
    return Session(pg, engine)


def test_each_chart_shows_the_warehouses_rows(session: Session, tmp_path: Path) -> None:
    queries = report_queries(analytics_queries())
    results = {name: (title, frame(session, query)) for name, (title, query) in queries.items()}
    data = {name: rows for name, (_, rows) in chart_sources(results).items()}
    assert data["songplays_by_day"].rows() == [
        (date(2018, 11, 5), "free", 1), (date(2018, 11, 5), "paid", 1), (date(2018, 11, 6), "paid", 1),
    ]
    assert data["plays_by_hour"].rows() == [(7, 2, 2), (21, 1, 1)]
    assert data["top_songs"].rows() == [("Song A", "Artist X", 2, 2), ("Song B", "Artist X", 1, 1)]
    assert data["top_artists"].rows() == [("Artist X", 3, 2, 3)]
    assert data["users_by_level"].rows() == [("free", 1, 1, 1, 33.3), ("paid", 2, 2, 2, 66.7)]
    for name, (title, rows) in chart_sources(results).items():
        spec = chart(name, title, rows).to_dict()
        assert spec["title"] == title and spec["mark"]["type"] == "bar"
        assert len(next(iter(spec["datasets"].values()))) == rows.height
    # Each day is labelled once, readably: not a temporal axis's "NovemberMon 05".
    day_chart = chart("songplays_by_day", "per day", data["songplays_by_day"])
    day_chart.save(tmp_path / "day.svg")
    svg = (tmp_path / "day.svg").read_text()
    assert svg.count(">Mon 05 Nov<") == 1 and svg.count(">Tue 06 Nov<") == 1 and "November" not in svg


def test_an_analytics_result_becomes_a_table_artifacts_rows(session: Session) -> None:
    [busiest] = [q for q in analytics_queries() if q.name == "busiest_days"]
    assert table_rows(frame(session, busiest.sql)) == [
        {"day": "2018-11-05", "plays": 2, "listeners": 2}, {"day": "2018-11-06", "plays": 1, "listeners": 1},
    ]


def test_the_markdown_holds_counts_skipped_records_and_charts() -> None:
    text = _markdown(
        {"songs": 71, "users": 97}, {"top_songs": ("Top 10 songs", b"\x89PNG-bytes")}, ["f.json line 3: bad"]
    )
    assert "| songs | 71 |" in text and "| users | 97 |" in text
    assert "## Records skipped under MAXERROR" in text and "- f.json line 3: bad" in text
    assert "## Top 10 songs" in text and "data:image/png;base64,iVBORy1ieXRlcw==" in text


def test_the_queries_read_side_by_side_return_what_each_returns_alone(session: Session) -> None:
    """Every query of the report, read over several sessions at once, in the declared order, with
    the rows it returns on its own."""
    info = session.conn.info
    dsn = Dsn(host=info.host, port=info.port, dbname=info.dbname, user=info.user, password="")
    queries = report_queries(analytics_queries())
    assert REPORT_SESSIONS > 1 and len(queries) > REPORT_SESSIONS
    together = query_results(dsn, session.engine, queries)
    assert list(together) == list(queries)
    for name, (title, query) in queries.items():
        assert together[name][0] == title
        assert together[name][1].equals(frame(session, query))
