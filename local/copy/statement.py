"""What the local COPY honours of a Redshift COPY statement, read by the Redshift grammar
(`core.redshift_sql`): JSON from S3, by prefix or manifest, with the options below."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.load_errors import CopyError
from core.redshift_sql import CopyCommand

# Options that are accepted and have no effect on a single-node local engine (COMPUPDATE chooses
# Redshift's column encodings); the credentials are Redshift's to read S3 with, and the local
# engine reads it with its own client.
_IGNORED = {
    "COMPUPDATE", "IAM_ROLE", "CREDENTIALS", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY", "SESSION_TOKEN"
}
_FLAGS = {"MANIFEST", "TRUNCATECOLUMNS", "BLANKSASNULL", "EMPTYASNULL", "GZIP", "BZIP2", "ROUNDEC"}
_VALUES = {"STATUPDATE", "JSON", "TIMEFORMAT", "MAXERROR", "REGION", "IGNOREHEADER", "ACCEPTINVCHARS"}
_TIMEFORMATS = ("auto", "epochsecs", "epochmillisecs")
# What Redshift itself refuses beside FORMAT AS JSON (copy-parameters-data-format, "JSON data file").
_NOT_WITH_JSON = {"CSV", "DELIMITER", "ESCAPE", "FILLRECORD", "FIXEDWIDTH", "IGNOREBLANKLINES", "NULL", "READRATIO",
                  "REMOVEQUOTES", "QUOTE", "AVRO", "PARQUET", "ORC"}
# The guide's page of each Redshift option the local engine does not emulate, for its error.
_PAGES = {
    **dict.fromkeys(("LZOP", "ZSTD"), "copy-parameters-file-compression"),
    **dict.fromkeys(
        ("ACCEPTANYDATE", "DATEFORMAT", "ENCODING", "EXPLICIT_IDS", "TRIMBLANKS"), "copy-parameters-data-conversion"
    ),
    **dict.fromkeys(("COMPROWS", "NOLOAD", "IGNOREALLERRORS"), "copy-parameters-data-load"),
    **dict.fromkeys(("ENCRYPTED", "MASTER_SYMMETRIC_KEY"), "copy-parameters-data-source-s3"),
    "SSH": "copy-parameters-data-source-ssh",
    "SERIALIZETOJSON": "copy-parameters-data-format",
}


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
    ignore_header: int = 0
    round_decimals: bool = False
    # ACCEPTINVCHARS' replacement character, or None when invalid UTF-8 fails the COPY.
    invalid_char: str | None = None
    truncate_columns: bool = False
    blanks_as_null: bool = False
    empty_as_null: bool = False
    region: str | None = None
    iam_role: str | None = None
    # STATUPDATE: True (ON), False (OFF), or None (omitted: ANALYZE if the table was empty).
    statupdate: bool | None = None


def copy_spec(command: CopyCommand) -> CopySpec:
    """The local engine's reading of a COPY; raises CopyError for what it does not emulate."""
    options = dict(command.options)
    if "JSON" not in options:
        formats = {"CSV", "AVRO", "PARQUET", "ORC", "FIXEDWIDTH", "DELIMITER"} & options.keys()
        given = f"FORMAT AS {next(iter(formats))}" if formats else "no FORMAT (pipe-delimited text)"
        raise CopyError(f"the local engine supports FORMAT AS JSON only, and this COPY has {given}")
    against_json = sorted(_NOT_WITH_JSON & options.keys())
    if against_json:
        name = "NULL AS" if against_json[0] == "NULL" else against_json[0]
        raise CopyError(
            f"Redshift does not accept {name} with FORMAT AS JSON (the guide's copy-parameters-data-format page)"
        )
    unknown = sorted(options.keys() - _IGNORED - _FLAGS - _VALUES)
    if unknown:
        page = _PAGES.get(unknown[0])
        where = f" (the guide's {page} page)" if page else ""
        raise CopyError(f"COPY option {unknown[0]}{where} is not emulated by the local engine; remove it to run here")
    json = "auto" if options["JSON"] is True else str(options["JSON"])
    if json.lower() == "noshred":
        raise CopyError(
            "JSON 'noshred' loads whole documents into a SUPER column, which the local engine does not emulate"
            " (the guide's copy_json page); map the fields to columns with 'auto' or a JSONPaths file"
        )
    return CopySpec(
        table=command.table,
        source=str(command.source),
        columns=list(command.columns),
        json=json,
        manifest="MANIFEST" in options,
        compression=next((c for c in ("GZIP", "BZIP2") if c in options), None),
        timeformat=_timeformat(options.get("TIMEFORMAT")),
        max_errors=int(options.get("MAXERROR", 0)),
        ignore_header=_count("IGNOREHEADER", options.get("IGNOREHEADER", 0)),
        round_decimals="ROUNDEC" in options,
        invalid_char=_replacement(options["ACCEPTINVCHARS"]) if "ACCEPTINVCHARS" in options else None,
        truncate_columns="TRUNCATECOLUMNS" in options,
        blanks_as_null="BLANKSASNULL" in options,
        empty_as_null="EMPTYASNULL" in options,
        region=options.get("REGION"),
        iam_role=options.get("IAM_ROLE"),
        statupdate=_statupdate(options.get("STATUPDATE")),
    )


def _statupdate(value: object) -> bool | None:
    """STATUPDATE's switch: bare, ON or TRUE, OFF or FALSE; None when the COPY does not say."""
    if value is None:
        return None
    if value is True or value in ("ON", "TRUE"):
        return True
    if value in ("OFF", "FALSE"):
        return False
    raise CopyError(f"STATUPDATE {value}: Redshift takes ON or OFF (the guide's copy-parameters-data-load page)")


def _timeformat(value: object) -> str | None:
    if value is None:
        return None
    if str(value) in _TIMEFORMATS:
        return str(value)
    if str(value).lower() in _TIMEFORMATS:
        raise CopyError(
            f"TIMEFORMAT {value!r}: the keywords 'auto', 'epochsecs' and 'epochmillisecs' are case-sensitive "
            "(the guide's copy-parameters-data-conversion page); write it in lower case"
        )
    raise CopyError(f"TIMEFORMAT {value!r} is not supported: use 'auto', 'epochsecs' or 'epochmillisecs'")


def _count(name: str, value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise CopyError(f"COPY option {name} needs a whole number of lines, not {value!r}")


def _replacement(value: object) -> str:
    """ACCEPTINVCHARS' character: '?' unless given, and "any ASCII character except NULL"
    (copy-parameters-data-conversion)."""
    char = "?" if value is True else str(value)
    if len(char) != 1 or not char.isascii() or char == "\x00":
        raise CopyError(f"ACCEPTINVCHARS {value!r} must be a single ASCII character other than NUL")
    return char
