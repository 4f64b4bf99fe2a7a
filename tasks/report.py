"""The report: charts of the warehouse's tables saved as HTML and PNG, and published as Prefect
artifacts with the analytics team's queries' results (sql/analytics/)."""

from __future__ import annotations

import base64
import queue
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import polars as pl
from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from core.analytics import AnalyticsQuery, analytics_queries
from core.artifacts import artifact_key
from core.charts import draw
from core.engine import Engine
from core.retry import RETRYING
from core.target import Target
from core.warehouse import Dsn, Session, connect

# Sessions reading the analytics queries at once: both of the local twin's cores; a Redshift
# cluster's default queue runs five queries at a time.
REPORT_SESSIONS = 2
# Chart name -> the analytics query whose result it draws, or a (title, query) of its own. All read
# the star schema, not staging, so a windowed run's charts show everything the warehouse holds.
CHARTS: dict[str, str | tuple[str, str]] = {
    "songplays_by_day": (
        "Songplays per day, by level",
        "SELECT CAST(start_time AS DATE) AS day, level, COUNT(*) AS plays FROM songplays GROUP BY 1, 2 ORDER BY 1, 2",
    ),
    "plays_by_hour": "plays_by_hour",
    "top_songs": "most_played_songs",
    "top_artists": "most_played_artists",
    "users_by_level": "free_vs_paid",
}


def frame(session: Session, query: str) -> pl.DataFrame:
    """The rows of `query`; NUMERIC columns (a ROUND) as floats, which JSON and the charts take."""
    cursor = session.cursor(query)
    names = [c.name for c in cursor.description or []]
    data = pl.DataFrame(cursor.fetchall(), schema=names, orient="row")
    return data.with_columns(pl.col(pl.Decimal).cast(pl.Float64))


def report_queries(queries: list[AnalyticsQuery]) -> dict[str, tuple[str, str]]:
    """What the report reads, by name (name -> title, query): the analytics queries, then the
    charts' own queries under the charts' names."""
    own = {name: source for name, source in CHARTS.items() if not isinstance(source, str)}
    return {q.name: (q.title, q.sql) for q in queries} | own


def chart_sources(results: dict[str, tuple[str, pl.DataFrame]]) -> dict[str, tuple[str, pl.DataFrame]]:
    """Each chart's title and rows, from the results of `report_queries` (name -> title, rows)."""
    return {name: results[source if isinstance(source, str) else name] for name, source in CHARTS.items()}


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
    target: Target, dsn: Dsn, tables: dict[str, int], load_errors: list[str]
) -> dict[str, dict[str, str]]:
    """Save each chart as HTML and PNG under the results folder; publish the report and each
    analytics query's result as artifacts; return the files written. It reads only the star
    schema, so it runs beside the checks, which publish their own artifact."""
    out: Path = target.settings.results_dir
    out.mkdir(parents=True, exist_ok=True)
    queries = analytics_queries()
    results = query_results(dsn, target.engine, report_queries(queries))
    charts = chart_sources(results)
    paths = {name: (out / f"{name}.html", out / f"{name}.png") for name in charts}
    # The charts' process draws while this one publishes the analytics tables.
    with ThreadPoolExecutor(1, thread_name_prefix="report-charts") as drawing:
        drawn = [drawing.submit(draw, name, title, data, *paths[name]) for name, (title, data) in charts.items()]
        for q in queries:
            create_table_artifact(
                key=artifact_key(q.artifact_kind, target.name), table=table_rows(results[q.name][1]),
                description=q.title,
            )
        for future in drawn:
            future.result()
    pngs = {name: (title, paths[name][1].read_bytes()) for name, (title, _) in charts.items()}
    create_markdown_artifact(
        key=artifact_key("report", target.name), markdown=_markdown(tables, pngs, load_errors),
        description="Row counts and charts",
    )
    get_run_logger().info("Report written to %s", out)
    return {name: {"html": str(html), "png": str(png)} for name, (html, png) in paths.items()}


def query_results(dsn: Dsn, engine: Engine, queries: dict[str, tuple[str, str]]) -> dict[str, tuple[str, pl.DataFrame]]:
    """Each query's title and rows, by name and in the given order (name -> title, query), read over
    `REPORT_SESSIONS` sessions at once. The database runs each query on one core, and their times
    differ by several times, so each session takes the next query as soon as it is free."""
    pending: queue.SimpleQueue[tuple[str, tuple[str, str]]] = queue.SimpleQueue()
    for item in queries.items():
        pending.put(item)
    results: dict[str, tuple[str, pl.DataFrame]] = {}

    def read() -> None:
        with connect(dsn, engine) as session:
            while True:
                try:
                    name, (title, query) = pending.get_nowait()
                except queue.Empty:
                    return
                results[name] = (title, frame(session, query))

    with ThreadPoolExecutor(REPORT_SESSIONS) as pool:
        for reader in [pool.submit(read) for _ in range(REPORT_SESSIONS)]:
            reader.result()
    return {name: results[name] for name in queries}


def table_rows(data: pl.DataFrame) -> list[dict[str, Any]]:
    """`data` as a table artifact's rows: dates and times as ISO text, which JSON takes."""
    return data.with_columns(pl.col(pl.Date, pl.Datetime).dt.to_string()).to_dicts()


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
