"""The local twin's running parts: moto's server for the AWS APIs, an embedded PostgreSQL behind every
cluster, and the source bucket filled from a data folder."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

from local.engine import install_system_objects
from local.malloc import fewer_malloc_arenas
from local.moto_server import open_moto
from local.postgres import data_directory, start_postgres
from local.redshift.functions import CREATE_DATABASE_OPTIONS, DATABASE_SETTINGS
from local.source_bucket import fill_arguments

logger = logging.getLogger(__name__)


class LocalTwin:
    """moto's server (this process's moto process) plus an embedded PostgreSQL backing its clusters."""

    def __init__(self, state_dir: Path, region: str) -> None:
        state_dir.mkdir(parents=True, exist_ok=True)
        fewer_malloc_arenas()
        self._moto = open_moto(warm_region=region)
        try:
            # PostgreSQL starts while moto's process imports moto.
            self._postgres = start_postgres(data_directory(state_dir))
        except BaseException:
            self._moto.stop()
            raise
        # The databases this twin backed clusters with, whose deleted rows stop() reclaims.
        self._backed: set[str] = set()
        try:
            self.endpoint_url = self._moto.endpoint_url
        except BaseException:
            self.stop()
            raise

    def back_cluster(self, database: str, user: str, password: str) -> dict[str, Any]:
        """Give a Redshift cluster its database and master user; return how to connect to it.

        Each cluster's warehouse is a PostgreSQL database, sorting as Redshift does (binary UTF-8)
        and in UTC, with Redshift's system objects and functions.
        """
        with self.superuser() as conn:
            role_exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (user,)).fetchone()
            verb = "ALTER" if role_exists else "CREATE"
            conn.execute(
                sql.SQL(verb + " ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(user), sql.Literal(password))
            )
            collation = conn.execute("SELECT datcollate FROM pg_database WHERE datname = %s", (database,)).fetchone()
            if collation is not None and collation[0] != "C":
                # Made before the local database sorted as Redshift does; its rows come from the source.
                logger.warning("Rebuilding local warehouse %s with Redshift's binary sort order", database)
                self.drop_cluster_database(database)
                collation = None
            if collation is None:
                name, owner = sql.Identifier(database), sql.Identifier(user)
                conn.execute(sql.SQL("CREATE DATABASE {} OWNER {} " + CREATE_DATABASE_OPTIONS).format(name, owner))
                conn.execute(sql.SQL("ALTER DATABASE {} " + DATABASE_SETTINGS).format(name))
                # Redshift sizes query memory itself; PostgreSQL's 4 MB default spills the
                # transforms' sorts and hashes to disk from about 100k events on.
                conn.execute(sql.SQL("ALTER DATABASE {} SET work_mem = '128MB'").format(name))
        with self.superuser(database) as conn:
            conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(user)))
            install_system_objects(conn)
        self._backed.add(database)
        return self._login(database, user)

    def fill_bucket(self, bucket: str, region: str, files: Iterable[tuple[Path, str]]) -> int:
        """Make `bucket` hold exactly the (file, key) pairs: moto's process reads the files and puts
        them through its S3 backend (local.moto_process.fill), or finishes a prefill of the same.
        Everything the pipeline itself reads still goes through moto's S3 API."""
        return self._moto.call("fill", **fill_arguments(bucket, region, files))

    def warehouse_dsn(self, database: str) -> dict[str, Any] | None:
        """How the superuser connects to `database`, or None if it does not exist yet."""
        with self.superuser() as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone():
                return None
        return self._login(database, self._postgres.superuser_dsn()["user"])

    def databases(self, prefix: str) -> list[str]:
        """The databases whose names start with `prefix`."""
        with self.superuser() as conn:
            rows = conn.execute("SELECT datname FROM pg_database WHERE starts_with(datname, %s)", (prefix,)).fetchall()
        return [name for (name,) in rows]

    def _login(self, dbname: str, user: str) -> dict[str, Any]:
        dsn = self._postgres.superuser_dsn()
        return {"host": dsn["host"], "port": int(dsn.get("port") or 5432), "dbname": dbname, "user": user}

    def drop_cluster_database(self, database: str) -> None:
        with self.superuser() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database)))

    def superuser(self, dbname: str = "postgres") -> psycopg.Connection:
        """An autocommit connection as the server's superuser: setup, and the benchmark's references."""
        return psycopg.connect(**{**self._postgres.superuser_dsn(), "dbname": dbname}, autocommit=True)

    def stop(self, keep_postgres: bool = False) -> None:
        """Stop moto's server and, unless asked to keep it for querying, PostgreSQL."""
        self._moto.stop()
        if keep_postgres:
            self._postgres.detach()  # its autovacuum reclaims deleted rows while it runs
            return
        try:
            self._reclaim_deleted_rows()
        finally:
            self._postgres.stop()

    def _reclaim_deleted_rows(self) -> None:
        """VACUUM the tables of the backed databases that hold deleted rows, as Redshift's automatic
        vacuum delete does in the background. Every run deletes and rebuilds rows, and PostgreSQL
        stops before its autovacuum wakes (after a minute): rerun after rerun, the sample's songplays
        had grown to 168 MB for 6,820 rows, and scanning it took 44 ms."""
        for database in self._backed:
            try:
                if self.warehouse_dsn(database) is None:
                    continue  # dropped by the run's teardown
                with self.superuser(database) as conn:
                    tables = conn.execute(
                        "SELECT schemaname, relname FROM pg_stat_user_tables WHERE n_dead_tup > 0"
                    ).fetchall()
                    # Never waits: a table another session holds (a user's psql) is left for next time.
                    for schema, table in tables:
                        conn.execute(sql.SQL("VACUUM (SKIP_LOCKED) {}").format(sql.Identifier(schema, table)))
            except psycopg.Error as exc:  # housekeeping: the next run's stop tries again
                logger.warning("Could not reclaim the deleted rows of local warehouse %s: %s", database, exc)

