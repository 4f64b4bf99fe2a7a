"""The local COPY against the Redshift guide's own JSON examples and rules: COPY from JSON format
(copy-usage_notes-copy-from-json), JSON and JSONPaths (copy-parameters-data-format), the data
conversion parameters (copy-parameters-data-conversion) and the COPY examples (r_COPY_command_examples),
on moto's S3 and the real PostgreSQL."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from core.load_errors import CopyError, LoadError
from local.copy.records import MAX_RECORD_BYTES
from local.copy.tuning import CopyTuning
from tests.local.copying import BUCKET, ROLE, copy, jsonl, load_errors, put, rows

# The TICKIT CATEGORY table the examples load.
CATEGORY = "CREATE TABLE category (catid SMALLINT, catgroup VARCHAR(10), catname VARCHAR(10), catdesc VARCHAR(50))"
CATEGORY_ROWS = [
    (1, "Sports", "MLB", "Major League Baseball"),
    (2, "Sports", "NHL", "National Hockey League"),
    (3, "Sports", "NFL", "National Football League"),
    (4, "Sports", "NBA", "National Basketball Association"),
]

# r_COPY_command_examples, "Load from JSON data using the 'auto' option": pretty-printed objects,
# two of them on one line ("}{"), keys in any order, an extra key ignored.
CATEGORY_OBJECT_AUTO = """{
    "catdesc": "Major League Baseball",
    "catid": 1,
    "catgroup": "Sports",
    "catname": "MLB"
}
{
    "catgroup": "Sports",
    "catid": 2,
    "catname": "NHL",
    "catdesc": "National Hockey League"
}{
    "catid": 3,
    "catname": "NFL",
    "catgroup": "Sports",
    "catdesc": "National Football League"
}
{
    "bogus": "Bogus Sports LLC",
    "catid": 4,
    "catgroup": "Sports",
    "catname": "NBA",
    "catdesc": "National Basketball Association"
}
{
    "catid": 5,
    "catgroup": "Shows",
    "catname": "Musicals",
    "catdesc": "All symphony, concerto, and choir concerts"
}
"""

# "Load from JSON data using a JSONPaths file".
CATEGORY_OBJECT_PATHS = """{
    "one": 1,
    "two": "Sports",
    "three": "MLB",
    "four": "Major League Baseball"
}
{
    "three": "NHL",
    "four": "National Hockey League",
    "one": 2,
    "two": "Sports"
}
{
    "two": "Sports",
    "three": "NFL",
    "one": 3,
    "four": "National Football League"
}
{
    "one": 4,
    "two": "Sports",
    "three": "NBA",
    "four": "National Basketball Association"
}
{
    "one": 6,
    "two": "Shows",
    "three": "Musicals",
    "four": "All symphony, concerto, and choir concerts"
}
"""
CATEGORY_JSONPATH = """{
    "jsonpaths": [
        "$['one']",
        "$['two']",
        "$['three']",
        "$['four']"
    ]
}
"""

# "Load from JSON arrays using a JSONPaths file".
CATEGORY_ARRAY_DATA = """[1,"Sports","MLB","Major League Baseball"]
[2,"Sports","NHL","National Hockey League"]
[3,"Sports","NFL","National Football League"]
[4,"Sports","NBA","National Basketball Association"]
[5,"Concerts","Classical","All symphony, concerto, and choir concerts"]
"""
CATEGORY_ARRAY_JSONPATH = """{
    "jsonpaths": [
        "$[0]",
        "$[1]",
        "$[2]",
        "$[3]"
    ]
}
"""


def test_guide_load_with_auto(bucket: Any, pg: psycopg.Connection) -> None:
    source = put(bucket, "category_object_auto.json", CATEGORY_OBJECT_AUTO)
    pg.execute(CATEGORY)
    result = copy(pg, bucket, f"copy category from '{source}' iam_role '{ROLE}' json 'auto'")
    assert (result.rows, result.errors) == (5, [])
    assert rows(pg, "SELECT * FROM category ORDER BY 1") == [
        *CATEGORY_ROWS, (5, "Shows", "Musicals", "All symphony, concerto, and choir concerts")
    ]


def test_guide_load_with_auto_ignorecase(bucket: Any, pg: psycopg.Connection) -> None:
    """'auto ignorecase' matches keys whatever their case; 'auto' leaves such columns NULL."""
    body = CATEGORY_OBJECT_AUTO.replace('"catdesc"', '"CatDesc"').replace('"catgroup"', '"CATGROUP"')
    source = put(bucket, "category_object_auto_ignorecase.json", body)
    pg.execute(CATEGORY)
    copy(pg, bucket, f"copy category from '{source}' iam_role '{ROLE}' format as json 'auto ignorecase'")
    assert rows(pg, "SELECT * FROM category WHERE catid < 5 ORDER BY 1") == CATEGORY_ROWS
    pg.execute("TRUNCATE category")
    copy(pg, bucket, f"copy category from '{source}' iam_role '{ROLE}' format as json 'auto'")
    assert rows(pg, "SELECT DISTINCT catgroup, catdesc FROM category") == [(None, None)]


def test_guide_load_objects_with_a_jsonpaths_file(bucket: Any, pg: psycopg.Connection) -> None:
    source = put(bucket, "category_object_paths.json", CATEGORY_OBJECT_PATHS)
    paths = put(bucket, "category_jsonpath.json", CATEGORY_JSONPATH)
    pg.execute(CATEGORY)
    copy(pg, bucket, f"copy category from '{source}' iam_role '{ROLE}' json '{paths}'")
    assert rows(pg, "SELECT * FROM category ORDER BY 1") == [
        *CATEGORY_ROWS, (6, "Shows", "Musicals", "All symphony, concerto, and choir concerts")
    ]


def test_guide_load_arrays_with_a_jsonpaths_file(bucket: Any, pg: psycopg.Connection) -> None:
    """The guide's JSON arrays load by position; this was refused with "a record must be a JSON object"."""
    source = put(bucket, "category_array_data.json", CATEGORY_ARRAY_DATA)
    paths = put(bucket, "category_array_jsonpath.json", CATEGORY_ARRAY_JSONPATH)
    pg.execute(CATEGORY)
    result = copy(pg, bucket, f"copy category from '{source}' iam_role '{ROLE}' json '{paths}'")
    assert (result.rows, result.errors) == (5, [])
    assert rows(pg, "SELECT * FROM category ORDER BY 1") == [
        *CATEGORY_ROWS, (5, "Concerts", "Classical", "All symphony, concerto, and choir concerts")
    ]


def test_pretty_printed_arrays_and_nested_paths(bucket: Any, pg: psycopg.Connection) -> None:
    """copy-usage_notes-copy-from-json's two pretty-printed arrays; arrays inside arrays and objects
    inside arrays are reached with indexes and names in one notation."""
    source = put(
        bucket,
        "in/arrays.json",
        '[\n    1006410,\n    "Amazon Redshift Database Developer Guide"\n]\n'
        '[\n    100540,\n    "Amazon Simple Storage Service User Guide", [{"k": "deep"}]\n]\n',
    )
    paths = put(bucket, "meta/paths.json", json.dumps({"jsonpaths": ["$[0]", "$[1]", "$[2][0].k"]}))
    pg.execute("CREATE TABLE t (id INTEGER, title VARCHAR(64), k VARCHAR(8))")
    result = copy(pg, bucket, f"COPY t FROM '{source}' IAM_ROLE '{ROLE}' JSON '{paths}' MAXERROR 1")
    # The first array has no third element: "Not an array or index out of range".
    assert rows(pg) == [(100540, "Amazon Simple Storage Service User Guide", "deep")]
    assert [(e.line_number, e.colname, e.err_reason) for e in result.errors] == [
        (4, "k", "Invalid JSONPath format: Not an array or index out of range")
    ]


def test_guide_objects_and_arrays_load_as_json_text(bucket: Any, pg: psycopg.Connection) -> None:
    """copy-usage_notes-copy-from-json: `$['tags']` loads the whole array, `$['friends'][1]` the object."""
    record = {
        "id": 0, "guid": "84512477-fa49-456b-b407-581d0d851c3c", "isActive": True,
        "tags": ["nisi", "culpa", "ad", "amet", "voluptate", "reprehenderit", "veniam"],
        "friends": [{"id": 0, "name": "Carmella Gonzales"}, {"id": 1, "name": "Renaldo"}],
    }
    source = put(bucket, "in/a.json", json.dumps(record, indent=4))
    paths = put(bucket, "meta/paths.json", json.dumps({"jsonpaths": ["$['tags']", "$['friends'][1]"]}))
    pg.execute("CREATE TABLE t (tags VARCHAR(100), friend VARCHAR(100))")
    copy(pg, bucket, f"COPY t FROM '{source}' IAM_ROLE '{ROLE}' JSON '{paths}'")
    tags = '["nisi","culpa","ad","amet","voluptate","reprehenderit","veniam"]'
    assert rows(pg) == [(tags, '{"id":1,"name":"Renaldo"}')]


def test_guide_escape_characters(bucket: Any, pg: psycopg.Connection) -> None:
    """copy-usage_notes-copy-from-json, "Escape characters in JSON", with its escape.json."""
    source = put(
        bucket,
        "json/escape.json",
        '{\n  "backslash": "This is a backslash: \\\\",\n  "newline": "This sentence\\n is on two lines.",\n'
        '  "tab": "This sentence \\t contains a tab."\n}\n',
    )
    pg.execute("create table escapes (backslash varchar(25), newline varchar(35), tab varchar(35))")
    copy(pg, bucket, f"copy escapes from '{source}' iam_role '{ROLE}' format as json 'auto'")
    assert rows(pg, "SELECT * FROM escapes") == [
        ("This is a backslash: \\", "This sentence\n is on two lines.", "This sentence \t contains a tab.")
    ]


@pytest.mark.parametrize("columnar", [True, False], ids=["columnar", "row"])
def test_arrays_need_a_jsonpaths_file(
    bucket: Any, pg: psycopg.Connection, vouched: list[bool], columnar: bool
) -> None:
    """'auto' maps object keys: an array record is rejected, as is a scalar, each counting toward
    MAXERROR; the columnar path leaves them to the row path."""
    put(bucket, "in/a.json", jsonl(*({"catid": i} for i in range(2000))) + '[2, "Sports"]\n"three"\n')
    pg.execute(CATEGORY)
    tuning = CopyTuning(min_columnar_bytes=0 if columnar else 1 << 60)
    copy(pg, bucket, f"COPY category FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto' MAXERROR 2", tuning)
    assert rows(pg, "SELECT count(*) FROM category") == [(2000,)]
    errors = [(e["line_number"], e["err_reason"]) for e in load_errors(pg)]
    assert [line for line, _ in errors] == [2001, 2002]
    assert "the record is an array, and JSON 'auto' needs objects" in errors[0][1]
    assert "the record is not a JSON object" in errors[1][1]
    assert vouched == ([False] if columnar else [])


def test_index_out_of_range_fails_the_copy_without_maxerror(bucket: Any, pg: psycopg.Connection) -> None:
    """copy-parameters-data-format: an array element a path names that is not there is an error, not NULL."""
    source = put(bucket, "in/a.json", "[1, \"a\"]\n[2]\n")
    paths = put(bucket, "meta/paths.json", json.dumps({"jsonpaths": ["$[0]", "$[1]"]}))
    pg.execute("CREATE TABLE t (id INTEGER, s VARCHAR(4))")
    with pytest.raises(LoadError, match="line 2, column s: Invalid JSONPath format: Not an array or index out of"):
        copy(pg, bucket, f"COPY t FROM '{source}' IAM_ROLE '{ROLE}' JSON '{paths}'")
    assert rows(pg) == []


def test_a_scalar_is_no_record_for_a_jsonpaths_file(bucket: Any, pg: psycopg.Connection) -> None:
    """copy-parameters-data-format: "The JSON data file contains a set of either objects or arrays"."""
    source = put(bucket, "in/a.json", '[1, "a"]\n5\n{"x": 1}\n')
    paths = put(bucket, "meta/paths.json", json.dumps({"jsonpaths": ["$[0]", "$[1]"]}))
    pg.execute("CREATE TABLE t (id INTEGER, s VARCHAR(4))")
    result = copy(pg, bucket, f"COPY t FROM '{source}' IAM_ROLE '{ROLE}' JSON '{paths}' MAXERROR 2")
    assert rows(pg) == [(1, "a")]
    assert [(e.line_number, e.err_reason) for e in result.errors] == [
        (2, "Invalid JSON object: a record must be a JSON object or array"),
        (3, "Invalid JSONPath format: Not an array or index out of range"),
    ]


@pytest.mark.parametrize(
    ("paths", "match"),
    [
        (["$['a']", "$.b"], r"mixes dot notation \(\$\.a\) and bracket notation"),
        (["$.a['x']", "$.b"], "mixes dot and bracket notation"),
        (["$['a']", 1], "path 2 is 1, not a string"),
        (["$['a']", ""], "must start with '\\$'"),
        (["$.a[*]", "$.b"], "invalid JSONPath '\\$.a\\[\\*\\]'"),
        (["$[?(@.a)]", "$.b"], "invalid JSONPath"),
        (["$[-1]", "$[0]"], "invalid JSONPath"),
        (["$", "$.b"], "names no field"),
    ],
    ids=["mixed-in-file", "mixed-in-path", "not-a-string", "empty", "wildcard", "filter", "negative-index", "root"],
)
def test_jsonpaths_the_guide_refuses(bucket: Any, pg: psycopg.Connection, paths: list[Any], match: str) -> None:
    """One notation per file, string paths, no wildcards, filters or negative indexes; the COPY stops
    before loading, pointing at the guide."""
    url = put(bucket, "meta/paths.json", json.dumps({"jsonpaths": paths}))
    put(bucket, "in/a.json", jsonl({"a": 1, "b": 2}))
    pg.execute("CREATE TABLE t (a INTEGER, b INTEGER)")
    with pytest.raises(CopyError, match=match) as info:
        copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON '{url}'")
    assert "copy-parameters-data-format" in str(info.value)
    assert rows(pg) == []


def test_dot_notation_names_hold_any_character_but_quote_dot_and_brackets(bucket: Any, pg: psycopg.Connection) -> None:
    """`$.user-agent` and `$.a b` are dot-notation names: only ' . [ ] are excluded."""
    url = put(bucket, "meta/paths.json", json.dumps({"jsonpaths": ["$.user-agent", "$.a b"]}))
    put(bucket, "in/a.json", jsonl({"user-agent": "curl", "a b": "spaced"}))
    pg.execute("CREATE TABLE t (ua VARCHAR(8), ab VARCHAR(8))")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON '{url}'")
    assert rows(pg) == [("curl", "spaced")]


@pytest.mark.parametrize(("option", "expected"), [("", Decimal("20.25")), ("ROUNDEC", Decimal("20.26"))])
def test_decimals_truncate_unless_roundec(bucket: Any, pg: psycopg.Connection, option: str, expected: Decimal) -> None:
    """copy-parameters-data-conversion: 20.259 into DECIMAL(8,2) is 20.25, or 20.26 with ROUNDEC;
    a JSON string and a JSON number alike."""
    put(bucket, "in/a.json", '{"d": "20.259"}\n{"d": 20.259}\n{"d": "-20.259"}\n')
    pg.execute("CREATE TABLE t (d DECIMAL(8, 2))")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto' {option}")
    assert sorted(rows(pg, "SELECT d FROM t")) == [(-expected,), (expected,), (expected,)]


def test_blank_strings_load_as_null_into_other_types(bucket: Any, pg: psycopg.Connection) -> None:
    """Empty and blank strings are NULL in INT, DECIMAL, FLOAT, BOOLEAN and TIMESTAMP columns always
    (copy-parameters-data-conversion, BLANKSASNULL and EMPTYASNULL), and kept in VARCHAR."""
    put(bucket, "in/a.json", jsonl({"n": "  ", "d": "", "f": " ", "b": "", "ts": "   ", "s": "  "}))
    pg.execute("CREATE TABLE t (n INTEGER, d DECIMAL(5, 1), f REAL, b BOOLEAN, ts TIMESTAMP, s VARCHAR(4))")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto'")
    assert rows(pg) == [(None, None, None, None, None, "  ")]


@pytest.mark.parametrize("columnar", [True, False], ids=["columnar", "row"])
def test_ignoreheader_skips_lines(bucket: Any, pg: psycopg.Connection, columnar: bool) -> None:
    """IGNOREHEADER n skips the first n lines of every file (copy-parameters-data-format); load
    errors still name the file's own line numbers."""
    body = "header one\nheader two\n" + jsonl(*({"id": i} for i in range(5000))) + '{"id": "x"}\n'
    put(bucket, "in/a.json", body)
    put(bucket, "in/b.json", 'h1\nh2\n{"id": -1}\n{\n  "id": -2\n}\n{"id": -3}\n')
    pg.execute("CREATE TABLE t (id INTEGER)")
    tuning = CopyTuning(min_columnar_bytes=0 if columnar else 1 << 60, chunk_bytes=4096)
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto' IGNOREHEADER 2 MAXERROR 1",
         tuning)
    assert rows(pg, "SELECT count(*), min(id), max(id) FROM t") == [(5003, -3, 4999)]
    assert [(e["filename"][-6:], e["line_number"]) for e in load_errors(pg)] == [("a.json", 5003)]


def test_acceptinvchars_replaces_each_invalid_byte(bucket: Any, pg: psycopg.Connection) -> None:
    """Invalid UTF-8 fails the COPY; ACCEPTINVCHARS writes its character for each invalid byte."""
    put(bucket, "in/a.json", b'{"s": "ok \xe2\x82 \xff"}\n{"s": "caf\xc3\xa9"}\n')
    pg.execute("CREATE TABLE t (s VARCHAR(16))")
    statement = f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto'"
    with pytest.raises(CopyError, match="cannot read .*ACCEPTINVCHARS"):
        copy(pg, bucket, statement)
    copy(pg, bucket, statement + " ACCEPTINVCHARS")
    copy(pg, bucket, statement + " ACCEPTINVCHARS AS '^'")
    assert rows(pg, "SELECT s FROM t ORDER BY s") == [("café",), ("café",), ("ok ?? ?",), ("ok ^^ ^",)]


@pytest.mark.parametrize("columnar", [True, False], ids=["columnar", "row"])
def test_a_record_over_4_mb_fails_the_copy(
    bucket: Any, pg: psycopg.Connection, vouched: list[bool], columnar: bool
) -> None:
    """copy_json / copy-parameters-data-format: one JSON object is at most 4 MB; a larger one fails
    the COPY whatever MAXERROR says, on either path. One of exactly 4 MB loads."""
    def record(size: int) -> str:
        return json.dumps({"id": 1, "s": "x" * (size - len(json.dumps({"id": 1, "s": ""})))})

    fits = record(MAX_RECORD_BYTES)
    assert len(fits) == MAX_RECORD_BYTES
    url = put(bucket, "in/a.json", jsonl({"id": 0}) + fits + "\n" + record(MAX_RECORD_BYTES + 1) + "\n")
    pg.execute("CREATE TABLE t (id INTEGER, s TEXT)")
    tuning = CopyTuning(min_columnar_bytes=0 if columnar else 1 << 60)
    with pytest.raises(CopyError, match=f"{url} line 3: a JSON record is over Redshift's 4 MB limit"):
        copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto' MAXERROR 10", tuning)
    # The columnar path took the piece with the 4 MB record and left the next one to the row path
    # (the two are converted at once, so they may finish in either order).
    assert sorted(vouched) == ([False, True] if columnar else [])


def test_a_pretty_printed_record_over_4_mb_fails_the_copy(bucket: Any, pg: psycopg.Connection) -> None:
    """The limit holds for a record spread over lines too."""
    body = "{\n" + "".join(f'  "k{i}": "{"x" * 1000}",\n' for i in range(4200)) + '  "id": 1\n}\n'
    url = put(bucket, "in/a.json", body)
    pg.execute("CREATE TABLE t (id INTEGER)")
    with pytest.raises(CopyError, match=f"{url} line .*: a JSON record is over Redshift's 4 MB limit"):
        copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto'")


def test_unicode_escapes(bucket: Any, pg: psycopg.Connection) -> None:
    """\\uXXXX escapes, surrogate pairs included, load as the characters they name; an unpaired
    surrogate is no UTF-8 character: rejected with Redshift's code 1220, or replaced with ACCEPTINVCHARS."""
    put(bucket, "in/a.json", '{"s": "caf\\u00e9 \\ud83c\\udfb5"}\n{"s": "a\\ud800"}\n')
    pg.execute("CREATE TABLE t (s VARCHAR(16))")
    statement = f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto'"
    copy(pg, bucket, statement + " MAXERROR 1")
    assert rows(pg) == [("café 🎵",)]
    assert [(e["line_number"], e["err_code"], e["raw_field_value"]) for e in load_errors(pg)] == [
        (2, 1220, "a\\ud800")
    ]
    pg.execute("TRUNCATE t")
    copy(pg, bucket, statement + " ACCEPTINVCHARS")
    assert rows(pg) == [("a???",), ("café 🎵",)]
