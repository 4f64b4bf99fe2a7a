"""Shared fixtures: moto's server and an embedded PostgreSQL, both real. Prefect's test harness is
started only by the flow-level tests (tests/pipeline/conftest.py)."""

from __future__ import annotations

import os

# Before Prefect is imported: no telemetry from tests.
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import requests
from psycopg import sql

from local.engine import install_system_objects
from local.moto_server import MotoServer, open_moto
from local.postgres import EmbeddedPostgres, start_postgres
from local.redshift.functions import CREATE_DATABASE_OPTIONS, DATABASE_SETTINGS
from tests.support import client


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoServer]:
    """This process's moto server, held open for the session.

    The flows under test open the same one (local.moto_server.open_moto), so tests see what a
    run created in AWS and inspect it after the run.
    """
    server = open_moto()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def moto_endpoint(moto: MotoServer) -> str:
    """moto's server on a free loopback port."""
    return moto.endpoint_url


@pytest.fixture
def aws(moto_endpoint: str) -> Iterator[str]:
    """A clean moto state for one test; yields the endpoint."""
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10)
    yield moto_endpoint
    requests.post(f"{moto_endpoint}/moto-api/reset", timeout=10)


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aws: str) -> Path:
    """Keep the run's warehouse and report under tmp_path; start from a clean moto state."""
    monkeypatch.setenv("SPARKIFY_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SPARKIFY_RESULTS_DIR", str(tmp_path / "results"))
    return tmp_path


@pytest.fixture
def s3(aws: str):
    return client(aws, "s3")


@pytest.fixture(scope="session")
def postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedPostgres]:
    server = start_postgres(tmp_path_factory.mktemp("pg") / "pgdata")
    yield server
    server.stop()


@pytest.fixture
def pg(postgres: EmbeddedPostgres) -> Iterator[psycopg.Connection]:
    """An autocommit connection to a fresh database of its own, made as a local cluster's is."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = psycopg.connect(**postgres.superuser_dsn(), autocommit=True)
    admin.execute(sql.SQL("CREATE DATABASE {} " + CREATE_DATABASE_OPTIONS).format(sql.Identifier(name)))
    admin.execute(sql.SQL("ALTER DATABASE {} " + DATABASE_SETTINGS).format(sql.Identifier(name)))
    conn = psycopg.connect(**{**postgres.superuser_dsn(), "dbname": name}, autocommit=True)
    install_system_objects(conn)
    yield conn
    conn.close()
    admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
    admin.close()
