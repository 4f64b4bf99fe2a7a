"""A JSONPaths file, as Redshift's COPY reads it: one path per column, in column order.

The survey checks the file before anything is created; the local COPY follows its paths.
"""

from __future__ import annotations

import json
import re

from core.load_errors import CopyError

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
        raise CopyError(
            f'JSONPaths file {url} must be an object with the single key "jsonpaths" holding a list of paths'
        )
    return [parse_jsonpath(p) for p in doc["jsonpaths"]]
