"""The text of an object framed into JSON records as Redshift's COPY frames them, and the fields a
JSONPaths file picks from a record."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from core.load_errors import CopyError


def extract(record: Any, steps: list[str | int]) -> Any:
    """The value at `steps` (from core.jsonpaths.parse_jsonpath) in `record`, or None if it has none."""
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



def text_lines(url: str, pieces: Iterable[bytes]) -> Iterator[str]:
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
