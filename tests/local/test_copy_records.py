"""local.copy.records: how the local COPY frames JSON records and maps their fields, on moto's S3 and
the real PostgreSQL."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from core.load_errors import CopyError, LoadError
from tests.local.copying import BUCKET, ROLE, copy, jsonl, load_errors, put, rows


def test_json_auto_maps_keys_case_sensitively(bucket: Any, pg: psycopg.Connection) -> None:
    """'auto' fills a column only from the key spelled exactly like it; other keys are ignored."""
    put(bucket, "in/a.json", jsonl({"id": 1, "Name": "upper", "extra": True}, {"id": 2, "name": "lower"}))
    pg.execute("CREATE TABLE t (id INTEGER, name VARCHAR(16))")
    result = copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' FORMAT AS JSON 'auto'")
    assert (result.rows, result.files, result.errors) == (2, 1, [])
    assert rows(pg) == [(1, None), (2, "lower")]


def test_json_auto_ignorecase(bucket: Any, pg: psycopg.Connection) -> None:
    """'auto ignorecase' maps keys to columns regardless of case."""
    put(bucket, "in/a.json", jsonl({"ID": 1, "Name": "upper"}, {"id": 2, "NAME": "shout"}))
    pg.execute("CREATE TABLE t (id INTEGER, name VARCHAR(16))")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' FORMAT AS JSON 'auto ignorecase'")
    assert rows(pg) == [(1, "upper"), (2, "shout")]


def test_json_auto_with_column_list(bucket: Any, pg: psycopg.Connection) -> None:
    """With a column list only those columns are loaded; the others get their default."""
    put(bucket, "in/a.json", jsonl({"id": 1, "name": "x", "note": "skipped"}))
    pg.execute("CREATE TABLE t (id INTEGER, name VARCHAR(16), note VARCHAR(16) DEFAULT 'dflt')")
    copy(pg, bucket, f"COPY t (name, id) FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto'")
    assert rows(pg) == [(1, "x", "dflt")]


@pytest.mark.parametrize(
    "paths",
    [["$['arr'][0]", "$['obj']['name']", "$['plain']"], ["$.arr[0]", "$.obj.name", "$.plain"]],
    ids=["bracket", "dot"],
)
def test_jsonpaths_by_position(bucket: Any, pg: psycopg.Connection, paths: list[str]) -> None:
    """Bracket or dot paths, with array indexes, feed the columns in order, whatever their names;
    a missing name is NULL."""
    url = put(bucket, "meta/paths.json", json.dumps({"jsonpaths": paths}))
    put(
        bucket,
        "in/a.json",
        jsonl(
            {"plain": "p1", "obj": {"name": "n1"}, "arr": [7, 8]},
            {"plain": "p2", "obj": {}, "arr": [9]},
        ),
    )
    pg.execute("CREATE TABLE t (first_val INTEGER, nested VARCHAR(8), plain VARCHAR(8))")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' FORMAT AS JSON '{url}'")
    assert rows(pg, "SELECT * FROM t ORDER BY plain") == [(7, "n1", "p1"), (9, None, "p2")]


@pytest.mark.parametrize(
    ("body", "match"),
    [
        (json.dumps({"jsonpaths": ["$['a']"]}), "1 paths but .* 2 columns"),
        (json.dumps({"jsonpath": ["$['a']", "$['b']"]}), '"jsonpaths"'),
        (json.dumps({"jsonpaths": ["$['a']", "$['b']"], "other": 1}), '"jsonpaths"'),
        ('{"jsonpaths": ["$[\'a\']", ', "not valid JSON"),
    ],
    ids=["count-mismatch", "wrong-key", "extra-key", "not-json"],
)
def test_bad_jsonpaths_file(bucket: Any, pg: psycopg.Connection, body: str, match: str) -> None:
    """A JSONPaths file that cannot map the columns stops the COPY before any row loads."""
    paths = put(bucket, "meta/paths.json", body)
    put(bucket, "in/a.json", jsonl({"a": 1, "b": "x"}))
    pg.execute("CREATE TABLE t (a INTEGER, b VARCHAR(8))")
    with pytest.raises(CopyError, match=match) as info:
        copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON '{paths}'")
    assert paths in str(info.value)
    assert rows(pg) == []


@pytest.mark.parametrize(
    "body",
    [
        '{"id": 1}\n{"id": 2}\n{"id": 3}\n',
        '{\n  "id": 1\n}\n{\n  "id": 2,\n  "nested": {\n    "k": [1, 2]\n  }\n}\n{\n  "id": 3\n}',
        '{"id": 1} {"id": 2}\t{"id": 3}\n',
        '{"id": 1}\r\n\r\n{\r\n "id": 2\r\n}\r\n{"id": 3}  \n\n',
    ],
    ids=["one-per-line", "pretty-printed", "several-per-line", "crlf-and-blank-lines"],
)
def test_record_layouts(bucket: Any, pg: psycopg.Connection, body: str) -> None:
    """One object per line, pretty-printed objects, and whitespace-separated objects all load."""
    put(bucket, "in/a.json", body)
    pg.execute("CREATE TABLE t (id INTEGER)")
    result = copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/a.json' IAM_ROLE '{ROLE}' JSON 'auto'")
    assert result.rows == 3
    assert rows(pg) == [(1,), (2,), (3,)]


def test_malformed_raw_line_has_no_newline(bucket: Any, pg: psycopg.Connection) -> None:
    """raw_line of a malformed record is the line without its line break."""
    put(bucket, "in/a.json", '{"id": 1,\n{"id": 2}\n')
    pg.execute("CREATE TABLE t (id INTEGER)")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto' MAXERROR 1")
    assert rows(pg) == [(2,)]
    assert [(e["line_number"], e["raw_line"]) for e in load_errors(pg)] == [(1, '{"id": 1,')]


def test_line_numbers_count_newlines_only(bucket: Any, pg: psycopg.Connection) -> None:
    """A U+2028 inside a JSON string is not a line break."""
    put(bucket, "in/a.json", '{"id": 1, "name": "a\u2028b"}\n{"id": "x", "name": "c"}\n')
    pg.execute("CREATE TABLE t (id INTEGER, name VARCHAR(8))")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto' MAXERROR 1")
    assert rows(pg) == [(1, "a\u2028b")]
    assert [e["line_number"] for e in load_errors(pg)] == [2]


def test_unclosed_last_record_before_blank_lines_names_its_own_line(bucket: Any, pg: psycopg.Connection) -> None:
    """Trailing blank lines do not move the reported line of a record cut off at the end."""
    url = put(bucket, "in/a.json", '{"id": 1}\n{"id": 2,\n\n\n')
    pg.execute("CREATE TABLE t (id INTEGER)")
    with pytest.raises(LoadError, match=f"{url} line 2: Invalid JSON"):
        copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto'")
