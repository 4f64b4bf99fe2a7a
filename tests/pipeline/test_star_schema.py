"""The star-schema rules on a small hand-made dataset, through the whole local flow."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import psycopg
import pytest

from flows.cli import main

T0 = 1541100000000  # 2018-11-01T19:20:00Z in epoch milliseconds

SONGS = [
    # song_id, title, artist_id, artist_name, duration
    ("SOA1", "Song A", "AR1", "Artist X", 200.0),
    ("SOA1", "Song A", "AR1", "Artist X", 200.0),  # the same song in a second file
    ("SOA2", "Song A", "AR2", "Artist Y", 200.0),  # same title, another artist
    ("SOB1", "Song B", "AR1", "Artist X", 180.0),
    ("SOB2", "Song B", "AR1", "Artist X", 250.0),  # same title and artist, another duration
]


def event(user: str, level: str, offset_s: int, page: str = "NextSong", song=None, artist=None, length=None) -> dict:
    return {
        "artist": artist, "auth": "Logged In", "firstName": f"F{user}", "gender": "F", "itemInSession": offset_s,
        "lastName": f"L{user}", "length": length, "level": level, "location": "Town", "method": "PUT",
        "page": page, "registration": 1540000000000.0, "sessionId": 7, "song": song, "status": 200,
        "ts": T0 + offset_s * 1000, "userAgent": "agent", "userId": user,
    }


EVENTS = [
    event("10", "free", 1, song="Song A", artist="Artist X", length=200.0004),  # SOA1 within 0.001 s
    event("10", "paid", 2, song="Song A", artist="Artist Y", length=200.0),  # SOA2, not SOA1
    event("10", "paid", 3, page="Home"),  # user 10's latest event: paid
    event("11", "free", 4, song="Song B", artist="Artist X", length=250.0),  # SOB2, not SOB1
    event("11", "free", 5, song="Song C", artist="Artist Z", length=100.0),  # no such song
    event("12", "paid", 6, song="Song B", artist="Artist X", length=190.0),  # duration off: unmatched
    event("12", "free", 7, page="Submit Downgrade"),  # user 12 ends free
    event("", "free", 8, page="Home"),  # logged out: not a user
]


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    data = tmp_path / "data"
    for i, (song_id, title, artist_id, artist_name, duration) in enumerate(SONGS):
        path = data / "song_data" / "A" / "B" / "C" / f"TR{i:04d}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({
            "num_songs": 1, "artist_id": artist_id, "artist_latitude": None, "artist_longitude": None,
            "artist_location": "", "artist_name": artist_name, "song_id": song_id, "title": title,
            "duration": duration, "year": 0,
        }))
    log = data / "log_data" / "2018" / "11" / "2018-11-01-events.json"
    log.parent.mkdir(parents=True)
    log.write_text("\n".join(json.dumps(e) for e in EVENTS))
    return data


def test_star_schema_rules(dataset: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aws: str) -> None:
    monkeypatch.setenv("SPARKIFY_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SPARKIFY_RESULTS_DIR", str(tmp_path / "results"))
    summary_path = tmp_path / "summary.json"
    assert main(["--data-dir", str(dataset), "--keep-cluster", "--summary-json", str(summary_path)]) == 0
    try:
        with psycopg.connect(json.loads(summary_path.read_text())["warehouse"]) as conn:
            plays = conn.execute(
                "SELECT user_id, level, song_id, artist_id, start_time FROM songplays ORDER BY start_time"
            ).fetchall()
            users = conn.execute("SELECT user_id, level FROM users ORDER BY user_id").fetchall()
            songs = conn.execute("SELECT song_id, artist_id, duration FROM songs ORDER BY song_id").fetchall()
            artists = conn.execute("SELECT artist_id, name FROM artists ORDER BY artist_id").fetchall()
            times = conn.execute("SELECT start_time, hour, day, month, year FROM time ORDER BY 1").fetchall()
    finally:
        assert main(["teardown"]) == 0
    assert not (tmp_path / "state" / "pgdata" / "postmaster.pid").exists()

    def at(offset_s: int) -> datetime:
        return datetime.fromtimestamp((T0 + offset_s * 1000) / 1000, timezone.utc).replace(tzinfo=None)

    assert plays == [
        (10, "free", "SOA1", "AR1", at(1)),
        (10, "paid", "SOA2", "AR2", at(2)),
        (11, "free", "SOB2", "AR1", at(4)),
        (11, "free", None, None, at(5)),
        (12, "paid", None, None, at(6)),
    ]
    assert users == [(10, "paid"), (11, "free"), (12, "free")]
    assert songs == [("SOA1", "AR1", 200.0), ("SOA2", "AR2", 200.0), ("SOB1", "AR1", 180.0), ("SOB2", "AR1", 250.0)]
    assert artists == [("AR1", "Artist X"), ("AR2", "Artist Y")]
    assert times == [(at(s), at(s).hour, at(s).day, 11, 2018) for s in (1, 2, 4, 5, 6)]
