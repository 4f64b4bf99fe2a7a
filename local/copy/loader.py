"""The local COPY's write loop: every object of a COPY streamed into PostgreSQL through psycopg's
COPY protocol in one transaction, rejected records collected as Redshift's stl_load_errors rows.

Objects are read in pieces of whole lines, and those over `tuning.whole_bytes` are streamed, so
this side's memory does not grow with object size. Pieces of JSON Lines are converted by polars
(`local.copy.columnar`) while it can vouch for every record; the record-by-record path decides the rest.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from itertools import chain
from queue import Queue
from typing import Any

import psycopg
import psycopg.copy
from psycopg import sql
from psycopg.abc import Buffer

from core.engine import CopyProgress
from core.jsonpaths import parse_jsonpaths_file
from core.load_errors import CopyError, CopyResult, LoadError, LoadErrorRecord
from local.copy.columnar import ColumnarLoader
from local.copy.convert import Column, Reject, make_converter, rejection, to_row
from local.copy.fetch import S3Reader, skip_lines
from local.copy.records import iter_records, text_lines
from local.copy.statement import CopySpec
from local.copy.tuning import CopyTuning


def _table(spec: CopySpec) -> sql.Identifier:
    return sql.Identifier(*spec.table.split("."))


class _Sender(psycopg.copy.LibpqWriter):
    """psycopg's writer, sending from a thread of its own so that PostgreSQL parses one piece while
    the loader converts the next, with at most `waiting` pieces queued. psycopg's own
    QueuedLibpqWriter queues up to 1024 blocks of 128 kB: 40 MB more at the peak of a 5M-event run."""

    def __init__(self, cursor: psycopg.Cursor[Any], waiting: int) -> None:
        super().__init__(cursor)
        self._queue: Queue[Buffer | None] = Queue(maxsize=waiting)
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None  # started by the first write: a COPY that fails to start has none

    def _send(self) -> None:
        while (data := self._queue.get()) is not None:
            if self._error is None:  # after an error, only drained, so that write() never blocks
                try:
                    super().write(data)
                except BaseException as exc:
                    self._error = exc

    def write(self, data: Buffer) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._send, name="copy-sender", daemon=True)
            self._thread.start()
        if self._error is not None:
            raise self._error
        self._queue.put(data)

    def finish(self, exc: BaseException | None = None) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
        if self._error is not None:
            raise self._error
        super().finish(exc)


class LocalCopy:
    """Runs parsed COPY statements against PostgreSQL, reading sources from S3 with the client `s3`."""

    def __init__(self, s3: Any, tuning: CopyTuning) -> None:
        self.reader = S3Reader(s3, tuning)
        self.tuning = tuning

    def run(self, conn: psycopg.Connection, spec: CopySpec, progress: CopyProgress | None = None) -> CopyResult:
        columns = self._columns(conn, spec)
        if spec.statupdate is not None:
            self._require_owner(conn, spec)
        paths = self._jsonpaths(spec, len(columns))
        objects = self.reader.objects(spec)
        jsonpaths = [] if paths is None else [spec.json]
        self.reader.require_region(spec.region, [spec.source, *jsonpaths, *(o.url for o in objects)])
        converters = [make_converter(c, spec) for c in columns]
        columnar = ColumnarLoader.for_spec(columns, paths, spec)
        errors: list[LoadErrorRecord] = []
        rows = 0
        # As Redshift's COPY does: STATUPDATE ON analyzes the table after the load, OFF never, and
        # a COPY that does not say analyzes a table that was empty (copy-parameters-data-load).
        analyze = self._empty(conn, spec) if spec.statupdate is None else spec.statupdate
        target = sql.SQL("COPY {} ({}) FROM STDIN").format(
            _table(spec), sql.SQL(", ").join(sql.Identifier(c.name) for c in columns)
        )
        # Converted pieces are written as they come, so at most `converters` + 1 are held at once,
        # and as many more wait to be sent.
        # Streams are closed even when the COPY fails mid-object: moto's thread serving one
        # would otherwise wait for a reader that is gone.
        with (
            conn.cursor() as cur,
            cur.copy(target, writer=_Sender(cur, self.tuning.converters + 1)) as copy,
            ThreadPoolExecutor(self.tuning.converters) as converters_pool,
            closing(self.reader.fetch(objects)) as fetched,
        ):
            for done, (url, stream) in enumerate(fetched, 1):
                with closing(stream):
                    pieces = self.reader.pieces(url, stream, spec.compression)
                    # IGNOREHEADER counts lines, whatever records they hold (copy-parameters-data-format).
                    first_line = spec.ignore_header
                    if first_line:
                        pieces = skip_lines(pieces, first_line)
                    if columnar:
                        done_lines, loaded, pieces = self._columnar(copy, columnar, pieces, converters_pool)
                        first_line += done_lines
                        rows += loaded
                    # The row path takes over where the columnar one stopped: at the start of a
                    # line, since every line before it was a whole JSON object.
                    lines = text_lines(url, pieces, spec.invalid_char)
                    for line_number, raw, value in iter_records(url, lines, first_line):
                        try:
                            row = to_row(value, columns, paths, converters, spec)
                        except Reject as reject:
                            errors.append(rejection(spec, url, line_number, raw, reject))
                            if len(errors) > spec.max_errors:
                                raise LoadError(spec.table, errors, spec.max_errors) from None
                            continue
                        copy.write_row(row)
                        rows += 1
                if progress:
                    progress(done, len(objects))
        if analyze:
            conn.execute(sql.SQL("ANALYZE {}").format(_table(spec)))
        return CopyResult(rows=rows, files=len(objects), errors=errors)

    def _columnar(
        self, copy: Any, loader: ColumnarLoader, pieces: Iterator[bytes], pool: ThreadPoolExecutor
    ) -> tuple[int, int, Iterator[bytes]]:
        """Write an object's pieces while polars can vouch for each; return the lines and rows
        written and the pieces left for the row path. Objects under `tuning.min_columnar_bytes`
        are left whole: polars' setup costs more than it saves on them."""
        first = next(pieces, None)
        if first is None:
            return 0, 0, pieces
        pieces = chain([first], pieces)
        if len(first) < self.tuning.min_columnar_bytes:
            return 0, 0, pieces
        pending: deque[tuple[bytes, Future[tuple[bytes, int] | None]]] = deque()
        lines = rows = 0
        while True:
            while len(pending) <= self.tuning.converters and (piece := next(pieces, None)) is not None:
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

    def _require_owner(self, conn: psycopg.Connection, spec: CopySpec) -> None:
        """Redshift's rule for a COPY that says STATUPDATE: the table's owner or a superuser;
        without it, INSERT is enough (copy-parameters-data-load)."""
        may, user = conn.execute(
            "SELECT c.relowner = r.oid OR r.rolsuper, current_user FROM pg_class AS c, pg_roles AS r"
            " WHERE c.oid = %s::regclass AND r.rolname = current_user",
            (_table(spec).as_string(conn),),
        ).fetchone()
        if not may:
            raise CopyError(
                f"COPY into {spec.table} with STATUPDATE: user {user} neither owns the table nor is a superuser;"
                " leave STATUPDATE out or run the COPY as the table's owner"
            )

    def _empty(self, conn: psycopg.Connection, spec: CopySpec) -> bool:
        return not conn.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(_table(spec))).fetchone()[0]

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

    def _jsonpaths(self, spec: CopySpec, width: int) -> list[list[str | int]] | None:
        if spec.json.lower() in ("auto", "auto ignorecase"):
            return None
        body = self.reader.get(spec.json)
        if body is None:
            raise CopyError(f"JSONPaths file {spec.json} does not exist")
        paths = parse_jsonpaths_file(body, spec.json)
        if len(paths) != width:
            raise CopyError(
                f"JSONPaths file {spec.json} has {len(paths)} paths but COPY into {spec.table} "
                f"has {width} columns; they must match one to one"
            )
        return paths
