"""The star schema, one SQL file per table (`sql/marts/<table>.sql`), each in its own transaction:
songs and artists rebuilt from the staged song files, users merged, and the facts of the run's
window replaced."""

from __future__ import annotations

from prefect import get_run_logger, task

from core.retry import RETRYING
from core.target import Target
from core.warehouse import Dsn, connect
from core.window import Window


@task(**RETRYING, task_run_name="build-{table}")
def build_table(target: Target, dsn: Dsn, table: str, window: Window) -> int:
    """Build `table` from staging with `sql/marts/<table>.sql` for `window`; return its row count."""
    with connect(dsn, target.engine) as session:
        session.run(f"marts/{table}", **window.bounds())
        rows = session.count(table)
    get_run_logger().info("%s holds %d rows", table, rows)
    return rows
