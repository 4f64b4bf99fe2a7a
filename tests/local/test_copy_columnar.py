"""local.copy.columnar: objects of JSON Lines converted by polars load exactly what the row path loads,
or the row path decides."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from local.copy.tuning import CopyTuning
from tests.local.copying import both_paths, jsonl, put, wide


def test_columnar_path_loads_what_the_row_path_loads(
    bucket: Any, pg: psycopg.Connection, vouched: list[bool]
) -> None:
    """Non-ASCII, escapes, empty strings, nulls, ids as strings and epochs load identically."""
    put(bucket, "in/a.json", jsonl(*(wide(i) for i in range(3000))))
    fast, exact, fast_errors, slow_errors = both_paths(pg, bucket)
    assert vouched == [True]
    assert len(fast) == 3000
    assert fast == exact
    assert fast_errors == slow_errors == []


@pytest.mark.parametrize(
    ("line", "change"),
    [
        (2900, {"name": 12}),  # a number in a text column: the row path writes "12"
        (2900, {"n": 2.5}),  # a fraction in an integer column: rejected with its line
        (2900, {"user_id": " 7"}),  # digits with a blank: the row path strips it
        (2900, {"name": "x" * 30}),  # too long: rejected with its line
        (2900, {"small": 40000}),  # out of SMALLINT's range: rejected with its line
        (2900, {"note": "nul\u0000"}),  # NUL: rejected with its line
        (2900, {"name": {"nested": True}}),  # an object in a text column: loaded as JSON text
        (2900, {"n": True}),  # a boolean in an integer column: rejected with its line
        (2900, {"x": False}),  # a boolean in a DOUBLE PRECISION column: rejected with its line
    ],
)
def test_columnar_path_hands_doubtful_records_to_the_row_path(
    bucket: Any, pg: psycopg.Connection, vouched: list[bool], line: int,
    change: dict[str, Any],
) -> None:
    """Whatever polars cannot vouch for loads, or is rejected at its line, as on the row path."""
    records = [wide(i) for i in range(3000)]
    records[line - 1] |= change
    put(bucket, "in/a.json", jsonl(*records))
    fast, exact, fast_errors, slow_errors = both_paths(pg, bucket)
    assert vouched == [False]
    assert fast == exact
    assert fast_errors == slow_errors


def test_row_path_takes_over_mid_object_with_the_right_line(
    bucket: Any, pg: psycopg.Connection, vouched: list[bool]
) -> None:
    """A bad record in a later chunk of a large object: earlier chunks load columnar, and the
    rejection names the record's own line in the object."""
    records = [wide(i) for i in range(3000)]
    records[2499]["small"] = "not a number"
    put(bucket, "in/a.json", jsonl(*records))
    fast, exact, fast_errors, slow_errors = both_paths(pg, bucket, CopyTuning(chunk_bytes=64 * 1024))
    assert fast == exact and len(fast) == 2999
    # Records 1-2499 fill the first chunks; the chunk holding line 2500 goes to the row path.
    assert vouched.count(True) >= 2 and False in vouched
    assert fast_errors == slow_errors
    assert [line for _, line, _ in fast_errors] == [2500]
