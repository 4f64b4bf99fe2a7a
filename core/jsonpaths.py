"""A JSONPaths file, as Redshift's COPY reads it: one path per column, in column order.

The survey checks the file before anything is created; the local COPY follows its paths. The rules
are the guide's (copy-parameters-data-format, "JSONPaths file" and "JSONPath expressions"): bracket
notation `$['a']['b']` or dot notation `$.a.b`, never both in one file; `[n]` indexes an array
in either; no wildcards or filters.
"""

from __future__ import annotations

import json
import re

from core.load_errors import CopyError

_GUIDE = "see 'JSONPath expressions' in the guide's copy-parameters-data-format page"
# A dot-notation name must not hold a single quote, a dot or brackets.
_PATH_STEP = re.compile(r"\.([^.'\[\]]+)|\[\s*'((?:[^']|\\')*)'\s*\]|\[\s*\"([^\"]*)\"\s*\]|\[\s*(\d+)\s*\]")


def _parse(path: str) -> tuple[list[str | int], str | None]:
    """The steps of `path` and its notation ('dot', 'bracket', or None if it only indexes arrays)."""
    if not path.startswith("$"):
        raise CopyError(f"JSONPath {path!r} must start with '$'; {_GUIDE}")
    steps: list[str | int] = []
    notations: set[str] = set()
    pos = 1
    while pos < len(path):
        match = _PATH_STEP.match(path, pos)
        if not match:
            raise CopyError(f"invalid JSONPath {path!r} near {path[pos:]!r}; {_GUIDE}")
        dot, single, double, index = match.groups()
        if index is not None:
            steps.append(int(index))
        else:
            notations.add("dot" if dot is not None else "bracket")
            steps.append(dot or single or double or "")
        pos = match.end()
    if not steps:
        raise CopyError(f"JSONPath {path!r} names no field; {_GUIDE}")
    if len(notations) > 1:
        raise CopyError(f"JSONPath {path!r} mixes dot and bracket notation; write it in one of them ({_GUIDE})")
    return steps, next(iter(notations), None)


def parse_jsonpath(path: str) -> list[str | int]:
    """`$['a']['b'][0]` or `$.a.b[0]` to the steps ['a', 'b', 0]."""
    return _parse(path)[0]


def parse_jsonpaths_file(body: bytes, url: str) -> list[list[str | int]]:
    """The steps of every path in a JSONPaths file; raises CopyError where Redshift's COPY fails."""
    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise CopyError(f"JSONPaths file {url} is not valid JSON ({exc}); fix the file") from None
    if not isinstance(doc, dict) or list(doc) != ["jsonpaths"] or not isinstance(doc["jsonpaths"], list):
        # Redshift silently treats such a file as 'auto'; a typo should not pass unnoticed here.
        raise CopyError(
            f'JSONPaths file {url} must be an object with the single key "jsonpaths" holding a list of paths'
        )
    parsed = []
    for number, path in enumerate(doc["jsonpaths"], 1):
        if not isinstance(path, str):
            raise CopyError(f"JSONPaths file {url}: path {number} is {json.dumps(path)}, not a string; {_GUIDE}")
        parsed.append(_parse(path))
    notations = {notation for _, notation in parsed if notation}
    if len(notations) > 1:
        raise CopyError(
            f"JSONPaths file {url} mixes dot notation ($.a) and bracket notation ($['a']); use one ({_GUIDE})"
        )
    return [steps for steps, _ in parsed]
