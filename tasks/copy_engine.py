"""Redshift's COPY, emulated client-side for the local engine.

`parse_copy` reads the same COPY statement the AWS target sends to Redshift; `LocalCopy` runs it:
it reads the objects from S3 with boto3 and streams typed rows into PostgreSQL through psycopg's
COPY protocol, one object at a time, recording every rejected record in `stl_load_errors`.
Objects are read in pieces of whole lines, and those over WHOLE_BYTES are streamed, so this
side's memory does not grow with object size. Pieces of JSON Lines are converted by polars
(`tasks.copy_columnar`) while it can vouch for every record; the record-by-record path here
decides the rest.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import re
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from itertools import chain
from typing import IO, Any, NamedTuple

import psycopg
from botocore.exceptions import ClientError
from psycopg import sql

from tasks.copy_columnar import INT_RANGES, MIN_COLUMNAR_BYTES, ColumnarLoader

# Objects fetched ahead of the one being parsed: S3 latency, not bandwidth, is the cost of
# small objects; large ones are bounded by their manifest content_length so memory stays flat.
PREFETCH = 16
PREFETCH_BYTES = 64 * 1024 * 1024
# Objects up to this size are read whole by the prefetching threads, overlapping the reads with
# conversion; larger ones are streamed by the converting thread.
WHOLE_BYTES = 16 * 1024 * 1024
# Objects are read, converted and written in pieces of about this size.
CHUNK_BYTES = 4 * 1024 * 1024
# The standard library's streaming readers, which decompress only as much as is read and, like
# gzip.decompress and bz2.decompress, read files of several members.
_DECOMPRESSING: dict[str, Callable[[IO[bytes]], IO[bytes]]] = {
    "GZIP": lambda raw: gzip.GzipFile(fileobj=raw),
    "BZIP2": bz2.BZ2File,
}
# Chunks polars converts while this thread writes the one before them to PostgreSQL.
CONVERTERS = 2


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
class CopySpec:
    """The parts of a Redshift COPY statement the local engine honours."""

    table: str
    source: str
    columns: list[str] = field(default_factory=list)
    json: str = "auto"
    manifest: bool = False
    compression: str | None = None
    timeformat: str | None = None
    max_errors: int = 0
    truncate_columns: bool = False
    blanks_as_null: bool = False
    empty_as_null: bool = False
    region: str | None = None
    iam_role: str | None = None


@dataclass
class CopyResult:
    """What a COPY loaded; Redshift reports no row or file counts to the client."""

    rows: int | None
    files: int | None
    errors: list[LoadErrorRecord]


# ---------------------------------------------------------------------------------------------
# Parsing the statement

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+)|(?P<word>\"[^\"]+\"|[A-Za-z_][\w.$]*)|(?P<punct>[(),;]))"
)
# Options that are accepted and have no effect on a single-node local engine.
_IGNORED_FLAGS = {"COMPUPDATE", "STATUPDATE"}


def _tokens(statement: str) -> list[tuple[str, str]]:
    out, pos, text = [], 0, statement.strip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise CopyError(f"cannot parse COPY statement near {text[pos:pos + 30]!r}")
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "str":
            value = value[1:-1].replace("''", "'")
        out.append((kind, value))
        pos = match.end()
        while pos < len(text) and text[pos].isspace():
            pos += 1
    return [t for t in out if t != ("punct", ";")]


def _identifier(token: str) -> str:
    """Unquoted names fold to lower case, as on Redshift; quoted ones are kept as written."""
    return token[1:-1] if token.startswith('"') else token.lower()


def is_copy(statement: str) -> bool:
    return re.match(r"\s*COPY\b", statement, re.IGNORECASE) is not None


def parse_copy(statement: str) -> CopySpec:
    """Parse a Redshift `COPY ... FROM 's3://...' ...` statement, keywords in any case."""
    toks = _tokens(statement)
    pos = 0

    def take(kind: str | None = None) -> str:
        nonlocal pos
        if pos >= len(toks):
            raise CopyError("COPY statement ends too early")
        tkind, value = toks[pos]
        if kind and tkind != kind:
            raise CopyError(f"COPY statement: expected a {kind} value, found {value!r}")
        pos += 1
        return value

    def peek_word() -> str:
        return toks[pos][1].upper() if pos < len(toks) and toks[pos][0] == "word" else ""

    def optional_as() -> None:
        nonlocal pos
        if peek_word() == "AS":
            pos += 1

    if take("word").upper() != "COPY":
        raise CopyError("not a COPY statement")
    spec = CopySpec(table=_identifier(take("word")), source="")
    if pos < len(toks) and toks[pos] == ("punct", "("):
        pos += 1
        while toks[pos] != ("punct", ")"):
            spec.columns.append(_identifier(take("word")))
            if toks[pos] == ("punct", ","):
                pos += 1
        pos += 1
    if take("word").upper() != "FROM":
        raise CopyError("COPY statement: expected FROM after the table")
    spec.source = take("str")

    while pos < len(toks):
        option = take("word").upper()
        if option == "IAM_ROLE":
            spec.iam_role = take("str") if toks[pos][0] == "str" else take("word")
        elif option in ("CREDENTIALS", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY", "SESSION_TOKEN"):
            optional_as()
            take("str")  # The local engine reads S3 with its own client.
        elif option == "REGION":
            optional_as()
            spec.region = take("str")
        elif option == "FORMAT":
            optional_as()
            if take("word").upper() != "JSON":
                raise CopyError("the local engine supports FORMAT AS JSON only")
            if pos < len(toks) and toks[pos][0] == "str":
                spec.json = take("str")
        elif option == "JSON":
            optional_as()
            spec.json = take("str")
        elif option == "MANIFEST":
            spec.manifest = True
        elif option in ("GZIP", "BZIP2"):
            spec.compression = option
        elif option == "TIMEFORMAT":
            optional_as()
            spec.timeformat = take("str").lower()
        elif option == "MAXERROR":
            optional_as()
            spec.max_errors = int(take("num"))
        elif option == "TRUNCATECOLUMNS":
            spec.truncate_columns = True
        elif option == "BLANKSASNULL":
            spec.blanks_as_null = True
        elif option == "EMPTYASNULL":
            spec.empty_as_null = True
        elif option in _IGNORED_FLAGS:
            if peek_word() in ("ON", "OFF", "TRUE", "FALSE", "PRESET"):
                pos += 1
        else:
            raise CopyError(f"COPY option {option} is not supported by the local engine")
    if spec.timeformat not in (None, "auto", "epochsecs", "epochmillisecs"):
        raise CopyError(f"TIMEFORMAT {spec.timeformat!r} is not supported: use 'auto', 'epochsecs' or 'epochmillisecs'")
    return spec


# ---------------------------------------------------------------------------------------------
# JSON records and JSONPaths

_PATH_STEP = re.compile(r"\.([A-Za-z_][\w]*)|\[\s*'((?:[^']|\\')*)'\s*\]|\[\s*\"([^\"]*)\"\s*\]|\[\s*(\d+)\s*\]")


def parse_jsonpath(path: str) -> list[str | int]:
    """`$['a']['b'][0]` or `$.a.b[0]` to the steps ['a', 'b', 0]."""
    if not path.startswith("$"):
        raise CopyError(f"JSONPath {path!r} must start with '$'")
    steps: list[str | int] = []
    pos = 1
    while pos < len(path):
        match = _PATH_STEP.match(path, pos)
        if not match:
            raise CopyError(f"invalid JSONPath {path!r} near {path[pos:]!r}")
        dot, single, double, index = match.groups()
        steps.append(int(index) if index is not None else (dot or single or double or ""))
        pos = match.end()
    if not steps:
        raise CopyError(f"JSONPath {path!r} names no field")
    return steps


def parse_jsonpaths_file(body: bytes, url: str) -> list[list[str | int]]:
    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise CopyError(f"JSONPaths file {url} is not valid JSON ({exc}); fix the file") from None
    if not isinstance(doc, dict) or list(doc) != ["jsonpaths"] or not isinstance(doc["jsonpaths"], list):
        # Redshift silently treats such a file as 'auto'; a typo should not pass unnoticed here.
        raise CopyError(f'JSONPaths file {url} must be an object with the single key "jsonpaths" holding a list of paths')
    return [parse_jsonpath(p) for p in doc["jsonpaths"]]


def _extract(record: Any, steps: list[str | int]) -> Any:
    for step in steps:
        if isinstance(step, int):
            if not isinstance(record, list) or step >= len(record):
                return None
        elif not isinstance(record, dict):
            return None
        record = record[step] if isinstance(step, int) else record.get(step)
    return record


def _decode_all(text: str) -> list[Any]:
    """All JSON values in `text`, separated by whitespace; raises ValueError if any is malformed."""
    decoder, values, pos = json.JSONDecoder(), [], 0
    end = len(text)
    while True:
        while pos < end and text[pos].isspace():
            pos += 1
        if pos == end:
            return values
        value, pos = decoder.raw_decode(text, pos)
        values.append(value)


def iter_records(lines: Iterable[str]) -> Iterator[tuple[int, str, Any]]:
    """Yield (last line number, raw text, value or ValueError) for each JSON object.

    Objects may be one per line or pretty-printed across lines. A record that never closes is
    cut off by the next line starting with '{' or by the end of the file.
    """
    buffer: list[str] = []
    last = 0  # the last non-blank line of the buffered record: where an unclosed record ends
    for number, line in enumerate(lines, 1):
        if buffer and line.startswith("{"):
            yield last, "".join(buffer).strip(), ValueError("Invalid JSON object: the record is incomplete")
            buffer = []
        if not buffer:
            if not line.strip():
                continue
            try:
                for value in _decode_all(line):
                    yield number, line.rstrip("\r\n"), value
                continue
            except ValueError:
                pass
        buffer.append(line)
        if line.strip():
            last = number
        text = "".join(buffer)
        try:
            values = _decode_all(text)
        except ValueError:
            continue
        for value in values:
            yield number, text.strip(), value
        buffer = []
    if buffer:
        yield last, "".join(buffer).strip(), ValueError("Invalid JSON object: the record is incomplete")


# ---------------------------------------------------------------------------------------------
# Type conversion, as Redshift does it


class _Reject(Exception):
    """One record rejected, and why; `column` and `value` are filled in once known."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason
        self.column: Column | None = None
        self.value: Any = None


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # format_type(), e.g. 'character varying(256)', 'integer'
    not_null: bool

    @property
    def length(self) -> int | None:
        match = re.search(r"\((\d+)", self.type)
        return int(match.group(1)) if match and self.is_text else None

    @property
    def is_text(self) -> bool:
        return self.type.startswith(("character", "text"))


_INTEGER = re.compile(r"[+-]?[0-9]+\Z")


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")) if isinstance(value, dict | list) else str(value)


def _precision_scale(type_: str) -> tuple[int | None, int | None]:
    match = re.search(r"\((\d+)(?:,\s*(\d+))?\)", type_)
    if not match:
        return None, None
    return int(match.group(1)), int(match.group(2) or 0)


def make_converter(column: Column, spec: CopySpec) -> Callable[[Any], Any]:
    """A function from a JSON value to the Python value psycopg writes into `column`."""
    base = column.type.split("(")[0].strip()

    def convert(value: Any) -> Any:
        if isinstance(value, str):
            if value == "" and (spec.empty_as_null or not column.is_text):
                value = None
            elif spec.blanks_as_null and not value.strip():
                value = None
        if value is None:
            if column.not_null:
                raise _Reject(1213, "Missing data for not-null field")
            return None
        return to_type(value)

    if base in INT_RANGES:
        limit = INT_RANGES[base]

        def to_type(value: Any) -> Any:
            try:
                if isinstance(value, str):
                    if not _INTEGER.match(value.strip()):
                        raise ValueError
                    value = int(value.strip())
                number = int(value) if isinstance(value, float) and value.is_integer() else value
                if isinstance(number, bool) or not isinstance(number, int):
                    raise ValueError
            except ValueError:
                raise _Reject(1207, f"Invalid digit, Value '{_as_text(value)[:20]}', Type: {base}") from None
            if not -limit <= number < limit:
                raise _Reject(1216, f"Overflow, value {number} is out of range for type {base}")
            return number

    elif base == "numeric":
        precision, scale = _precision_scale(column.type)

        def to_type(value: Any) -> Any:
            try:
                if isinstance(value, bool):
                    raise ValueError
                number = Decimal(value.strip() if isinstance(value, str) else str(value))
                if not number.is_finite():
                    raise ValueError
            except (ValueError, ArithmeticError):
                raise _Reject(1207, f"Invalid digit, Value '{_as_text(value)[:20]}', Type: {base}") from None
            if scale is not None:
                # Redshift rounds extra fractional digits and rejects values too wide for the column.
                number = number.quantize(Decimal(1).scaleb(-scale), rounding=ROUND_HALF_UP)
                if precision is not None and number.adjusted() >= precision - scale:
                    raise _Reject(1216, f"Numeric value {number} is out of range for {column.type}")
            return number

    elif base in ("real", "double precision"):

        def to_type(value: Any) -> Any:
            try:
                if isinstance(value, bool):
                    raise ValueError
                return float(value.strip()) if isinstance(value, str) else float(value)
            except (TypeError, ValueError, OverflowError):
                raise _Reject(1207, f"Invalid digit, Value '{_as_text(value)[:20]}', Type: {base}") from None

    elif base == "boolean":

        def to_type(value: Any) -> Any:
            text = _as_text(value).strip().lower()
            if text in ("true", "t", "1", "yes", "y"):
                return True
            if text in ("false", "f", "0", "no", "n"):
                return False
            raise _Reject(1207, f"Invalid boolean value '{text[:20]}'")

    elif base.startswith("timestamp") or base == "date":

        def to_type(value: Any) -> Any:
            try:
                if spec.timeformat in ("epochmillisecs", "epochsecs") and isinstance(value, int | float):
                    seconds = value / 1000 if spec.timeformat == "epochmillisecs" else value
                    stamp = datetime.fromtimestamp(seconds, timezone.utc).replace(tzinfo=None)
                else:
                    stamp = datetime.fromisoformat(_as_text(value).strip())
            except (ValueError, OverflowError, OSError):
                raise _Reject(1206, f"Invalid timestamp format or value '{_as_text(value)[:30]}'") from None
            return stamp.date() if base == "date" else stamp

    else:  # character types
        length = column.length

        def to_type(value: Any) -> Any:
            text = _as_text(value)
            if "\x00" in text:
                raise _Reject(1216, "String contains the NUL character (0x00)")
            # Redshift measures VARCHAR/CHAR lengths in bytes, PostgreSQL in characters.
            if length is not None and len(text.encode()) > length:
                if not spec.truncate_columns:
                    raise _Reject(1204, f"String length exceeds DDL length ({length} bytes)")
                text = text.encode()[:length].decode(errors="ignore")
            return text

    return convert


# ---------------------------------------------------------------------------------------------
# Running it


def split_s3_url(url: str) -> tuple[str, str]:
    match = re.match(r"s3://([^/]+)/?(.*)$", url)
    if not match:
        raise CopyError(f"{url!r} is not an s3:// URL")
    return match.group(1), match.group(2)


def line_pieces(blocks: Iterable[bytes]) -> Iterator[bytes]:
    """The bytes of `blocks` again, in pieces of about CHUNK_BYTES that end at line ends (the
    last one may not)."""
    size, buffer, start = CHUNK_BYTES, b"", 0
    for block in blocks:
        buffer, start = buffer[start:] + block, 0
        while len(buffer) - start >= size:
            end = buffer.find(b"\n", start + size - 1)
            if end == -1:
                break
            yield buffer[start:end + 1]
            start = end + 1
    if start < len(buffer):
        yield buffer[start:]


def _close_stream(future: Future[IO[bytes] | None]) -> None:
    if not future.cancelled() and future.exception() is None and (stream := future.result()) is not None:
        stream.close()


def _table(spec: CopySpec) -> sql.Identifier:
    return sql.Identifier(*spec.table.split("."))


class Source(NamedTuple):
    """One object a COPY reads; `size` is 0 when neither the manifest nor the listing gave it."""

    url: str
    mandatory: bool
    size: int


class LocalCopy:
    """Runs parsed COPY statements against PostgreSQL, reading sources from S3 with `s3`."""

    def __init__(self, s3: Any) -> None:
        self.s3 = s3

    def run(self, conn: psycopg.Connection, spec: CopySpec) -> CopyResult:
        columns = self._columns(conn, spec)
        paths = self._jsonpaths(spec, len(columns))
        objects = self._objects(spec)
        converters = [make_converter(c, spec) for c in columns]
        columnar = ColumnarLoader.for_spec(columns, paths, spec)
        errors: list[LoadErrorRecord] = []
        rows = 0
        target = sql.SQL("COPY {} ({}) FROM STDIN").format(
            _table(spec), sql.SQL(", ").join(sql.Identifier(c.name) for c in columns)
        )
        # Converted chunks are written as they come, so at most CONVERTERS + 1 are held at once.
        # Streams are closed even when the COPY fails mid-object: moto's thread serving one
        # would otherwise wait for a reader that is gone.
        with (
            conn.cursor() as cur,
            cur.copy(target) as copy,
            ThreadPoolExecutor(CONVERTERS) as converters_pool,
            closing(self._fetch(objects)) as fetched,
        ):
            for url, stream in fetched:
                with closing(stream):
                    pieces: Iterator[bytes] = line_pieces(self._blocks(url, stream, spec))
                    first_line = 0
                    if columnar:
                        first_line, loaded, pieces = self._columnar(copy, columnar, pieces, converters_pool)
                        rows += loaded
                    # The row path takes over where the columnar one stopped: at the start of a
                    # line, since every line before it was a whole JSON object.
                    for line_number, raw, value in iter_records(self._lines(url, pieces)):
                        line_number += first_line
                        try:
                            row = self._row(value, columns, paths, converters, spec)
                        except _Reject as reject:
                            errors.append(self._record(spec, url, line_number, raw, reject))
                            if len(errors) > spec.max_errors:
                                raise LoadError(spec.table, errors, spec.max_errors) from None
                            continue
                        copy.write_row(row)
                        rows += 1
        return CopyResult(rows=rows, files=len(objects), errors=errors)

    @staticmethod
    def _columnar(
        copy: Any, loader: ColumnarLoader, pieces: Iterator[bytes], pool: ThreadPoolExecutor
    ) -> tuple[int, int, Iterator[bytes]]:
        """Write an object's pieces while polars can vouch for each; return the lines and rows
        written and the pieces left for the row path. Objects under MIN_COLUMNAR_BYTES are
        left whole: polars' setup costs more than it saves on them."""
        first = next(pieces, None)
        if first is None:
            return 0, 0, pieces
        pieces = chain([first], pieces)
        if len(first) < MIN_COLUMNAR_BYTES:
            return 0, 0, pieces
        pending: deque[tuple[bytes, Future[tuple[bytes, int] | None]]] = deque()
        lines = rows = 0
        while True:
            while len(pending) <= CONVERTERS and (piece := next(pieces, None)) is not None:
                pending.append((piece, pool.submit(loader.convert, piece)))
            if not pending:
                return lines, rows, pieces
            piece, future = pending.popleft()
            converted = future.result()
            if converted is None:
                for _, later in pending:
                    later.cancel()
                return lines, rows, chain([piece], [p for p, _ in pending], pieces)
            copy.write(converted[0])
            rows += converted[1]
            lines += piece.count(b"\n")

    # -- sources ---------------------------------------------------------------------------

    def _columns(self, conn: psycopg.Connection, spec: CopySpec) -> list[Column]:
        found = conn.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull"
            " FROM pg_attribute a WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0"
            " AND NOT a.attisdropped ORDER BY a.attnum",
            (_table(spec).as_string(conn),),
        ).fetchall()
        if not found:
            raise CopyError(f"COPY target table {spec.table} does not exist; create it first")
        by_name = {name: Column(name, type_, not_null) for name, type_, not_null in found}
        if not spec.columns:
            return list(by_name.values())
        unknown = [c for c in spec.columns if c not in by_name]
        if unknown:
            raise CopyError(f"COPY into {spec.table}: no column {', '.join(unknown)}")
        return [by_name[c] for c in spec.columns]

    def _open(self, url: str) -> IO[bytes] | None:
        """The object as a stream to read and close, or None if it does not exist: read whole
        here up to WHOLE_BYTES, else left open for the caller to read as it goes."""
        bucket, key = split_s3_url(url)
        try:
            response = self.s3.get_object(Bucket=bucket, Key=key)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in ("NoSuchKey", "404", "NoSuchBucket"):
                return None
            raise
        body = response["Body"]
        if response["ContentLength"] > WHOLE_BYTES:
            return body
        with closing(body):
            return io.BytesIO(body.read())

    def _get(self, url: str) -> bytes | None:
        stream = self._open(url)
        if stream is None:
            return None
        with closing(stream):
            return stream.read()

    def _jsonpaths(self, spec: CopySpec, width: int) -> list[list[str | int]] | None:
        if spec.json.lower() in ("auto", "auto ignorecase"):
            return None
        body = self._get(spec.json)
        if body is None:
            raise CopyError(f"JSONPaths file {spec.json} does not exist")
        paths = parse_jsonpaths_file(body, spec.json)
        if len(paths) != width:
            raise CopyError(
                f"JSONPaths file {spec.json} has {len(paths)} paths but COPY into {spec.table} "
                f"has {width} columns; they must match one to one"
            )
        return paths

    def _objects(self, spec: CopySpec) -> list[Source]:
        """Every object the COPY reads."""
        if spec.manifest:
            body = self._get(spec.source)
            if body is None:
                raise CopyError(f"manifest {spec.source} does not exist")
            try:
                entries = json.loads(body)["entries"]
                objects = [
                    Source(e["url"], bool(e.get("mandatory", False)), int((e.get("meta") or {}).get("content_length", 0)))
                    for e in entries
                ]
            except (ValueError, KeyError, TypeError, AttributeError):
                raise CopyError(f'manifest {spec.source} must be JSON like {{"entries": [{{"url": "s3://...", "mandatory": true}}]}}') from None
            if not objects:
                raise CopyError(f"manifest {spec.source} lists no files")
            return objects
        bucket, prefix = split_s3_url(spec.source)
        objects = [
            Source(f"s3://{bucket}/{item['Key']}", True, int(item["Size"]))
            for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", [])
        ]
        if not objects:
            raise CopyError(f"the S3 prefix {spec.source} matches no objects; check the bucket and prefix")
        return objects

    def _fetch(self, objects: list[Source]) -> Iterator[tuple[str, IO[bytes]]]:
        """Objects' streams in manifest/listing order, with at most PREFETCH GETs and, as far as
        sizes are known, PREFETCH_BYTES in flight (one object at least, whatever its size):
        moto's server holds a whole object while it is read. The caller closes each stream."""
        with ThreadPoolExecutor(max_workers=PREFETCH) as pool:
            window: deque[tuple[Source, Future[IO[bytes] | None]]] = deque()
            try:
                held = 0
                for source in objects:
                    while window and (len(window) >= PREFETCH or held + source.size > PREFETCH_BYTES):
                        done, future = window.popleft()
                        held -= done.size
                        yield from self._arrived(done, future)
                    window.append((source, pool.submit(self._open, source.url)))
                    held += source.size
                while window:
                    yield from self._arrived(*window.popleft())
            finally:
                for _, ahead in window:  # fetched ahead of a failure: never to be read
                    ahead.add_done_callback(_close_stream)

    @staticmethod
    def _arrived(source: Source, future: Future[IO[bytes] | None]) -> Iterator[tuple[str, IO[bytes]]]:
        stream = future.result()
        if stream is not None:
            yield source.url, stream
        elif source.mandatory:
            raise CopyError(f"mandatory file {source.url} listed in the manifest does not exist")

    @staticmethod
    def _blocks(url: str, stream: IO[bytes], spec: CopySpec) -> Iterator[bytes]:
        """The object's bytes, decompressed for GZIP or BZIP2, CHUNK_BYTES at a time."""
        reader = _DECOMPRESSING[spec.compression](stream) if spec.compression else stream
        # A decompressor's errors are the data's; the stream's own read errors are retried as usual.
        corrupt = (OSError, EOFError, zlib.error) if spec.compression else ()
        while True:
            try:
                block = reader.read(CHUNK_BYTES)
            except corrupt as exc:
                raise CopyError(f"cannot read {url}: {exc}") from None
            if not block:
                return
            yield block

    @staticmethod
    def _lines(url: str, pieces: Iterable[bytes]) -> Iterator[str]:
        """The lines of pieces that each end at a line end (the last may not)."""
        for piece in pieces:
            try:
                text = piece.decode("utf-8")
            except ValueError as exc:
                raise CopyError(f"cannot read {url}: {exc}") from None
            # Only \n ends a line: str.splitlines would also break at U+2028 and friends inside strings.
            lines = text.split("\n")
            yield from (line + "\n" for line in lines[:-1])
            if lines[-1]:
                yield lines[-1]

    # -- records ---------------------------------------------------------------------------

    @staticmethod
    def _row(
        value: Any,
        columns: list[Column],
        paths: list[list[str | int]] | None,
        converters: list[Callable[[Any], Any]],
        spec: CopySpec,
    ) -> tuple[Any, ...]:
        if isinstance(value, ValueError):
            raise _Reject(1216, str(value))
        if not isinstance(value, dict):
            raise _Reject(1216, "Invalid JSON object: a record must be a JSON object")
        if paths is not None:
            fields = [_extract(value, p) for p in paths]
        elif spec.json.lower() == "auto ignorecase":
            lowered = {k.lower(): v for k, v in value.items()}
            fields = [lowered.get(c.name.lower()) for c in columns]
        else:
            fields = [value.get(c.name) for c in columns]
        row = []
        for column, convert, field_value in zip(columns, converters, fields):
            try:
                row.append(convert(field_value))
            except _Reject as reject:
                reject.column, reject.value = column, field_value
                raise
        return tuple(row)

    @staticmethod
    def _record(spec: CopySpec, url: str, line_number: int, raw: str, reject: _Reject) -> LoadErrorRecord:
        column = reject.column
        return LoadErrorRecord(
            tbl=spec.table,
            filename=url,
            line_number=line_number,
            colname=column.name if column else "",
            type=column.type if column else "",
            col_length=str(column.length or "") if column else "",
            position=0,
            # PostgreSQL text cannot hold NUL; show it escaped, as the JSON source wrote it.
            raw_line=raw[:1024].replace("\x00", "\\u0000"),
            raw_field_value="" if reject.value is None else _as_text(reject.value)[:1024].replace("\x00", "\\u0000"),
            err_code=reject.code,
            err_reason=reject.reason,
        )

