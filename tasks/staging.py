"""Tables, and COPY from S3 into staging: Redshift runs it, the local engine emulates it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from prefect import get_run_logger, task

from core.artifacts import Progress
from core.load_errors import LoadErrorRecord
from core.retry import RETRYING
from core.target import Target
from core.warehouse import Dsn, connect

# Columns added to the star schema since its first release. CREATE TABLE IF NOT EXISTS leaves a
# kept or reused cluster's older table as it is, and Redshift has no ADD COLUMN IF NOT EXISTS.
ADDED_COLUMNS = {"songplays": {"song_title": "VARCHAR(512)", "artist_name": "VARCHAR(512)"}}


@task(**RETRYING)
def create_tables(target: Target, dsn: Dsn) -> None:
    """Rebuild the staging tables; create the star schema if it is missing, or add what it lacks."""
    with connect(dsn, target.engine) as session:
        session.run("ddl/create_staging_tables")
        session.run("ddl/create_star_schema")
        for table, columns in ADDED_COLUMNS.items():
            have = {name for (name,) in session.query(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s", (table,)
            )}
            for column, kind in columns.items():
                if column not in have:
                    session.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
                    get_run_logger().warning(
                        "%s predates its column %s: added; rows loaded before have none until a run "
                        "without --start/--end rebuilds the table", table, column,
                    )


@dataclass(frozen=True)
class Loaded:
    """A staging table after its COPY, and the records the COPY skipped under MAXERROR."""

    rows: int
    skipped: list[LoadErrorRecord]
    copied: bool = True


@task(**RETRYING, task_run_name="copy-{table}")
def copy_table(
    target: Target, dsn: Dsn, table: str, params: dict[str, str | int], signature: str | None = None
) -> Loaded:
    """Run `sql/staging/copy_<table>.sql` in one transaction. With a `signature` of the source
    files, skip the COPY when the table holds those files already, and remember them after it."""
    logger = get_run_logger()
    with connect(dsn, target.engine) as session:
        if signature and session.scalar("SELECT value FROM etl_state WHERE name = %s", (table,)) == signature:
            rows = session.count(table)
            logger.info("%s holds %d rows of the same source files already; no COPY", table, rows)
            return Loaded(rows, [], copied=False)
        progress = Progress(f"COPY {table}")
        results = session.run(f"staging/copy_{table}", progress=progress.objects, **params)
        skipped = [e for result in results for e in result.errors]
        if signature:
            session.run(
                "staging/remember_load",
                table_name=table,
                value=signature,
                at=datetime.now(timezone.utc).replace(tzinfo=None),
            )
        rows = session.count(table)
    logger.info("COPY loaded %d rows into %s", rows, table)
    for error in skipped:
        logger.warning("COPY into %s skipped %s", table, error.describe())
    return Loaded(rows, skipped)
