"""What a run built, said once and shown twice: as a table artifact in Prefect's UI and, by the
command line, on stdout. The same on both targets, also for a run that failed."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from prefect.artifacts import create_table_artifact

from core.analytics import analytics_queries
from core.artifacts import artifact_key


def summary_rows(summary: dict[str, Any]) -> list[dict[str, str]]:
    """The summary as (item, value) rows: the window, rows per table, what was copied, matched
    songplays, checks, load errors, the report's artifacts, and the duration; or what failed."""
    rows = [("status", summary["status"])]
    if "error" in summary:
        rows.append(("error", summary["error"]))
    if "window" in summary:
        rows.append(("window", summary["window"]))
    if "note" in summary:
        rows.append(("note", summary["note"]))
    rows += [(f"rows in {table}", f"{count:,}") for table, count in summary.get("tables", {}).items()]
    copied = summary.get("copied", {})
    if copied:
        rows.append(("copied", ", ".join(t for t, done in copied.items() if done) or "nothing (sources unchanged)"))
    if "users_by_level" in summary:
        levels = sorted(summary["users_by_level"].items())
        rows.append(("users by level", ", ".join(f"{n:,} {level}" for level, n in levels)))
    if "songplays_matched" in summary:
        plays = summary["tables"].get("songplays", 0)
        rows.append(("songplays matched to a song", f"{summary['songplays_matched']:,} of {plays:,}"))
    if "checks" in summary:
        passed = sum(c["passed"] for c in summary["checks"])
        rows.append(("checks", f"{passed} passed, {len(summary['checks']) - passed} failed"))
    if "load_errors" in summary:
        rows.append(("records skipped under MAXERROR", str(len(summary["load_errors"]))))
    if "left" in summary:
        rows.append(("left behind", ", ".join(summary["left"]) or "nothing"))
    if summary.get("report"):
        rows.append(("report", str(Path(next(iter(summary["report"].values()))["html"]).parent)))
    if "artifacts" in summary:
        analytics = [key for key in summary["artifacts"] if key.startswith("sparkify-analytics-")]
        named = [key for key in summary["artifacts"] if key not in analytics]
        if analytics:
            named.append(f"{len(analytics)} analytics tables ({analytics[0]}, ...)")
        rows.append(("artifacts", ", ".join(named)))
    if "duration_s" in summary:
        rows.append(("duration", f"{summary['duration_s']:.1f} s"))
    return [{"item": item, "value": str(value)} for item, value in rows]


def summary_text(summary: dict[str, Any]) -> str:
    """The summary as the aligned two-column table the command line ends with."""
    rows = summary_rows(summary)
    width = max(len(row["item"]) for row in rows)
    return "\n".join(f"{row['item']:<{width}}  {row['value']}" for row in rows)


def publish_summary(summary: dict[str, Any], target: str, started: float) -> dict[str, Any]:
    """`summary` with its duration and artifact names, published as the run's summary table."""
    key = artifact_key("summary", target)
    summary = {**summary, "duration_s": round(time.monotonic() - started, 1)}
    if summary["status"] == "completed" and summary.get("tables"):
        summary["artifacts"] = [
            artifact_key(kind, target) for kind in ("report", "checks", *(q.artifact_kind for q in analytics_queries()))
        ] + [key]
    create_table_artifact(key=key, table=summary_rows(summary), description="What the run built")
    return summary


def completion_message(summary: dict[str, Any]) -> str:
    """The Completed state's message: what the run loaded, or that there was nothing to load."""
    if not summary.get("tables"):
        return f"nothing to load for {summary['window']}: no event files in the window"
    tables = summary["tables"]
    return (
        f"loaded {tables['songplays']:,} songplays and {tables['users']:,} users for {summary['window']}; "
        f"{len(summary['checks'])} checks passed"
    )
