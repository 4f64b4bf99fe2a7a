"""core.charts: the report's charts, drawn in a process of their own, come out as Altair draws them in
this one; a chart that cannot be drawn is named; the process ends with its parent, however it ends."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import polars as pl
import psutil
import pytest

from core.charts import ChartError, chart, draw

ROOT = Path(__file__).resolve().parents[2]
DAYS = pl.DataFrame(
    {"day": [date(2018, 11, 5), date(2018, 11, 5), date(2018, 11, 6)], "level": ["free", "paid", "paid"],
     "plays": [3, 4, 5]}
)


def test_a_chart_drawn_in_the_charts_process_is_what_altair_saves_here(tmp_path: Path) -> None:
    draw("songplays_by_day", "Songplays per day", DAYS, tmp_path / "day.html", tmp_path / "day.png")
    here = chart("songplays_by_day", "Songplays per day", DAYS)
    here.save(tmp_path / "here.html")
    here.save(tmp_path / "here.png", scale_factor=1.0)
    assert (tmp_path / "day.png").read_bytes().startswith(b"\x89PNG")
    assert (tmp_path / "day.png").read_bytes() == (tmp_path / "here.png").read_bytes()
    assert (tmp_path / "day.html").read_text() == (tmp_path / "here.html").read_text()


def test_relative_paths_are_this_process_s(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The charts' process works in the project's folder; a relative results folder is the run's."""
    monkeypatch.chdir(tmp_path)
    draw("plays_by_hour", "by hour", pl.DataFrame({"hour": [1, 2], "plays": [3, 4]}), Path("h.html"), Path("h.png"))
    assert (tmp_path / "h.png").read_bytes().startswith(b"\x89PNG") and (tmp_path / "h.html").is_file()


def test_a_chart_that_cannot_be_drawn_is_named_and_the_next_one_is_drawn(tmp_path: Path) -> None:
    with pytest.raises(ChartError, match="ColumnNotFoundError"):
        draw("songplays_by_day", "no days", DAYS.drop("day"), tmp_path / "x.html", tmp_path / "x.png")
    draw("songplays_by_day", "days", DAYS, tmp_path / "day.html", tmp_path / "day.png")
    assert (tmp_path / "day.png").read_bytes().startswith(b"\x89PNG")


KILLED_PARENT = """
from core.charts import start_drawing
start_drawing()
print("started", flush=True)
input()
"""


def test_the_charts_process_ends_when_its_parent_is_killed() -> None:
    parent = subprocess.Popen(
        [sys.executable, "-c", KILLED_PARENT], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert parent.stdout is not None and parent.stdout.readline() == "started\n"
    [drawer] = [p for p in psutil.Process(parent.pid).children() if "core.charts" in p.cmdline()]
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.monotonic() + 10
    while drawer.is_running() and drawer.status() != psutil.STATUS_ZOMBIE and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not drawer.is_running() or drawer.status() == psutil.STATUS_ZOMBIE
