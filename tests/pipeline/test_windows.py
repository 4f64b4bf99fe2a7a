"""Incremental loads into the persistent local warehouse: windows add up to one full run, row by row."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from psycopg import sql

from flows.cli import main
from tests.support import NOTHING, leftovers, local_warehouse, run

STAR = ("users", "songs", "artists", "songplays", "time")


def contents(state: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every star-schema table in the local warehouse, sorted, read as the superuser."""
    with local_warehouse(state) as conn:
        return {
            table: sorted(conn.execute(sql.SQL("SELECT * FROM {}").format(sql.Identifier(table))).fetchall(), key=repr)
            for table in STAR
        }


def load(tmp: Path, *window: str, flags: tuple[str, ...] = ()) -> dict:
    code, summary = run(*(["--start", window[0], "--end", window[1]] if window else []), *flags, tmp=tmp)
    assert code == 0, summary
    return summary


def test_windows_add_up_to_a_full_run_and_backfills_duplicate_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aws: str
) -> None:
    monkeypatch.setenv("SPARKIFY_RESULTS_DIR", str(tmp_path / "results"))
    monkeypatch.setenv("SPARKIFY_STATE_DIR", str(tmp_path / "full"))
    load(tmp_path)
    full = contents(tmp_path / "full")

    monkeypatch.setenv("SPARKIFY_STATE_DIR", str(tmp_path / "windows"))
    first = load(tmp_path, "2018-11-01", "2018-11-10")
    assert first["window"] == "2018-11-01 to 2018-11-10"
    assert 0 < first["tables"]["songplays"] < sum(1 for _ in full["songplays"])
    load(tmp_path, "2018-11-11", "2018-11-20")
    load(tmp_path, "2018-11-21", "2018-11-30")
    reloaded = load(tmp_path, "2018-11-11", "2018-11-20")
    # The song files did not change since the first window: they are not copied again.
    assert first["copied"] == {"staging_events": True, "staging_songs": True}
    assert reloaded["copied"] == {"staging_events": True, "staging_songs": False}
    assert contents(tmp_path / "windows") == full

    load(tmp_path, "2018-11-05", "2018-11-25")  # a backfill over days loaded already
    assert contents(tmp_path / "windows") == full
    assert leftovers(aws) == NOTHING


def test_an_empty_window_is_a_clear_no_op(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aws: str) -> None:
    monkeypatch.setenv("SPARKIFY_STATE_DIR", str(tmp_path / "state"))
    summary = load(tmp_path, "2026-11-01", "2026-11-02", flags=("--keep-cluster",))
    assert summary["note"] == "nothing to load" and summary["tables"] == {}
    assert leftovers(aws) == NOTHING  # nothing was provisioned, so nothing is kept either
    assert main(["teardown"]) == 0
