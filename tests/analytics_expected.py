"""What each analytics query (sql/analytics/) should return, computed with polars straight from a
data folder's raw files, independently of the pipeline's SQL: one function per query, named after
it, returning its rows in its order. Percentages are exact here; the queries round them (to 0.1 or 0.01)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl

from bench.expected import EVENT_FIELDS, read_events, read_songs

Rows = list[tuple]

FIELDS = {**EVENT_FIELDS, "firstName": pl.String, "lastName": pl.String, "location": pl.String, "userAgent": pl.String}
WEEKDAYS = ("Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday")
TOP = 10


def events(data: Path) -> pl.DataFrame:
    """Every event, with its UTC start time and its user id as a number (null when logged out)."""
    return read_events(data, FIELDS).with_columns(
        start_time=pl.from_epoch("ts", time_unit="ms"), user_id=pl.col("userId").replace("", None).cast(pl.Int64)
    ).collect()


def plays(data: Path) -> pl.DataFrame:
    """One row per NextSong event: the songplays fact, with the hour, weekday (0 is Sunday) and day."""
    return (
        events(data)
        .filter(pl.col("page") == "NextSong")
        .unique(["user_id", "sessionId", "itemInSession", "ts"])
        .with_columns(
            hour=pl.col("start_time").dt.hour(),
            weekday=pl.col("start_time").dt.weekday() % 7,
            day=pl.col("start_time").dt.date(),
        )
    )


def users(data: Path) -> pl.DataFrame:
    """One row per user, from the user's latest event."""
    return (
        events(data).filter(pl.col("user_id").is_not_null())
        .sort(["ts", "itemInSession"])
        .group_by("user_id")
        .agg(pl.col("firstName", "lastName", "level").last())
    )


def _top(frame: pl.DataFrame, keys: list[str], **aggregates: pl.Expr) -> Rows:
    """The TOP groups by plays, ties by key."""
    grouped = frame.group_by(keys).agg(plays=pl.len(), **aggregates)
    ordered = grouped.sort(["plays", *keys], descending=[True] + [False] * len(keys))
    return ordered.select(keys[0], *keys[1:], "plays", *aggregates).head(TOP).rows()


def most_played_songs(data: Path) -> Rows:
    return _top(plays(data), ["song", "artist"], listeners=pl.col("user_id").n_unique())


def most_played_artists(data: Path) -> Rows:
    return _top(plays(data), ["artist"], songs=pl.col("song").n_unique(), listeners=pl.col("user_id").n_unique())


def plays_by_hour(data: Path) -> Rows:
    by_hour = plays(data).group_by("hour").agg(plays=pl.len(), listeners=pl.col("user_id").n_unique())
    return by_hour.sort("hour").rows()


def plays_by_weekday(data: Path) -> Rows:
    by_day = plays(data).group_by("weekday").agg(
        plays=pl.len(), days=pl.col("day").n_unique(), listeners=pl.col("user_id").n_unique()
    )
    return [(d, WEEKDAYS[d], n, days, listeners) for d, n, days, listeners in by_day.sort("weekday").rows()]


def free_vs_paid(data: Path) -> Rows:
    played = plays(data)
    now = dict(users(data).group_by("level").len().rows())
    by_level = played.group_by("level").agg(listeners=pl.col("user_id").n_unique(), plays=pl.len())
    counts = {level: (listeners, n) for level, listeners, n in by_level.rows()}
    return [
        (level, now.get(level, 0), *counts.get(level, (0, 0)), 100 * counts.get(level, (0, 0))[1] / played.height)
        for level in sorted(now.keys() | counts.keys())
    ]


def busiest_days(data: Path) -> Rows:
    return _top(plays(data), ["day"], listeners=pl.col("user_id").n_unique())


def users_who_changed_level(data: Path) -> Rows:
    per_user = (
        plays(data).sort("ts")
        .group_by("user_id")
        .agg(
            first_level=pl.col("level").first(),
            last_level=pl.col("level").last(),
            changes=(pl.col("level") != pl.col("level").shift()).sum(),
            plays=pl.len(),
        )
        .filter(pl.col("changes") > 0)
        .join(users(data), on="user_id")
        .sort(["changes", "user_id"], descending=[True, False])
    )
    return per_user.select(
        "user_id", "firstName", "lastName", "first_level", "last_level", "level", "changes", "plays"
    ).rows()


def matched_vs_unmatched(data: Path) -> Rows:
    played = plays(data)
    songs = read_songs(data).select("title", "artist_name", "duration")
    matched = (
        played.join(songs, left_on=["song", "artist"], right_on=["title", "artist_name"])
        .filter((pl.col("length") - pl.col("duration")).abs() <= 0.001)
        .select("user_id", "sessionId", "itemInSession", "ts")
        .unique()
        .height
    )
    return [
        ("matched", matched, 100 * matched / played.height),
        ("unmatched", played.height - matched, 100 * (played.height - matched) / played.height),
    ]


def top_locations(data: Path) -> Rows:
    return _top(plays(data), ["location"], listeners=pl.col("user_id").n_unique())


def top_user_agents(data: Path) -> Rows:
    return _top(plays(data), ["userAgent"], listeners=pl.col("user_id").n_unique())


EXPECTED: dict[str, Callable[[Path], Rows]] = {
    f.__name__: f
    for f in (
        most_played_songs, most_played_artists, plays_by_hour, plays_by_weekday, free_vs_paid, busiest_days,
        users_who_changed_level, matched_vs_unmatched, top_locations, top_user_agents,
    )
}
