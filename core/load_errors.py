"""What a COPY rejected, as Redshift reports it in stl_load_errors, read the same way on both targets."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import psycopg

if TYPE_CHECKING:
    from core.engine import Engine


class CopyError(ValueError):
    """A COPY that cannot run at all: bad statement, missing source, bad JSONPaths or manifest."""


@dataclass(frozen=True)
class LoadErrorRecord:
    """One rejected record, with the columns of Redshift's stl_load_errors."""

    tbl: str
    filename: str
    line_number: int
    colname: str
    type: str
    col_length: str
    position: int
    raw_line: str
    raw_field_value: str
    err_code: int
    err_reason: str
    starttime: datetime = field(default_factory=lambda: datetime.now(timezone.utc).replace(tzinfo=None))

    def describe(self) -> str:
        column = f", column {self.colname}" if self.colname else ""
        return f"{self.filename} line {self.line_number}{column}: {self.err_reason}"


class LoadError(RuntimeError):
    """A COPY that rejected more records than MAXERROR allows; nothing of it was loaded.

    `errors` may be empty when raised: Redshift's are read from stl_load_errors afterwards.
    """

    def __init__(self, table: str, errors: list[LoadErrorRecord], max_errors: int) -> None:
        self.table = table
        self.errors = errors
        self.max_errors = max_errors
        shown = "; ".join(e.describe() for e in errors[:5])
        more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
        detail = f"rejected {len(errors)} record(s), more than MAXERROR {max_errors}: {shown}{more}" if errors else (
            f"rejected more records than MAXERROR {max_errors}; see stl_load_errors"
        )
        super().__init__(f"COPY into {table} {detail}. Fix the source data or raise --max-errors.")


@dataclass
class CopyResult:
    """What a COPY loaded; Redshift reports no row or file counts to the client."""

    rows: int | None
    files: int | None
    errors: list[LoadErrorRecord]


# The rejected records of this session's latest COPY, on Redshift and on the local engine alike: 100
# are enough for a summary, and a COPY that rejects more has a problem no list will explain. The limit
# is a literal: Redshift's drivers fail on a bound parameter in LIMIT (r_ORDER_BY_clause).
_LAST_COPY_ERRORS = """
SELECT TRIM(filename), line_number, TRIM(colname), TRIM(type), TRIM(col_length), position,
       TRIM(raw_line), TRIM(raw_field_value), err_code, TRIM(err_reason), starttime
FROM stl_load_errors
WHERE query = pg_last_copy_id()
ORDER BY filename, line_number
LIMIT 100
"""


def last_copy_errors(engine: Engine, conn: psycopg.Connection, table: str) -> list[LoadErrorRecord]:
    """What this session's latest COPY rejected, from stl_load_errors."""
    rows = engine.query(conn, _LAST_COPY_ERRORS).fetchall()
    return [
        LoadErrorRecord(
            tbl=table, filename=f, line_number=n, colname=c or "", type=t or "", col_length=cl or "",
            position=p or 0, raw_line=r or "", raw_field_value=v or "", err_code=code, err_reason=reason,
            starttime=start,
        )
        for f, n, c, t, cl, p, r, v, code, reason, start in rows
    ]


def with_rejections(engine: Engine, conn: psycopg.Connection, exc: LoadError) -> LoadError:
    """A failed COPY's error with its rejected records, read from stl_load_errors in the COPY's
    session once its transaction has rolled back (Redshift writes them outside it)."""
    if exc.errors:
        return exc
    errors = last_copy_errors(engine, conn, exc.table)
    return LoadError(exc.table, errors, exc.max_errors) if errors else exc
