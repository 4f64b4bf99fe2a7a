"""local.postgres: the PostgreSQL fallback on the machine's own binaries."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from local.postgres import BinariesPostgres, _system_bindir


@pytest.fixture
def world_readable_dir() -> Iterator[Path]:
    # As root, PostgreSQL runs as the 'postgres' user, which must reach the data directory.
    path = Path(tempfile.mkdtemp(prefix="sparkify-test-", dir="/tmp"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.mark.skipif(_system_bindir() is None, reason="no initdb/pg_ctl on PATH or under /usr/lib/postgresql")
def test_postgres_from_system_binaries(world_readable_dir: Path) -> None:
    server = BinariesPostgres(world_readable_dir / "pgdata", _system_bindir())
    try:
        with psycopg.connect(**server.superuser_dsn()) as conn:
            assert conn.execute("SELECT 1 + 1").fetchone() == (2,)
        # A second handle adopts the running server instead of starting another.
        again = BinariesPostgres(world_readable_dir / "pgdata", _system_bindir())
        with psycopg.connect(**again.superuser_dsn()) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("postgres",)
    finally:
        server.stop()
    assert not (world_readable_dir / "pgdata" / "postmaster.pid").exists()
