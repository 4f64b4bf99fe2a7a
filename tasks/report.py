"""The Altair report: charts saved as HTML and PNG, and published as Prefect artifacts."""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import altair as alt
import polars as pl
from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from core.artifacts import artifact_key
from core.retry import RETRYING
from core.target import Target
from core.warehouse import Dsn, Session, connect
from tasks.checks import CheckResult

# name -> (title, query); column names of each query feed the chart of the same name.
QUERIES: dict[str, tuple[str, str]] = {
    "songplays_by_day": (
        "Songplays per day, by level",
        "SELECT CAST(start_time AS DATE) AS day, level, COUNT(*) AS plays"
        " FROM songplays GROUP BY 1, 2 ORDER BY 1, 2",
    ),
    "plays_by_hour": (
        "Plays by hour of day (UTC)",
        "SELECT t.hour, COUNT(*) AS plays FROM songplays AS sp"
        " JOIN time AS t ON t.start_time = sp.start_time GROUP BY 1 ORDER BY 1",
    ),
    "top_songs": (
        "Top 10 songs by plays",
        "SELECT song || ' - ' || artist AS song, COUNT(*) AS plays FROM staging_events"
        " WHERE page = 'NextSong' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10",
    ),
    "top_artists": (
        "Top 10 artists by plays",
        "SELECT artist, COUNT(*) AS plays FROM staging_events"
        " WHERE page = 'NextSong' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 10",
    ),
    "users_by_level": ("Users by level", "SELECT level, COUNT(*) AS users FROM users GROUP BY 1 ORDER BY 1"),
}


def frame(session: Session, query: str) -> pl.DataFrame:
    cursor = session.cursor(query)
    names = [c.name for c in cursor.description or []]
    return pl.DataFrame(cursor.fetchall(), schema=names, orient="row")


def chart(name: str, title: str, data: pl.DataFrame) -> alt.Chart:
    base = alt.Chart(data, title=title, width=560, height=260)
    if name == "songplays_by_day":
        return base.mark_bar().encode(
            x=alt.X("day:T", title="day"),
            y=alt.Y("plays:Q", stack=True),
            color="level:N",
            tooltip=["day:T", "level", "plays"],
        )
    if name == "plays_by_hour":
        return base.mark_bar().encode(x=alt.X("hour:O"), y="plays:Q", tooltip=["hour", "plays"])
    if name in ("top_songs", "top_artists"):
        label = data.columns[0]
        return base.mark_bar().encode(
            y=alt.Y(f"{label}:N", sort="-x", title=None), x="plays:Q", tooltip=[label, "plays"]
        )
    return base.mark_bar().encode(x="level:N", y="users:Q", color="level:N", tooltip=["level", "users"])


def _markdown(tables: dict[str, int], pngs: dict[str, tuple[str, bytes]], load_errors: list[str]) -> str:
    lines = ["# Sparkify warehouse report", "", "| table | rows |", "|---|---:|"]
    lines += [f"| {t} | {n} |" for t, n in tables.items()]
    if load_errors:
        lines += ["", "## Records skipped under MAXERROR", ""] + [f"- {e}" for e in load_errors]
    for title, png in pngs.values():
        lines += ["", f"## {title}", "", f"![{title}](data:image/png;base64,{base64.b64encode(png).decode()})"]
    return "\n".join(lines)


@task(**RETRYING)
def publish_report(
    target: Target, dsn: Dsn, tables: dict[str, int], checks: list[CheckResult], load_errors: list[str]
) -> dict[str, dict[str, str]]:
    """Save each chart as HTML and PNG under the results folder, publish the artifacts,
    and return the files written."""
    out: Path = target.settings.results_dir
    out.mkdir(parents=True, exist_ok=True)
    files: dict[str, dict[str, str]] = {}
    pngs: dict[str, tuple[str, bytes]] = {}
    with connect(dsn, target.engine) as session:
        for name, (title, query) in QUERIES.items():
            figure = chart(name, title, frame(session, query))
            html, png = out / f"{name}.html", out / f"{name}.png"
            figure.save(html)
            figure.save(png, scale_factor=1.0)
            files[name] = {"html": str(html), "png": str(png)}
            pngs[name] = (title, png.read_bytes())
    create_markdown_artifact(
        key=artifact_key("report", target.name), markdown=_markdown(tables, pngs, load_errors),
        description="Row counts and charts",
    )
    create_table_artifact(
        key=artifact_key("checks", target.name),
        table=[{"check": c.name, "passed": c.passed, "detail": c.detail} for c in checks],
        description="Data-quality checks",
    )
    get_run_logger().info("Report written to %s", out)
    return files


@task(**RETRYING)
def summarize(target: Target, dsn: Dsn) -> dict[str, Any]:
    """The facts a run's summary reports beyond row counts."""
    with connect(dsn, target.engine) as session:
        matched = session.scalar("SELECT COUNT(*) FROM songplays WHERE song_id IS NOT NULL")
        levels = dict(session.query("SELECT level, COUNT(*) FROM users GROUP BY level"))
    return {
        "songplays_matched": int(matched),
        "users_by_level": {level: int(levels.get(level, 0)) for level in ("free", "paid")},
    }
