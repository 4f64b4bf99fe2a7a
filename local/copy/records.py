"""The text of an object framed into JSON records as Redshift's COPY frames them, and the fields a
JSONPaths file picks from a record."""

from __future__ import annotations

import codecs
import json
from collections.abc import Iterable, Iterator
from typing import Any

from core.load_errors import CopyError

# "The maximum size of a single JSON object or array, including braces or brackets, is 4 MB"
# (copy-parameters-data-format, "JSON data file"); COPY fails on a larger one.
MAX_RECORD_BYTES = 4 * 1024 * 1024
# A character is at most 4 bytes in UTF-8: records of fewer characters need no encoding to be measured.
_MEASURED = MAX_RECORD_BYTES // 4


class NotAnArray(LookupError):
    """A JSONPath's array index met no array, or an array too short: Redshift rejects the record."""


def extract(record: Any, steps: list[str | int]) -> Any:
    """The value at `steps` (from core.jsonpaths.parse_jsonpath) in `record`, or None if a name in
    them is missing; raises NotAnArray where an index is (copy-parameters-data-format)."""
    for step in steps:
        if isinstance(step, int):
            if not isinstance(record, list) or step >= len(record):
                raise NotAnArray(step)
            record = record[step]
        elif isinstance(record, dict):
            record = record.get(step)
        else:
            return None
    return record


def _decode_all(text: str) -> list[tuple[Any, int, int]]:
    """All JSON values in `text`, separated by whitespace, each with where it starts and stops;
    raises ValueError if any is malformed."""
    decoder, values, pos = json.JSONDecoder(), [], 0
    end = len(text)
    while True:
        while pos < end and text[pos].isspace():
            pos += 1
        if pos == end:
            return values
        value, stop = decoder.raw_decode(text, pos)
        values.append((value, pos, stop))
        pos = stop


def _too_large(text: str, start: int, stop: int) -> bool:
    return len(text[start:stop].encode()) > MAX_RECORD_BYTES


def has_long_line(chunk: bytes, limit: int = MAX_RECORD_BYTES) -> bool:
    """Whether a line of `chunk` is longer than `limit` bytes, looking only around every
    `limit // 2`-th byte: a longer line covers one of them."""
    for point in range(0, len(chunk), max(limit // 2, 1)):
        start = chunk.rfind(b"\n", 0, point) + 1
        end = chunk.find(b"\n", point)
        if (len(chunk) if end == -1 else end) - start > limit:
            return True
    return False


def iter_records(url: str, lines: Iterable[str], skipped: int = 0) -> Iterator[tuple[int, str, Any]]:
    """Yield (last line number, raw text, value or ValueError) for each JSON value of `url` after
    its first `skipped` lines: a record is an object or an array (copy-parameters-data-format).

    Records may be one per line, several per line, or pretty-printed across lines. A record that
    never closes is cut off by the next line starting with '{' (or '[', after an array) or by the end
    of the file. A record over 4 MB fails the COPY, as on Redshift.
    """
    buffer: list[str] = []
    buffered = 0  # the buffer's size in bytes
    last = 0  # the last non-blank line of the buffered record: where an unclosed record ends
    for number, line in enumerate(lines, skipped + 1):
        # '[' starts a new record only after an array record: inside an object it may open a value.
        if buffer and (line.startswith("{") or (line.startswith("[") and buffer[0].lstrip().startswith("["))):
            yield last, "".join(buffer).strip(), ValueError("Invalid JSON object: the record is incomplete")
            buffer, buffered = [], 0
        if not buffer:
            if not line.strip():
                continue
            try:
                values = _decode_all(line)
            except ValueError:
                pass
            else:
                for value, start, stop in values:
                    if stop - start > _MEASURED and _too_large(line, start, stop):
                        raise _record_too_large(url, number)
                    yield number, line.rstrip("\r\n"), value
                continue
        buffer.append(line)
        buffered += len(line.encode())
        if line.strip():
            last = number
        text = "".join(buffer)
        try:
            values = _decode_all(text)
        except ValueError:
            # Closed or not, what is buffered is no record within Redshift's limit.
            if buffered > MAX_RECORD_BYTES:
                raise _record_too_large(url, number) from None
            continue
        for value, start, stop in values:
            if stop - start > _MEASURED and _too_large(text, start, stop):
                raise _record_too_large(url, number)
            yield number, text.strip(), value
        buffer, buffered = [], 0
    if buffer:
        yield last, "".join(buffer).strip(), ValueError("Invalid JSON object: the record is incomplete")


def _record_too_large(url: str, line_number: int) -> CopyError:
    return CopyError(
        f"{url} line {line_number}: a JSON record is over Redshift's 4 MB limit for one object or array"
        " (the guide's copy-parameters-data-format page); split it"
    )


def _replacing(char: str) -> str:
    """The name of a codec error handler that writes `char` for each byte of an invalid UTF-8 sequence:
    ACCEPTINVCHARS replaces "an invalid three-byte character" with three of them."""
    name = f"acceptinvchars-{ord(char)}"
    codecs.register_error(name, lambda exc: (char * (exc.end - exc.start), exc.end))  # type: ignore[attr-defined]
    return name


def text_lines(url: str, pieces: Iterable[bytes], invalid_char: str | None = None) -> Iterator[str]:
    """The lines of pieces that each end at a line end (the last may not); invalid UTF-8 fails the
    COPY unless ACCEPTINVCHARS' `invalid_char` replaces it."""
    errors = _replacing(invalid_char) if invalid_char else "strict"
    for piece in pieces:
        try:
            text = piece.decode("utf-8", errors)
        except ValueError as exc:
            raise CopyError(f"cannot read {url}: {exc}; load it with ACCEPTINVCHARS or fix the file") from None
        # Only \n ends a line: str.splitlines would also break at U+2028 and friends inside strings.
        lines = text.split("\n")
        yield from (line + "\n" for line in lines[:-1])
        if lines[-1]:
            yield lines[-1]
