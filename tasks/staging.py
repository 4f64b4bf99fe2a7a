"""Tables, and COPY from S3 into staging: Redshift runs it, the local engine emulates it."""

from __future__ import annotations

from prefect import get_run_logger, task

from tasks.retry import RETRYING
from tasks.target import Target
from tasks.warehouse import Dsn, connect


@task(**RETRYING)
def create_tables(target: Target, dsn: Dsn) -> None:
    """Rebuild the staging tables; create the star schema if it is missing."""
    with connect(dsn, target.engine) as session:
        session.run("ddl/create_staging_tables")
        session.run("ddl/create_star_schema")


@task(**RETRYING, task_run_name="copy-{table}")
def copy_table(target: Target, dsn: Dsn, table: str, params: dict[str, str | int]) -> int:
    """Run `sql/staging/copy_<table>.sql` in one transaction; return the rows in the table."""
    with connect(dsn, target.engine) as session:
        session.run(f"staging/copy_{table}", **params)
        rows = session.count(table)
    get_run_logger().info("COPY loaded %d rows into %s", rows, table)
    return rows
