"""A Redshift COPY statement as both engines read it: the table, the source and the options.

The AWS engine needs the table and MAXERROR to report a failed COPY; the local engine runs the
whole statement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from core.load_errors import CopyError


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
