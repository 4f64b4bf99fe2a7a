"""The star schema, one INSERT ... SELECT per table, each in its own transaction."""

from __future__ import annotations

from prefect import get_run_logger, task

from tasks.retry import RETRYING
from tasks.target import Target
from tasks.warehouse import Dsn, connect

@task(**RETRYING, task_run_name="insert-{table}")
def insert_table(target: Target, dsn: Dsn, table: str) -> int:
    """Replace `table`'s rows from staging with `sql/marts/insert_<table>.sql`; return its row count."""
    with connect(dsn, target.engine) as session:
        session.run(f"marts/insert_{table}")
        rows = session.count(table)
    get_run_logger().info("%s holds %d rows", table, rows)
    return rows
