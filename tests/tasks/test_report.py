"""tasks.report: every chart is computed from the warehouse on the real PostgreSQL, and the markdown
report holds the row counts, the skipped records and the charts."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import psycopg
import pytest

from core.redshift_sql import split
from core.warehouse import Session
from local.engine import LocalEngine
from tasks.report import QUERIES, _markdown, chart, frame

DDL = Path(__file__).resolve().parents[2] / "sql" / "ddl"


@pytest.fixture
def session(pg: psycopg.Connection) -> Session:
    engine = LocalEngine(lambda: None)
    for script in ("create_staging_tables", "create_star_schema"):
        for statement in split((DDL / f"{script}.sql").read_text()):
            engine.execute(pg, statement)
    plays = [
        (datetime(2018, 11, 5, 7), "free"),
        (datetime(2018, 11, 5, 7, 30), "paid"),
        (datetime(2018, 11, 6, 21), "paid"),
    ]
    for i, (start, level) in enumerate(plays):
        pg.execute(
            "INSERT INTO songplays (songplay_id, start_time, user_id, level) VALUES (%s, %s, %s, %s)",
            (f"{i:032d}", start, i, level),
        )
        pg.execute(
            "INSERT INTO time VALUES (%s, %s, %s, 45, 11, 2018, 1)", (start, start.hour, start.day)
        )
        pg.execute(
            "INSERT INTO staging_events (page, song, artist, ts) VALUES ('NextSong', %s, %s, %s)",
            ("Song A" if i < 2 else "Song B", "Artist X", start),
        )
        pg.execute("INSERT INTO users VALUES (%s, 'F', 'L', 'F', %s, %s)", (i, level, start))
    return Session(pg, engine)


def test_each_chart_shows_its_querys_rows(session: Session) -> None:
    data = {name: frame(session, query) for name, (_, query) in QUERIES.items()}
    assert data["songplays_by_day"].rows() == [
        (datetime(2018, 11, 5).date(), "free", 1), (datetime(2018, 11, 5).date(), "paid", 1),
        (datetime(2018, 11, 6).date(), "paid", 1),
    ]
    assert data["plays_by_hour"].rows() == [(7, 2), (21, 1)]
    assert data["top_songs"].rows() == [("Song A - Artist X", 2), ("Song B - Artist X", 1)]
    assert data["top_artists"].rows() == [("Artist X", 3)]
    assert data["users_by_level"].rows() == [("free", 1), ("paid", 2)]
    for name, (title, _) in QUERIES.items():
        spec = chart(name, title, data[name]).to_dict()
        assert spec["title"] == title and spec["mark"]["type"] == "bar"
        assert len(next(iter(spec["datasets"].values()))) == data[name].height


def test_the_markdown_holds_counts_skipped_records_and_charts() -> None:
    text = _markdown(
        {"songs": 71, "users": 97}, {"top_songs": ("Top 10 songs", b"\x89PNG-bytes")}, ["f.json line 3: bad"]
    )
    assert "| songs | 71 |" in text and "| users | 97 |" in text
    assert "## Records skipped under MAXERROR" in text and "- f.json line 3: bad" in text
    assert "## Top 10 songs" in text and "data:image/png;base64,iVBORy1ieXRlcw==" in text
