"""The engine interface: what runs a Redshift SQL statement on a warehouse connection. The Redshift
engine (the AWS target's) sends it as written; the local twin brings its own (`local.engine`)."""

from __future__ import annotations

from typing import Protocol

import psycopg

from core.copy_statement import is_copy, parse_copy
from core.load_errors import CopyResult, LoadError, last_copy_errors


class Engine(Protocol):
    """Runs one Redshift SQL statement; a COPY returns what it loaded and rejected."""

    name: str

    def execute(self, conn: psycopg.Connection, statement: str) -> CopyResult | None: ...


class RedshiftEngine:
    """Runs Redshift SQL as written: the engine of the AWS target."""

    name = "redshift"

    def execute(self, conn: psycopg.Connection, statement: str) -> CopyResult | None:
        if not is_copy(statement):
            conn.execute(statement)
            return None
        spec = parse_copy(statement)
        try:
            conn.execute(statement)
        except psycopg.Error as exc:
            # "Load into table 'x' failed. Check 'stl_load_errors' system table for details."
            if "stl_load_errors" in str(exc):
                raise LoadError(spec.table, [], spec.max_errors) from exc
            raise
        return CopyResult(rows=None, files=None, errors=last_copy_errors(conn, spec.table))
