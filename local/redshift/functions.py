"""Redshift's functions inside the local database, built from the same templates the layer inlines, so
that a statement and a psql user get one answer; and how the local database is created."""

from __future__ import annotations

from local.redshift.translate import DATEADD_YEARLY, DATEDIFF, DATEPARTS, GETDATE, INTERVAL, YEARLY


def _functions_sql() -> str:
    """The CREATE script, built from the same templates the layer inlines so that both give one answer."""
    parts = ", ".join(f"('{k}', '{v}')" for k, v in DATEPARTS.items() if v)
    lines = [
        # Seconds for DATEDIFF's sub-day parts; a TIMETZ counts from midnight UTC, as Redshift's examples show
        # (r_DATEDIFF_function).
        *(
            f"CREATE OR REPLACE FUNCTION redshift_epoch({arg}) RETURNS numeric LANGUAGE sql {stable} AS"
            f" $$ SELECT EXTRACT(EPOCH FROM {value}) $$;"
            for arg, value, stable in [
                ("timestamp", "$1", "IMMUTABLE"), ("timestamptz", "$1", "IMMUTABLE"), ("date", "$1", "IMMUTABLE"),
                ("time", "$1", "IMMUTABLE"), ("timetz", "CAST($1 AT TIME ZONE 'UTC' AS time)", "IMMUTABLE"),
            ]
        ),
        # Datepart names and abbreviations (r_Dateparts_for_datetime_functions), for the text-argument forms.
        "CREATE OR REPLACE FUNCTION redshift_datepart(unit text) RETURNS text LANGUAGE plpgsql IMMUTABLE AS $$\n"
        "DECLARE part text;\nBEGIN\n"
        f"  SELECT p INTO part FROM (VALUES {parts}) AS d(a, p) WHERE a = lower(unit);\n"
        "  IF part IS NULL THEN\n"
        "    RAISE EXCEPTION 'Redshift refuses the datepart %: it is not a Redshift date or time part"
        " (r_Dateparts_for_datetime_functions)', unit;\n"
        "  END IF;\n  RETURN part;\nEND $$;",
        # NVL is COALESCE (r_NVL_function); NVL2 picks by its first argument's nullness (r_NVL2).
        "CREATE OR REPLACE FUNCTION nvl(anycompatible, anycompatible) RETURNS anycompatible"
        " LANGUAGE sql IMMUTABLE AS $$ SELECT COALESCE($1, $2) $$;",
        "CREATE OR REPLACE FUNCTION nvl(anycompatible, anycompatible, anycompatible) RETURNS anycompatible"
        " LANGUAGE sql IMMUTABLE AS $$ SELECT COALESCE($1, $2, $3) $$;",
        "CREATE OR REPLACE FUNCTION nvl2(anyelement, anycompatible, anycompatible) RETURNS anycompatible"
        " LANGUAGE sql IMMUTABLE AS $$ SELECT CASE WHEN $1 IS NOT NULL THEN $2 ELSE $3 END $$;",
        f"CREATE OR REPLACE FUNCTION getdate() RETURNS timestamp LANGUAGE sql STABLE AS $$ SELECT {GETDATE} $$;",
        # LEN counts characters; CHAR's trailing blanks do not count (r_LEN).
        "CREATE OR REPLACE FUNCTION len(text) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT length($1) $$;",
        "CREATE OR REPLACE FUNCTION len(character) RETURNS integer LANGUAGE sql IMMUTABLE AS"
        " $$ SELECT length($1) $$;",
        "CREATE OR REPLACE FUNCTION len(bytea) RETURNS integer LANGUAGE sql IMMUTABLE AS $$ SELECT length($1) $$;",
        # TRUNC(timestamp) is the DATE (r_TRUNC_date); PostgreSQL's TRUNC takes numbers only.
        "CREATE OR REPLACE FUNCTION trunc(timestamp) RETURNS date LANGUAGE sql IMMUTABLE AS"
        " $$ SELECT CAST($1 AS date) $$;",
        "CREATE OR REPLACE FUNCTION trunc(timestamptz) RETURNS date LANGUAGE sql STABLE AS"
        " $$ SELECT CAST($1 AS date) $$;",
        # CONVERT_TIMEZONE([source,] target, timestamp); the source defaults to UTC (CONVERT_TIMEZONE).
        "CREATE OR REPLACE FUNCTION convert_timezone(target text, ts timestamp) RETURNS timestamp"
        " LANGUAGE sql STABLE AS $$ SELECT ts AT TIME ZONE 'UTC' AT TIME ZONE target $$;",
        "CREATE OR REPLACE FUNCTION convert_timezone(source text, target text, ts timestamp) RETURNS timestamp"
        " LANGUAGE sql STABLE AS $$ SELECT ts AT TIME ZONE source AT TIME ZONE target $$;",
    ]
    for arg in ("timestamp", "time", "timetz"):
        cases = " ".join(f"WHEN '{u}' THEN {body}" for u, body in DATEDIFF.items())
        lines.append(
            f"CREATE OR REPLACE FUNCTION datediff(unit text, x {arg}, y {arg}) RETURNS bigint LANGUAGE sql"
            f" IMMUTABLE AS $$ SELECT CASE redshift_datepart(unit) {cases} END $$;"
        )
        result = "timestamp" if arg == "timestamp" else arg
        cases = " ".join(
            f"WHEN '{u}' THEN " + (DATEADD_YEARLY if u in YEARLY else "x + n * INTERVAL '{step}'").format(step=step)
            for u, step in INTERVAL.items()
        )
        lines.append(
            f"CREATE OR REPLACE FUNCTION dateadd(unit text, n bigint, x {arg}) RETURNS {result} LANGUAGE sql"
            f" IMMUTABLE AS $$ SELECT CASE redshift_datepart(unit) {cases} END $$;"
        )
    # MEDIAN returns DECIMAL for integers and decimals, DOUBLE for floats, and the input's type for
    # DATE, TIMESTAMP, TIMESTAMPTZ (r_MEDIAN); NULLs are ignored. The state collects the values.
    middle = (
        "FROM (SELECT v FROM unnest($1) AS v WHERE v IS NOT NULL ORDER BY v"
        " OFFSET (SELECT (count(v) - 1) / 2 FROM unnest($1) AS v)"
        " LIMIT (SELECT 2 - count(v) % 2 FROM unnest($1) AS v)) AS mid"
    )
    finals = {
        "numeric": f"SELECT trim_scale((min(v) + max(v)) / 2) {middle}",
        "double precision": f"SELECT (min(v) + max(v)) / 2 {middle}",
        "date": f"SELECT min(v) + (max(v) - min(v)) / 2 {middle}",
        "timestamp": f"SELECT min(v) + (max(v) - min(v)) / 2 {middle}",
        "timestamptz": f"SELECT min(v) + (max(v) - min(v)) / 2 {middle}",
    }
    inputs = {"numeric": "numeric", "smallint": "numeric", "integer": "numeric", "bigint": "numeric",
              "double precision": "double precision", "real": "double precision", "date": "date",
              "timestamp": "timestamp", "timestamptz": "timestamptz"}
    for state, body in finals.items():
        lines.append(
            f"CREATE OR REPLACE FUNCTION redshift_median_final({state}[]) RETURNS {state} LANGUAGE sql"
            f" IMMUTABLE AS $$ {body} $$;"
        )
    for arg, state in inputs.items():
        lines.append(
            f"CREATE OR REPLACE FUNCTION redshift_median_add({state}[], {arg}) RETURNS {state}[] LANGUAGE sql"
            f" IMMUTABLE AS $$ SELECT $1 || CAST($2 AS {state}) $$;"
        )
        lines.append(f"DROP AGGREGATE IF EXISTS median({arg});")
        lines.append(
            f"CREATE AGGREGATE median({arg}) (SFUNC = redshift_median_add, STYPE = {state}[],"
            f" FINALFUNC = redshift_median_final, INITCOND = '{{}}');"
        )
    # LISTAGG without WITHIN GROUP, for psql (PostgreSQL's ORDER BY goes inside: listagg(x, ',' ORDER BY y)).
    lines.append(
        "CREATE OR REPLACE FUNCTION redshift_listagg_add(text, text, text) RETURNS text LANGUAGE sql IMMUTABLE AS"
        " $$ SELECT CASE WHEN $2 IS NULL OR $2 = '' THEN $1 WHEN $1 IS NULL THEN $2"
        " ELSE $1 || COALESCE($3, '') || $2 END $$;"
    )
    lines.append("DROP AGGREGATE IF EXISTS listagg(text, text);")
    lines.append("CREATE AGGREGATE listagg(text, text) (SFUNC = redshift_listagg_add, STYPE = text);")
    lines += _sum_sql()
    return "\n".join(lines) + "\n"


def _sum_sql() -> list[str]:
    """SUM with Redshift's result types (r_SUM): BIGINT for SMALLINT, INTEGER and BIGINT, NUMERIC for
    NUMERIC, DOUBLE PRECISION for REAL and DOUBLE PRECISION. PostgreSQL's own sum gives NUMERIC for BIGINT
    and REAL for REAL. The layer calls it as redshift.sum, so the column is still named "sum"; a psql user's
    sum is PostgreSQL's, which cannot be shadowed without putting pg_catalog behind the tables' own types.
    Sliding window frames subtract the row that leaves, as PostgreSQL's own sum does for exact types."""
    lines = [
        "CREATE SCHEMA IF NOT EXISTS redshift;",
        "GRANT USAGE ON SCHEMA redshift TO PUBLIC;",
        # REAL's sum is a DOUBLE: a strict step needs the state and input types to match.
        "CREATE OR REPLACE FUNCTION redshift.sum_add(double precision, real) RETURNS double precision"
        " LANGUAGE sql IMMUTABLE PARALLEL SAFE AS"
        " $$ SELECT CASE WHEN $2 IS NULL THEN $1 ELSE COALESCE($1, 0) + $2 END $$;",
    ]
    # PostgreSQL's own definitions for SMALLINT and INTEGER (pg_aggregate), which already return BIGINT;
    # a BIGINT sum adds in BIGINT, so it fails on overflow as Redshift's does.
    exact = "COMBINEFUNC = {combine}, MSFUNC = {m}, MINVFUNC = {inv}, MSTYPE = {mstate}"
    aggregates = {
        "smallint": ("int2_sum", "int8", exact.format(
            combine="int8pl", m="int2_avg_accum", inv="int2_avg_accum_inv", mstate="int8[]"
        ) + ", MFINALFUNC = int2int4_sum, MINITCOND = '{0,0}'"),
        "integer": ("int4_sum", "int8", exact.format(
            combine="int8pl", m="int4_avg_accum", inv="int4_avg_accum_inv", mstate="int8[]"
        ) + ", MFINALFUNC = int2int4_sum, MINITCOND = '{0,0}'"),
        "bigint": ("int8pl", "int8", exact.format(combine="int8pl", m="int8pl", inv="int8mi", mstate="int8")),
        "numeric": ("numeric_add", "numeric", exact.format(
            combine="numeric_add", m="numeric_add", inv="numeric_sub", mstate="numeric"
        )),
        # Floating-point sums slide by recomputing, as PostgreSQL's do: subtracting would drift.
        "real": ("redshift.sum_add", "float8", "COMBINEFUNC = float8pl"),
        "double precision": ("float8pl", "float8", "COMBINEFUNC = float8pl"),
    }
    for arg, (step, state, more) in aggregates.items():
        lines.append(f"DROP AGGREGATE IF EXISTS redshift.sum({arg});")
        lines.append(
            f"CREATE AGGREGATE redshift.sum({arg}) (SFUNC = {step}, STYPE = {state}, {more}, PARALLEL = SAFE);"
        )
    return lines


FUNCTIONS_SQL = _functions_sql()

# What to create the local database with: binary collation, as Redshift compares and sorts by binary UTF-8
# (c_collation_sequences), and UTC, Redshift's default session time zone (r_GETDATE, r_SYSDATE).
CREATE_DATABASE_OPTIONS = "TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER libc LC_COLLATE 'C' LC_CTYPE 'C'"
DATABASE_SETTINGS = "SET timezone TO 'UTC'"
