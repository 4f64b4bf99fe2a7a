"""JSON values converted as Redshift's COPY converts them into each column type, and records rejected
with Redshift's error codes and reasons."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from core.load_errors import LoadErrorRecord
from local.copy.records import NotAnArray, extract
from local.copy.statement import CopySpec

# PostgreSQL's integer types and the bound of their ranges, for both the row and the columnar path.
INT_RANGES = {"smallint": 2**15, "integer": 2**31, "bigint": 2**63}


class Reject(Exception):
    """One record rejected, and why; `column` and `value` are filled in once known."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code, self.reason = code, reason
        self.column: Column | None = None
        self.value: Any = None


@dataclass(frozen=True)
class Column:
    """A column of the COPY's table, as PostgreSQL describes it."""

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
    return (
        json.dumps(value, ensure_ascii=False, separators=(",", ":")) if isinstance(value, dict | list) else str(value)
    )


# What a JSON "\\ud800" escape with no pair decodes to: no UTF-8 character, so PostgreSQL cannot store it.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _valid_utf8(text: str, invalid_char: str | None) -> str:
    """`text`, whose unpaired surrogates ACCEPTINVCHARS replaces (three bytes each, as UTF-8 would
    write them) and which is rejected without it, with Redshift's code for invalid UTF-8."""
    if not _SURROGATE.search(text):
        return text
    if invalid_char is None:
        raise Reject(1220, "String contains invalid or unsupported UTF8 codepoints: an unpaired \\u surrogate escape")
    return _SURROGATE.sub(invalid_char * 3, text)


def _precision_scale(type_: str) -> tuple[int | None, int | None]:
    match = re.search(r"\((\d+)(?:,\s*(\d+))?\)", type_)
    if not match:
        return None, None
    return int(match.group(1)), int(match.group(2) or 0)


def make_converter(column: Column, spec: CopySpec) -> Callable[[Any], Any]:
    """A function from a JSON value to the Python value psycopg writes into `column`."""
    base = column.type.split("(")[0].strip()

    def convert(value: Any) -> Any:
        if isinstance(value, str) and (not value or value.isspace()):
            # Empty and blank strings load as NULL into other types always, into CHAR and VARCHAR
            # only with EMPTYASNULL / BLANKSASNULL (copy-parameters-data-conversion).
            if not column.is_text or (spec.empty_as_null and value == "") or spec.blanks_as_null:
                value = None
        if value is None:
            if column.not_null:
                raise Reject(1213, "Missing data for not-null field")
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
                raise Reject(1207, f"Invalid digit, Value '{_as_text(value)[:20]}', Type: {base}") from None
            if not -limit <= number < limit:
                raise Reject(1216, f"Overflow, value {number} is out of range for type {base}")
            return number

    elif base == "numeric":
        precision, scale = _precision_scale(column.type)
        rounding = ROUND_HALF_UP if spec.round_decimals else ROUND_DOWN

        def to_type(value: Any) -> Any:
            try:
                if isinstance(value, bool):
                    raise ValueError
                number = Decimal(value.strip() if isinstance(value, str) else str(value))
                if not number.is_finite():
                    raise ValueError
            except (ValueError, ArithmeticError):
                raise Reject(1207, f"Invalid digit, Value '{_as_text(value)[:20]}', Type: {base}") from None
            if scale is not None:
                # COPY truncates extra fractional digits, or rounds them with ROUNDEC
                # (copy-parameters-data-conversion), and rejects values too wide for the column.
                number = number.quantize(Decimal(1).scaleb(-scale), rounding=rounding)
                if precision is not None and number.adjusted() >= precision - scale:
                    raise Reject(1216, f"Numeric value {number} is out of range for {column.type}")
            return number

    elif base in ("real", "double precision"):

        def to_type(value: Any) -> Any:
            try:
                if isinstance(value, bool):
                    raise ValueError
                return float(value.strip()) if isinstance(value, str) else float(value)
            except (TypeError, ValueError, OverflowError):
                raise Reject(1207, f"Invalid digit, Value '{_as_text(value)[:20]}', Type: {base}") from None

    elif base == "boolean":

        def to_type(value: Any) -> Any:
            text = _as_text(value).strip().lower()
            if text in ("true", "t", "1", "yes", "y"):
                return True
            if text in ("false", "f", "0", "no", "n"):
                return False
            raise Reject(1207, f"Invalid boolean value '{text[:20]}'")

    elif base.startswith("timestamp") or base == "date":

        def to_type(value: Any) -> Any:
            try:
                if spec.timeformat in ("epochmillisecs", "epochsecs") and isinstance(value, int | float):
                    seconds = value / 1000 if spec.timeformat == "epochmillisecs" else value
                    stamp = datetime.fromtimestamp(seconds, timezone.utc).replace(tzinfo=None)
                else:
                    stamp = datetime.fromisoformat(_as_text(value).strip())
            except (ValueError, OverflowError, OSError):
                raise Reject(1206, f"Invalid timestamp format or value '{_as_text(value)[:30]}'") from None
            return stamp.date() if base == "date" else stamp

    else:  # character types
        length = column.length

        def to_type(value: Any) -> Any:
            text = _as_text(value)
            if "\x00" in text:
                raise Reject(1216, "String contains the NUL character (0x00)")
            if not text.isascii():
                text = _valid_utf8(text, spec.invalid_char)
            # Redshift measures VARCHAR/CHAR lengths in bytes, PostgreSQL in characters.
            if length is not None and (len(text) if text.isascii() else len(text.encode())) > length:
                if not spec.truncate_columns:
                    raise Reject(1204, f"String length exceeds DDL length ({length} bytes)")
                text = text.encode()[:length].decode(errors="ignore")
            return text

    return convert


def to_row(
    value: Any,
    columns: list[Column],
    paths: list[list[str | int]] | None,
    converters: list[Callable[[Any], Any]],
    spec: CopySpec,
) -> tuple[Any, ...]:
    """The row a JSON record (or the ValueError it failed to parse with) loads as; raises Reject."""
    if isinstance(value, ValueError):
        raise Reject(1216, str(value))
    if paths is not None:
        if not isinstance(value, dict | list):
            raise Reject(1216, "Invalid JSON object: a record must be a JSON object or array")
        fields: list[Any] = []
        for column, path in zip(columns, paths, strict=True):
            try:
                fields.append(extract(value, path))
            except NotAnArray:
                reject = Reject(1216, "Invalid JSONPath format: Not an array or index out of range")
                reject.column = column
                raise reject from None
    elif not isinstance(value, dict):
        # copy-parameters-data-format: "If your data files use arrays, you must specify a JSONPaths file".
        kind = "an array" if isinstance(value, list) else "not a JSON object"
        raise Reject(1216, f"Invalid JSON object: the record is {kind}, and JSON 'auto' needs objects; "
                     "map arrays with a JSONPaths file")
    elif spec.json.lower() == "auto ignorecase":
        lowered = {k.lower(): v for k, v in value.items()}
        fields = [lowered.get(c.name.lower()) for c in columns]
    else:
        fields = [value.get(c.name) for c in columns]
    row = []
    for column, convert, field_value in zip(columns, converters, fields, strict=True):
        try:
            row.append(convert(field_value))
        except Reject as reject:
            reject.column, reject.value = column, field_value
            raise
    return tuple(row)


def rejection(spec: CopySpec, url: str, line_number: int, raw: str, reject: Reject) -> LoadErrorRecord:
    """The stl_load_errors row of a rejected record."""
    column = reject.column
    return LoadErrorRecord(
        tbl=spec.table,
        filename=url,
        line_number=line_number,
        colname=column.name if column else "",
        type=column.type if column else "",
        col_length=str(column.length or "") if column else "",
        position=0,
        # PostgreSQL text cannot hold NUL or a lone surrogate; show them escaped, as the JSON source wrote them.
        raw_line=raw[:1024].replace("\x00", "\\u0000"),
        raw_field_value=""
        if reject.value is None
        else _as_text(reject.value)[:1024].replace("\x00", "\\u0000").encode("utf-8", "backslashreplace").decode(),
        err_code=reject.code,
        err_reason=reject.reason,
    )
