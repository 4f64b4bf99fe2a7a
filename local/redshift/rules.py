"""What Redshift refuses: each rule names itself and the page of the Amazon Redshift Database Developer
Guide that states it, so a statement PostgreSQL would accept fails locally as it would on Redshift."""

from __future__ import annotations

from dataclasses import dataclass

from sqlglot import exp
from sqlglot.dialects.postgres import Postgres
from sqlglot.errors import TokenError
from sqlglot.tokens import TokenType

from core.redshift_sql import (
    REDSHIFT,
    ColumnDistKey,
    ListAgg,
    NotParsed,
    RedshiftStrict,
    StatementRefused,
    copy_options,
)


class RedshiftRefused(StatementRefused):
    """Redshift would refuse this statement; `rule` names the rule, `page` the guide page that states it."""

    def __init__(self, rule: str, page: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule
        self.page = page


class NotEmulated(StatementRefused):
    """Redshift runs this, but the local engine has no faithful PostgreSQL equivalent for it."""


@dataclass(frozen=True)
class Rule:
    name: str
    page: str
    statement: str  # "Redshift refuses <statement>: <reason> (<page>)"
    reason: str

    def refuse(self, what: str | None = None) -> RedshiftRefused:
        what = what or self.statement
        return RedshiftRefused(self.name, self.page, f"Redshift refuses {what}: {self.reason} ({self.page})")


RULES = {
    r.name: r
    for r in [
        Rule("merge-source-subquery", "r_MERGE", "MERGE whose source is a subquery",
             "MERGE takes a table as its source"),
        Rule("merge-source-values", "r_MERGE", "MERGE whose source is a VALUES list",
             "MERGE takes a table as its source"),
        Rule("merge-with", "r_MERGE", "MERGE with a WITH clause",
             "MERGE takes a table as its source and can't use the WITH clause"),
        Rule("merge-source-is-target", "r_MERGE", "MERGE whose source is its target",
             "source_table and target_table can't be the same table"),
        Rule("merge-clauses", "r_MERGE", "this MERGE",
             "MERGE takes exactly WHEN MATCHED THEN UPDATE|DELETE and WHEN NOT MATCHED THEN INSERT, without"
             " conditions, or REMOVE DUPLICATES"),
        Rule("insert-on-conflict", "r_INSERT_30", "INSERT ... ON CONFLICT",
             "INSERT has no ON CONFLICT clause; use MERGE"),
        Rule("returning", "r_INSERT_30", "RETURNING", "INSERT, UPDATE and DELETE have no RETURNING clause"),
        Rule("create-index", "c_unsupported-postgresql-features", "CREATE INDEX",
             "Redshift has no indexes; it uses sort and distribution keys"),
        Rule("distinct-on", "r_SELECT_list", "SELECT DISTINCT ON", "the SELECT list takes only ALL or DISTINCT"),
        Rule("unsupported-type", "c_unsupported-postgresql-datatypes", "this data type",
             "it is a PostgreSQL data type Redshift does not support"),
        Rule("unsupported-command", "c_SQL_commands", "this command",
             "it is not one of Redshift's SQL commands"),
        Rule("values-table", "c_unsupported-postgresql-features", "a VALUES list used as a table",
             "VALUES lists used as constant tables are not supported"),
        Rule("limit-constant", "r_ORDER_BY_clause", "LIMIT or OFFSET with a bound parameter or expression",
             "LIMIT and OFFSET take a positive integer constant"),
        Rule("top-constant", "r_SELECT_list", "TOP with a bound parameter or expression",
             "TOP takes a positive integer constant"),
        Rule("unsupported-function", "c_unsupported-postgresql-functions", "this function",
             "it is a PostgreSQL function Redshift does not support"),
        Rule("is-distinct-from", "c_unsupported-postgresql-functions", "IS [NOT] DISTINCT FROM",
             "Redshift does not support IS DISTINCT FROM"),
        Rule("set-operation-all", "r_UNION", "INTERSECT ALL and EXCEPT ALL",
             "only UNION takes ALL"),
        Rule("window-clause", "r_SELECT_synopsis", "a WINDOW clause",
             "SELECT has no WINDOW clause; write each window in its OVER (...)"),
        Rule("locking-read", "r_SELECT_synopsis", "SELECT ... FOR UPDATE/SHARE",
             "SELECT has no locking clause; use LOCK"),
        Rule("value-constructor", "c_unsupported-postgresql-features", "array and row constructors",
             "subscripted, array-constructor and row-constructor value expressions are not supported"),
        Rule("table-function", "c_unsupported-postgresql-features", "a function in FROM",
             "table functions are not supported"),
        Rule("constraint", "c_unsupported-postgresql-features", "CHECK and EXCLUDE constraints",
             "only UNIQUE, PRIMARY KEY and FOREIGN KEY constraints exist, and only as information"),
        Rule("table-option", "r_CREATE_TABLE_NEW", "this CREATE TABLE option",
             "CREATE TABLE has no partitioning, inheritance, tablespaces or UNLOGGED tables"),
        Rule("identity", "r_CREATE_TABLE_NEW", "this identity column",
             "a column is IDENTITY(seed, step) or GENERATED BY DEFAULT AS IDENTITY(seed, step), INT or BIGINT"),
        Rule("generated-column", "r_CREATE_TABLE_NEW", "a generated column",
             "CREATE TABLE has no GENERATED ALWAYS AS (expression) columns"),
        Rule("system-column-name", "c_unsupported-postgresql-features", "a system column name as a column name",
             "oid, tableoid, xmin, cmin, xmax, cmax and ctid cannot name user-defined columns"),
        Rule("collation", "c_collation_sequences", "this collation",
             "Redshift has no locale-specific or user-defined collations, only CASE_SENSITIVE and"
             " CASE_INSENSITIVE"),
        Rule("distribution", "r_CREATE_TABLE_NEW", "this distribution",
             "a table has at most one DISTKEY, DISTSTYLE KEY needs one, and DISTSTYLE ALL or EVEN takes none"),
        Rule("copy-source", "r_COPY", "this COPY",
             "COPY loads a table from Amazon S3, EMR, DynamoDB or remote hosts, not from STDIN, a file or TO"
             " a destination (use UNLOAD)"),
        Rule("copy-authorization", "r_COPY", "COPY without authorization",
             "COPY needs IAM_ROLE, CREDENTIALS or access keys"),
        Rule("not-a-statement", "c_SQL_commands", "this text", "it is not a SQL command"),
    ]
}

# c_unsupported-postgresql-datatypes. sqlglot knows some as types, others parse as user-defined names.
_UNSUPPORTED_DTYPES = {
    exp.DType.JSON, exp.DType.JSONB, exp.DType.SERIAL, exp.DType.BIGSERIAL, exp.DType.SMALLSERIAL,
    exp.DType.ARRAY, exp.DType.UUID, exp.DType.MONEY, exp.DType.INET, exp.DType.XML, exp.DType.HSTORE,
    exp.DType.BIT, exp.DType.ENUM, exp.DType.POINT, exp.DType.NAME, exp.DType.INT4RANGE,
    exp.DType.INT4MULTIRANGE, exp.DType.INT8RANGE, exp.DType.INT8MULTIRANGE, exp.DType.NUMRANGE,
    exp.DType.NUMMULTIRANGE, exp.DType.TSRANGE, exp.DType.TSMULTIRANGE, exp.DType.TSTZRANGE,
    exp.DType.TSTZMULTIRANGE, exp.DType.DATERANGE, exp.DType.DATEMULTIRANGE, exp.DType.STRUCT,
}
_UNSUPPORTED_TYPE_NAMES = {
    "bytea", "cidr", "macaddr", "macaddr8", "varbit", "tsvector", "tsquery", "line", "lseg", "box", "path",
    "polygon", "circle", '"char"', "txid_snapshot", "pg_snapshot", "pg_lsn", "xid", "xid8", "cid", "tid",
    "record", "void", "trigger", "event_trigger", "internal", "cstring", "anyelement", "anyarray",
    "anynonarray", "anyenum", "anyrange", "anymultirange", "anycompatible", "anycompatiblearray",
    "anycompatiblenonarray", "anycompatiblerange", "language_handler", "fdw_handler", "table_am_handler",
    "index_am_handler", "tsm_handler", "unknown", "regconfig", "regdictionary",
}
# Redshift types PostgreSQL lacks and the local engine does not emulate.
_NOT_EMULATED_DTYPES = {exp.DType.SUPER, exp.DType.GEOMETRY, exp.DType.GEOGRAPHY, exp.DType.HLLSKETCH}

# c_unsupported-postgresql-functions, by name; families the page lists are spelled out where cheap.
_UNSUPPORTED_FUNCTIONS = {
    # aggregate functions
    "string_agg", "array_agg", "every", "xmlagg", "corr", "covar_pop", "covar_samp", "regr_avgx", "regr_avgy",
    "regr_count", "regr_intercept", "regr_r2", "regr_slope", "regr_sxx", "regr_sxy", "regr_syy",
    # date/time
    "clock_timestamp", "justify_days", "justify_hours", "justify_interval", "pg_sleep", "transaction_timestamp",
    # mathematical
    "div", "setseed", "width_bucket",
    # set returning
    "generate_series", "generate_subscripts",
    # string
    "bit_length", "overlay", "convert", "convert_from", "convert_to", "encode", "format", "quote_nullable",
    "regexp_matches", "regexp_split_to_array", "regexp_split_to_table",
    # system information
    "current_query", "inet_client_addr", "inet_client_port", "inet_server_addr", "inet_server_port",
    "pg_conf_load_time", "pg_is_other_temp_schema", "pg_listening_channels", "pg_my_temp_schema",
    "pg_postmaster_start_time", "pg_trigger_depth",
    # array functions and operators
    "array_append", "array_cat", "array_dims", "array_fill", "array_length", "array_lower", "array_ndims",
    "array_position", "array_positions", "array_prepend", "array_remove", "array_replace", "array_to_string",
    "array_upper", "cardinality", "string_to_array", "unnest", "trim_array",
    # sequence manipulation
    "nextval", "currval", "setval", "lastval",
    # advisory locks
    "pg_advisory_lock", "pg_advisory_lock_shared", "pg_advisory_unlock", "pg_advisory_unlock_all",
    "pg_advisory_unlock_shared", "pg_advisory_xact_lock", "pg_advisory_xact_lock_shared", "pg_try_advisory_lock",
    "pg_try_advisory_lock_shared", "pg_try_advisory_xact_lock", "pg_try_advisory_xact_lock_shared",
    # database object size and location, generic file access, backup and recovery, snapshots
    "pg_column_size", "pg_database_size", "pg_indexes_size", "pg_relation_size", "pg_size_pretty",
    "pg_table_size", "pg_total_relation_size", "pg_relation_filenode", "pg_relation_filepath", "pg_ls_dir",
    "pg_read_file", "pg_read_binary_file", "pg_stat_file", "pg_start_backup", "pg_stop_backup",
    "pg_backup_start", "pg_backup_stop", "pg_switch_wal", "pg_create_restore_point", "pg_current_wal_lsn",
    "pg_is_in_recovery", "pg_wal_replay_pause", "pg_wal_replay_resume", "pg_export_snapshot",
    # comment information, enum support, transaction ids, text search, XML
    "obj_description", "col_description", "shobj_description", "enum_first", "enum_last", "enum_range",
    "txid_current", "txid_current_snapshot", "txid_snapshot_xmin", "txid_snapshot_xmax", "txid_visible_in_snapshot",
    "pg_current_xact_id", "pg_current_snapshot", "to_tsvector", "to_tsquery", "plainto_tsquery",
    "phraseto_tsquery", "websearch_to_tsquery", "ts_rank", "ts_rank_cd", "ts_headline", "setweight",
    "xmlelement", "xmlforest", "xmlconcat", "xmlparse", "xmlserialize", "xpath", "xpath_exists", "xmlexists",
    "query_to_xml", "table_to_xml",
    # network addresses, ranges
    "abbrev", "broadcast", "host", "hostmask", "masklen", "netmask", "network", "set_masklen", "inet_merge",
    "inet_same_family", "isempty", "lower_inc", "upper_inc", "lower_inf", "upper_inf", "range_merge",
}
# sqlglot parses some of the names above into typed nodes rather than unknown function calls.
_UNSUPPORTED_FUNCTION_NODES: dict[type[exp.Expr], str] = {
    exp.GroupConcat: "STRING_AGG", exp.ArrayAgg: "ARRAY_AGG", exp.Corr: "CORR", exp.CovarPop: "COVAR_POP",
    exp.CovarSamp: "COVAR_SAMP", exp.JustifyDays: "JUSTIFY_DAYS", exp.JustifyHours: "JUSTIFY_HOURS",
    exp.JustifyInterval: "JUSTIFY_INTERVAL", exp.BitLength: "BIT_LENGTH", exp.Overlay: "OVERLAY",
    exp.GenerateSeries: "GENERATE_SERIES", exp.ExplodingGenerateSeries: "GENERATE_SERIES", exp.Explode: "UNNEST",
    exp.Unnest: "UNNEST", exp.ArraySize: "ARRAY_LENGTH", exp.StringToArray: "STRING_TO_ARRAY",
    exp.CurrentCatalog: "CURRENT_CATALOG", exp.ArrayToString: "ARRAY_TO_STRING", exp.ArrayAppend: "ARRAY_APPEND",
    exp.ArrayPrepend: "ARRAY_PREPEND", exp.ArrayRemove: "ARRAY_REMOVE", exp.ArrayConcat: "ARRAY_CAT",
    exp.Format: "FORMAT", exp.Encode: "ENCODE", exp.WidthBucket: "WIDTH_BUCKET", exp.IntDiv: "DIV",
}
# CREATE kinds and other commands PostgreSQL has and Redshift lacks (c_SQL_commands), with the page
# that names the missing feature where there is one.
_UNSUPPORTED_CREATE_KINDS = {
    "INDEX": "create-index", "SEQUENCE": "c_unsupported-postgresql-features",
    "TRIGGER": "c_unsupported-postgresql-features", "EXTENSION": "c_SQL_commands", "TYPE": "c_SQL_commands",
    "DOMAIN": "c_SQL_commands", "RULE": "c_SQL_commands", "TABLESPACE": "c_unsupported-postgresql-features",
    "FOREIGN": "c_unsupported-postgresql-features", "SERVER": "c_unsupported-postgresql-features",
    "AGGREGATE": "c_SQL_commands", "OPERATOR": "c_SQL_commands", "CAST": "c_SQL_commands",
    "COLLATION": "c_unsupported-postgresql-features", "CONVERSION": "c_SQL_commands", "LANGUAGE": "c_SQL_commands",
    "POLICY": "c_SQL_commands", "PUBLICATION": "c_SQL_commands", "SUBSCRIPTION": "c_SQL_commands",
    "EVENT": "c_SQL_commands", "STATISTICS": "c_SQL_commands", "TEXT": "c_unsupported-postgresql-features",
    "ACCESS": "c_SQL_commands", "TRANSFORM": "c_SQL_commands", "UNIQUE": "create-index",
}
_UNSUPPORTED_COMMANDS = {
    "DO", "LISTEN", "NOTIFY", "UNLISTEN", "SAVEPOINT", "RELEASE", "REINDEX", "CLUSTER", "DISCARD", "CHECKPOINT",
    "LOAD", "SECURITY", "IMPORT", "REASSIGN", "CREATE INDEX", "MOVE",
}
# Redshift commands sqlglot keeps as raw text; PostgreSQL runs the same spelling, or fails on its own.
_PASSTHROUGH_COMMANDS = {
    "VACUUM", "ANALYZE", "GRANT", "REVOKE", "SHOW", "CALL", "EXPLAIN", "SET", "RESET", "COMMENT", "LOCK",
    "PREPARE", "EXECUTE", "DEALLOCATE", "DECLARE", "FETCH", "CLOSE", "ABORT", "END", "ALTER", "BEGIN", "START",
    "COMMIT", "ROLLBACK", "DROP", "TRUNCATE", "REFRESH",
}
_NOT_EMULATED_COMMANDS = {"UNLOAD", "CANCEL", "ATTACH", "DETACH", "DESC"}
_NOT_EMULATED_CREATE_KINDS = {"LIBRARY", "MODEL", "EXTERNAL", "DATASHARE", "IDENTITY", "MASKING", "RLS", "GROUP"}
_SYSTEM_COLUMNS = {"oid", "tableoid", "xmin", "cmin", "xmax", "cmax", "ctid"}
_REDSHIFT_COLLATIONS = {"case_sensitive", "case_insensitive"}
_STATEMENTS = (
    exp.Query, exp.DML, exp.DDL, exp.Command, exp.Transaction, exp.Commit, exp.Rollback, exp.Set, exp.Use,
    exp.Drop, exp.Alter, exp.TruncateTable, exp.Analyze, exp.Describe, exp.Show, exp.Grant, exp.Revoke,
    exp.Pragma, exp.Comment, exp.Merge, exp.Copy,
)


def _refuse(rule: str, what: str | None = None) -> RedshiftRefused:
    return RULES[rule].refuse(what)


def check(tree: exp.Expr, statement: str) -> None:
    """Raise `RedshiftRefused` for the first rule the statement breaks, `NotEmulated` for Redshift-only SQL."""
    if not isinstance(tree, _STATEMENTS):
        # sqlglot reads some PostgreSQL commands it does not know (LISTEN x, SAVEPOINT x) as an aliased column.
        first = next(iter(_words(statement)), "")
        if first in _UNSUPPORTED_COMMANDS:
            raise _refuse("unsupported-command", first)
        raise _refuse("not-a-statement", repr(" ".join(statement.split())[:60]))
    if isinstance(tree, exp.Command):
        _check_command(tree)
        return
    if isinstance(tree, exp.Merge):
        _check_merge(tree)
    if isinstance(tree, exp.Create):
        _check_create(tree)
    if isinstance(tree, exp.Copy):
        _check_copy(tree)
    if isinstance(tree, exp.Rollback) and tree.args.get("savepoint"):
        raise _refuse("unsupported-command", "ROLLBACK TO SAVEPOINT")
    for node in tree.walk():
        _check_node(node)


def _check_node(node: exp.Expr) -> None:
    if type(node) in _UNSUPPORTED_FUNCTION_NODES:
        raise _refuse("unsupported-function", f"{_UNSUPPORTED_FUNCTION_NODES[type(node)]}()")
    if isinstance(node, exp.DataType):
        _check_type(node)
    elif isinstance(node, exp.OnConflict):
        raise _refuse("insert-on-conflict")
    elif isinstance(node, exp.Returning):
        page = {exp.Update: "r_UPDATE", exp.Delete: "r_DELETE"}.get(type(node.parent), "r_INSERT_30")
        raise RedshiftRefused("returning", page, RULES["returning"].refuse().args[0].replace("r_INSERT_30", page))
    elif isinstance(node, exp.Distinct) and node.args.get("on"):
        raise _refuse("distinct-on")
    elif isinstance(node, exp.Values) and not isinstance(node.parent, exp.Insert):
        raise _refuse("values-table")
    elif isinstance(node, exp.Anonymous) and node.name.upper() == "VALUES" and isinstance(node.parent, exp.CTE):
        # Redshift's tokenizer makes VALUES a word, so sqlglot reads a CTE's VALUES list as a call.
        raise _refuse("values-table")
    elif isinstance(node, (exp.Limit, exp.Offset)):
        _check_limit(node)
    elif isinstance(node, exp.Fetch):
        raise _refuse("limit-constant", "FETCH FIRST")
    elif isinstance(node, (exp.NullSafeEQ, exp.NullSafeNEQ)):
        raise _refuse("is-distinct-from")
    elif isinstance(node, (exp.Intersect, exp.Except)) and node.args.get("distinct") is False:
        raise _refuse("set-operation-all", f"{node.key.upper()} ALL")
    elif isinstance(node, exp.Select) and node.args.get("windows"):
        raise _refuse("window-clause")
    elif isinstance(node, exp.Lock):
        raise _refuse("locking-read")
    elif isinstance(node, exp.Array) and node.args.get("bracket_notation"):
        raise _refuse("value-constructor", "an ARRAY[...] constructor")
    elif isinstance(node, exp.Anonymous) and node.name.lower() == "row":
        raise _refuse("value-constructor", "a ROW(...) constructor")
    elif isinstance(node, exp.Table) and isinstance(node.this, exp.Func):
        if type(node.this) in _UNSUPPORTED_FUNCTION_NODES or node.this.name.lower() in _UNSUPPORTED_FUNCTIONS:
            _check_function(node.this)
        raise _refuse("table-function", f"the function {node.this.sql(dialect=RedshiftStrict)} in FROM")
    elif isinstance(node, exp.Collate):
        _check_collation(node.expression)
    elif isinstance(node, exp.Func):
        _check_function(node)
    elif isinstance(node, exp.Window) and isinstance(node.this, (ListAgg, exp.WithinGroup)):
        raise NotEmulated("LISTAGG as a window function: PostgreSQL has no ordered aggregates over windows")


def _check_type(node: exp.DataType) -> None:
    if node.this in _NOT_EMULATED_DTYPES:
        raise NotEmulated(f"the {node.this.value} data type: PostgreSQL has no equivalent the local engine uses")
    if isinstance(node, exp.ObjectIdentifier) or node.this in _UNSUPPORTED_DTYPES:
        raise _refuse("unsupported-type", f"the {node.sql(dialect=Postgres)} data type")
    if node.this != exp.DType.USERDEFINED:
        return
    name = node.sql(dialect=RedshiftStrict)
    if name.lower() in _UNSUPPORTED_TYPE_NAMES:
        raise _refuse("unsupported-type", f"the {name} data type")
    raise RedshiftRefused(
        "unsupported-type", "c_Supported_data_types",
        f"Redshift refuses the data type {name}: it is none of Redshift's data types (c_Supported_data_types)",
    )


def _check_function(node: exp.Func) -> None:
    name = _UNSUPPORTED_FUNCTION_NODES.get(type(node))
    if name is None and isinstance(node, exp.Anonymous) and node.name.lower() in _UNSUPPORTED_FUNCTIONS:
        name = node.name.upper()
    if name:
        raise _refuse("unsupported-function", f"{name}()")


def _check_limit(node: exp.Limit | exp.Offset) -> None:
    value = node.expression
    if value is None or (isinstance(value, exp.Literal) and value.is_int) or isinstance(value, exp.Null):
        return
    if isinstance(value, exp.Var) and value.name.upper() == "ALL":
        return
    select = node.parent
    if isinstance(node, exp.Limit) and select is not None and select.args.get("limit") is node and _is_top(node):
        raise _refuse("top-constant")
    raise _refuse("limit-constant")


def _is_top(node: exp.Limit) -> bool:
    # sqlglot stores TOP n as a LIMIT; TOP comes before the select list in the text.
    return bool(node.meta.get("top"))


def _check_collation(collation: exp.Expr) -> None:
    name = collation.name.lower() if collation is not None else ""
    if name not in _REDSHIFT_COLLATIONS:
        raise _refuse("collation", f"COLLATE {collation.sql(dialect=RedshiftStrict)}")
    raise NotEmulated(f"COLLATE {name.upper()}: the local engine has only binary (C) collation")


def _check_merge(tree: exp.Merge) -> None:
    source = tree.args.get("using")
    if tree.args.get("with_"):
        raise _refuse("merge-with")
    if isinstance(source, exp.Subquery) and isinstance(source.this, exp.Values):
        raise _refuse("merge-source-values")
    if isinstance(source, (exp.Subquery, exp.Select, exp.Union)):
        raise _refuse("merge-source-subquery")
    if isinstance(source, exp.Values):
        raise _refuse("merge-source-values")
    target = tree.this
    if isinstance(source, exp.Table) and isinstance(target, exp.Table):
        if _table_name(source) == _table_name(target):
            raise _refuse("merge-source-is-target")
    whens = tree.args["whens"].expressions
    shapes = sorted(
        (bool(w.args.get("matched")), type(w.args.get("then")).__name__)
        for w in whens
        if not w.args.get("condition") and not w.args.get("source")
    )
    allowed = [[(False, "Insert"), (True, "Update")], [(False, "Insert"), (True, "Var")]]
    delete_ok = all(not isinstance(w.args.get("then"), exp.Var) or w.args["then"].name.upper() == "DELETE"
                    for w in whens)
    if shapes not in allowed or len(shapes) != len(whens) or not delete_ok:
        raise _refuse("merge-clauses")


def _table_name(table: exp.Table) -> tuple[str, ...]:
    return tuple(part.name.lower() for part in table.parts)


def _check_create(tree: exp.Create) -> None:
    kind = (tree.args.get("kind") or "").upper()
    if kind in _UNSUPPORTED_CREATE_KINDS:
        page = _UNSUPPORTED_CREATE_KINDS[kind]
        if page == "create-index":
            raise _refuse("create-index")
        raise RedshiftRefused(
            "unsupported-command", page,
            f"Redshift refuses CREATE {kind}: it is not one of Redshift's SQL commands ({page})",
        )
    if kind != "TABLE":
        return
    properties = tree.args.get("properties")
    for prop in properties.expressions if properties else []:
        if isinstance(prop, (exp.PartitionedByProperty, exp.PartitionByRangeProperty, exp.PartitionByListProperty,
                             exp.PartitionedOfProperty, exp.InheritsProperty, exp.UnloggedProperty)):
            raise _refuse("table-option", f"CREATE TABLE ... {prop.sql(dialect=Postgres)}")
        if isinstance(prop, exp.Property) and type(prop) is exp.Property and prop.name.upper() == "TABLESPACE":
            raise _refuse("table-option", "CREATE TABLE ... TABLESPACE")
    schema = tree.this if isinstance(tree.this, exp.Schema) else None
    if schema is None:
        return
    distkeys = 0
    for column in schema.expressions:
        if isinstance(column, (exp.CheckColumnConstraint, exp.Constraint)) and column.find(exp.CheckColumnConstraint):
            raise _refuse("constraint", "a CHECK constraint")
        if isinstance(column, exp.Constraint) and column.find(exp.ExcludeColumnConstraint):
            raise _refuse("constraint", "an EXCLUDE constraint")
        if not isinstance(column, exp.ColumnDef):
            continue
        if column.name.lower() in _SYSTEM_COLUMNS:
            raise _refuse("system-column-name", f"the column name {column.name}")
        for constraint in column.constraints:
            kind_node = constraint.kind
            if isinstance(kind_node, (exp.CheckColumnConstraint, exp.ExcludeColumnConstraint)):
                raise _refuse("constraint", f"a {kind_node.key.replace('columnconstraint', '').upper()} constraint")
            if isinstance(kind_node, exp.GeneratedAsIdentityColumnConstraint):
                _check_identity(column, kind_node)
            if isinstance(kind_node, exp.ComputedColumnConstraint):
                raise _refuse("generated-column")
            if isinstance(kind_node, exp.CollateColumnConstraint):
                _check_collation(kind_node.this)
            if isinstance(kind_node, ColumnDistKey):
                distkeys += 1
    _check_distribution(properties, distkeys)


def _check_identity(column: exp.ColumnDef, identity: exp.GeneratedAsIdentityColumnConstraint) -> None:
    if identity.this is True or identity.args.get("expression") is not None:
        raise _refuse("generated-column" if identity.args.get("expression") else "identity",
                      "GENERATED ALWAYS" if identity.this is True else None)
    if identity.args.get("start") is None or identity.args.get("increment") is None:
        raise _refuse("identity", "an identity column without (seed, step)")
    if any(identity.args.get(k) for k in ("minvalue", "maxvalue", "cycle", "order", "on_null")):
        raise _refuse("identity", "PostgreSQL's identity sequence options")
    if column.kind is None or column.kind.this not in {exp.DType.INT, exp.DType.BIGINT}:
        kind = column.kind.sql(dialect=Postgres) if column.kind else "no type"
        raise _refuse("identity", f"an identity column of type {kind}")


def _check_distribution(properties: exp.Properties | None, column_distkeys: int) -> None:
    props = properties.expressions if properties else []
    styles = [p.this.name.upper() for p in props if isinstance(p, exp.DistStyleProperty)]
    distkeys = column_distkeys + sum(isinstance(p, exp.DistKeyProperty) for p in props)
    if distkeys > 1 or (distkeys and styles and styles[0] in {"ALL", "EVEN"}):
        raise _refuse("distribution")
    if styles and styles[0] == "KEY" and not distkeys:
        raise _refuse("distribution", "DISTSTYLE KEY without a DISTKEY")


def _check_copy(tree: exp.Copy) -> None:
    files = tree.args.get("files") or []
    source = files[0] if files else None
    if not tree.args.get("kind"):
        raise _refuse("copy-source", "COPY ... TO")
    if not isinstance(source, (exp.Literal, exp.Null)) or (
        isinstance(source, exp.Literal) and not source.is_string
    ):
        raise _refuse("copy-source", f"COPY FROM {source.sql() if source else 'nothing'}")
    if isinstance(source, exp.Literal) and not source.name.lower().startswith(("s3://", "emr://", "dynamodb://")):
        raise _refuse("copy-source", f"COPY FROM {source.sql()}")
    if not copy_options(tree).keys() & {"IAM_ROLE", "CREDENTIALS", "ACCESS_KEY_ID"}:
        raise _refuse("copy-authorization")


def _check_command(tree: exp.Command) -> None:
    name = tree.name.upper()
    words = _words(tree.expression.name if isinstance(tree.expression, exp.Expr) else str(tree.expression or ""))
    if name == "CREATE":
        kind = next((w for w in words if w not in {"OR", "REPLACE", "TEMP", "TEMPORARY", "UNIQUE"}), "")
        if kind in _UNSUPPORTED_CREATE_KINDS:
            _check_create(exp.Create(kind=kind))
        if kind in _NOT_EMULATED_CREATE_KINDS:
            raise NotEmulated(f"CREATE {kind}: Redshift-only, not emulated by the local engine")
        raise NotParsed(f"sqlglot's Redshift grammar cannot parse this CREATE {kind} statement")
    if name in _UNSUPPORTED_COMMANDS:
        raise _refuse("unsupported-command", name)
    if name in _NOT_EMULATED_COMMANDS:
        raise NotEmulated(f"{name}: Redshift-only, not emulated by the local engine")
    if name not in _PASSTHROUGH_COMMANDS:
        raise NotParsed(f"sqlglot's Redshift grammar cannot parse this {name} statement")


def _words(text: str) -> list[str]:
    """The leading words of a statement's raw text, read with Redshift's tokenizer."""
    try:
        tokens = REDSHIFT.tokenize(text)
    except TokenError:
        return []
    return [t.text.upper() for t in tokens[:4]]


def mark_top(tree: exp.Expr, statement: str) -> None:
    """sqlglot stores TOP n as LIMIT n; mark such limits so the rule can name TOP."""
    tokens = None
    for select in tree.find_all(exp.Select):
        limit = select.args.get("limit")
        if not isinstance(limit, exp.Limit):
            continue
        if tokens is None:
            tokens = [t.token_type for t in REDSHIFT.tokenize(statement)]
        limit.meta["top"] = TokenType.TOP in tokens and TokenType.LIMIT not in tokens
