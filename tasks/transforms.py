"""The star schema, one SQL file per table, each in its own transaction: dimensions are merged,
and the facts of the run's window replaced."""

from __future__ import annotations

from prefect import get_run_logger, task

from tasks.retry import RETRYING
from tasks.sources import Window
from tasks.target import Target
from tasks.warehouse import Dsn, connect


@task(**RETRYING, task_run_name="insert-{table}")
def insert_table(target: Target, dsn: Dsn, table: str, window: Window) -> int:
    """Load `table` from staging with `sql/marts/insert_<table>.sql` for `window`; return its row count."""
    with connect(dsn, target.engine) as session:
        session.run(f"marts/insert_{table}", **window.bounds())
        rows = session.count(table)
    get_run_logger().info("%s holds %d rows", table, rows)
    return rows
