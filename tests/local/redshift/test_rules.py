"""local.redshift.rules: PostgreSQL runs each statement, the layer refuses it naming the rule and the guide page."""

from __future__ import annotations

import psycopg
import pytest

from local.redshift import RedshiftRefused, to_postgres, translate

SETUP = """
CREATE TABLE t (a INT PRIMARY KEY, b VARCHAR(10));
CREATE TABLE s (a INT, b VARCHAR(10));
CREATE SEQUENCE seq;
"""

# (rule, page, statement PostgreSQL 16 accepts)
CASES = [
    (
        "merge-source-subquery",
        "r_MERGE",
        "MERGE INTO t USING (SELECT a, b FROM s) AS src ON t.a = src.a WHEN MATCHED THEN UPDATE SET b = src.b"
        " WHEN NOT MATCHED THEN INSERT (a, b) VALUES (src.a, src.b)",
    ),
    (
        "merge-source-values",
        "r_MERGE",
        "MERGE INTO t USING (VALUES (1, 'x')) AS src(a, b) ON t.a = src.a WHEN MATCHED THEN UPDATE SET b = src.b"
        " WHEN NOT MATCHED THEN INSERT (a, b) VALUES (src.a, src.b)",
    ),
    (
        "merge-with",
        "r_MERGE",
        "WITH src AS (SELECT a, b FROM s) MERGE INTO t USING src ON t.a = src.a WHEN MATCHED THEN UPDATE SET"
        " b = src.b WHEN NOT MATCHED THEN INSERT (a, b) VALUES (src.a, src.b)",
    ),
    (
        "merge-source-is-target",
        "r_MERGE",
        "MERGE INTO t USING t AS src ON t.a = src.a WHEN MATCHED THEN UPDATE SET b = src.b"
        " WHEN NOT MATCHED THEN INSERT (a, b) VALUES (src.a, src.b)",
    ),
    (
        "merge-clauses",
        "r_MERGE",
        "MERGE INTO t USING s ON t.a = s.a WHEN MATCHED AND s.b IS NULL THEN DELETE"
        " WHEN NOT MATCHED THEN INSERT (a, b) VALUES (s.a, s.b)",
    ),
    ("merge-clauses", "r_MERGE", "MERGE INTO t USING s ON t.a = s.a WHEN MATCHED THEN DO NOTHING"),
    ("merge-clauses", "r_MERGE", "MERGE INTO t USING s ON t.a = s.a WHEN NOT MATCHED THEN INSERT VALUES (s.a, s.b)"),
    ("insert-on-conflict", "r_INSERT_30", "INSERT INTO t VALUES (1, 'x') ON CONFLICT DO NOTHING"),
    ("insert-on-conflict", "r_INSERT_30", "INSERT INTO t VALUES (1, 'x') ON CONFLICT (a) DO UPDATE SET b = EXCLUDED.b"),
    ("returning", "r_INSERT_30", "INSERT INTO t VALUES (2, 'y') RETURNING a"),
    ("returning", "r_UPDATE", "UPDATE t SET b = 'z' RETURNING *"),
    ("returning", "r_DELETE", "DELETE FROM t RETURNING a"),
    ("create-index", "c_unsupported-postgresql-features", "CREATE INDEX t_b ON t (b)"),
    ("create-index", "c_unsupported-postgresql-features", "CREATE UNIQUE INDEX t_b ON t (b)"),
    ("distinct-on", "r_SELECT_list", "SELECT DISTINCT ON (b) a, b FROM t ORDER BY b, a"),
    ("unsupported-command", "c_SQL_commands", "CREATE EXTENSION IF NOT EXISTS plpgsql"),
    ("unsupported-command", "c_unsupported-postgresql-features", "CREATE SEQUENCE seq2"),
    ("unsupported-command", "c_SQL_commands", "CREATE TYPE mood AS ENUM ('sad', 'happy')"),
    ("unsupported-command", "c_SQL_commands", "DO $$ BEGIN PERFORM 1; END $$"),
    ("unsupported-command", "c_SQL_commands", "SAVEPOINT sp"),
    ("values-table", "c_unsupported-postgresql-features", "SELECT * FROM (VALUES (1), (2)) AS v(n)"),
    ("values-table", "c_unsupported-postgresql-features", "WITH v(n) AS (VALUES (1)) SELECT n FROM v"),
    ("limit-constant", "r_ORDER_BY_clause", "SELECT a FROM t ORDER BY a LIMIT %s"),
    ("limit-constant", "r_ORDER_BY_clause", "SELECT a FROM t ORDER BY a LIMIT 1 OFFSET %s"),
    ("limit-constant", "r_ORDER_BY_clause", "SELECT a FROM t ORDER BY a LIMIT $1"),
    ("limit-constant", "r_ORDER_BY_clause", "SELECT a FROM t ORDER BY a FETCH FIRST 1 ROWS ONLY"),
    ("unsupported-function", "c_unsupported-postgresql-functions", "SELECT STRING_AGG(b, ',') FROM t"),
    ("unsupported-function", "c_unsupported-postgresql-functions", "SELECT ARRAY_AGG(a) FROM t"),
    ("unsupported-function", "c_unsupported-postgresql-functions", "SELECT * FROM GENERATE_SERIES(1, 3) AS g(n)"),
    ("unsupported-function", "c_unsupported-postgresql-functions", "SELECT NEXTVAL('seq')"),
    ("unsupported-function", "c_unsupported-postgresql-functions", "SELECT CLOCK_TIMESTAMP()"),
    ("unsupported-function", "c_unsupported-postgresql-functions", "SELECT FORMAT('%%s!', b) FROM t"),
    ("unsupported-function", "c_unsupported-postgresql-functions", "SELECT REGEXP_MATCHES(b, 'x') FROM t"),
    ("unsupported-function", "c_unsupported-postgresql-functions", "SELECT DIV(7, 2)"),
    ("unsupported-function", "c_unsupported-postgresql-functions", "SELECT CORR(a, a) FROM t"),
    ("unsupported-function", "c_unsupported-postgresql-functions", "SELECT PG_SLEEP(0)"),
    ("is-distinct-from", "c_unsupported-postgresql-functions", "SELECT a IS DISTINCT FROM 1 FROM t"),
    ("set-operation-all", "r_UNION", "SELECT a FROM t INTERSECT ALL SELECT a FROM s"),
    ("set-operation-all", "r_UNION", "SELECT a FROM t EXCEPT ALL SELECT a FROM s"),
    ("window-clause", "r_SELECT_synopsis", "SELECT SUM(a) OVER w FROM t WINDOW w AS (PARTITION BY b)"),
    ("locking-read", "r_SELECT_synopsis", "SELECT a FROM t FOR UPDATE"),
    ("value-constructor", "c_unsupported-postgresql-features", "SELECT ARRAY[1, 2]"),
    ("value-constructor", "c_unsupported-postgresql-features", "SELECT ROW(1, 'x')"),
    ("table-function", "c_unsupported-postgresql-features", "SELECT * FROM UPPER('x') AS u(v)"),
    ("constraint", "c_unsupported-postgresql-features", "CREATE TABLE c1 (a INT CHECK (a > 0))"),
    ("constraint", "c_unsupported-postgresql-features", "CREATE TABLE c2 (a INT, CONSTRAINT pos CHECK (a > 0))"),
    ("table-option", "r_CREATE_TABLE_NEW", "CREATE TABLE p (a INT) PARTITION BY RANGE (a)"),
    ("table-option", "r_CREATE_TABLE_NEW", "CREATE TABLE i (c INT) INHERITS (s)"),
    ("table-option", "r_CREATE_TABLE_NEW", "CREATE UNLOGGED TABLE u (a INT)"),
    ("identity", "r_CREATE_TABLE_NEW", "CREATE TABLE g1 (a INT GENERATED ALWAYS AS IDENTITY)"),
    (
        "identity",
        "r_CREATE_TABLE_NEW",
        "CREATE TABLE g2 (a SMALLINT GENERATED BY DEFAULT AS IDENTITY (START WITH 1 INCREMENT BY 1))",
    ),
    ("generated-column", "r_CREATE_TABLE_NEW", "CREATE TABLE g3 (a INT, b INT GENERATED ALWAYS AS (a * 2) STORED)"),
    ("system-column-name", "c_unsupported-postgresql-features", "CREATE TABLE o (oid INT)"),
    ("collation", "c_collation_sequences", 'SELECT b COLLATE "C" FROM t'),
    ("copy-source", "r_COPY", "COPY t FROM STDIN"),
    ("copy-source", "r_COPY", "COPY t TO STDOUT"),
    ("unsupported-command", "c_SQL_commands", "LISTEN channel"),
]

# Unsupported PostgreSQL data types (c_unsupported-postgresql-datatypes), each in a table PostgreSQL creates.
TYPES = ["JSON", "JSONB", "SERIAL", "BIGSERIAL", "SMALLSERIAL", "INT[]", "TEXT[]", "UUID", "BYTEA", "MONEY", "INET",
         "CIDR", "MACADDR", "XML", "BIT(3)", "VARBIT", "TSVECTOR", "TSQUERY", "INT4RANGE", "TSTZRANGE", "POINT", "BOX",
         "POLYGON", "CIRCLE", "OID", "REGCLASS", "\"char\"", "NAME", "TXID_SNAPSHOT", "PG_LSN"]


def _postgres_accepts(conn: psycopg.Connection, statement: str) -> None:
    """Run the statement as written, after the setup, inside a savepoint; it must not fail."""
    with conn.transaction():
        conn.execute(SETUP)
        if statement.startswith("COPY") and "STDIN" in statement:
            with conn.cursor().copy(statement) as copy:
                copy.write_row((9, "z"))
        elif statement.startswith("COPY"):
            with conn.cursor().copy(statement) as copy:
                list(copy)
        elif "LIMIT %s" in statement or "OFFSET %s" in statement:
            conn.execute(statement, (1,))
        elif "$1" in statement:
            conn.execute(statement.replace("$1", "%s"), (1,), prepare=True)
            # The same statement prepared server-side with a real $1 parameter.
            conn.execute("PREPARE q AS " + statement)
            conn.execute("EXECUTE q(1)")
        else:
            conn.execute(statement)
        raise _Rollback


class _Rollback(Exception):
    pass


@pytest.mark.parametrize(("rule", "page", "statement"), CASES, ids=[f"{c[0]}:{c[2][:40]}" for c in CASES])
def test_postgres_runs_it_the_layer_refuses_it(conn: psycopg.Connection, rule: str, page: str, statement: str) -> None:
    with pytest.raises(_Rollback):
        _postgres_accepts(conn, statement)
    with pytest.raises(RedshiftRefused) as refused:
        to_postgres(statement)
    assert (refused.value.rule, refused.value.page) == (rule, page)
    message = str(refused.value)
    assert message.startswith("Redshift refuses ") and message.endswith(f"({page})"), message
    assert not any(rest[:1].isupper() for rest in message.replace("...", "").split(". ")[1:]), "one sentence"


@pytest.mark.parametrize("type_name", TYPES)
def test_unsupported_postgres_types_are_refused(conn: psycopg.Connection, type_name: str) -> None:
    statement = f"CREATE TABLE typed (c {type_name})"
    with pytest.raises(_Rollback):
        _postgres_accepts(conn, statement)
    for sql in (statement, f"SELECT CAST(NULL AS {type_name})"):
        with pytest.raises(RedshiftRefused) as refused:
            to_postgres(sql)
        assert refused.value.rule == "unsupported-type"
        assert refused.value.page == "c_unsupported-postgresql-datatypes"
        assert "data type" in str(refused.value)


def test_the_message_names_the_rule_and_page_as_the_issue_asks() -> None:
    with pytest.raises(RedshiftRefused) as refused:
        to_postgres("MERGE INTO t USING (SELECT 1 AS a) AS s ON t.a = s.a WHEN MATCHED THEN DELETE"
                                " WHEN NOT MATCHED THEN INSERT (a) VALUES (s.a)")
    assert str(refused.value) == (
        "Redshift refuses MERGE whose source is a subquery: MERGE takes a table as its source (r_MERGE)"
    )


def test_copy_needs_authorization() -> None:
    with pytest.raises(RedshiftRefused) as refused:
        translate("COPY t FROM 's3://b/k' FORMAT AS JSON 'auto'")
    assert refused.value.rule == "copy-authorization"


def test_what_redshift_accepts_is_not_refused() -> None:
    """The guide's own MERGE example (r_MERGE) and a TOP/LIMIT with constants pass."""
    to_postgres("MERGE INTO target USING source ON target.id = source.id WHEN MATCHED THEN DELETE"
                            " WHEN NOT MATCHED THEN INSERT VALUES (source.id, source.name)")
    to_postgres("SELECT TOP 10 a FROM t")
    to_postgres("SELECT a FROM t ORDER BY a LIMIT ALL OFFSET 5")


@pytest.mark.parametrize(
    "statement",
    [
        "CREATE TABLE d1 (a INT DISTKEY, b INT DISTKEY)",
        "CREATE TABLE d2 (a INT) DISTSTYLE KEY",
        "CREATE TABLE d3 (a INT DISTKEY) DISTSTYLE EVEN",
    ],
)
def test_distribution_rules_of_create_table(statement: str) -> None:
    """Redshift-only syntax PostgreSQL cannot run at all, checked against r_CREATE_TABLE_NEW's DISTKEY rules."""
    with pytest.raises(RedshiftRefused) as refused:
        to_postgres(statement)
    assert (refused.value.rule, refused.value.page) == ("distribution", "r_CREATE_TABLE_NEW")


def test_text_that_is_no_statement_is_refused() -> None:
    with pytest.raises(RedshiftRefused) as refused:
        to_postgres("1 + 1")
    assert (refused.value.rule, refused.value.page) == ("not-a-statement", "c_SQL_commands")
