"""local.copy.columnar: objects of JSON Lines converted by polars load exactly what the row path loads,
or the row path decides."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from core.warehouse import SQL_DIR, Session
from local.copy.tuning import CopyTuning
from local.engine import LocalEngine
from tests.local.copying import BUCKET, REGION, ROLE, both_paths, jsonl, put, rows, wide
from tests.support import SAMPLE


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


@pytest.mark.parametrize(
    "changes",
    [
        {10: {"name": "1999"}, 2900: {"note": "-0.5e3"}},  # song titles and artists such as the sample's
        {10: {"name": "[Untitled]"}, 20: {"note": "{curly}"}},
        {10: {"name": "true"}, 20: {"note": "false"}, 30: {"name": "0"}},
    ],
)
def test_columnar_path_loads_text_that_reads_like_other_json(
    bucket: Any, pg: psycopg.Connection, vouched: list[bool], changes: dict[int, dict[str, Any]]
) -> None:
    """JSON strings that read like a number, a boolean, an object or an array once polars has them
    as text are still vouched for: their own records are parsed again, not the whole object."""
    records = [wide(i) for i in range(3000)]
    for line, change in changes.items():
        records[line - 1] |= change
    body = jsonl(*records)
    # Blank lines, lines of blanks and CRLF line ends, which polars passes over or strips as the row path does.
    put(bucket, "in/a.json", body.replace("\n", "\r\n", 100).replace("\n", "\n \n\t\r\n\n", 50))
    fast, exact, fast_errors, slow_errors = both_paths(pg, bucket)
    assert vouched == [True]
    assert fast == exact and len(fast) == len(records)
    assert fast_errors == slow_errors == []


@pytest.mark.parametrize(
    "raw",
    [
        '{"id": 1, "name": 1999}',  # the number itself, beside strings that only read like numbers
        '{"id": 1, "name": "1999", "name": "other"}',  # a repeated key: the row path keeps the last
    ],
)
def test_columnar_path_leaves_real_numbers_among_lookalikes_to_the_row_path(
    bucket: Any, pg: psycopg.Connection, vouched: list[bool], raw: str
) -> None:
    """A record that holds the lookalike as a number, or beside another value of its key, is the row path's."""
    records = [wide(i) for i in range(3000)]
    records[9]["name"] = "1999"
    body = jsonl(*records).splitlines(keepends=True)
    body[2899] = raw + "\n"
    put(bucket, "in/a.json", "".join(body))
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


def test_the_samples_events_load_columnar(bucket: Any, pg: psycopg.Connection, vouched: list[bool]) -> None:
    """The sample's event files, whose songs include "1999" and "1234", load through polars whole,
    with the pipeline's own tables and COPY, and as the row path loads them."""
    files = sorted((SAMPLE / "log_data").rglob("*.json"))
    for path in files:
        put(bucket, str(path.relative_to(SAMPLE)), path.read_bytes())
    paths_file = SQL_DIR / "staging" / "staging_events_jsonpaths.json"
    jsonpaths = put(bucket, paths_file.name, paths_file.read_bytes())
    manifest = put(bucket, "events.manifest", json.dumps({"entries": [
        {"url": f"s3://{BUCKET}/{path.relative_to(SAMPLE)}", "mandatory": True}
        for path in files
    ]}))
    params = {"manifest": manifest, "iam_role": ROLE, "region": REGION, "jsonpaths": jsonpaths, "max_errors": 0}
    loaded = []
    for tuning in (CopyTuning(), CopyTuning(min_columnar_bytes=1 << 60)):
        session = Session(pg, LocalEngine(lambda: bucket, tuning))
        session.run("ddl/create_staging_tables")
        session.run("staging/copy_staging_events", **params)
        loaded.append(sorted(rows(pg, "SELECT * FROM staging_events"), key=repr))
    # Files under min_columnar_bytes go to the row path before polars is offered them.
    offered = [path for path in files if path.stat().st_size >= CopyTuning().min_columnar_bytes]
    assert len(vouched) == len(offered) > 20 and all(vouched)
    assert len(loaded[0]) == sum(1 for path in files for line in path.read_bytes().splitlines() if line.strip())
    assert loaded[0] == loaded[1]
