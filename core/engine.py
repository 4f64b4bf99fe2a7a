"""The engine interface: what runs a Redshift SQL statement on a warehouse connection. The Redshift
engine (the AWS target's) sends it as written; the local twin brings its own (`local.engine`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import psycopg

from core.load_errors import CopyResult, LoadError, last_copy_errors
from core.redshift_sql import parse_copy

# Called with (objects read, objects in all) as a COPY goes, where the engine can tell.
CopyProgress = Callable[[int, int], None]


class Engine(Protocol):
    """Runs Redshift SQL on a warehouse connection."""

    name: str

    def execute(
        self, conn: psycopg.Connection, statement: str, progress: CopyProgress | None = None
    ) -> CopyResult | None:
        """Run one statement of a script; a COPY returns what it loaded and rejected."""

    def query(self, conn: psycopg.Connection, statement: str, params: tuple[Any, ...] = ()) -> psycopg.Cursor:
        """Run one query with bound parameters; the cursor holds its rows."""


class RedshiftEngine:
    """Runs Redshift SQL as written: the engine of the AWS target."""

    name = "redshift"

    def execute(
        self, conn: psycopg.Connection, statement: str, progress: CopyProgress | None = None
    ) -> CopyResult | None:
        # Redshift reports no progress of a COPY to the client that sent it.
        copy = parse_copy(statement)
        if copy is None:
            conn.execute(statement)
            return None
        try:
            conn.execute(statement)
        except psycopg.Error as exc:
            # "Load into table 'x' failed. Check 'stl_load_errors' system table for details."
            if "stl_load_errors" in str(exc):
                raise LoadError(copy.table, [], int(copy.options.get("MAXERROR", 0))) from exc
            raise
        return CopyResult(rows=None, files=None, errors=last_copy_errors(self, conn, copy.table))

    def query(self, conn: psycopg.Connection, statement: str, params: tuple[Any, ...] = ()) -> psycopg.Cursor:
        return conn.execute(statement, params)
