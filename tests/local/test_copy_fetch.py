"""local.copy.fetch: what a COPY reads from moto's S3 (prefixes, manifests, compression) and how: in
pieces of whole lines, streamed, and always let go of."""

from __future__ import annotations

import bz2
import gzip
import json
import time
from typing import Any

import psutil
import psycopg
import pytest

from core.load_errors import CopyError, LoadError
from local.copy.columnar import ColumnarLoader
from local.copy.fetch import _Chunks, line_pieces
from local.copy.tuning import CopyTuning
from local.moto_server import MotoServer
from tests.local.copying import BUCKET, ROLE, WIDE, WIDE_COPY, copy, jsonl, put, rows, wide


def test_prefix_reads_every_matching_key(bucket: Any, pg: psycopg.Connection) -> None:
    """A source is a key prefix: file.json, file.json.1 and file.json/sub/... all match; file2 does not."""
    put(bucket, "logs/file.json", jsonl({"id": 1}))
    put(bucket, "logs/file.json.1", jsonl({"id": 2}))
    put(bucket, "logs/file.json/sub/part.json", jsonl({"id": 3}))
    put(bucket, "logs/other.json", jsonl({"id": 99}))
    pg.execute("CREATE TABLE t (id INTEGER)")
    result = copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/logs/file.json' IAM_ROLE '{ROLE}' JSON 'auto'")
    assert result.files == 3
    assert rows(pg) == [(1,), (2,), (3,)]


def test_prefix_matching_nothing_is_an_error(bucket: Any, pg: psycopg.Connection) -> None:
    """An empty prefix does not silently load zero rows."""
    put(bucket, "logs/a.json", jsonl({"id": 1}))
    pg.execute("CREATE TABLE t (id INTEGER)")
    with pytest.raises(CopyError, match="matches no objects"):
        copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/nothing/here' IAM_ROLE '{ROLE}' JSON 'auto'")


def manifest(s3: Any, entries: list[dict[str, Any]]) -> str:
    return put(s3, "manifests/load.manifest", json.dumps({"entries": entries}))


def test_manifest_mandatory_missing_entry(bucket: Any, pg: psycopg.Connection) -> None:
    """A mandatory entry that does not exist stops the COPY and names the url; nothing loads."""
    present = put(bucket, "songs/a.json", jsonl({"id": 1}))
    missing = f"s3://{BUCKET}/songs/missing.json"
    src = manifest(bucket, [{"url": present, "mandatory": True}, {"url": missing, "mandatory": True}])
    pg.execute("CREATE TABLE t (id INTEGER)")
    with pytest.raises(CopyError, match=missing):
        copy(pg, bucket, f"COPY t FROM '{src}' IAM_ROLE '{ROLE}' JSON 'auto' MANIFEST")
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
    copy(pg, bucket, f"COPY t FROM '{src}' IAM_ROLE '{ROLE}' JSON 'auto' MANIFEST")
    assert rows(pg) == [(1,)]


def test_manifest_entry_listed_twice_loads_twice(bucket: Any, pg: psycopg.Connection) -> None:
    """The manifest is a list, not a set: a duplicate entry is loaded again."""
    first = put(bucket, "songs/a.json", jsonl({"id": 1}))
    second = put(bucket, "songs/b.json", jsonl({"id": 2}))
    src = manifest(bucket, [{"url": first, "mandatory": True}, {"url": second}, {"url": first}])
    pg.execute("CREATE TABLE t (id INTEGER)")
    result = copy(pg, bucket, f"COPY t FROM '{src}' IAM_ROLE '{ROLE}' JSON 'auto' MANIFEST")
    assert result.rows == 3
    assert rows(pg) == [(1,), (1,), (2,)]


def test_manifest_only_listed_files_load(bucket: Any, pg: psycopg.Connection) -> None:
    """With MANIFEST the source is the manifest, not a prefix: unlisted neighbours are not read."""
    listed = put(bucket, "songs/a.json", jsonl({"id": 1}))
    put(bucket, "songs/a.json.1", jsonl({"id": 2}))
    src = manifest(bucket, [{"url": listed, "mandatory": True}])
    pg.execute("CREATE TABLE t (id INTEGER)")
    copy(pg, bucket, f"COPY t FROM '{src}' IAM_ROLE '{ROLE}' JSON 'auto' MANIFEST")
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
        copy(pg, bucket, f"COPY t FROM '{src}' IAM_ROLE '{ROLE}' JSON 'auto' MANIFEST")


@pytest.mark.parametrize(("option", "compress"), [("GZIP", gzip.compress), ("BZIP2", bz2.compress)])
def test_compressed_objects_load(bucket: Any, pg: psycopg.Connection, option: str, compress: Any) -> None:
    """GZIP and BZIP2 objects are decompressed before parsing."""
    put(bucket, "in/a.json.gz", compress(jsonl({"id": 1, "name": "a"}, {"id": 2, "name": "b"}).encode()))
    pg.execute("CREATE TABLE t (id INTEGER, name VARCHAR(8))")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto' {option}")
    assert rows(pg) == [(1, "a"), (2, "b")]


@pytest.mark.parametrize(
    ("option", "compress", "padding"), [("GZIP", gzip.compress, b"\0" * 8), ("BZIP2", bz2.compress, b"")]
)
def test_streamed_members_load_and_a_cut_one_is_an_error(
    bucket: Any, pg: psycopg.Connection, option: str, compress: Any, padding: bytes
) -> None:
    """A streamed object of two compressed members (gzip's zero padding after them allowed, as
    gzip.decompress allows it) loads both; an object cut short names itself."""
    tuning = CopyTuning(whole_bytes=1024, chunk_bytes=1024)
    halves = [jsonl(*({"id": i} for i in range(start, start + 3000))).encode() for start in (0, 3000)]
    whole = b"".join(compress(half) for half in halves)
    put(bucket, "in/a.json.cmp", whole + padding)
    pg.execute("CREATE TABLE t (id INTEGER)")
    copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto' {option}", tuning)
    assert rows(pg) == [(i,) for i in range(6000)]
    url = put(bucket, "in/a.json.cmp", whole[:-8])
    with pytest.raises(CopyError, match=f"cannot read {url}"):
        copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto' {option}", tuning)


def test_compression_mismatch_is_an_error(bucket: Any, pg: psycopg.Connection) -> None:
    """A plain object read with GZIP fails with a message naming it."""
    url = put(bucket, "in/a.json", jsonl({"id": 1}))
    pg.execute("CREATE TABLE t (id INTEGER)")
    with pytest.raises(CopyError, match=url):
        copy(pg, bucket, f"COPY t FROM 's3://{BUCKET}/in/' IAM_ROLE '{ROLE}' JSON 'auto' GZIP")


def test_line_pieces_end_at_line_ends_whatever_the_blocks() -> None:
    """Pieces of about the asked size end at a newline, however the blocks were cut, and add up
    to the input; a line longer than a piece stays whole."""
    text = b"".join(b"%d:%s\n" % (i, b"x" * (i * 37 % 90)) for i in range(300)) + b"y" * 250 + b"\nlast"
    for block in (1, 7, 100, 333, len(text)):
        pieces = list(line_pieces((text[i:i + block] for i in range(0, len(text), block)), 100))
        assert b"".join(pieces) == text
        assert all(p.endswith(b"\n") and len(p) >= 100 for p in pieces[:-1])
        assert all(p[:-1].rfind(b"\n") < 99 for p in pieces[:-1])  # cut at the first line end from 100 bytes
        assert pieces[-1].endswith(b"last")


def test_large_objects_are_read_in_pieces(
    bucket: Any, pg: psycopg.Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An object larger than `whole_bytes` is never read whole: it arrives in several chunks
    (at least `chunk_bytes`, as the HTTP client buffered them), and every piece polars converts
    is about `chunk_bytes`; all rows load."""
    tuning = CopyTuning(whole_bytes=64 * 1024, chunk_bytes=64 * 1024)
    arrived: list[int] = []
    chunks = _Chunks.chunks
    monkeypatch.setattr(_Chunks, "chunks", lambda self: (arrived.append(len(c)) or c for c in chunks(self)))
    converted: list[int] = []
    convert = ColumnarLoader.convert
    monkeypatch.setattr(
        ColumnarLoader, "convert", lambda self, piece: converted.append(len(piece)) or convert(self, piece)
    )
    body = jsonl(*(wide(i) for i in range(6000))).encode()
    put(bucket, "in/a.json", body)
    pg.execute(WIDE)
    assert copy(pg, bucket, WIDE_COPY, tuning).rows == 6000
    assert len(body) > 10 * 64 * 1024
    assert len(arrived) >= 3 and min(arrived[:-1]) >= 64 * 1024 and max(arrived) < len(body) / 2
    assert sum(converted) == len(body) and max(converted) < 64 * 1024 + 1024


def test_a_copy_failing_mid_object_lets_go_of_its_stream(
    bucket: Any, pg: psycopg.Connection, moto: MotoServer
) -> None:
    """A COPY that fails in the first piece of a streamed 40 MB object closes the stream, so the
    thread of moto's process serving it ends, even while the error (and its traceback) is still held."""
    records = [{**wide(i), "note": "n" * 10_000} for i in range(4_000)]
    records[0]["small"] = "not a number"
    put(bucket, "in/a.json", jsonl(*records))
    pg.execute(WIDE)
    server = psutil.Process(moto.pid)
    idle = server.num_threads()
    with pytest.raises(LoadError) as failed:
        copy(pg, bucket, WIDE_COPY.replace("MAXERROR 10", "MAXERROR 0"), CopyTuning(whole_bytes=64 * 1024))

    deadline = time.monotonic() + 10
    while server.num_threads() > idle and time.monotonic() < deadline:
        time.sleep(0.1)
    assert failed.value.errors[0].line_number == 1
    assert server.num_threads() <= idle
