"""Helpers of the local COPY's tests: objects in moto's S3, a COPY run through the local engine on
the real PostgreSQL, and what it loaded and rejected."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import psycopg

from core.load_errors import CopyResult
from local.copy.tuning import CopyTuning
from local.engine import LocalEngine

BUCKET = "copy-src"
# Redshift reads S3 as a role named in every COPY; the local engine, with its own client.
ROLE = "arn:aws:iam::123456789012:role/copy-test"


REGION = "us-west-2"


def put(s3: Any, key: str, body: str | bytes) -> str:
    """Store one object; return its s3:// url."""
    s3.put_object(Bucket=BUCKET, Key=key, Body=body.encode() if isinstance(body, str) else body)
    return f"s3://{BUCKET}/{key}"


def jsonl(*records: dict[str, Any]) -> str:
    """One JSON object per line."""
    return "".join(json.dumps(r) + "\n" for r in records)


def copy(pg: psycopg.Connection, s3: Any, statement: str, tuning: CopyTuning | None = None) -> CopyResult:
    """Run a COPY through the local engine inside a transaction."""
    with pg.transaction():
        result = LocalEngine(lambda: s3, tuning).execute(pg, statement)
    assert result is not None
    return result


def rows(pg: psycopg.Connection, query: str = "SELECT * FROM t ORDER BY 1") -> list[tuple[Any, ...]]:
    return pg.execute(query).fetchall()


def load_errors(pg: psycopg.Connection) -> list[dict[str, Any]]:
    """stl_load_errors as dicts, oldest first."""
    with pg.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(
            "SELECT tbl::regclass::text AS tbl, filename, line_number, colname, err_code, err_reason, raw_line,"
            " raw_field_value FROM stl_load_errors ORDER BY query, filename, line_number"
        ).fetchall()


WIDE = (
    "CREATE TABLE t (id BIGINT, small SMALLINT, n INTEGER, user_id INTEGER, x DOUBLE PRECISION,"
    " r REAL, name VARCHAR(24), code CHAR(2), note TEXT, ts TIMESTAMP)"
)


WIDE_COPY = f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto' TIMEFORMAT AS 'epochmillisecs' MAXERROR 10"


def wide(i: int) -> dict[str, Any]:
    """A record exercising every converted type, with the sample's string-typed ids."""
    return {
        "id": i, "small": i % 30000 - 15000, "n": -i, "user_id": str(i) if i % 7 else "",
        "x": i / 3 if i % 5 else None, "r": 1.5 + i, "name": ["Björk", "Sigur Rós", "", "a\\b", 'q"uote'][i % 5],
        "code": "AB" if i % 2 else None, "note": ["tab\there", "line\nbreak", "plain", "\\N", "€"][i % 5],
        "ts": 1541105830796 + i,
    }


def both_paths(pg: psycopg.Connection, s3: Any, tuning: CopyTuning | None = None) -> tuple[list, list, list, list]:
    """Rows and load errors of WIDE_COPY by the columnar path, then by the row path alone."""
    tuning = tuning or CopyTuning()
    pg.execute(WIDE)
    columnar = copy(pg, s3, WIDE_COPY, tuning)
    fast, fast_errors = rows(pg), [(e["filename"], e["line_number"], e["err_reason"]) for e in load_errors(pg)]
    pg.execute("TRUNCATE t, stl_load_errors")
    exact = copy(pg, s3, WIDE_COPY, replace(tuning, min_columnar_bytes=1 << 60))
    assert columnar.rows == exact.rows
    slow_errors = [(e["filename"], e["line_number"], e["err_reason"]) for e in load_errors(pg)]
    return fast, rows(pg), fast_errors, slow_errors
