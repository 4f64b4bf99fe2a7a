"""Redshift's SQL grammar: sqlglot's Redshift dialect, extended where it falls short of the grammar the
Amazon Redshift Database Developer Guide documents. Both engines read statements with it: scripts are
split into statements, and a COPY's table, source and parameters are read from its tree.

Pages cited as (r_MERGE) etc. are the guide's: https://docs.aws.amazon.com/redshift/latest/dg/<page>.html.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlglot import exp
from sqlglot.dialects.redshift import Redshift
from sqlglot.errors import ParseError, TokenError
from sqlglot.generators.redshift import RedshiftGenerator
from sqlglot.helper import seq_get
from sqlglot.parsers.redshift import RedshiftParser
from sqlglot.tokens import TokenType


class StatementRefused(ValueError):
    """A statement refused before the warehouse saw it: unreadable, or against Redshift's rules."""


class NotParsed(StatementRefused):
    """sqlglot's Redshift grammar cannot read the statement (Redshift may or may not accept it)."""


class ColumnDistKey(exp.Expression, exp.ColumnConstraintKind):
    """Column-level DISTKEY (r_CREATE_TABLE_NEW)."""

    arg_types: dict[str, bool] = {}


class ColumnSortKey(exp.Expression, exp.ColumnConstraintKind):
    """Column-level SORTKEY (r_CREATE_TABLE_NEW)."""

    arg_types: dict[str, bool] = {}


class SortKey(exp.Property):
    """Table-level [COMPOUND | INTERLEAVED] SORTKEY (cols) or SORTKEY AUTO."""

    arg_types = {"expressions": False, "style": False}


class EncodeAuto(exp.Property):
    """Table-level ENCODE AUTO."""

    arg_types: dict[str, bool] = {}


class DatePart(exp.Expression, exp.Func):
    """DATE_PART / DATEPART / PGDATE_PART(datepart, value): a DOUBLE, not EXTRACT's INTEGER."""

    arg_types = {"this": True, "expression": True}


class DateAdd(exp.Expression, exp.Func):
    """DATEADD(datepart, interval, value)."""

    arg_types = {"this": True, "unit": True, "expression": True}


class DateDiff(exp.Expression, exp.Func):
    """DATEDIFF(datepart, start, end): date part boundaries crossed."""

    arg_types = {"this": True, "unit": True, "expression": True}


class GetDate(exp.Expression, exp.Func):
    """GETDATE(): the statement's start, to the second (r_GETDATE)."""

    arg_types: dict[str, bool] = {}


class ListAgg(exp.Expression, exp.AggFunc):
    """LISTAGG([DISTINCT] value [, delimiter]); the default delimiter is none (r_LISTAGG)."""

    arg_types = {"this": True, "separator": False, "distinct": False}


def _unit(node: exp.Expr | None) -> exp.Var:
    """A datepart argument, bare (`week`) or quoted (`'week'`), as a lower-case Var."""
    if node is None:
        raise ParseError("a datepart is required")
    return exp.var(node.name.lower())


def _date_part(args: list) -> DatePart:
    return DatePart(this=_unit(seq_get(args, 0)), expression=seq_get(args, 1))


def _date_delta(kind: type[DateAdd] | type[DateDiff]) -> Callable[[list], exp.Expr]:
    def build(args: list) -> exp.Expr:
        return kind(unit=_unit(seq_get(args, 0)), this=seq_get(args, 1), expression=seq_get(args, 2))

    return build


def _listagg(args: list) -> ListAgg:
    first = seq_get(args, 0)
    if isinstance(first, exp.Distinct):
        # sqlglot reads LISTAGG(DISTINCT a, ',') as one DISTINCT over both arguments.
        values = first.expressions
        return ListAgg(this=values[0], separator=seq_get(values, 1) or seq_get(args, 1), distinct=True)
    return ListAgg(this=first, separator=seq_get(args, 1))


# Redshift COPY parameters (r_COPY and its copy-parameters-* pages): name -> how its argument reads.
# "flag": none; "value": required; "optional": an optional literal; "switch": an optional ON/OFF-like word.
_COPY_PARAMETERS = {
    **dict.fromkeys(
        "MANIFEST ENCRYPTED GZIP BZIP2 LZOP ZSTD ACCEPTANYDATE BLANKSASNULL EMPTYASNULL ESCAPE EXPLICIT_IDS"
        " FILLRECORD IGNOREBLANKLINES REMOVEQUOTES ROUNDEC TRIMBLANKS TRUNCATECOLUMNS IGNOREALLERRORS NOLOAD"
        " SSH SERIALIZETOJSON PARQUET ORC".split(),
        "flag",
    ),
    **dict.fromkeys(
        "DELIMITER DATEFORMAT TIMEFORMAT IGNOREHEADER MAXERROR COMPROWS REGION IAM_ROLE CREDENTIALS ACCESS_KEY_ID"
        " SECRET_ACCESS_KEY SESSION_TOKEN MASTER_SYMMETRIC_KEY ENCODING NULL FIXEDWIDTH READRATIO QUOTE".split(),
        "value",
    ),
    **dict.fromkeys("ACCEPTINVCHARS JSON AVRO CSV".split(), "optional"),
    **dict.fromkeys("COMPUPDATE STATUPDATE".split(), "switch"),
}
_COPY_FORMATS = {"CSV", "JSON", "AVRO", "PARQUET", "ORC", "FIXEDWIDTH"}


class RedshiftStrict(Redshift):
    """sqlglot's Redshift dialect with the grammar the guide documents and sqlglot lacks."""

    # Unknown type names parse (as user-defined types) so that the type rule can name them.
    SUPPORTS_USER_DEFINED_TYPES = True

    class Tokenizer(Redshift.Tokenizer):
        # sqlglot reads BYTEA as VARBYTE; Redshift has VARBYTE but no BYTEA (c_unsupported-postgresql-datatypes).
        KEYWORDS = {k: v for k, v in Redshift.Tokenizer.KEYWORDS.items() if k != "BYTEA"}

    class Parser(RedshiftParser):
        FUNCTIONS = {
            # Not Redshift functions: left to parse as unknown names so the function rule sees them.
            **{k: v for k, v in RedshiftParser.FUNCTIONS.items() if k not in {"DATE_ADD", "DATE_DIFF"}},
            "DATE_PART": _date_part,
            "DATEPART": _date_part,
            "PGDATE_PART": _date_part,
            "DATEADD": _date_delta(DateAdd),
            "DATEDIFF": _date_delta(DateDiff),
            "GETDATE": lambda args: GetDate(),
            "LISTAGG": _listagg,
        }
        # PostgreSQL's DATE_PART parser makes it EXTRACT, whose Redshift results differ
        # (r_Dateparts_for_datetime_functions).
        FUNCTION_PARSERS = {k: v for k, v in RedshiftParser.FUNCTION_PARSERS.items() if k != "DATE_PART"}
        CONSTRAINT_PARSERS = {
            **RedshiftParser.CONSTRAINT_PARSERS,
            "DISTKEY": lambda self: self.expression(ColumnDistKey()),
            "SORTKEY": lambda self: self.expression(ColumnSortKey()),
        }
        PROPERTY_PARSERS = {
            **RedshiftParser.PROPERTY_PARSERS,
            "SORTKEY": lambda self: self._parse_redshift_sortkey(None),
            "COMPOUND": lambda self: self._parse_redshift_sortkey("COMPOUND"),
            "INTERLEAVED": lambda self: self._parse_redshift_sortkey("INTERLEAVED"),
            "ENCODE": lambda self: self._parse_encode_auto(),
        }

        def _parse_redshift_sortkey(self, style: str | None) -> SortKey | None:
            if style and not self._match_text_seq("SORTKEY"):
                return None
            if self._match_text_seq("AUTO"):
                return self.expression(SortKey(style="AUTO"))
            return self.expression(SortKey(expressions=self._parse_wrapped_id_vars(), style=style))

        def _parse_encode_auto(self) -> EncodeAuto | None:
            return self.expression(EncodeAuto()) if self._match_text_seq("AUTO") else None

        def _parse_value(self, values: bool = True) -> exp.Tuple | None:
            # Redshift's tokenizer makes VALUES a plain word, so sqlglot's MERGE ... INSERT VALUES (..)
            # (no column list) would read VALUES(..) as a function call instead of the value list.
            if not values and self._curr and self._curr.text.upper() == "VALUES" and self._next:
                if self._next.token_type == TokenType.L_PAREN:
                    return None
            return super()._parse_value(values)

        def _parse_copy_parameters(self) -> list[exp.CopyParameter]:
            # sqlglot pairs Redshift's bare options with the next word (MANIFEST MAXERROR, 0 COMPUPDATE);
            # Redshift's parameters each take a known kind of argument.
            params = []
            while self._curr and not self._match(TokenType.R_PAREN, advance=False):
                name = self._curr.text.upper()
                self._advance()
                if name == "FORMAT":
                    self._match(TokenType.ALIAS)
                    name = self._curr.text.upper() if self._curr else ""
                    if name not in _COPY_FORMATS:
                        self.raise_error(f"COPY FORMAT AS {name or 'nothing'} is not a Redshift data format")
                    self._advance()
                kind = _COPY_PARAMETERS.get(name)
                if kind is None:
                    self.raise_error(f"{name} is not a Redshift COPY parameter")
                self._match(TokenType.ALIAS)
                value: exp.Expr | None = None
                if kind == "value":
                    value = self._parse_copy_value()
                    if value is None:
                        self.raise_error(f"COPY parameter {name} needs a value")
                elif kind == "optional" and self._curr and self._curr.token_type == TokenType.STRING:
                    value = self._parse_string()
                elif kind == "switch" and self._match_texts(("ON", "OFF", "TRUE", "FALSE", "PRESET")):
                    value = exp.var(self._prev.text.upper())
                params.append(self.expression(exp.CopyParameter(this=exp.var(name), expression=value)))
            return params

        def _parse_credentials(self) -> exp.Credentials | None:
            # sqlglot reads IAM_ROLE, CREDENTIALS and REGION only first, in its order, and without AS;
            # Redshift takes them anywhere among the parameters (r_COPY), so they are parameters here.
            return None

        def _parse_copy_value(self) -> exp.Expr | None:
            if self._match(TokenType.DEFAULT):
                return exp.var("DEFAULT")
            return self._parse_primary()

        def _warn_unsupported(self) -> None:
            # A statement sqlglot could only keep as raw text is judged by the layer, not logged.
            return None

    class Generator(RedshiftGenerator):
        TRANSFORMS = {
            **RedshiftGenerator.TRANSFORMS,
            ColumnDistKey: lambda self, e: "DISTKEY",
            ColumnSortKey: lambda self, e: "SORTKEY",
            EncodeAuto: lambda self, e: "ENCODE AUTO",
            DatePart: lambda self, e: self.func("DATE_PART", e.this, e.expression),
            DateAdd: lambda self, e: self.func("DATEADD", e.args["unit"], e.this, e.expression),
            DateDiff: lambda self, e: self.func("DATEDIFF", e.args["unit"], e.this, e.expression),
            GetDate: lambda self, e: "GETDATE()",
            ListAgg: lambda self, e: self.func(
                "LISTAGG", exp.Distinct(expressions=[e.this]) if e.args.get("distinct") else e.this,
                e.args.get("separator"),
            ),
        }
        PROPERTIES_LOCATION = {
            **RedshiftGenerator.PROPERTIES_LOCATION,
            SortKey: exp.Properties.Location.POST_SCHEMA,
            EncodeAuto: exp.Properties.Location.POST_SCHEMA,
        }

        def sortkey_sql(self, e: SortKey) -> str:
            style = e.args.get("style")
            if style == "AUTO":
                return "SORTKEY AUTO"
            return f"{style + ' ' if style else ''}SORTKEY ({self.expressions(e, flat=True)})"


REDSHIFT = RedshiftStrict()


@functools.lru_cache(maxsize=4096)
def _parse(statement: str) -> exp.Expr:
    try:
        trees = [t for t in REDSHIFT.parse(statement) if t is not None]
    except (ParseError, TokenError) as exc:
        raise NotParsed(f"sqlglot's Redshift grammar cannot parse the statement: {exc}") from exc
    if len(trees) != 1:
        raise ValueError(f"expected one statement, got {len(trees)}; split scripts with split()")
    return trees[0]


def parse(statement: str) -> exp.Expr:
    """One statement as the Redshift grammar reads it: a tree of the caller's own to change."""
    return _parse(statement).copy()


def tables_read(statement: str) -> frozenset[str]:
    """The tables a query reads, by name as Redshift folds it; a WITH query's own names are not tables."""
    tree = _parse(statement)
    ctes = {_folded(cte.args["alias"].this) for cte in tree.find_all(exp.CTE)}
    return frozenset(_folded(t.this) for t in tree.find_all(exp.Table)) - ctes


def split(script: str) -> list[str]:
    """The statements of a script, cut where sqlglot's Redshift tokenizer finds a top-level semicolon."""
    try:
        tokens = REDSHIFT.tokenize(script)
    except TokenError as exc:
        raise NotParsed(f"sqlglot's Redshift tokenizer cannot read the script: {exc}") from exc
    statements, first, last = [], None, None
    for token in tokens:
        if token.token_type == TokenType.SEMICOLON:
            if first is not None:
                statements.append(script[first.start : last.end + 1])
            first = None
            continue
        if first is None:
            first = token
        last = token
    if first is not None:
        statements.append(script[first.start : last.end + 1])
    return statements


@dataclass(frozen=True)
class CopyCommand:
    """A validated Redshift COPY: the target, its column list, the source and the options by name."""

    table: str
    columns: tuple[str, ...]
    source: Any
    options: dict[str, Any] = field(default_factory=dict)


def _literal(node: exp.Expr | None) -> Any:
    if node is None:
        return True
    if isinstance(node, exp.Null):
        return None
    if isinstance(node, exp.Literal):
        return node.to_py()
    return node.name


def copy_options(tree: exp.Copy) -> dict[str, Any]:
    """A COPY's parameters by name, with their values (True for a flag)."""
    options: dict[str, Any] = {}
    credentials = tree.args.get("credentials")
    if credentials:
        for key in ("iam_role", "region", "credentials"):
            if credentials.args.get(key) is not None:
                options[key.upper()] = _literal(credentials.args[key])
    for param in tree.args.get("params") or []:
        options[param.name.upper()] = _literal(param.args.get("expression"))
    return options


def copy_command(tree: exp.Copy) -> CopyCommand:
    """The COPY a parsed COPY statement runs."""
    this = tree.this
    table = this.this if isinstance(this, exp.Schema) else this
    columns = tuple(_folded(c) for c in this.expressions) if isinstance(this, exp.Schema) else ()
    return CopyCommand(
        table=".".join(_folded(part) for part in table.parts), columns=columns,
        source=_literal(tree.args["files"][0]), options=copy_options(tree),
    )


def _folded(identifier: exp.Expr) -> str:
    """Unquoted names fold to lower case, as on Redshift; quoted ones are kept as written."""
    node = identifier.this if isinstance(identifier, exp.Column) else identifier
    return node.name if isinstance(node, exp.Identifier) and node.quoted else node.name.lower()


def parse_copy(statement: str) -> CopyCommand | None:
    """The COPY a statement runs, or None if it is no COPY."""
    tree = _parse(statement)
    return copy_command(tree) if isinstance(tree, exp.Copy) else None
