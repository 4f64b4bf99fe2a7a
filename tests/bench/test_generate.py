"""bench.generate: a deterministic synthetic source whose expected counts the pipeline meets."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import polars as pl
import pytest

from bench.generate import LOGGED_IN_PAGES, generate
from tests.support import SAMPLE


def digest(root: Path) -> str:
    """One hash over every file's path and bytes."""
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(path.relative_to(root).as_posix().encode() + path.read_bytes())
    return h.hexdigest()


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen") / "data"
    generate(out, songs=150, events=12_000, days=3, seed=7)
    return out


def events(data: Path) -> pl.DataFrame:
    return pl.concat([pl.read_ndjson(p) for p in sorted((data / "log_data").rglob("*.json"))], how="diagonal_relaxed")


def test_same_seed_same_bytes_other_seed_other_bytes(generated: Path, tmp_path: Path) -> None:
    generate(tmp_path / "again", songs=150, events=12_000, days=3, seed=7)
    generate(tmp_path / "other", songs=150, events=12_000, days=3, seed=8)
    assert digest(tmp_path / "again") == digest(generated)
    assert digest(tmp_path / "other") != digest(generated)


def test_layout_and_exact_sizes(generated: Path) -> None:
    songs = sorted((generated / "song_data").rglob("*.json"))
    assert len(songs) == 150
    for path in songs[:20]:
        track = path.stem
        assert path.relative_to(generated / "song_data").parts[:3] == (track[2], track[3], track[4])
        assert json.loads(path.read_text())["num_songs"] == 1
    days = sorted((generated / "log_data").rglob("*.json"))
    assert [p.name for p in days] == [f"2018-11-0{d}-events.json" for d in (1, 2, 3)]
    assert events(generated).height == 12_000


def test_event_stream_is_shaped_like_the_sample(generated: Path) -> None:
    frame = events(generated)
    share = frame["page"].value_counts(normalize=True).filter(pl.col("page") == "NextSong")["proportion"].item()
    sample_share = LOGGED_IN_PAGES["NextSong"] / 8056  # the sample's 6820 plays in 8056 events
    assert abs(share - sample_share) < 0.05
    logged_out = frame.filter(pl.col("auth") == "Logged Out")
    assert logged_out.height > 0 and (logged_out["userId"] == "").all() and logged_out["firstName"].is_null().all()
    # Every event of a day falls on that day.
    day = frame.with_columns(pl.from_epoch("ts", time_unit="ms").dt.day().alias("day"))
    assert set(day["day"].unique()) == {1, 2, 3}


def test_levels_change_only_through_submit_pages(generated: Path) -> None:
    """Between two consecutive events of a user, the level changes only right after a Submit."""
    frame = events(generated).filter(pl.col("userId") != "").sort(["userId", "ts", "itemInSession"])
    steps = frame.with_columns(
        pl.col("level").shift(1).over("userId").alias("before"),
        pl.col("page").shift(1).over("userId").alias("after_page"),
    ).filter(pl.col("before").is_not_null() & (pl.col("level") != pl.col("before")))
    assert steps.height > 0
    assert set(steps["after_page"]) <= {"Submit Upgrade", "Submit Downgrade"}
    upgrades = steps.filter(pl.col("after_page") == "Submit Upgrade")
    assert (upgrades["before"] == "free").all() and (upgrades["level"] == "paid").all()


def number_named_share(frame: pl.DataFrame) -> float:
    """The share of plays whose song or artist is a bare number, such as "1999" or "311"."""
    plays = frame.filter(pl.col("page") == "NextSong")
    numbers = plays.filter(pl.col("song").str.contains(r"^[0-9]+$") | pl.col("artist").str.contains(r"^[0-9]+$"))
    return numbers.height / plays.height


def test_some_songs_and_artists_are_numbers_as_in_the_sample(tmp_path: Path) -> None:
    """As in the sample, a few plays name a song or artist that is a number, which a loader must
    still read as text."""
    generate(tmp_path / "data", songs=3000, events=20_000, days=5, seed=3)
    sample = number_named_share(events(SAMPLE))
    generated = number_named_share(events(tmp_path / "data"))
    assert 0 < sample < 0.01
    assert sample / 3 < generated < sample * 3
