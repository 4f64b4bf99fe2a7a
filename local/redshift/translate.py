"""Redshift's meaning in PostgreSQL: the functions, clauses and DDL attributes Redshift runs and
PostgreSQL lacks, rewritten so that PostgreSQL gives Redshift's results."""

from __future__ import annotations

import functools

from sqlglot import exp
from sqlglot.dialects.postgres import Postgres
from sqlglot.generators.postgres import PostgresGenerator

from core.redshift_sql import (
    REDSHIFT,
    ColumnDistKey,
    ColumnSortKey,
    DateAdd,
    DateDiff,
    DatePart,
    EncodeAuto,
    GetDate,
    ListAgg,
    SortKey,
)
from local.redshift.rules import NotEmulated, RedshiftRefused


class PostgresLocal(Postgres):
    """PostgreSQL 16 as the local engine speaks it: plain sqlglot Postgres, LISTAGG and MEDIAN the local way."""

    class Generator(PostgresGenerator):
        TRANSFORMS = {
            **PostgresGenerator.TRANSFORMS,
            # MEDIAN is FUNCTIONS_SQL's aggregate, which returns Redshift's type for each input type.
            exp.Median: lambda self, e: self.func("MEDIAN", e.this),
        }


POSTGRES = PostgresLocal()


# Redshift dateparts and abbreviations (r_Dateparts_for_datetime_functions) -> one canonical name.
DATEPARTS = {
    **dict.fromkeys(["millennium", "millennia", "mil", "mils"], "millennium"),
    **dict.fromkeys(["century", "centuries", "c", "cent", "cents"], "century"),
    **dict.fromkeys(["decade", "decades", "dec", "decs"], "decade"),
    "epoch": "epoch",
    **dict.fromkeys(["year", "years", "y", "yr", "yrs"], "year"),
    **dict.fromkeys(["quarter", "quarters", "qtr", "qtrs"], "quarter"),
    **dict.fromkeys(["month", "months", "mon", "mons"], "month"),
    **dict.fromkeys(["week", "weeks", "w"], "week"),
    **dict.fromkeys(["dayofweek", "dow", "dw", "weekday"], "dow"),
    **dict.fromkeys(["dayofyear", "doy", "dy", "yearday"], "doy"),
    **dict.fromkeys(["day", "days", "d"], "day"),
    **dict.fromkeys(["hour", "hours", "h", "hr", "hrs"], "hour"),
    **dict.fromkeys(["minute", "minutes", "m", "min", "mins"], "minute"),
    **dict.fromkeys(["second", "seconds", "s", "sec", "secs"], "second"),
    **dict.fromkeys(
        ["millisecond", "milliseconds", "ms", "msec", "msecs", "msecond", "mseconds", "millisec", "millisecs",
         "millisecon"],
        "millisecond",
    ),
    **dict.fromkeys(
        ["microsecond", "microseconds", "microsec", "microsecs", "usecond", "useconds", "us", "usec", "usecs"],
        "microsecond",
    ),
    **dict.fromkeys(["timezone", "timezone_hour", "timezone_minute"], None),
}
_EXTRACT_ONLY = {"dow", "doy", "epoch"}  # not accepted by DATEADD and DATEDIFF

# Each template is PostgreSQL; the columns x, y (and n) stand for the arguments.
# Sub-day parts count multiples of their length in REDSHIFT_EPOCH (FUNCTIONS_SQL): seconds since the epoch
# for dates and timestamps, since midnight (UTC for TIMETZ) for times, so one formula serves every type.
_DATEDIFF_EPOCH_UNIT = {
    "microsecond": "FLOOR(REDSHIFT_EPOCH(y) * 1000000) - FLOOR(REDSHIFT_EPOCH(x) * 1000000)",
    "millisecond": "FLOOR(REDSHIFT_EPOCH(y) * 1000) - FLOOR(REDSHIFT_EPOCH(x) * 1000)",
    "second": "FLOOR(REDSHIFT_EPOCH(y)) - FLOOR(REDSHIFT_EPOCH(x))",
    "minute": "FLOOR(REDSHIFT_EPOCH(y) / 60) - FLOOR(REDSHIFT_EPOCH(x) / 60)",
    "hour": "FLOOR(REDSHIFT_EPOCH(y) / 3600) - FLOOR(REDSHIFT_EPOCH(x) / 3600)",
    "day": "FLOOR(REDSHIFT_EPOCH(y) / 86400) - FLOOR(REDSHIFT_EPOCH(x) / 86400)",
    # Weeks start on Monday, as Redshift's ISO weeks (r_DATE_PART_function) and DATE_TRUNC('week') do;
    # 1970-01-01, epoch 0, is a Thursday, so Mondays fall at 3 days past multiples of 7 days.
    "week": "FLOOR((REDSHIFT_EPOCH(y) + 259200) / 604800) - FLOOR((REDSHIFT_EPOCH(x) + 259200) / 604800)",
    "month": "(EXTRACT(YEAR FROM y) * 12 + EXTRACT(MONTH FROM y))"
    " - (EXTRACT(YEAR FROM x) * 12 + EXTRACT(MONTH FROM x))",
    "quarter": "(EXTRACT(YEAR FROM y) * 4 + EXTRACT(QUARTER FROM y))"
    " - (EXTRACT(YEAR FROM x) * 4 + EXTRACT(QUARTER FROM x))",
    "year": "EXTRACT(YEAR FROM y) - EXTRACT(YEAR FROM x)",
    # Redshift's decades start at years ###0, its centuries and millennia at ###1 (r_Dateparts_for_datetime_functions).
    "decade": "FLOOR(EXTRACT(YEAR FROM y) / 10) - FLOOR(EXTRACT(YEAR FROM x) / 10)",
    "century": "FLOOR((EXTRACT(YEAR FROM y) - 1) / 100) - FLOOR((EXTRACT(YEAR FROM x) - 1) / 100)",
    "millennium": "FLOOR((EXTRACT(YEAR FROM y) - 1) / 1000) - FLOOR((EXTRACT(YEAR FROM x) - 1) / 1000)",
}
DATEDIFF = {unit: f"CAST({body} AS BIGINT)" for unit, body in _DATEDIFF_EPOCH_UNIT.items()}
INTERVAL = {
    "microsecond": "1 microsecond", "millisecond": "1 millisecond", "second": "1 second", "minute": "1 minute",
    "hour": "1 hour", "day": "1 day", "week": "7 days", "month": "1 month", "quarter": "3 months",
    "year": "1 year", "decade": "10 years", "century": "100 years", "millennium": "1000 years",
}
YEARLY = {"year", "decade", "century", "millennium"}
# DATEADD(year, n, Feb 29) lands on March 1 when the result year has no Feb 29 (r_DATEADD_function usage notes);
# PostgreSQL's interval arithmetic lands on Feb 28, as DATEADD(month, 12, ...) does.
DATEADD_YEARLY = (
    "x + n * INTERVAL '{step}' + CASE WHEN EXTRACT(MONTH FROM x) = 2 AND EXTRACT(DAY FROM x) = 29"
    " AND EXTRACT(DAY FROM x + n * INTERVAL '{step}') = 28 THEN INTERVAL '1 day' ELSE INTERVAL '0 days' END"
)
_DATE_PART = {
    # DATE_PART returns DOUBLE: seconds with their fraction, and for microsecond/millisecond the fraction of
    # the second alone (r_DATE_PART_function: microsecond of 04:05:06.789 is 789000).
    "microsecond": "CAST(EXTRACT(MICROSECONDS FROM x) - FLOOR(EXTRACT(SECOND FROM x)) * 1000000 AS DOUBLE PRECISION)",
    "millisecond": "CAST(EXTRACT(MILLISECONDS FROM x) - FLOOR(EXTRACT(SECOND FROM x)) * 1000 AS DOUBLE PRECISION)",
    "decade": "CAST(EXTRACT(DECADE FROM x) + 1 AS DOUBLE PRECISION)",
}
_EXTRACT = {
    # EXTRACT returns the integer of the named part alone (r_Dateparts_for_datetime_functions,
    # r_EXTRACT_function: ms of 12:08:43.101 is 101, sec of 11:10:03.189717 is 3).
    "second": "CAST(FLOOR(EXTRACT(SECOND FROM x)) AS INT)",
    "millisecond": "CAST(FLOOR(EXTRACT(MILLISECONDS FROM x)) - FLOOR(EXTRACT(SECOND FROM x)) * 1000 AS INT)",
    "microsecond": "CAST(EXTRACT(MICROSECONDS FROM x) - FLOOR(EXTRACT(SECOND FROM x)) * 1000000 AS INT)",
    "decade": "CAST(EXTRACT(DECADE FROM x) + 1 AS INT)",
    "epoch": "CAST(FLOOR(EXTRACT(EPOCH FROM x)) AS BIGINT)",
}
# GETDATE is the statement's start to the second; SYSDATE the transaction's start (r_GETDATE, r_SYSDATE).
GETDATE = "CAST(DATE_TRUNC('second', STATEMENT_TIMESTAMP()) AS TIMESTAMP)"
_SYSDATE = "CAST(TRANSACTION_TIMESTAMP() AS TIMESTAMP)"


@functools.cache
def _template(sql: str) -> exp.Expr:
    return PostgresLocal().parse(f"SELECT {sql}")[0].expressions[0]


def _fill(sql: str, **args: exp.Expr) -> exp.Expr:
    """The template `sql` with its columns named after `args` replaced by (copies of) them."""

    def replace(node: exp.Expr) -> exp.Expr:
        if isinstance(node, exp.Column) and not node.table and node.name in args:
            return args[node.name].copy()
        return node

    return exp.Paren(this=_template(sql).copy().transform(replace, copy=False))


def _datetime(node: exp.Expr) -> exp.Expr:
    """A datetime argument; a string literal converts to TIMESTAMP, as Redshift converts it implicitly."""
    if isinstance(node, exp.Literal) and node.is_string:
        return exp.cast(node, exp.DType.TIMESTAMP)
    return node


def _datepart(unit: exp.Var, function: str, extract_only_ok: bool) -> str:
    name = unit.name.lower()
    if name not in DATEPARTS:
        raise RedshiftRefused(
            "datepart", "r_Dateparts_for_datetime_functions",
            f"Redshift refuses the datepart {name} in {function}: it is not a Redshift date or time part"
            " (r_Dateparts_for_datetime_functions)",
        )
    part = DATEPARTS[name]
    if part is None:
        raise NotEmulated(f"{function}({name}, ...): time zone parts exist for TIMESTAMPTZ in EXTRACT only")
    if part in _EXTRACT_ONLY and not extract_only_ok:
        raise RedshiftRefused(
            "datepart", "r_Dateparts_for_datetime_functions",
            f"Redshift refuses the datepart {name} in {function}: only DATE_PART and EXTRACT take it"
            " (r_Dateparts_for_datetime_functions)",
        )
    return part


def _translate(node: exp.Expr) -> exp.Expr:
    """Rewrite one node for PostgreSQL (applied bottom-up by `transform`)."""
    if isinstance(node, DateDiff):
        part = _datepart(node.args["unit"], "DATEDIFF", extract_only_ok=False)
        return _fill(DATEDIFF[part], x=_datetime(node.this), y=_datetime(node.expression))
    if isinstance(node, DateAdd):
        part = _datepart(node.args["unit"], "DATEADD", extract_only_ok=False)
        body = DATEADD_YEARLY if part in YEARLY else "x + n * INTERVAL '{step}'"
        return _fill(body.format(step=INTERVAL[part]), x=_datetime(node.expression), n=node.this)
    if isinstance(node, DatePart):
        part = _datepart(node.this, "DATE_PART", extract_only_ok=True)
        template = _DATE_PART.get(part, f"CAST(EXTRACT({part.upper()} FROM x) AS DOUBLE PRECISION)")
        return _fill(template, x=_datetime(node.expression))
    if isinstance(node, exp.Extract):
        part = _datepart(node.this, "EXTRACT", extract_only_ok=True)
        if part in _EXTRACT:
            return _fill(_EXTRACT[part], x=_datetime(node.expression))
        # A whole part: PostgreSQL's date_part gives it exactly as a DOUBLE, for 60% of what its
        # EXTRACT costs in NUMERIC (time's six parts of 840,000 start times: 0.53 s against 0.88 s).
        call = exp.Anonymous(this="date_part", expressions=[exp.Literal.string(part), _datetime(node.expression)])
        return exp.Paren(this=exp.cast(call, exp.DType.INT))
    if isinstance(node, GetDate):
        return _template(GETDATE).copy()
    if isinstance(node, exp.CurrentTimestamp) and node.args.get("sysdate"):
        return _template(_SYSDATE).copy()
    if isinstance(node, ListAgg) and not isinstance(node.parent, exp.WithinGroup):
        return _listagg_sql(node, None)
    if isinstance(node, exp.WithinGroup) and isinstance(node.this, ListAgg):
        return _listagg_sql(node.this, node.expression)
    if isinstance(node, exp.Trunc) and node.args.get("decimals") is None and _is_timestamp(node.this):
        # TRUNC(timestamp) returns the DATE (r_TRUNC_date); TRUNC(number) stays PostgreSQL's.
        return exp.cast(node.this, exp.DType.DATE)
    if isinstance(node, exp.Sum):
        # FUNCTIONS_SQL's SUM, with Redshift's result type for each input type.
        call = exp.Anonymous(this="sum", expressions=[node.this])
        return exp.Dot(this=exp.to_identifier("redshift"), expression=call)
    if isinstance(node, exp.DataType):
        return _translate_type(node)
    if isinstance(node, exp.ColumnConstraint) and isinstance(
        node.kind, (ColumnDistKey, ColumnSortKey, exp.EncodeColumnConstraint)
    ):
        return None  # type: ignore[return-value]  # transform drops the node
    if isinstance(node, exp.BackupProperty) and node.name.upper() == "NO" and not _is_temporary(node):
        # A table kept out of snapshots (r_CREATE_TABLE_NEW; RA3 snapshots it all the same): locally
        # UNLOGGED, which writes no WAL and keeps its rows through a clean stop, not through a crash.
        # A temporary table writes none already, and PostgreSQL takes TEMP or UNLOGGED, not both.
        return exp.UnloggedProperty()
    if isinstance(node, (exp.DistKeyProperty, exp.DistStyleProperty, SortKey, exp.SortKeyProperty,
                         exp.BackupProperty, EncodeAuto)):
        return None  # type: ignore[return-value]
    if isinstance(node, exp.GeneratedAsIdentityColumnConstraint):
        return _identity(node)
    if _is_key_constraint(node):
        # Informational on Redshift, which never enforces them (t_Defining_constraints): PostgreSQL must
        # not either, or duplicates a Redshift table can hold could never appear locally.
        return None  # type: ignore[return-value]
    return node


def _is_temporary(node: exp.BackupProperty) -> bool:
    """Whether the table whose properties hold `node` is a TEMP table."""
    return node.parent is not None and node.parent.find(exp.TemporaryProperty) is not None


_KEY_KINDS = (exp.PrimaryKeyColumnConstraint, exp.UniqueColumnConstraint, exp.Reference)


def _is_key_constraint(node: exp.Expr) -> bool:
    """A primary key, unique or foreign key constraint, on a column or on the table."""
    if isinstance(node, exp.ColumnConstraint):
        return isinstance(node.kind, _KEY_KINDS)
    if isinstance(node, (exp.PrimaryKey, exp.ForeignKey)):
        return True
    if isinstance(node, exp.Constraint):
        return all(isinstance(e, (*_KEY_KINDS, exp.PrimaryKey, exp.ForeignKey)) for e in node.expressions)
    return isinstance(node, exp.UniqueColumnConstraint) and isinstance(node.parent, exp.Schema)


def _is_timestamp(node: exp.Expr) -> bool:
    """Whether the (translated) expression is plainly a timestamp: a cast to one, or in parentheses."""
    if isinstance(node, exp.Cast):
        return node.is_type(exp.DType.TIMESTAMP, exp.DType.TIMESTAMPTZ)
    return isinstance(node, exp.Paren) and _is_timestamp(node.this)


def translate_tree(tree: exp.Expr) -> exp.Expr:
    """Apply `_translate` to every node, children before parents, so rewrites nest (DATEDIFF(day, GETDATE(), x))."""
    for node in reversed(list(tree.dfs())):
        new = _translate(node)
        if new is node:
            continue
        if node is tree:
            tree = new
        elif new is None:
            node.pop()
        else:
            node.replace(new)
    return tree


def _listagg_sql(node: ListAgg, order: exp.Order | None) -> exp.Expr:
    """LISTAGG skips NULLs and empty strings and has no delimiter by default (r_LISTAGG)."""
    value = node.this
    text = exp.cast(value.copy(), exp.DType.VARCHAR)
    separator = node.args.get("separator") or exp.Literal.string("")
    keep = exp.NEQ(this=text.copy(), expression=exp.Literal.string(""))
    if node.args.get("distinct"):
        keys = order.expressions if order else []
        if any(k.this != value for k in keys) or len(keys) > 1:
            raise NotEmulated("LISTAGG(DISTINCT ...) ordered by other values than the aggregated one")
        descending = bool(keys and keys[0].args.get("desc"))
        ordered = exp.Ordered(this=value.copy(), desc=descending)
        # PostgreSQL orders a DISTINCT aggregate only by its argument: aggregate the typed values, so that
        # numbers sort as numbers, then join them.
        agg = exp.ArrayAgg(this=exp.Order(this=exp.Distinct(expressions=[value.copy()]), expressions=[ordered]))
        filtered = exp.Filter(this=agg, expression=exp.Where(this=keep))
        return exp.func("ARRAY_TO_STRING", filtered, separator)
    if order:
        separator = exp.Order(this=separator, expressions=[o.copy() for o in order.expressions])
    agg = exp.Anonymous(this="STRING_AGG", expressions=[text, separator])
    return exp.Filter(this=agg, expression=exp.Where(this=keep))


def _translate_type(node: exp.DataType) -> exp.DataType:
    params = node.expressions
    if node.this == exp.DType.VARCHAR and params and params[0].name.upper() == "MAX":
        # VARCHAR(MAX) is Redshift's 65535-byte maximum (r_Character_types).
        return exp.DataType.build("VARCHAR(65535)")
    if node.this in {exp.DType.VARBINARY, exp.DType.BINARY}:
        return exp.DataType.build("BYTEA", dialect=Postgres)
    if isinstance(node.parent, exp.ColumnDef):
        # In a table, TEXT is VARCHAR(256), BPCHAR CHAR(256), and VARCHAR without length VARCHAR(256).
        if node.this == exp.DType.TEXT or (node.this == exp.DType.VARCHAR and not params):
            return exp.DataType.build("VARCHAR(256)")
        if node.this == exp.DType.BPCHAR:
            return exp.DataType.build("CHAR(256)")
    return node


def _identity(node: exp.GeneratedAsIdentityColumnConstraint) -> exp.GeneratedAsIdentityColumnConstraint:
    """IDENTITY(seed, step) refuses explicit values, GENERATED BY DEFAULT AS IDENTITY(seed, step) takes them."""
    start, step = node.args["start"], node.args["increment"]
    out = exp.GeneratedAsIdentityColumnConstraint(this=bool(node.meta.get("plain_identity")), start=start.copy(),
                                                  increment=step.copy())
    # A seed below PostgreSQL's default bounds (1 up, -1 down) needs the bound moved, e.g. IDENTITY(0, 1).
    seed, ascending = int(start.to_py()), int(step.to_py()) > 0
    if ascending and seed < 1:
        out.set("minvalue", start.copy())
    if not ascending and seed > -1:
        out.set("maxvalue", start.copy())
    return out


def mark_identity(tree: exp.Expr, statement: str) -> None:
    """Tell IDENTITY(seed, step) from GENERATED BY DEFAULT AS IDENTITY(seed, step), which sqlglot reads alike."""
    identities = list(tree.find_all(exp.GeneratedAsIdentityColumnConstraint))
    if not identities:
        return
    tokens = REDSHIFT.tokenize(statement)
    generated = [i for i, t in enumerate(tokens) if t.text.upper() == "IDENTITY"]
    for node, index in zip(identities, generated, strict=False):  # a column may be named identity
        node.meta["plain_identity"] = index == 0 or tokens[index - 1].text.upper() != "AS"
