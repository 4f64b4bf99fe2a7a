"""The columnar path of the local COPY: polars parses a piece of an object and checks every value at once.

It takes a piece of whole lines (about `CopyTuning.chunk_bytes`) only when it can vouch that the row
path (`local.copy.convert`'s exact record-by-record conversion) would accept every record and load
the same values; it returns None otherwise, and the row path then loads the rest of that object
and reports each rejected record with its line.
A text value that would read the same as a JSON number, boolean, object or array (a song called
"1999") is checked in its own record, parsed as the row path parses it.
One known difference is left: a JSON object with a key written twice keeps the first value here,
the last on the row path.
"""

from __future__ import annotations

import io
import json
import threading

import polars as pl

from local.copy.convert import INT_RANGES, Column
from local.copy.records import MAX_RECORD_BYTES, has_long_line
from local.copy.statement import CopySpec

# What a number, boolean, object or array looks like once polars has read it as text: a text
# column holding any such value may not have been a JSON string, so the row path decides.
_NOT_A_JSON_STRING = r"^(?:-?[0-9]+(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?$|true$|false$|[{\[])"
# PostgreSQL's text COPY format: these characters are written as backslash escapes.
_TEXT_ESCAPES = [("\\", "\\\\"), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t")]


def _empty_to_null(value: pl.Expr) -> pl.Expr:
    return pl.when(value == "").then(None).otherwise(value)


def _base(column: Column) -> str:
    return column.type.split("(")[0].strip()


def _kind(column: Column) -> str | None:
    base = _base(column)
    if base in INT_RANGES:
        return "int"
    if base in ("real", "double precision"):
        return "float"
    if base == "timestamp without time zone":
        return "epoch"
    if column.is_text:
        return "text"
    return None


def _written_as_strings(chunk: bytes, frame: pl.DataFrame, keys: set[str]) -> bool:
    """Whether every record whose value of one of `keys` reads like a JSON number, boolean, object or
    array holds JSON strings there, the very ones polars read: those records alone are parsed again."""
    # polars reads one record per line and passes over lines of only spaces, tabs and CRs: the rows
    # are the other lines. Should they not line up, the row path decides, at no more than its cost.
    lines = chunk.removesuffix(b"\n").split(b"\n")
    if len(lines) != frame.height:
        lines = [line for line in lines if line.strip(b" \t\r")]
        if len(lines) != frame.height:
            return False
    suspect = pl.any_horizontal(pl.col(key).str.contains(_NOT_A_JSON_STRING) for key in keys)
    rows = frame.select(pl.arg_where(suspect)).to_series()
    for row, read in zip(rows, frame[rows, sorted(keys)].iter_rows(named=True), strict=True):
        try:
            record = json.loads(lines[row].decode())  # as the row path reads it: text, not bytes
        except ValueError:
            return False
        # A number polars read as text equals no str. json.loads keeps a repeated key's last value,
        # as the row path does, and polars its first: they must agree.
        if not isinstance(record, dict) or any(record.get(key) != text for key, text in read.items()):
            return False
    return True


class ColumnarLoader:
    """Converts JSON Lines into PostgreSQL text-format COPY data, a whole chunk at a time."""

    def __init__(self, columns: list[Column], keys: list[str], kinds: list[str], spec: CopySpec) -> None:
        self.columns, self.keys, self.kinds, self.spec = columns, keys, kinds, spec
        # Number columns arrive as JSON numbers or as strings ("userId": "39"): the first chunk
        # read tells which, and a chunk that disagrees is read again with strings.
        self._int_sources: dict[str, pl.DataType] | None = None
        self._lock = threading.Lock()

    @classmethod
    def for_spec(
        cls, columns: list[Column], paths: list[list[str | int]] | None, spec: CopySpec
    ) -> ColumnarLoader | None:
        """A loader if every column is a plain top-level field of a type it converts, else None."""
        if spec.blanks_as_null or spec.json.lower() == "auto ignorecase":
            return None
        if paths is None:
            keys = [c.name for c in columns]
        elif all(len(p) == 1 and isinstance(p[0], str) for p in paths):
            keys = [str(p[0]) for p in paths]
        else:
            return None
        epoch_ok = spec.timeformat in ("epochmillisecs", "epochsecs")
        kinds = [_kind(c) for c in columns]
        if None in kinds or ("epoch" in kinds and not epoch_ok) or len(set(keys)) != len(keys):
            return None
        return cls(columns, keys, [str(k) for k in kinds], spec)

    def convert(self, chunk: bytes) -> tuple[bytes, int] | None:
        """The chunk's rows as text-format COPY data and their count, or None if the row path must decide."""
        if len(chunk) > MAX_RECORD_BYTES and has_long_line(chunk):  # the row path fails the COPY on it
            return None
        if not chunk.isascii():
            try:
                chunk.decode("utf-8")  # the row path fails the COPY on it; so must this one
            except ValueError:
                return None
        try:
            frame = self._read(chunk)
            if frame is None:
                return None
            kinds = {key: (kind, frame.schema[key]) for key, kind in zip(self.keys, self.kinds, strict=True)}
            # JSON strings hold NUL, backslash, newline, CR or tab only as escapes: checking
            # them is needed only where the chunk has a backslash at all.
            flags = frame.lazy().select(self._checks(kinds, escapes=b"\\" in chunk)).collect().row(0, named=True)
            failed = {name for name, value in flags.items() if value and not name.startswith("escape:")}
            # Text that reads like another JSON type is common in real data ("1999", "[Untitled]"):
            # only the records holding it are parsed again, not the rest of the object.
            doubtful = {name.removeprefix("json:") for name in failed if name.startswith("json:")}
            if len(doubtful) < len(failed) or (doubtful and not _written_as_strings(chunk, frame, doubtful)):
                return None
            escape = {
                name.removeprefix("escape:") for name, value in flags.items() if name.startswith("escape:") and value
            }
            out = frame.lazy().select(self._conversions(kinds, escape)).collect()
        except (pl.exceptions.PolarsError, pl.exceptions.PanicException):  # e.g. a cast polars refuses
            return None
        buffer = io.BytesIO()
        out.write_csv(
            buffer, include_header=False, separator="\t", quote_style="never", null_value="\\N",
            datetime_format="%Y-%m-%d %H:%M:%S%.f",
        )
        return buffer.getvalue(), out.height

    def _read(self, chunk: bytes) -> pl.DataFrame | None:
        """The chunk as a frame typed for conversion; None if it is not JSON Lines of such values."""
        source = {"float": pl.Float64, "epoch": pl.Int64, "text": pl.String}
        with self._lock:
            if self._int_sources is None:
                try:
                    sample = io.BytesIO(chunk[: 64 * 1024].rsplit(b"\n", 1)[0])
                    inferred = pl.read_ndjson(sample, infer_schema_length=None).schema
                except (pl.exceptions.PolarsError, pl.exceptions.PanicException):
                    inferred = {}
                self._int_sources = {
                    key: pl.Int64 if inferred.get(key) == pl.Int64 else pl.String
                    for key, kind in zip(self.keys, self.kinds, strict=True) if kind == "int"
                }
        pairs = zip(self.keys, self.kinds, strict=True)
        schema = {key: self._int_sources.get(key) or source[kind] for key, kind in pairs}
        attempts = [schema]
        if pl.Int64 in self._int_sources.values():
            attempts.append({**schema, **dict.fromkeys(self._int_sources, pl.String)})
        # polars (2.1 on) refuses a JSON true/false for a number type, which the row path rejects too;
        # read as a string it fails the digits check. Either way the row path decides that piece.
        for attempt in attempts:
            try:
                return pl.read_ndjson(io.BytesIO(chunk), schema=attempt)
            except (pl.exceptions.PolarsError, pl.exceptions.PanicException):
                continue
        return None

    def _checks(self, kinds: dict[str, tuple[str, pl.DataType]], escapes: bool) -> list[pl.Expr]:
        """One boolean per test a chunk must pass (all False), and per text column whether it needs escapes."""
        checks = []
        for column, key in zip(self.columns, self.keys, strict=True):
            kind, dtype = kinds[key]
            value = pl.col(key)
            if kind == "int":
                limit = INT_RANGES[_base(column)]
                if dtype == pl.String:
                    # Redshift loads an empty string into a number column as NULL.
                    bad = (value != "") & ~value.str.contains(r"^[+-]?[0-9]{1,18}$")
                    checks.append(bad.any().alias(f"digits:{key}"))
                    value = _empty_to_null(value).cast(pl.Int64, strict=False)
                checks.append(((value < -limit) | (value >= limit)).any().alias(f"range:{key}"))
            elif kind == "epoch":
                scale = 1000 if self.spec.timeformat == "epochmillisecs" else 1
                # Between 1900 and 2200: well inside what both paths can represent.
                checks.append(
                    ((value < -2_208_988_800 * scale) | (value > 7_258_118_400 * scale)).any().alias(f"range:{key}")
                )
            elif kind == "text":
                checks.append(value.str.contains(_NOT_A_JSON_STRING).any().alias(f"json:{key}"))
                if column.length is not None:
                    checks.append((value.str.len_bytes().max() > column.length).alias(f"length:{key}"))
                if escapes:
                    checks.append(value.str.contains("\x00", literal=True).any().alias(f"nul:{key}"))
                    checks.append(value.str.contains(r"[\\\n\r\t]").any().alias(f"escape:{key}"))
                if self.spec.empty_as_null:
                    value = _empty_to_null(value)
            if column.not_null:
                checks.append(value.is_null().any().alias(f"null:{key}"))
        return [c.fill_null(False) for c in checks]

    def _conversions(self, kinds: dict[str, tuple[str, pl.DataType]], escape: set[str]) -> list[pl.Expr]:
        out = []
        for column, key in zip(self.columns, self.keys, strict=True):
            kind, dtype = kinds[key]
            value = pl.col(key)
            if kind == "int" and dtype == pl.String:
                value = _empty_to_null(value).cast(pl.Int64)
            elif kind == "epoch":
                value = pl.from_epoch(value, time_unit="ms" if self.spec.timeformat == "epochmillisecs" else "s")
            elif kind == "text":
                if self.spec.empty_as_null:
                    value = _empty_to_null(value)
                if key in escape:
                    for char, escaped in _TEXT_ESCAPES:
                        value = value.str.replace_all(char, escaped, literal=True)
            out.append(value.alias(column.name))
        return out
