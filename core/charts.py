"""The report's charts (tasks/report.py), drawn with Altair to HTML and PNG in a helper process of the
run's own (core.child_process, `python -m core.charts`).

Drawing holds Python's lock: Altair's import takes about 0.3 s, and vl-convert's first PNG starts its
JavaScript engine, 0.5 s in which another thread of the same process got 1% of its usual share. In
the run's process, that stalled the COPYs running beside it. In a process of its own, started once
the run has surveyed its sources, the import and the engine's start are done by the time of the
report, on the other core, and the run's process never loads Altair.
"""

from __future__ import annotations

import atexit
import base64
import io
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from core.child_process import ChildProcess, reply_channel, serve

if TYPE_CHECKING:
    import altair as alt

_lock = threading.Lock()
_drawer: ChildProcess | None = None


class ChartError(RuntimeError):
    """What the charts' process could not draw, in its own words."""


def start_drawing() -> None:
    """Start this process's charts process now, unless it runs: its start (Altair's import and
    vl-convert's engine, about 1 s) is then done by the time the report draws."""
    with _lock:
        _running()


def draw(name: str, title: str, data: pl.DataFrame, html: Path, png: Path) -> None:
    """Save chart `name` of `data`, titled `title`, as HTML and PNG, as Altair saves it."""
    rows = base64.b64encode(data.write_ipc(None).getvalue()).decode()
    with _lock:
        # Absolute: the charts' process works in the project's folder, not this one's.
        _running().call("draw", name=name, title=title, rows=rows, html=str(html.absolute()), png=str(png.absolute()))


def _running() -> ChildProcess:
    """The charts process, started if none runs (first use, or it ended); with _lock held."""
    global _drawer
    if _drawer is None or not _drawer.alive():
        if _drawer is not None:
            _drawer.stop()  # it ended: only its pipes are left to close
        _drawer = ChildProcess("core.charts", [], "the charts' process", ChartError)
    return _drawer


@atexit.register
def _stop_drawing() -> None:
    """At exit, stop the charts process that runs, if any: one hook, however often it was restarted."""
    if _drawer is not None:
        _drawer.stop()


def chart(name: str, title: str, data: pl.DataFrame) -> alt.Chart:
    import altair as alt  # in the charts' process only, and in tests

    if name == "songplays_by_day":
        # One label per day, e.g. "Sat 03 Nov", in the rows' order (by day): a temporal axis runs
        # its month and day labels together ("NovemberSat 03").
        data = data.with_columns(label=pl.col("day").dt.strftime("%a %d %b"))
    if name == "top_songs":
        data = data.with_columns(song=pl.col("song_title") + " - " + pl.col("artist_name"))
    base = alt.Chart(data, title=title, width=560, height=260)
    if name == "songplays_by_day":
        return base.mark_bar().encode(
            x=alt.X("label:O", sort=None, title="day", axis=alt.Axis(labelAngle=-60)),
            y=alt.Y("plays:Q", stack=True),
            color="level:N",
            tooltip=[alt.Tooltip("label", title="day"), "level", "plays"],
        )
    if name == "plays_by_hour":
        return base.mark_bar().encode(x=alt.X("hour:O"), y="plays:Q", tooltip=["hour", "plays"])
    if name in ("top_songs", "top_artists"):
        label = "song" if name == "top_songs" else "artist_name"
        return base.mark_bar().encode(
            y=alt.Y(f"{label}:N", sort="-x", title=None), x="plays:Q", tooltip=[label, "plays", "listeners"]
        )
    return base.mark_bar().encode(x="level:N", y="users:Q", color="level:N", tooltip=["level", "users"])


def _draw(name: str, title: str, rows: str, html: str, png: str) -> None:
    figure = chart(name, title, pl.read_ipc(io.BytesIO(base64.b64decode(rows))))
    figure.save(html)
    figure.save(png, scale_factor=1.0)


def main() -> None:
    replies = reply_channel()
    # Started before the first command: vl-convert's engine starts with its first PNG.
    chart("plays_by_hour", "", pl.DataFrame({"hour": [0], "plays": [0]})).save(io.BytesIO(), format="png")
    serve({"draw": _draw}, replies)


if __name__ == "__main__":
    main()
