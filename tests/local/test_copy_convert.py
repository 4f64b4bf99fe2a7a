"""local.copy.convert: JSON values converted as Redshift converts them, and rejected with its codes."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from core.load_errors import LoadError
from tests.local.copying import BUCKET, ROLE, copy, jsonl, load_errors, put, rows


def test_integer_from_string_and_empty(bucket: Any, pg: psycopg.Connection) -> None:
    """"53" loads into INTEGER as 53; "" into INTEGER is NULL even without EMPTYASNULL."""
    put(bucket, "in/a.json", jsonl({"n": "53", "m": "", "k": 7.0}))
    pg.execute("CREATE TABLE t (n INTEGER, m INTEGER, k BIGINT)")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto'")
    assert rows(pg) == [(53, None, 7)]


@pytest.mark.parametrize(
    ("timeformat", "value", "expected"),
    [
        ("epochmillisecs", 1541105830796, datetime(2018, 11, 1, 20, 57, 10, 796000)),
        ("epochsecs", 1541105830, datetime(2018, 11, 1, 20, 57, 10)),
        ("auto", "2018-11-01 20:57:10", datetime(2018, 11, 1, 20, 57, 10)),
    ],
)
def test_timeformat(bucket: Any, pg: psycopg.Connection, timeformat: str, value: Any, expected: datetime) -> None:
    """Epoch numbers become UTC timestamps; ISO strings load as written."""
    put(bucket, "in/a.json", jsonl({"ts": value}))
    pg.execute("CREATE TABLE t (ts TIMESTAMP)")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto' TIMEFORMAT AS '{timeformat}'")
    assert rows(pg) == [(expected,)]


def test_emptyasnull(bucket: Any, pg: psycopg.Connection) -> None:
    """"" in a VARCHAR column stays "" unless EMPTYASNULL turns it into NULL."""
    put(bucket, "in/a.json", jsonl({"id": 1, "s": ""}))
    pg.execute("CREATE TABLE t (id INTEGER, s VARCHAR(8))")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto'")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto' EMPTYASNULL")
    assert rows(pg, "SELECT s FROM t") == [("",), (None,)]


def test_blanksasnull(bucket: Any, pg: psycopg.Connection) -> None:
    """"   " stays as is unless BLANKSASNULL turns it into NULL."""
    put(bucket, "in/a.json", jsonl({"id": 1, "s": "   "}))
    pg.execute("CREATE TABLE t (id INTEGER, s VARCHAR(8))")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto'")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto' BLANKSASNULL")
    assert rows(pg, "SELECT s FROM t") == [("   ",), (None,)]


def test_truncatecolumns(bucket: Any, pg: psycopg.Connection) -> None:
    """TRUNCATECOLUMNS cuts a too-long value to the column's length in bytes."""
    put(bucket, "in/a.json", jsonl({"id": 1, "s": "abcdefgh"}, {"id": 2, "s": "ééé"}))
    pg.execute("CREATE TABLE t (id INTEGER, s VARCHAR(5))")
    result = copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto' TRUNCATECOLUMNS")
    assert result.errors == []
    # "ééé" is 6 bytes: 5 bytes hold two whole characters.
    assert rows(pg) == [(1, "abcde"), (2, "éé")]


def test_nested_values_load_as_json_text(bucket: Any, pg: psycopg.Connection) -> None:
    """Objects and arrays in a VARCHAR column are stored as compact JSON text; booleans as words."""
    put(bucket, "in/a.json", jsonl({"id": 1, "obj": {"k": [1, 2]}, "flag": True, "b": "yes"}))
    pg.execute("CREATE TABLE t (id INTEGER, obj VARCHAR(32), flag VARCHAR(8), b BOOLEAN)")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto'")
    assert rows(pg) == [(1, '{"k":[1,2]}', "true", True)]


def test_out_of_range_epoch_is_a_load_error(bucket: Any, pg: psycopg.Connection) -> None:
    """A corrupt epoch value is one rejected record, not a crash."""
    put(bucket, "in/a.json", jsonl({"ts": 10**20}, {"ts": 1541105830796}))
    pg.execute("CREATE TABLE t (ts TIMESTAMP)")
    copy(
        pg,
        bucket,
        f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto' TIMEFORMAT 'epochmillisecs' MAXERROR 1",
    )
    assert rows(pg) == [(datetime(2018, 11, 1, 20, 57, 10, 796000),)]
    assert [e["line_number"] for e in load_errors(pg)] == [1]


def test_nul_character_is_a_load_error(bucket: Any, pg: psycopg.Connection) -> None:
    """A string holding NUL is a rejected record (Redshift fails such a field without NULL AS)."""
    put(bucket, "in/a.json", '{"s": "a\\u0000b"}\n{"s": "ok"}\n')
    pg.execute("CREATE TABLE t (s VARCHAR(8))")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto' MAXERROR 1")
    assert rows(pg) == [("ok",)]
    assert [e["line_number"] for e in load_errors(pg)] == [1]


def test_integer_with_underscore_is_rejected(bucket: Any, pg: psycopg.Connection) -> None:
    """"1_000" is not a valid INTEGER."""
    put(bucket, "in/a.json", jsonl({"n": "1_000"}))
    pg.execute("CREATE TABLE t (n INTEGER)")
    with pytest.raises(LoadError):
        copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto'")


def test_decimal_keeps_its_digits(bucket: Any, pg: psycopg.Connection) -> None:
    """A DECIMAL(20,2) value loads exactly."""
    put(bucket, "in/a.json", jsonl({"d": "12345678901234567.89"}))
    pg.execute("CREATE TABLE t (d NUMERIC(20, 2))")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto'")
    assert rows(pg) == [(Decimal("12345678901234567.89"),)]


def test_decimal_overflow_is_a_load_error(bucket: Any, pg: psycopg.Connection) -> None:
    """A value too wide for DECIMAL(5,2) is one rejected record."""
    put(bucket, "in/a.json", jsonl({"d": "12345.6"}, {"d": "1.5"}))
    pg.execute("CREATE TABLE t (d NUMERIC(5, 2))")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto' MAXERROR 1")
    assert rows(pg) == [(Decimal("1.50"),)]
