"""local.copy.loader: a COPY is one transaction; what it rejects lands in stl_load_errors, read back as on
Redshift."""

from __future__ import annotations

import threading
from typing import Any

import psycopg
import pytest

from core.engine import RedshiftEngine
from core.load_errors import CopyError, LoadError, last_copy_errors, with_rejections
from local.copy.tuning import CopyTuning
from tests.local.copying import BUCKET, ROLE, copy, jsonl, load_errors, put, rows


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
        copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto' MAXERROR 0")
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
    result = copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' FORMAT AS JSON 'auto' MAXERROR 1")
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
        copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto' MAXERROR 1")
    assert [e.filename for e in info.value.errors] == [f"s3://{BUCKET}/in/a.json", f"s3://{BUCKET}/in/b.json"]
    assert rows(pg) == []
    assert [e["line_number"] for e in load_errors(pg)] == [2, 1]


def test_pg_last_copy_id_finds_this_sessions_rejections(bucket: Any, pg: psycopg.Connection) -> None:
    """The AWS target's stl_load_errors query, run on the local engine's copy of the table."""
    put(bucket, "in/a.json", jsonl({"id": 1}, {"id": "x"}, {"id": 3}))
    pg.execute("CREATE TABLE t (id INTEGER)")
    assert pg.execute("SELECT pg_last_copy_id()").fetchone() == (-1,)
    first = copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto' MAXERROR 1")
    assert last_copy_errors(RedshiftEngine(), pg, "t") == first.errors
    second = copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto' MAXERROR 5")
    assert [e.describe() for e in last_copy_errors(RedshiftEngine(), pg, "t")] == [e.describe() for e in second.errors]
    assert len(load_errors(pg)) == 2  # one per COPY; the query picks the latest


def test_a_failed_copy_is_explained_from_stl_load_errors_after_rollback(bucket: Any, pg: psycopg.Connection) -> None:
    """After a failed COPY, the session reads its rejections from stl_load_errors, as on Redshift."""
    url = put(bucket, "in/a.json", jsonl({"id": 1}, {"id": "x"}))
    pg.execute("CREATE TABLE t (id INTEGER)")
    with pytest.raises(LoadError) as info:
        copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto'")
    bare = LoadError("t", [], 0)  # what Redshift's "Load into table 't' failed" becomes
    explained = with_rejections(RedshiftEngine(), pg, bare)
    assert explained.errors == info.value.errors
    assert f"{url} line 2, column id" in str(explained)
    assert "more than MAXERROR 0" in str(explained)


@pytest.mark.parametrize(("records", "columnar"), [(20000, True), (3, False)], ids=["columnar", "row-path"])
def test_an_error_the_server_raises_mid_copy_fails_it_and_loads_nothing(
    bucket: Any, pg: psycopg.Connection, vouched: list[bool], records: int, columnar: bool
) -> None:
    """PostgreSQL's own refusal of a row reaches the COPY from the thread that sends the data,
    after earlier pieces were sent, and the table keeps only what it had."""
    put(bucket, "in/a.json", jsonl(*({"id": i, "name": "n"} for i in range(records - 1)), {"id": -1, "name": "n"}))
    pg.execute("CREATE TABLE t (id INTEGER CHECK (id >= 0), name VARCHAR(8))")
    pg.execute("INSERT INTO t VALUES (0, 'pre')")
    statement = f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto'"
    with pytest.raises(psycopg.errors.CheckViolation):
        copy(pg, bucket, statement, CopyTuning(chunk_bytes=64 * 1024))
    assert (len(vouched) > 3 and all(vouched)) if columnar else vouched == []
    assert rows(pg) == [(0, "pre")]
    assert not senders()


def test_a_copy_the_server_refuses_at_its_start_leaves_no_sender(bucket: Any, pg: psycopg.Connection) -> None:
    """A user who may read the table but not insert into it: PostgreSQL refuses the COPY itself,
    and no thread is left waiting to send its data."""
    put(bucket, "in/a.json", jsonl({"id": 1}))
    pg.execute("CREATE TABLE t (id INTEGER)")
    pg.execute("CREATE ROLE reader")
    pg.execute("GRANT SELECT ON t TO reader")
    pg.execute("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO reader")  # the COPY's query id
    pg.execute("SET ROLE reader")
    try:
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="permission denied for table t"):
            copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto'")
    finally:
        pg.execute("RESET ROLE")
        pg.execute("DROP OWNED BY reader")
        pg.execute("DROP ROLE reader")
    assert not senders()


def senders() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "copy-sender"]


def test_schema_qualified_table(bucket: Any, pg: psycopg.Connection) -> None:
    """COPY public.t loads into t, as on Redshift."""
    put(bucket, "in/a.json", jsonl({"id": 1}))
    pg.execute("CREATE TABLE t (id INTEGER)")
    copy(pg, bucket, f"COPY public.t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto'")
    assert rows(pg) == [(1,)]


def test_unquoted_identifiers_fold_to_lower_case(bucket: Any, pg: psycopg.Connection) -> None:
    """Unquoted table and column names in COPY are case-insensitive."""
    put(bucket, "in/a.json", jsonl({"id": 1, "name": "a"}))
    pg.execute("CREATE TABLE t (id INTEGER, name VARCHAR(8))")
    copy(pg, bucket, f"COPY t (ID, Name) FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto'")
    assert rows(pg) == [(1, "a")]


@pytest.mark.parametrize(
    ("option", "rows_before", "analyzed"),
    [
        ("STATUPDATE ON", 1, True),
        ("STATUPDATE", 1, True),
        ("STATUPDATE OFF", 0, False),
        ("", 0, True),
        ("", 1, False),
    ],
    ids=["on", "bare-is-on", "off", "omitted-empty-table", "omitted-table-with-rows"],
)
def test_statupdate_analyzes_the_table_as_redshift_does(
    bucket: Any, pg: psycopg.Connection, option: str, rows_before: int, analyzed: bool
) -> None:
    """As Redshift's COPY: ON analyzes the table after the load, OFF never, and a COPY that does
    not say analyzes a table that was empty: the planner's row count (reltuples) is the load's."""
    put(bucket, "in/a.json", jsonl(*({"id": i, "name": "n"} for i in range(30))))
    # No automatic analyze may come in between.
    pg.execute("CREATE TABLE t (id INTEGER, name VARCHAR(8)) WITH (autovacuum_enabled = false)")
    for i in range(rows_before):
        pg.execute("INSERT INTO t VALUES (%s, 'pre')", (-i,))
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto' {option}")
    assert pg.execute("SELECT count(*) FROM t").fetchone()[0] == 30 + rows_before
    reltuples = pg.execute("SELECT reltuples FROM pg_class WHERE oid = 't'::regclass").fetchone()[0]
    assert (reltuples == 30 + rows_before) is analyzed


def test_statupdate_takes_on_or_off(bucket: Any, pg: psycopg.Connection) -> None:
    pg.execute("CREATE TABLE t (id INTEGER)")
    with pytest.raises(CopyError, match="STATUPDATE PRESET: Redshift takes ON or OFF"):
        copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto' STATUPDATE PRESET")


@pytest.mark.parametrize("option", ["STATUPDATE ON", "STATUPDATE OFF"])
def test_statupdate_needs_the_tables_owner_as_on_redshift(bucket: Any, pg: psycopg.Connection, option: str) -> None:
    """Redshift: a COPY that says STATUPDATE must run as the table's owner or a superuser; without
    it INSERT is enough."""
    put(bucket, "in/a.json", jsonl({"id": 1}))
    pg.execute("CREATE TABLE t (id INTEGER)")
    pg.execute("CREATE ROLE loader")
    # Every privilege on every table and sequence, the system tables' among them: all but ownership.
    pg.execute("GRANT ALL ON ALL TABLES IN SCHEMA public TO loader")
    pg.execute("GRANT ALL ON ALL SEQUENCES IN SCHEMA public TO loader")
    pg.execute("SET ROLE loader")
    try:
        with pytest.raises(CopyError, match="with STATUPDATE: user loader neither owns the table nor is a superuser"):
            copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto' {option}")
        copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto'")
    finally:
        pg.execute("RESET ROLE")
        pg.execute("DROP OWNED BY loader")
        pg.execute("DROP ROLE loader")
    assert rows(pg) == [(1,)]
