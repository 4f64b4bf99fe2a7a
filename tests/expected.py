"""Expected star-schema contents computed straight from a data folder with polars, independently
of the pipeline's SQL."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl


def read_events(data_dir: Path) -> pl.DataFrame:
    rows = [
        json.loads(line)
        for path in sorted((data_dir / "log_data").rglob("*.json"))
        for line in path.read_text().splitlines()
        if line.strip()
    ]
    return pl.DataFrame(rows, infer_schema_length=None)


def read_songs(data_dir: Path) -> pl.DataFrame:
    rows = [json.loads(p.read_text()) for p in sorted((data_dir / "song_data").rglob("*.json"))]
    return pl.DataFrame(rows, infer_schema_length=None)


def expected_counts(data_dir: Path) -> dict:
    events, songs = read_events(data_dir), read_songs(data_dir)
    plays = events.filter(pl.col("page") == "NextSong")
    users = (
        events.filter(pl.col("userId") != "")
        .sort(["ts", "itemInSession"])
        .group_by("userId")
        .agg(pl.col("level").last())
    )
    matched = (
        plays.join(songs, left_on=["song", "artist"], right_on=["title", "artist_name"], how="inner")
        .filter((pl.col("length") - pl.col("duration")).abs() <= 0.001)
        .select(["ts", "userId", "sessionId", "itemInSession"])
        .unique()
    )
    return {
        "tables": {
            "staging_events": events.height,
            "staging_songs": songs.height,
            "songs": songs["song_id"].n_unique(),
            "artists": songs["artist_id"].n_unique(),
            "users": users.height,
            "songplays": plays.height,
            "time": plays["ts"].n_unique(),
        },
        "songplays_matched": matched.height,
        "users_by_level": {lvl: users.filter(pl.col("level") == lvl).height for lvl in ("free", "paid")},
    }
