"""core.window: which event files a window covers, and its bounds in event time."""

from __future__ import annotations

from datetime import date, datetime

from core.window import Window


def test_every_day_covers_every_file_and_has_no_bounds() -> None:
    assert Window().covers("log_data/2018/11/2018-11-05-events.json")
    assert Window().bounds() == {"window_start": None, "window_end": None}
    assert str(Window()) == "all days"


def test_a_window_covers_its_days_inclusive() -> None:
    window = Window(date(2018, 11, 5), date(2018, 11, 6))
    covered = [d for d in range(1, 31) if window.covers(f"log_data/2018/11/2018-11-{d:02d}-events.json")]
    assert covered == [5, 6]
    assert not window.covers("log_data/2018/11/notes.txt")
    assert window.bounds() == {"window_start": datetime(2018, 11, 5), "window_end": datetime(2018, 11, 7)}
    assert str(window) == "2018-11-05 to 2018-11-06"
