"""local.redshift.functions: the local database sorts as Redshift does, in binary UTF-8 order
(c_collation_sequences), and runs in UTC."""

from __future__ import annotations

import subprocess
from typing import Any

import psycopg
import pytest

from local.postgres import EmbeddedPostgres
from local.redshift import to_postgres
from local.redshift.functions import CREATE_DATABASE_OPTIONS

WORDS = ["b", "A", "é", "a", "B", "e", "Z"]
SORT = "SELECT w FROM words ORDER BY w"
# Binary UTF-8 order: upper case before lower case, and é (U+00E9, bytes C3 A9) after every ASCII letter.
BINARY = sorted(WORDS, key=lambda w: w.encode("utf-8"))


def _sorted_in(dsn: dict[str, Any]) -> list[str]:
    with psycopg.connect(**dsn) as conn:
        conn.execute("CREATE TEMP TABLE words (w VARCHAR(4))")
        conn.cursor().executemany("INSERT INTO words VALUES (%s)", [(w,) for w in WORDS])
        return [r[0] for r in conn.execute(to_postgres(SORT))]


def test_the_local_database_has_c_collation(database: dict[str, Any]) -> None:
    assert "LC_COLLATE 'C'" in CREATE_DATABASE_OPTIONS and "TEMPLATE template0" in CREATE_DATABASE_OPTIONS
    with psycopg.connect(**database) as conn:
        assert conn.execute("SELECT datcollate, datctype, datlocprovider FROM pg_database"
                            " WHERE datname = current_database()").fetchone() == ("C", "C", "c")
        assert conn.execute("SHOW timezone").fetchone() == ("UTC",)
    assert _sorted_in(database) == BINARY == ["A", "B", "Z", "a", "b", "e", "é"]


def test_a_linguistic_locale_sorts_differently(postgres: EmbeddedPostgres, database: dict[str, Any]) -> None:
    """What a database made with a common default locale (en_US.UTF-8) would return instead.

    pgserver's PostgreSQL has no ICU, so the locale is glibc's; a machine without it skips
    (Debian: apt-get install locales, add en_US.UTF-8 to /etc/locale.gen, locale-gen)."""
    if "en_US.utf8" not in subprocess.run(["locale", "-a"], capture_output=True, text=True).stdout.split():
        pytest.skip("the en_US.UTF-8 locale is not installed on this machine")
    with psycopg.connect(**postgres.superuser_dsn(), autocommit=True) as admin:
        admin.execute("DROP DATABASE IF EXISTS linguistic")
        admin.execute("CREATE DATABASE linguistic TEMPLATE template0 ENCODING 'UTF8' LOCALE_PROVIDER libc"
                      " LC_COLLATE 'en_US.UTF-8' LC_CTYPE 'en_US.UTF-8'")
    linguistic = _sorted_in({**postgres.superuser_dsn(), "dbname": "linguistic"})
    assert linguistic == ["a", "A", "b", "B", "e", "é", "Z"]
    assert linguistic != _sorted_in(database)
