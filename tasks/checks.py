"""Data-quality checks, declared one per line and grouped by kind; one task per table runs them.

Row counts are reconciled against staging, so the expected numbers come from the data itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact
from psycopg import sql

from core.artifacts import artifact_key
from core.redshift_sql import tables_read
from core.retry import RETRYING
from core.target import Target
from core.warehouse import Dsn, Session, connect


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    detail: str


@dataclass(frozen=True)
class OnTable:
    """A check of one table; the flow starts it once every table it `reads` is built."""

    table: str

    @property
    def reads(self) -> frozenset[str]:
        return frozenset({self.table})


@dataclass(frozen=True)
class RowCount(OnTable):
    """The table holds rows; `actual` (default: all of them) counts exactly `expected` (a query on staging)."""

    expected: str | None = None
    actual: str | None = None

    @property
    def name(self) -> str:
        return f"row_count:{self.table}"

    @property
    def reads(self) -> frozenset[str]:
        return super().reads.union(*(tables_read(q) for q in (self.expected, self.actual) if q))

    def run(self, session: Session) -> CheckResult:
        actual = int(session.scalar(self.actual)) if self.actual else session.count(self.table)
        if self.expected is None:
            return CheckResult(self.name, actual > 0, f"{actual} rows")
        expected = int(session.scalar(self.expected))
        return CheckResult(self.name, actual == expected and actual > 0, f"{actual} rows, expected {expected}")


@dataclass(frozen=True)
class NotNull(OnTable):
    column: str

    @property
    def name(self) -> str:
        return f"not_null:{self.table}.{self.column}"

    def run(self, session: Session) -> CheckResult:
        nulls = session.scalar(
            sql.SQL("SELECT COUNT(*) FROM {} WHERE {} IS NULL").format(
                sql.Identifier(self.table), sql.Identifier(self.column)
            )
        )
        return CheckResult(self.name, nulls == 0, f"{nulls} nulls")


@dataclass(frozen=True)
class Unique(OnTable):
    column: str

    @property
    def name(self) -> str:
        return f"unique:{self.table}.{self.column}"

    def run(self, session: Session) -> CheckResult:
        dupes = session.scalar(
            sql.SQL("SELECT COUNT(*) FROM (SELECT {c} FROM {t} GROUP BY {c} HAVING COUNT(*) > 1) AS d").format(
                c=sql.Identifier(self.column), t=sql.Identifier(self.table)
            )
        )
        return CheckResult(self.name, dupes == 0, f"{dupes} duplicated values")


@dataclass(frozen=True)
class AcceptedValues(OnTable):
    column: str
    values: tuple[str, ...]

    @property
    def name(self) -> str:
        return f"accepted_values:{self.table}.{self.column}"

    def run(self, session: Session) -> CheckResult:
        bad = session.scalar(
            sql.SQL("SELECT COUNT(*) FROM {} WHERE {} NOT IN ({})").format(
                sql.Identifier(self.table),
                sql.Identifier(self.column),
                sql.SQL(", ").join(map(sql.Literal, self.values)),
            )
        )
        return CheckResult(self.name, bad == 0, f"{bad} rows outside {', '.join(self.values)}")


@dataclass(frozen=True)
class ForeignKey(OnTable):
    """Every non-null `table.column` exists in `parent.parent_column`."""

    column: str
    parent: str
    parent_column: str

    @property
    def name(self) -> str:
        return f"foreign_key:{self.table}.{self.column}->{self.parent}"

    @property
    def reads(self) -> frozenset[str]:
        return super().reads | {self.parent}

    def run(self, session: Session) -> CheckResult:
        orphans = session.scalar(
            sql.SQL(
                "SELECT COUNT(*) FROM {t} AS c WHERE c.{c} IS NOT NULL"
                " AND NOT EXISTS (SELECT 1 FROM {p} AS p WHERE p.{pc} = c.{c})"
            ).format(
                t=sql.Identifier(self.table), c=sql.Identifier(self.column),
                p=sql.Identifier(self.parent), pc=sql.Identifier(self.parent_column),
            )
        )
        return CheckResult(self.name, orphans == 0, f"{orphans} orphans")


Check = RowCount | NotNull | Unique | AcceptedValues | ForeignKey

CHECKS: dict[str, list[Check]] = {
    "staging_events": [RowCount("staging_events")],
    "staging_songs": [RowCount("staging_songs")],
    "songplays": [
        RowCount(
            "songplays",
            "SELECT COUNT(*) FROM (SELECT DISTINCT user_id, session_id, item_in_session, ts"
            " FROM staging_events WHERE page = 'NextSong') AS plays",
            "SELECT COUNT(*) FROM songplays"
            " WHERE start_time BETWEEN (SELECT MIN(ts) FROM staging_events) AND (SELECT MAX(ts) FROM staging_events)",
        ),
        Unique("songplays", "songplay_id"),
        NotNull("songplays", "start_time"),
        NotNull("songplays", "user_id"),
        ForeignKey("songplays", "user_id", "users", "user_id"),
        ForeignKey("songplays", "song_id", "songs", "song_id"),
        ForeignKey("songplays", "artist_id", "artists", "artist_id"),
    ],
    "users": [
        RowCount(
            "users",
            "SELECT COUNT(DISTINCT user_id) FROM staging_events",
            "SELECT COUNT(*) FROM users WHERE user_id IN (SELECT user_id FROM staging_events)",
        ),
        Unique("users", "user_id"),
        AcceptedValues("users", "level", ("free", "paid")),
    ],
    "songs": [
        RowCount(
            "songs",
            "SELECT COUNT(DISTINCT song_id) FROM staging_songs",
            "SELECT COUNT(*) FROM songs WHERE song_id IN (SELECT song_id FROM staging_songs)",
        ),
        Unique("songs", "song_id"),
        NotNull("songs", "title"),
    ],
    "artists": [
        RowCount(
            "artists",
            "SELECT COUNT(DISTINCT artist_id) FROM staging_songs",
            "SELECT COUNT(*) FROM artists WHERE artist_id IN (SELECT artist_id FROM staging_songs)",
        ),
        Unique("artists", "artist_id"),
        NotNull("artists", "name"),
    ],
    # time holds each of songplays' start times once. The foreign key is checked here, not with
    # songplays: time is built from songplays, so songplays' other checks then run beside that build.
    "time": [
        RowCount("time", "SELECT COUNT(DISTINCT start_time) FROM songplays"),
        Unique("time", "start_time"),
        ForeignKey("songplays", "start_time", "time", "start_time"),
    ],
}


def tables_checked(table: str) -> frozenset[str]:
    """Every table that `table`'s checks read: its task can start once these are built."""
    return frozenset().union(*(check.reads for check in CHECKS[table]))


@task(**RETRYING, task_run_name="check-{table}")
def check_table(target: Target, dsn: Dsn, table: str) -> list[CheckResult]:
    """Run the checks declared for `table`; a failed check is a result, not an exception."""
    logger = get_run_logger()
    with connect(dsn, target.engine) as session:
        results = [check.run(session) for check in CHECKS[table]]
    for r in results:
        (logger.info if r.passed else logger.error)("%s %s: %s", "PASS" if r.passed else "FAIL", r.name, r.detail)
    return results


def publish_checks(target: Target, results: list[CheckResult]) -> None:
    """Every table's check results as one table artifact of the run."""
    create_table_artifact(
        key=artifact_key("checks", target.name),
        table=[{"check": c.name, "passed": c.passed, "detail": c.detail} for c in results],
        description="Data-quality checks",
    )
