"""A local warehouse database, made as a local cluster's is (C collation, UTC, Redshift's functions),
and a connection to it whose work each test rolls back."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from psycopg import sql

from local.engine import install_system_objects
from local.postgres import EmbeddedPostgres
from local.redshift.functions import CREATE_DATABASE_OPTIONS, DATABASE_SETTINGS

DATABASE = "redshift_layer"


@pytest.fixture(scope="session")
def database(postgres: EmbeddedPostgres) -> dict[str, Any]:
    """How to connect to the database."""
    name = sql.Identifier(DATABASE)
    with psycopg.connect(**postgres.superuser_dsn(), autocommit=True) as admin:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(name))
        admin.execute(sql.SQL("CREATE DATABASE {} " + CREATE_DATABASE_OPTIONS).format(name))
        admin.execute(sql.SQL("ALTER DATABASE {} " + DATABASE_SETTINGS).format(name))
    dsn = {**postgres.superuser_dsn(), "dbname": DATABASE}
    with psycopg.connect(**dsn, autocommit=True) as conn:
        install_system_objects(conn)
    return dsn


@pytest.fixture
def conn(database: dict[str, Any]) -> Iterator[psycopg.Connection]:
    """A connection in a transaction that is rolled back after the test."""
    with psycopg.connect(**database) as connection:
        yield connection
        connection.rollback()
