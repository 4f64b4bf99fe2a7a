"""local.copy.statement: what the local COPY honours of a COPY statement read by the Redshift grammar."""

from __future__ import annotations

import pytest

from core.load_errors import CopyError
from core.redshift_sql import NotParsed
from core.redshift_sql import parse_copy as read_copy
from local.copy.statement import CopySpec, copy_spec


def parse_copy(statement: str) -> CopySpec:
    command = read_copy(statement)
    assert command is not None, statement
    return copy_spec(command)


def test_parse_copy_keywords_in_any_case() -> None:
    """Lower-case keywords, optional AS, and ignored flags with ON/OFF all parse."""
    spec = parse_copy(
        "copy t from 's3://b/p' iam_role 'arn:x' format as json 'auto' maxerror as 3"
        " timeformat 'epochmillisecs' region 'us-west-2' compupdate off statupdate off"
    )
    assert (spec.table, spec.source, spec.iam_role, spec.json) == ("t", "s3://b/p", "arn:x", "auto")
    assert (spec.max_errors, spec.timeformat, spec.region) == (3, "epochmillisecs", "us-west-2")
    assert spec.columns == [] and not spec.manifest and spec.compression is None


def test_parse_copy_mixed_case_and_trailing_semicolon() -> None:
    """Upper/mixed case keywords, REGION AS, TIMEFORMAT AS, and a final ';'."""
    spec = parse_copy(
        "CoPy staging_events FROM 's3://b/log_data' IAM_ROLE 'arn:y' REGION AS 'eu-west-1'"
        " FORMAT AS JSON 's3://b/paths.json' TIMEFORMAT AS 'epochsecs' MAXERROR 0;"
    )
    assert (spec.table, spec.json, spec.region, spec.timeformat, spec.max_errors) == (
        "staging_events", "s3://b/paths.json", "eu-west-1", "epochsecs", 0,
    )  # fmt: skip


def test_parse_copy_column_list_manifest_and_compression() -> None:
    """A column list, MANIFEST, GZIP / BZIP2 and the conversion flags are recorded."""
    spec = parse_copy(
        "COPY t (a, \"b\", c) FROM 's3://b/m.manifest' JSON 'auto ignorecase' MANIFEST GZIP"
        " TRUNCATECOLUMNS BLANKSASNULL EMPTYASNULL"
    )
    assert spec.columns == ["a", "b", "c"]
    assert spec.json == "auto ignorecase"
    assert spec.manifest and spec.compression == "GZIP"
    assert spec.truncate_columns and spec.blanks_as_null and spec.empty_as_null
    assert parse_copy("copy t from 's3://b/p' iam_role 'r' json 'auto' bzip2").compression == "BZIP2"


def test_parse_copy_unknown_option_names_it_and_its_page() -> None:
    """An option the local engine does not emulate is an error naming the option and its guide page."""
    with pytest.raises(CopyError, match=r"TRIMBLANKS \(the guide's copy-parameters-data-conversion page\)"):
        parse_copy("COPY t FROM 's3://b/p' FORMAT AS JSON 'auto' trimblanks")
    with pytest.raises(CopyError, match=r"ZSTD \(the guide's copy-parameters-file-compression page\)"):
        parse_copy("COPY t FROM 's3://b/p' FORMAT AS JSON 'auto' ZSTD")


def test_parse_copy_rejects_unsupported_timeformat_and_format() -> None:
    """Only JSON input and the epoch/auto TIMEFORMATs are supported."""
    with pytest.raises(CopyError, match="TIMEFORMAT"):
        parse_copy("COPY t FROM 's3://b/p' IAM_ROLE 'r' JSON 'auto' TIMEFORMAT 'YYYY-MM-DD HH:MI:SS'")
    with pytest.raises(CopyError, match="FORMAT AS JSON only, and this COPY has FORMAT AS CSV"):
        parse_copy("COPY t FROM 's3://b/p' IAM_ROLE 'r' FORMAT AS CSV")
    with pytest.raises(CopyError, match="no FORMAT"):
        parse_copy("COPY t FROM 's3://b/p' IAM_ROLE 'r'")


def test_a_copy_parameter_redshift_does_not_know_is_a_parse_error() -> None:
    with pytest.raises(NotParsed, match="NOSUCHOPTION is not a Redshift COPY parameter"):
        parse_copy("COPY t FROM 's3://b/p' IAM_ROLE 'r' JSON 'auto' NOSUCHOPTION")


def test_timeformat_keywords_are_case_sensitive() -> None:
    """'auto', 'epochsecs' and 'epochmillisecs' are case-sensitive (copy-parameters-data-conversion)."""
    assert parse_copy("COPY t FROM 's3://b/p' JSON 'auto' TIMEFORMAT 'epochsecs'").timeformat == "epochsecs"
    with pytest.raises(CopyError, match="'EPOCHSECS': .* case-sensitive .*copy-parameters-data-conversion"):
        parse_copy("COPY t FROM 's3://b/p' JSON 'auto' TIMEFORMAT AS 'EPOCHSECS'")


@pytest.mark.parametrize(
    ("option", "named"),
    [("CSV", "CSV"), ("DELIMITER '|'", "DELIMITER"), ("ESCAPE", "ESCAPE"), ("FILLRECORD", "FILLRECORD"),
     ("IGNOREBLANKLINES", "IGNOREBLANKLINES"), ("NULL AS 'x'", "NULL AS"), ("READRATIO 50", "READRATIO"),
     ("REMOVEQUOTES", "REMOVEQUOTES")],
)
def test_options_redshift_refuses_with_json(option: str, named: str) -> None:
    """The options the guide lists as "not supported with JSON" are refused as Redshift refuses them."""
    with pytest.raises(CopyError, match=f"Redshift does not accept {named} with FORMAT AS JSON"):
        parse_copy(f"COPY t FROM 's3://b/p' IAM_ROLE 'r' FORMAT AS JSON 'auto' {option}")


def test_noshred_is_refused_naming_super() -> None:
    """JSON 'noshred' needs a SUPER column, which the local engine does not emulate."""
    with pytest.raises(CopyError, match="'noshred' .* SUPER .*copy_json page"):
        parse_copy("COPY t FROM 's3://b/p' IAM_ROLE 'r' FORMAT JSON 'noshred'")


def test_roundec_ignoreheader_and_acceptinvchars_are_read() -> None:
    """ROUNDEC, IGNOREHEADER n and ACCEPTINVCHARS [AS 'c'] (default '?') are recorded."""
    spec = parse_copy("COPY t FROM 's3://b/p' JSON 'auto' ROUNDEC IGNOREHEADER AS 2 ACCEPTINVCHARS")
    assert (spec.round_decimals, spec.ignore_header, spec.invalid_char) == (True, 2, "?")
    plain = parse_copy("COPY t FROM 's3://b/p' JSON 'auto'")
    assert (plain.round_decimals, plain.ignore_header, plain.invalid_char) == (False, 0, None)
    assert parse_copy("COPY t FROM 's3://b/p' JSON 'auto' ACCEPTINVCHARS AS '^'").invalid_char == "^"
    with pytest.raises(CopyError, match="single ASCII character"):
        parse_copy("COPY t FROM 's3://b/p' JSON 'auto' ACCEPTINVCHARS 'ab'")
    with pytest.raises(CopyError, match="IGNOREHEADER needs a whole number"):
        parse_copy("COPY t FROM 's3://b/p' JSON 'auto' IGNOREHEADER 'x'")
