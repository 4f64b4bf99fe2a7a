"""tasks.copy_engine: Redshift's COPY emulated on the real moto S3 and the real PostgreSQL."""

from __future__ import annotations

import bz2
import gzip
import json
from datetime import datetime
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from tasks.copy_engine import CopyError, CopyResult, LoadError, parse_copy
from tasks.dialect import LocalPostgres, Redshift, last_copy_errors

BUCKET = "copy-src"
REGION = "us-west-2"


# ---------------------------------------------------------------------------------------------
# Helpers


@pytest.fixture
def bucket(s3: Any) -> Any:
    """The `s3` client with an empty source bucket in us-west-2."""
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    return s3


def put(s3: Any, key: str, body: str | bytes) -> str:
    """Store one object; return its s3:// url."""
    s3.put_object(Bucket=BUCKET, Key=key, Body=body.encode() if isinstance(body, str) else body)
    return f"s3://{BUCKET}/{key}"


def jsonl(*records: dict[str, Any]) -> str:
    """One JSON object per line."""
    return "".join(json.dumps(r) + "\n" for r in records)


def copy(pg: psycopg.Connection, s3: Any, statement: str) -> CopyResult:
    """Run a COPY through the local engine inside a transaction."""
    with pg.transaction():
        result = LocalPostgres(lambda: s3).execute(pg, statement)
    assert result is not None
    return result


def rows(pg: psycopg.Connection, query: str = "SELECT * FROM t ORDER BY 1") -> list[tuple[Any, ...]]:
    return pg.execute(query).fetchall()


def load_errors(pg: psycopg.Connection) -> list[dict[str, Any]]:
    """stl_load_errors as dicts, oldest first."""
    with pg.cursor(row_factory=psycopg.rows.dict_row) as cur:
        return cur.execute(
            "SELECT tbl::regclass::text AS tbl, filename, line_number, colname, err_code, err_reason, raw_line, raw_field_value"
            " FROM stl_load_errors ORDER BY query, filename, line_number"
        ).fetchall()


# ---------------------------------------------------------------------------------------------
# parse_copy


def test_parse_copy_keywords_in_any_case() -> None:
    """Lower-case keywords, optional AS, and ignored flags with ON/OFF all parse."""
    spec = parse_copy(
        "copy t from 's3://b/p' iam_role 'arn:x' format as json 'auto' maxerror as 3"
        " timeformat 'epochmillisecs' region 'us-west-2' compupdate off statupdate off"
    )
    assert (spec.table, spec.source, spec.iam_role, spec.json) == ("t", "s3://b/p", "arn:x", "auto")
    assert (spec.max_errors, spec.timeformat, spec.region) == (3, "epochmillisecs", "us-west-2")
    assert spec.columns == [] and not spec.manifest and spec.compression is None


def test_parse_copy_mixed_case_and_trailing_semicolon() -> None:
    """Upper/mixed case, TIMEFORMAT AS with an upper-case value, and a final ';'."""
    spec = parse_copy(
        "CoPy staging_events FROM 's3://b/log_data' IAM_ROLE 'arn:y' REGION AS 'eu-west-1'"
        " FORMAT AS JSON 's3://b/paths.json' TIMEFORMAT AS 'EPOCHSECS' MAXERROR 0;"
    )
    assert (spec.table, spec.json, spec.region, spec.timeformat, spec.max_errors) == (
        "staging_events", "s3://b/paths.json", "eu-west-1", "epochsecs", 0,
    )  # fmt: skip


def test_parse_copy_column_list_manifest_and_compression() -> None:
    """A column list, MANIFEST, GZIP / BZIP2 and the conversion flags are recorded."""
    spec = parse_copy(
        "COPY t (a, \"b\", c) FROM 's3://b/m.manifest' JSON 'auto ignorecase' MANIFEST GZIP"
        " TRUNCATECOLUMNS BLANKSASNULL EMPTYASNULL"
    )
    assert spec.columns == ["a", "b", "c"]
    assert spec.json == "auto ignorecase"
    assert spec.manifest and spec.compression == "GZIP"
    assert spec.truncate_columns and spec.blanks_as_null and spec.empty_as_null
    assert parse_copy("copy t from 's3://b/p' bzip2").compression == "BZIP2"


def test_parse_copy_unknown_option_names_it() -> None:
    """An option the local engine does not honour is an error that names the option."""
    with pytest.raises(CopyError, match="ACCEPTINVCHARS"):
        parse_copy("COPY t FROM 's3://b/p' FORMAT AS JSON 'auto' acceptinvchars")


def test_parse_copy_rejects_unsupported_timeformat_and_format() -> None:
    """Only JSON input and the epoch/auto TIMEFORMATs are supported."""
    with pytest.raises(CopyError, match="TIMEFORMAT"):
        parse_copy("COPY t FROM 's3://b/p' TIMEFORMAT 'YYYY-MM-DD HH:MI:SS'")
    with pytest.raises(CopyError, match="JSON"):
        parse_copy("COPY t FROM 's3://b/p' FORMAT AS CSV")


# ---------------------------------------------------------------------------------------------
# JSON 'auto' and JSONPaths


def test_json_auto_maps_keys_case_sensitively(bucket: Any, pg: psycopg.Connection) -> None:
    """'auto' fills a column only from the key spelled exactly like it; other keys are ignored."""
    put(bucket, "in/a.json", jsonl({"id": 1, "Name": "upper", "extra": True}, {"id": 2, "name": "lower"}))
    pg.execute("CREATE TABLE t (id INTEGER, name VARCHAR(16))")
    result = copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' FORMAT AS JSON 'auto'")
    assert (result.rows, result.files, result.errors) == (2, 1, [])
    assert rows(pg) == [(1, None), (2, "lower")]


def test_json_auto_ignorecase(bucket: Any, pg: psycopg.Connection) -> None:
    """'auto ignorecase' maps keys to columns regardless of case."""
    put(bucket, "in/a.json", jsonl({"ID": 1, "Name": "upper"}, {"id": 2, "NAME": "shout"}))
    pg.execute("CREATE TABLE t (id INTEGER, name VARCHAR(16))")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' FORMAT AS JSON 'auto ignorecase'")
    assert rows(pg) == [(1, "upper"), (2, "shout")]


def test_json_auto_with_column_list(bucket: Any, pg: psycopg.Connection) -> None:
    """With a column list only those columns are loaded; the others get their default."""
    put(bucket, "in/a.json", jsonl({"id": 1, "name": "x", "note": "skipped"}))
    pg.execute("CREATE TABLE t (id INTEGER, name VARCHAR(16), note VARCHAR(16) DEFAULT 'dflt')")
    copy(pg, bucket, f"COPY t (name, id) FROM 's3://{BUCKET}/in/' JSON 'auto'")
    assert rows(pg) == [(1, "x", "dflt")]


def test_jsonpaths_by_position(bucket: Any, pg: psycopg.Connection) -> None:
    """Bracket, dot and array-index paths feed the columns in order, whatever their names."""
    paths = put(bucket, "meta/paths.json", json.dumps({"jsonpaths": ["$['arr'][0]", "$.obj.name", "$['plain']"]}))
    put(
        bucket,
        "in/a.json",
        jsonl(
            {"plain": "p1", "obj": {"name": "n1"}, "arr": [7, 8]},
            {"plain": "p2", "obj": {}, "arr": []},
        ),
    )
    pg.execute("CREATE TABLE t (first_val INTEGER, nested VARCHAR(8), plain VARCHAR(8))")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' FORMAT AS JSON '{paths}'")
    assert rows(pg, "SELECT * FROM t ORDER BY plain") == [(7, "n1", "p1"), (None, None, "p2")]


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
        copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' JSON '{paths}'")
    assert paths in str(info.value)
    assert rows(pg) == []


# ---------------------------------------------------------------------------------------------
# Input layout, prefixes, manifests, compression


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
    result = copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/a.json' JSON 'auto'")
    assert result.rows == 3
    assert rows(pg) == [(1,), (2,), (3,)]


def test_prefix_reads_every_matching_key(bucket: Any, pg: psycopg.Connection) -> None:
    """A source is a key prefix: file.json, file.json.1 and file.json/sub/... all match; file2 does not."""
    put(bucket, "logs/file.json", jsonl({"id": 1}))
    put(bucket, "logs/file.json.1", jsonl({"id": 2}))
    put(bucket, "logs/file.json/sub/part.json", jsonl({"id": 3}))
    put(bucket, "logs/other.json", jsonl({"id": 99}))
    pg.execute("CREATE TABLE t (id INTEGER)")
    result = copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/logs/file.json' JSON 'auto'")
    assert result.files == 3
    assert rows(pg) == [(1,), (2,), (3,)]


def test_prefix_matching_nothing_is_an_error(bucket: Any, pg: psycopg.Connection) -> None:
    """An empty prefix does not silently load zero rows."""
    put(bucket, "logs/a.json", jsonl({"id": 1}))
    pg.execute("CREATE TABLE t (id INTEGER)")
    with pytest.raises(CopyError, match="matches no objects"):
        copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/nothing/here' JSON 'auto'")


def manifest(s3: Any, entries: list[dict[str, Any]]) -> str:
    return put(s3, "manifests/load.manifest", json.dumps({"entries": entries}))


def test_manifest_mandatory_missing_entry(bucket: Any, pg: psycopg.Connection) -> None:
    """A mandatory entry that does not exist stops the COPY and names the url; nothing loads."""
    present = put(bucket, "songs/a.json", jsonl({"id": 1}))
    missing = f"s3://{BUCKET}/songs/missing.json"
    src = manifest(bucket, [{"url": present, "mandatory": True}, {"url": missing, "mandatory": True}])
    pg.execute("CREATE TABLE t (id INTEGER)")
    with pytest.raises(CopyError, match=missing):
        copy(pg, bucket, f"COPY t FROM '{src}' JSON 'auto' MANIFEST")
    assert rows(pg) == []


def test_manifest_optional_missing_entry_is_skipped(bucket: Any, pg: psycopg.Connection) -> None:
    """A missing entry that is not mandatory (explicitly, or by default) is skipped."""
    present = put(bucket, "songs/a.json", jsonl({"id": 1}))
    src = manifest(
        bucket,
        [
            {"url": f"s3://{BUCKET}/songs/gone.json", "mandatory": False},
            {"url": present, "mandatory": True},
            {"url": f"s3://{BUCKET}/songs/also-gone.json"},
        ],
    )
    pg.execute("CREATE TABLE t (id INTEGER)")
    copy(pg, bucket, f"COPY t FROM '{src}' JSON 'auto' MANIFEST")
    assert rows(pg) == [(1,)]


def test_manifest_entry_listed_twice_loads_twice(bucket: Any, pg: psycopg.Connection) -> None:
    """The manifest is a list, not a set: a duplicate entry is loaded again."""
    first = put(bucket, "songs/a.json", jsonl({"id": 1}))
    second = put(bucket, "songs/b.json", jsonl({"id": 2}))
    src = manifest(bucket, [{"url": first, "mandatory": True}, {"url": second}, {"url": first}])
    pg.execute("CREATE TABLE t (id INTEGER)")
    result = copy(pg, bucket, f"COPY t FROM '{src}' JSON 'auto' MANIFEST")
    assert result.rows == 3
    assert rows(pg) == [(1,), (1,), (2,)]


def test_manifest_only_listed_files_load(bucket: Any, pg: psycopg.Connection) -> None:
    """With MANIFEST the source is the manifest, not a prefix: unlisted neighbours are not read."""
    listed = put(bucket, "songs/a.json", jsonl({"id": 1}))
    put(bucket, "songs/a.json.1", jsonl({"id": 2}))
    src = manifest(bucket, [{"url": listed, "mandatory": True}])
    pg.execute("CREATE TABLE t (id INTEGER)")
    copy(pg, bucket, f"COPY t FROM '{src}' JSON 'auto' MANIFEST")
    assert rows(pg) == [(1,)]


@pytest.mark.parametrize(
    "body",
    [json.dumps({"entries": []}), json.dumps({"files": []}), "not json"],
    ids=["empty-entries", "no-entries-key", "not-json"],
)
def test_manifest_without_entries_is_an_error(bucket: Any, pg: psycopg.Connection, body: str) -> None:
    """A manifest listing nothing (or not a manifest at all) is an error."""
    src = put(bucket, "manifests/load.manifest", body)
    pg.execute("CREATE TABLE t (id INTEGER)")
    with pytest.raises(CopyError, match="manifest"):
        copy(pg, bucket, f"COPY t FROM '{src}' JSON 'auto' MANIFEST")


@pytest.mark.parametrize(("option", "compress"), [("GZIP", gzip.compress), ("BZIP2", bz2.compress)])
def test_compressed_objects_load(bucket: Any, pg: psycopg.Connection, option: str, compress: Any) -> None:
    """GZIP and BZIP2 objects are decompressed before parsing."""
    put(bucket, "in/a.json.gz", compress(jsonl({"id": 1, "name": "a"}, {"id": 2, "name": "b"}).encode()))
    pg.execute("CREATE TABLE t (id INTEGER, name VARCHAR(8))")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' JSON 'auto' {option}")
    assert rows(pg) == [(1, "a"), (2, "b")]


@pytest.mark.parametrize(("option", "compress", "padding"), [("GZIP", gzip.compress, b"\0" * 8), ("BZIP2", bz2.compress, b"")])
def test_streamed_members_load_and_a_cut_one_is_an_error(
    bucket: Any, pg: psycopg.Connection, monkeypatch: pytest.MonkeyPatch, option: str, compress: Any, padding: bytes
) -> None:
    """A streamed object of two compressed members (gzip's zero padding after them allowed, as
    gzip.decompress allows it) loads both; an object cut short names itself."""
    import tasks.copy_engine as engine

    monkeypatch.setattr(engine, "WHOLE_BYTES", 1024)
    monkeypatch.setattr(engine, "CHUNK_BYTES", 1024)
    halves = [jsonl(*({"id": i} for i in range(start, start + 3000))).encode() for start in (0, 3000)]
    whole = b"".join(compress(half) for half in halves)
    put(bucket, "in/a.json.cmp", whole + padding)
    pg.execute("CREATE TABLE t (id INTEGER)")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' JSON 'auto' {option}")
    assert rows(pg) == [(i,) for i in range(6000)]
    url = put(bucket, "in/a.json.cmp", whole[:-8])
    with pytest.raises(CopyError, match=f"cannot read {url}"):
        copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' JSON 'auto' {option}")


def test_compression_mismatch_is_an_error(bucket: Any, pg: psycopg.Connection) -> None:
    """A plain object read with GZIP fails with a message naming it."""
    url = put(bucket, "in/a.json", jsonl({"id": 1}))
    pg.execute("CREATE TABLE t (id INTEGER)")
    with pytest.raises(CopyError, match=url):
        copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' JSON 'auto' GZIP")


# ---------------------------------------------------------------------------------------------
# Conversions


def test_integer_from_string_and_empty(bucket: Any, pg: psycopg.Connection) -> None:
    """"53" loads into INTEGER as 53; "" into INTEGER is NULL even without EMPTYASNULL."""
    put(bucket, "in/a.json", jsonl({"n": "53", "m": "", "k": 7.0}))
    pg.execute("CREATE TABLE t (n INTEGER, m INTEGER, k BIGINT)")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' JSON 'auto'")
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
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' JSON 'auto' TIMEFORMAT AS '{timeformat}'")
    assert rows(pg) == [(expected,)]


def test_emptyasnull(bucket: Any, pg: psycopg.Connection) -> None:
    """"" in a VARCHAR column stays "" unless EMPTYASNULL turns it into NULL."""
    put(bucket, "in/a.json", jsonl({"id": 1, "s": ""}))
    pg.execute("CREATE TABLE t (id INTEGER, s VARCHAR(8))")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' JSON 'auto'")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' JSON 'auto' EMPTYASNULL")
    assert rows(pg, "SELECT s FROM t") == [("",), (None,)]


def test_blanksasnull(bucket: Any, pg: psycopg.Connection) -> None:
    """"   " stays as is unless BLANKSASNULL turns it into NULL."""
    put(bucket, "in/a.json", jsonl({"id": 1, "s": "   "}))
    pg.execute("CREATE TABLE t (id INTEGER, s VARCHAR(8))")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' JSON 'auto'")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' JSON 'auto' BLANKSASNULL")
    assert rows(pg, "SELECT s FROM t") == [("   ",), (None,)]


def test_truncatecolumns(bucket: Any, pg: psycopg.Connection) -> None:
    """TRUNCATECOLUMNS cuts a too-long value to the column's length in bytes."""
    put(bucket, "in/a.json", jsonl({"id": 1, "s": "abcdefgh"}, {"id": 2, "s": "ééé"}))
    pg.execute("CREATE TABLE t (id INTEGER, s VARCHAR(5))")
    result = copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' JSON 'auto' TRUNCATECOLUMNS")
    assert result.errors == []
    # "ééé" is 6 bytes: 5 bytes hold two whole characters.
    assert rows(pg) == [(1, "abcde"), (2, "éé")]


def test_nested_values_load_as_json_text(bucket: Any, pg: psycopg.Connection) -> None:
    """Objects and arrays in a VARCHAR column are stored as compact JSON text; booleans as words."""
    put(bucket, "in/a.json", jsonl({"id": 1, "obj": {"k": [1, 2]}, "flag": True, "b": "yes"}))
    pg.execute("CREATE TABLE t (id INTEGER, obj VARCHAR(32), flag VARCHAR(8), b BOOLEAN)")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' JSON 'auto'")
    assert rows(pg) == [(1, '{"k":[1,2]}', "true", True)]


# ---------------------------------------------------------------------------------------------
# Load errors


@pytest.mark.parametrize(
    ("bad_line", "column", "code"),
    [
        ('{"id": "abc", "name": "b"}', "id", 1207),
        (f'{{"id": {2**40}, "name": "b"}}', "id", 1216),
        ('{"id": 2, "name": "far too long"}', "name", 1204),
        ('{"id": 2}', "name", 1213),
        ('{"id": 2, "name": }', None, 1216),
    ],
    ids=["text-into-int", "int-overflow", "varchar-too-long", "null-into-not-null", "malformed-json"],
)
def test_load_error_rolls_back(
    bucket: Any, pg: psycopg.Connection, bad_line: str, column: str | None, code: int
) -> None:
    """With MAXERROR 0 one bad record fails the COPY, names url/line/column, and loads nothing."""
    url = put(bucket, "in/a.json", '{"id": 1, "name": "a"}\n' + bad_line + '\n{"id": 3, "name": "c"}\n')
    pg.execute("CREATE TABLE t (id INTEGER, name VARCHAR(8) NOT NULL)")
    pg.execute("INSERT INTO t VALUES (0, 'pre')")
    with pytest.raises(LoadError) as info:
        copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' JSON 'auto' MAXERROR 0")
    message = str(info.value)
    assert f"{url} line 2" in message
    if column:
        assert f"column {column}" in message
    else:
        assert "column" not in message.split(url, 1)[1].split(":", 1)[0]
    assert rows(pg) == [(0, "pre")]
    # The rejection is kept outside the rolled-back transaction.
    [error] = load_errors(pg)
    assert (error["tbl"], error["filename"], error["line_number"]) == ("t", url, 2)
    assert error["colname"] == (column or "")
    assert error["err_code"] == code
    # Exact equality for malformed records is test_malformed_raw_line_has_no_newline.
    assert error["raw_line"].rstrip("\n") == bad_line


def test_maxerror_rejects_within_budget(bucket: Any, pg: psycopg.Connection) -> None:
    """MAXERROR 1: the good rows load and the bad pretty-printed record lands in stl_load_errors."""
    bad = '{\n  "id": "x",\n  "name": "b"\n}'
    url = put(bucket, "in/a.json", '{"id": 1, "name": "a"}\n' + bad + '\n{"id": 3, "name": "c"}\n')
    pg.execute("CREATE TABLE t (id INTEGER, name VARCHAR(8))")
    result = copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' FORMAT AS JSON 'auto' MAXERROR 1")
    assert result.rows == 2 and len(result.errors) == 1
    assert rows(pg) == [(1, "a"), (3, "c")]
    [error] = load_errors(pg)
    assert error["tbl"] == "t"
    assert error["filename"] == url
    assert error["line_number"] == 5  # the object spans lines 2-5: its last line
    assert error["colname"] == "id"
    assert "Invalid digit" in error["err_reason"] and "'x'" in error["err_reason"]
    assert error["raw_line"] == bad
    assert error["raw_field_value"] == "x"


def test_maxerror_exceeded_counts_all_files(bucket: Any, pg: psycopg.Connection) -> None:
    """Errors add up across objects: two bad records in two files exceed MAXERROR 1."""
    put(bucket, "in/a.json", jsonl({"id": 1}, {"id": "bad-a"}))
    put(bucket, "in/b.json", jsonl({"id": "bad-b"}, {"id": 4}))
    pg.execute("CREATE TABLE t (id INTEGER)")
    with pytest.raises(LoadError, match="rejected 2 record") as info:
        copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' JSON 'auto' MAXERROR 1")
    assert [e.filename for e in info.value.errors] == [f"s3://{BUCKET}/in/a.json", f"s3://{BUCKET}/in/b.json"]
    assert rows(pg) == []
    assert [e["line_number"] for e in load_errors(pg)] == [2, 1]


def test_pg_last_copy_id_finds_this_sessions_rejections(bucket: Any, pg: psycopg.Connection) -> None:
    """The AWS target's stl_load_errors query, run on the local engine's copy of the table."""
    put(bucket, "in/a.json", jsonl({"id": 1}, {"id": "x"}, {"id": 3}))
    pg.execute("CREATE TABLE t (id INTEGER)")
    assert pg.execute("SELECT pg_last_copy_id()").fetchone() == (-1,)
    first = copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' JSON 'auto' MAXERROR 1")
    assert last_copy_errors(pg, "t") == first.errors
    second = copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' JSON 'auto' MAXERROR 5")
    assert [e.describe() for e in last_copy_errors(pg, "t")] == [e.describe() for e in second.errors]
    assert len(load_errors(pg)) == 2  # one per COPY; the query picks the latest


def test_redshift_engine_explains_a_failed_copy_after_rollback(bucket: Any, pg: psycopg.Connection) -> None:
    """After a failed COPY, the session reads its rejections from stl_load_errors, as on Redshift."""
    url = put(bucket, "in/a.json", jsonl({"id": 1}, {"id": "x"}))
    pg.execute("CREATE TABLE t (id INTEGER)")
    with pytest.raises(LoadError) as info:
        copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' JSON 'auto'")
    bare = LoadError("t", [], 0)  # what Redshift's "Load into table 't' failed" becomes
    explained = Redshift().explain(pg, bare)
    assert explained.errors == info.value.errors
    assert f"{url} line 2, column id" in str(explained)
    assert "more than MAXERROR 0" in str(explained)


# ---------------------------------------------------------------------------------------------
# Regressions: bugs found while writing these tests


def test_malformed_raw_line_has_no_newline(bucket: Any, pg: psycopg.Connection) -> None:
    """raw_line of a malformed record is the line without its line break."""
    put(bucket, "in/a.json", '{"id": 1,\n{"id": 2}\n')
    pg.execute("CREATE TABLE t (id INTEGER)")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' JSON 'auto' MAXERROR 1")
    assert rows(pg) == [(2,)]
    assert [(e["line_number"], e["raw_line"]) for e in load_errors(pg)] == [(1, '{"id": 1,')]


def test_schema_qualified_table(bucket: Any, pg: psycopg.Connection) -> None:
    """COPY public.t loads into t, as on Redshift."""
    put(bucket, "in/a.json", jsonl({"id": 1}))
    pg.execute("CREATE TABLE t (id INTEGER)")
    copy(pg, bucket, f"COPY public.t FROM 's3://{BUCKET}/in/' JSON 'auto'")
    assert rows(pg) == [(1,)]


def test_unquoted_identifiers_fold_to_lower_case(bucket: Any, pg: psycopg.Connection) -> None:
    """Unquoted table and column names in COPY are case-insensitive."""
    put(bucket, "in/a.json", jsonl({"id": 1, "name": "a"}))
    pg.execute("CREATE TABLE t (id INTEGER, name VARCHAR(8))")
    copy(pg, bucket, f"COPY t (ID, Name) FROM 's3://{BUCKET}/in/' JSON 'auto'")
    assert rows(pg) == [(1, "a")]


def test_line_numbers_count_newlines_only(bucket: Any, pg: psycopg.Connection) -> None:
    """A U+2028 inside a JSON string is not a line break."""
    put(bucket, "in/a.json", '{"id": 1, "name": "a\u2028b"}\n{"id": "x", "name": "c"}\n')
    pg.execute("CREATE TABLE t (id INTEGER, name VARCHAR(8))")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' JSON 'auto' MAXERROR 1")
    assert rows(pg) == [(1, "a\u2028b")]
    assert [e["line_number"] for e in load_errors(pg)] == [2]


def test_out_of_range_epoch_is_a_load_error(bucket: Any, pg: psycopg.Connection) -> None:
    """A corrupt epoch value is one rejected record, not a crash."""
    put(bucket, "in/a.json", jsonl({"ts": 10**20}, {"ts": 1541105830796}))
    pg.execute("CREATE TABLE t (ts TIMESTAMP)")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' JSON 'auto' TIMEFORMAT 'epochmillisecs' MAXERROR 1")
    assert rows(pg) == [(datetime(2018, 11, 1, 20, 57, 10, 796000),)]
    assert [e["line_number"] for e in load_errors(pg)] == [1]


def test_nul_character_is_a_load_error(bucket: Any, pg: psycopg.Connection) -> None:
    """A string holding NUL is a rejected record (Redshift fails such a field without NULL AS)."""
    put(bucket, "in/a.json", '{"s": "a\\u0000b"}\n{"s": "ok"}\n')
    pg.execute("CREATE TABLE t (s VARCHAR(8))")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' JSON 'auto' MAXERROR 1")
    assert rows(pg) == [("ok",)]
    assert [e["line_number"] for e in load_errors(pg)] == [1]


def test_integer_with_underscore_is_rejected(bucket: Any, pg: psycopg.Connection) -> None:
    """"1_000" is not a valid INTEGER."""
    put(bucket, "in/a.json", jsonl({"n": "1_000"}))
    pg.execute("CREATE TABLE t (n INTEGER)")
    with pytest.raises(LoadError):
        copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' JSON 'auto'")


def test_unclosed_last_record_before_blank_lines_names_its_own_line(bucket: Any, pg: psycopg.Connection) -> None:
    """Trailing blank lines do not move the reported line of a record cut off at the end."""
    url = put(bucket, "in/a.json", '{"id": 1}\n{"id": 2,\n\n\n')
    pg.execute("CREATE TABLE t (id INTEGER)")
    with pytest.raises(LoadError, match=f"{url} line 2: Invalid JSON"):
        copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' JSON 'auto'")


def test_decimal_keeps_its_digits(bucket: Any, pg: psycopg.Connection) -> None:
    """A DECIMAL(20,2) value loads exactly."""
    put(bucket, "in/a.json", jsonl({"d": "12345678901234567.89"}))
    pg.execute("CREATE TABLE t (d NUMERIC(20, 2))")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' JSON 'auto'")
    assert rows(pg) == [(Decimal("12345678901234567.89"),)]


def test_decimal_overflow_is_a_load_error(bucket: Any, pg: psycopg.Connection) -> None:
    """A value too wide for DECIMAL(5,2) is one rejected record."""
    put(bucket, "in/a.json", jsonl({"d": "12345.6"}, {"d": "1.5"}))
    pg.execute("CREATE TABLE t (d NUMERIC(5, 2))")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' JSON 'auto' MAXERROR 1")
    assert rows(pg) == [(Decimal("1.50"),)]


# ---------------------------------------------------------------------------------------------
# The columnar path: objects of JSON Lines above MIN_COLUMNAR_BYTES are converted by polars,
# and must load exactly what the row path loads, or let the row path decide.

WIDE = (
    "CREATE TABLE t (id BIGINT, small SMALLINT, n INTEGER, user_id INTEGER, x DOUBLE PRECISION,"
    " r REAL, name VARCHAR(24), code CHAR(2), note TEXT, ts TIMESTAMP)"
)
WIDE_COPY = f"COPY t FROM 's3://{BUCKET}/in/' JSON 'auto' TIMEFORMAT AS 'epochmillisecs' MAXERROR 10"


def wide(i: int) -> dict[str, Any]:
    """A record exercising every converted type, with the sample's string-typed ids."""
    return {
        "id": i, "small": i % 30000 - 15000, "n": -i, "user_id": str(i) if i % 7 else "",
        "x": i / 3 if i % 5 else None, "r": 1.5 + i, "name": ["Björk", "Sigur Rós", "", "a\\b", 'q"uote'][i % 5],
        "code": "AB" if i % 2 else None, "note": ["tab\there", "line\nbreak", "plain", "\\N", "€"][i % 5],
        "ts": 1541105830796 + i,
    }


@pytest.fixture
def vouched(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether the columnar path took each chunk it was offered, in order."""
    from tasks.copy_columnar import ColumnarLoader

    taken: list[bool] = []
    convert = ColumnarLoader.convert

    def spy(self: ColumnarLoader, chunk: bytes) -> Any:
        result = convert(self, chunk)
        taken.append(result is not None)
        return result

    monkeypatch.setattr(ColumnarLoader, "convert", spy)
    return taken


def both_paths(pg: psycopg.Connection, s3: Any, monkeypatch: pytest.MonkeyPatch) -> tuple[list, list, list, list]:
    """Rows and load errors of WIDE_COPY by the columnar path, then by the row path alone."""
    import tasks.copy_engine as engine

    pg.execute(WIDE)
    columnar = copy(pg, s3, WIDE_COPY)
    fast, fast_errors = rows(pg), [(e["filename"], e["line_number"], e["err_reason"]) for e in load_errors(pg)]
    pg.execute("TRUNCATE t, stl_load_errors")
    monkeypatch.setattr(engine, "MIN_COLUMNAR_BYTES", 1 << 60)
    exact = copy(pg, s3, WIDE_COPY)
    assert columnar.rows == exact.rows
    slow_errors = [(e["filename"], e["line_number"], e["err_reason"]) for e in load_errors(pg)]
    return fast, rows(pg), fast_errors, slow_errors


def test_columnar_path_loads_what_the_row_path_loads(
    bucket: Any, pg: psycopg.Connection, monkeypatch: pytest.MonkeyPatch, vouched: list[bool]
) -> None:
    """Non-ASCII, escapes, empty strings, nulls, ids as strings and epochs load identically."""
    put(bucket, "in/a.json", jsonl(*(wide(i) for i in range(3000))))
    fast, exact, fast_errors, slow_errors = both_paths(pg, bucket, monkeypatch)
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
    bucket: Any, pg: psycopg.Connection, monkeypatch: pytest.MonkeyPatch, vouched: list[bool], line: int,
    change: dict[str, Any],
) -> None:
    """Whatever polars cannot vouch for loads, or is rejected at its line, as on the row path."""
    records = [wide(i) for i in range(3000)]
    records[line - 1] |= change
    put(bucket, "in/a.json", jsonl(*records))
    fast, exact, fast_errors, slow_errors = both_paths(pg, bucket, monkeypatch)
    assert vouched == [False]
    assert fast == exact
    assert fast_errors == slow_errors


def test_line_pieces_end_at_line_ends_whatever_the_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Pieces of about CHUNK_BYTES end at a newline, however the blocks were cut, and add up to
    the input; a line longer than a piece stays whole."""
    import tasks.copy_engine as engine

    monkeypatch.setattr(engine, "CHUNK_BYTES", 100)
    text = b"".join(b"%d:%s\n" % (i, b"x" * (i * 37 % 90)) for i in range(300)) + b"y" * 250 + b"\nlast"
    for block in (1, 7, 100, 333, len(text)):
        pieces = list(engine.line_pieces(text[i:i + block] for i in range(0, len(text), block)))
        assert b"".join(pieces) == text
        assert all(p.endswith(b"\n") and len(p) >= 100 for p in pieces[:-1])
        assert all(p[:-1].rfind(b"\n") < 99 for p in pieces[:-1])  # cut at the first line end from 100 bytes
        assert pieces[-1].endswith(b"last")


def test_large_objects_are_read_in_pieces(
    bucket: Any, pg: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An object larger than WHOLE_BYTES is never read whole: every read asks for CHUNK_BYTES,
    and every piece polars converts is about that size; all rows load."""
    import tasks.copy_columnar as columnar
    import tasks.copy_engine as engine
    from botocore.response import StreamingBody

    monkeypatch.setattr(engine, "WHOLE_BYTES", 64 * 1024)
    monkeypatch.setattr(engine, "CHUNK_BYTES", 64 * 1024)
    reads: list[int | None] = []
    read = StreamingBody.read
    monkeypatch.setattr(StreamingBody, "read", lambda self, amt=None: reads.append(amt) or read(self, amt))
    converted: list[int] = []
    convert = columnar.ColumnarLoader.convert
    monkeypatch.setattr(
        columnar.ColumnarLoader, "convert", lambda self, piece: converted.append(len(piece)) or convert(self, piece)
    )
    body = jsonl(*(wide(i) for i in range(6000))).encode()
    put(bucket, "in/a.json", body)
    pg.execute(WIDE)
    assert copy(pg, bucket, WIDE_COPY).rows == 6000
    assert len(body) > 10 * 64 * 1024
    assert None not in reads and set(reads) == {64 * 1024}
    assert sum(converted) == len(body) and max(converted) < 64 * 1024 + 1024


def test_a_copy_failing_mid_object_lets_go_of_its_stream(
    bucket: Any, pg: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A COPY that fails in the first piece of a streamed 40 MB object closes the stream, so the
    moto thread serving it ends, even while the error (and its traceback) is still held."""
    import threading
    import time

    import tasks.copy_engine as engine

    monkeypatch.setattr(engine, "WHOLE_BYTES", 64 * 1024)
    records = [{**wide(i), "note": "n" * 10_000} for i in range(4_000)]
    records[0]["small"] = "not a number"
    put(bucket, "in/a.json", jsonl(*records))
    pg.execute(WIDE)
    with pytest.raises(LoadError) as failed:
        copy(pg, bucket, WIDE_COPY.replace("MAXERROR 10", "MAXERROR 0"))

    def serving() -> list[threading.Thread]:
        return [t for t in threading.enumerate() if "process_request_thread" in t.name]

    deadline = time.monotonic() + 10
    while serving() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert failed.value.errors[0].line_number == 1
    assert serving() == []


def test_row_path_takes_over_mid_object_with_the_right_line(
    bucket: Any, pg: psycopg.Connection, monkeypatch: pytest.MonkeyPatch, vouched: list[bool]
) -> None:
    """A bad record in a later chunk of a large object: earlier chunks load columnar, and the
    rejection names the record's own line in the object."""
    import tasks.copy_engine as engine

    monkeypatch.setattr(engine, "CHUNK_BYTES", 64 * 1024)
    records = [wide(i) for i in range(3000)]
    records[2499]["small"] = "not a number"
    put(bucket, "in/a.json", jsonl(*records))
    fast, exact, fast_errors, slow_errors = both_paths(pg, bucket, monkeypatch)
    assert fast == exact and len(fast) == 2999
    # Records 1-2499 fill the first chunks; the chunk holding line 2500 goes to the row path.
    assert vouched.count(True) >= 2 and False in vouched
    assert fast_errors == slow_errors
    assert [line for _, line, _ in fast_errors] == [2500]
