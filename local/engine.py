"""The local engine: Redshift SQL run on the embedded PostgreSQL, with COPY emulated client-side and
the Redshift system objects that COPY fills."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg

from core.copy_statement import is_copy, parse_copy
from core.load_errors import CopyResult, LoadError, LoadErrorRecord
from core.warehouse import split_statements
from local.copy.loader import LocalCopy
from local.copy.tuning import CopyTuning
from local.dialect import to_postgres

# The Redshift system objects the COPY path reads, created in every local cluster's database.
# stl_load_errors keeps Redshift's columns (tbl is the table's id, session the backend's pid);
# pg_last_copy_id() returns, as on Redshift, the query id of this session's latest COPY or -1.
SYSTEM_DDL = """
CREATE SEQUENCE IF NOT EXISTS stl_query_id_seq;
CREATE TABLE IF NOT EXISTS stl_load_errors (
    query           BIGINT,
    session         INTEGER,
    starttime       TIMESTAMP,
    tbl             INTEGER,
    filename        TEXT,
    line_number     BIGINT,
    colname         TEXT,
    type            TEXT,
    col_length      TEXT,
    position        INTEGER,
    raw_line        TEXT,
    raw_field_value TEXT,
    err_code        INTEGER,
    err_reason      TEXT
);
CREATE OR REPLACE FUNCTION pg_last_copy_id() RETURNS BIGINT LANGUAGE plpgsql AS $$
BEGIN
    RETURN currval('stl_query_id_seq');
EXCEPTION WHEN object_not_in_prerequisite_state THEN
    RETURN -1;
END $$
"""


def install_system_objects(conn: psycopg.Connection) -> None:
    """Give a PostgreSQL database the Redshift system objects the local COPY engine fills."""
    for statement in split_statements(SYSTEM_DDL):
        conn.execute(statement)


class LocalEngine:
    """Runs Redshift SQL on PostgreSQL: DDL rewritten, COPY emulated with objects from `s3()`."""

    name = "postgres"

    def __init__(self, s3: Callable[[], Any], tuning: CopyTuning | None = None) -> None:
        self._s3 = s3
        self.tuning = tuning or CopyTuning()

    def execute(self, conn: psycopg.Connection, statement: str) -> CopyResult | None:
        if not is_copy(statement):
            conn.execute(to_postgres(statement))
            return None
        # nextval is not transactional: the id outlives a failed COPY, as pg_last_copy_id() needs.
        query_id = conn.execute("SELECT nextval('stl_query_id_seq')").fetchone()[0]
        try:
            result = LocalCopy(self._s3(), self.tuning).run(conn, parse_copy(statement))
        except LoadError as exc:
            record_load_errors(conn, query_id, exc.errors)
            raise
        record_load_errors(conn, query_id, result.errors)
        return result


def record_load_errors(conn: psycopg.Connection, query_id: int, errors: list[LoadErrorRecord]) -> None:
    """Keep rejected records in stl_load_errors, outside the COPY's transaction as Redshift does."""
    if not errors:
        return
    params = conn.info.get_parameters()
    session = conn.info.backend_pid
    with psycopg.connect(**params, password=conn.info.password, autocommit=True) as side, side.cursor() as cur:
        cur.executemany(
            "INSERT INTO stl_load_errors (query, session, starttime, tbl, filename, line_number, colname, type,"
            " col_length, position, raw_line, raw_field_value, err_code, err_reason)"
            " VALUES (%s, %s, %s, to_regclass(%s)::oid::int, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [
                (query_id, session, e.starttime, e.tbl, e.filename, e.line_number, e.colname, e.type,
                 e.col_length, e.position, e.raw_line, e.raw_field_value, e.err_code, e.err_reason)
                for e in errors
            ],
        )
