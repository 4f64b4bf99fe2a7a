"""What the local COPY honours of a Redshift COPY statement, read by the Redshift grammar
(`core.redshift_sql`): JSON from S3, by prefix or manifest, with the options below."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.load_errors import CopyError
from core.redshift_sql import CopyCommand

# Options that are accepted and have no effect on a single-node local engine; the credentials are
# Redshift's to read S3 with, and the local engine reads it with its own client.
_IGNORED = {
    "COMPUPDATE", "STATUPDATE", "IAM_ROLE", "CREDENTIALS", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY", "SESSION_TOKEN"
}
_FLAGS = {"MANIFEST", "TRUNCATECOLUMNS", "BLANKSASNULL", "EMPTYASNULL", "GZIP", "BZIP2"}
_TIMEFORMATS = ("auto", "epochsecs", "epochmillisecs")


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


def copy_spec(command: CopyCommand) -> CopySpec:
    """The local engine's reading of a COPY; raises CopyError for what it does not emulate."""
    options = dict(command.options)
    if "JSON" not in options:
        formats = {"CSV", "AVRO", "PARQUET", "ORC", "FIXEDWIDTH", "DELIMITER"} & options.keys()
        given = f"FORMAT AS {next(iter(formats))}" if formats else "no FORMAT (pipe-delimited text)"
        raise CopyError(f"the local engine supports FORMAT AS JSON only, and this COPY has {given}")
    unknown = sorted(options.keys() - _IGNORED - _FLAGS - {"JSON", "TIMEFORMAT", "MAXERROR", "REGION"})
    if unknown:
        raise CopyError(f"COPY option {unknown[0]} is not supported by the local engine")
    json = options["JSON"]
    timeformat = str(options["TIMEFORMAT"]).lower() if "TIMEFORMAT" in options else None
    if timeformat not in (None, *_TIMEFORMATS):
        raise CopyError(f"TIMEFORMAT {timeformat!r} is not supported: use 'auto', 'epochsecs' or 'epochmillisecs'")
    return CopySpec(
        table=command.table,
        source=str(command.source),
        columns=list(command.columns),
        json="auto" if json is True else str(json),
        manifest="MANIFEST" in options,
        compression=next((c for c in ("GZIP", "BZIP2") if c in options), None),
        timeformat=timeformat,
        max_errors=int(options.get("MAXERROR", 0)),
        truncate_columns="TRUNCATECOLUMNS" in options,
        blanks_as_null="BLANKSASNULL" in options,
        empty_as_null="EMPTYASNULL" in options,
        region=options.get("REGION"),
        iam_role=options.get("IAM_ROLE"),
    )
