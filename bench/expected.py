"""Expected star-schema contents computed straight from a data folder with polars, independently
of the pipeline's SQL: the benchmark's and the tests' measure of a correct load."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

# The event fields the counts need, typed as the simulator writes them.
EVENT_FIELDS = {
    "artist": pl.String, "itemInSession": pl.Int64, "length": pl.Float64, "level": pl.String, "page": pl.String,
    "sessionId": pl.Int64, "song": pl.String, "ts": pl.Int64, "userId": pl.String,
}


def read_events(data_dir: Path, fields: dict[str, type[pl.DataType]] | None = None) -> pl.LazyFrame:
    """The events of `data_dir`, with `fields` (default: EVENT_FIELDS)."""
    files = sorted((data_dir / "log_data").rglob("*.json"))
    return pl.scan_ndjson(files, schema=fields or EVENT_FIELDS)


def read_songs(data_dir: Path) -> pl.DataFrame:
    rows = [json.loads(p.read_text()) for p in sorted((data_dir / "song_data").rglob("*.json"))]
    return pl.DataFrame(rows, infer_schema_length=None)


def expected_counts(data_dir: Path) -> dict:
    events, songs = read_events(data_dir), read_songs(data_dir)
    plays = events.filter(pl.col("page") == "NextSong")
    # A user's level is the one of their latest event.
    users = (
        events.filter(pl.col("userId") != "")
        .group_by("userId")
        .agg(pl.col("level").sort_by(["ts", "itemInSession"]).last())
    )
    matched = (
        plays.join(songs.lazy(), left_on=["song", "artist"], right_on=["title", "artist_name"], how="inner")
        .filter((pl.col("length") - pl.col("duration")).abs() <= 0.001)
        .select(["ts", "userId", "sessionId", "itemInSession"])
        .unique()
    )
    events_n, plays_n, starts_n, matched_n = pl.collect_all(
        [
            events.select(pl.len()),
            plays.select(pl.len()),
            plays.select(pl.col("ts").n_unique()),
            matched.select(pl.len()),
        ]
    )
    levels = users.group_by("level").len().collect()
    by_level = dict(zip(levels["level"], levels["len"], strict=True))
    return {
        "tables": {
            "staging_events": events_n.item(),
            "staging_songs": songs.height,
            "songs": songs["song_id"].n_unique(),
            "artists": songs["artist_id"].n_unique(),
            "users": sum(by_level.values()),
            "songplays": plays_n.item(),
            "time": starts_n.item(),
        },
        "songplays_matched": matched_n.item(),
        "users_by_level": {level: by_level.get(level, 0) for level in ("free", "paid")},
    }
