"""The local engine: Redshift SQL run on the embedded PostgreSQL through the Redshift SQL layer
(`local.redshift`), with COPY emulated client-side and the Redshift system objects COPY fills."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg

from core.engine import CopyProgress
from core.load_errors import CopyResult, LoadError, LoadErrorRecord, last_copy_errors
from local.copy.loader import LocalCopy
from local.copy.statement import copy_spec
from local.copy.tuning import CopyTuning
from local.redshift import to_postgres, translate
from local.redshift.functions import FUNCTIONS_SQL

# The Redshift system objects the COPY path reads, created in every local cluster's database.
# stl_load_errors keeps Redshift's columns (tbl is the table's id, session the backend's pid);
# pg_last_copy_id() returns, as on Redshift, the query id of this session's latest COPY or -1.
# They are PostgreSQL, run as written: the Redshift SQL layer is for the SQL a user or the pipeline sends.
SYSTEM_DDL = (
    "CREATE SEQUENCE IF NOT EXISTS stl_query_id_seq",
    """CREATE TABLE IF NOT EXISTS stl_load_errors (
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
)""",
    """CREATE OR REPLACE FUNCTION pg_last_copy_id() RETURNS BIGINT LANGUAGE plpgsql AS $$
BEGIN
    RETURN currval('stl_query_id_seq');
EXCEPTION WHEN object_not_in_prerequisite_state THEN
    RETURN -1;
END $$""",
    FUNCTIONS_SQL,
)


def install_system_objects(conn: psycopg.Connection) -> None:
    """Give a PostgreSQL database the Redshift system objects the local COPY engine fills, and the
    Redshift functions PostgreSQL lacks."""
    for statement in SYSTEM_DDL:
        conn.execute(statement)


class LocalEngine:
    """Runs Redshift SQL on PostgreSQL through the Redshift SQL layer; COPY is emulated with objects
    read by the client `s3()`."""

    name = "postgres"

    def __init__(self, s3: Callable[[], Any], tuning: CopyTuning | None = None) -> None:
        self._s3 = s3
        self.tuning = tuning or CopyTuning()

    def execute(
        self, conn: psycopg.Connection, statement: str, progress: CopyProgress | None = None
    ) -> CopyResult | None:
        translation = translate(statement)
        if translation.copy is None:
            conn.execute(translation.postgres)
            return None
        spec = copy_spec(translation.copy)
        # nextval is not transactional: the id outlives a failed COPY, as pg_last_copy_id() needs.
        query_id = conn.execute("SELECT nextval('stl_query_id_seq')").fetchone()[0]
        try:
            result = LocalCopy(self._s3(), self.tuning).run(conn, spec, progress)
        except LoadError as exc:
            record_load_errors(conn, query_id, exc.errors)
            raise
        record_load_errors(conn, query_id, result.errors)
        # As on Redshift, what the COPY rejected is read back from stl_load_errors.
        return CopyResult(result.rows, result.files, last_copy_errors(self, conn, spec.table))

    def query(self, conn: psycopg.Connection, statement: str, params: tuple[Any, ...] = ()) -> psycopg.Cursor:
        return conn.execute(to_postgres(statement), params)


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
