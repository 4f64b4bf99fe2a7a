"""Connections to the warehouse and the SQL files that run on it, built in one place."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from typing import Any

import psycopg
from psycopg import sql
from pydantic import BaseModel, SecretStr

from core.engine import CopyProgress, Engine
from core.load_errors import CopyResult, LoadError, with_rejections
from core.redshift_sql import StatementRefused, split
from core.settings import PROJECT_ROOT

SQL_DIR = PROJECT_ROOT / "sql"


class Dsn(BaseModel):
    """Where the warehouse listens; `host` may be a Unix socket directory."""

    host: str
    port: int
    dbname: str
    user: str
    password: SecretStr
    # Attempts to connect stop after this long: a closed port or an unresolvable name is no blip.
    connect_timeout_s: int = 60
    unreachable_hint: str = "check that the warehouse is running"

    def url(self) -> str:
        """A connection URL without the password, safe to print."""
        if self.host.startswith("/"):
            return f"postgresql://{self.user}@/{self.dbname}?host={self.host}&port={self.port}"
        return f"postgresql://{self.user}@{self.host}:{self.port}/{self.dbname}"


@cache
def load_sql(name: str) -> str:
    """The text of `sql/<name>.sql`, e.g. `load_sql("marts/insert_songs")`."""
    path = SQL_DIR / f"{name}.sql"
    if not path.is_file():
        raise FileNotFoundError(f"no SQL file {path.relative_to(PROJECT_ROOT)}")
    return path.read_text()


def bind(script: str, params: dict[str, Any], conn: psycopg.Connection | None = None) -> str:
    """`script` with its `{placeholders}` bound as SQL literals (as `conn` would quote them, if given)."""
    return sql.SQL(script).format(**{k: sql.Literal(v) for k, v in params.items()}).as_string(conn)


class SqlError(RuntimeError):
    """A statement of a SQL file failed: the data or the SQL is wrong, so it is not retried."""


class Session:
    """One connection in one transaction, running Redshift SQL through the target's engine."""

    def __init__(self, conn: psycopg.Connection, engine: Engine) -> None:
        self.conn = conn
        self.engine = engine

    def run(self, name: str, progress: CopyProgress | None = None, **params: Any) -> list[CopyResult]:
        """Run every statement of `sql/<name>.sql`; `{placeholders}` are bound as SQL literals;
        a COPY's engine reports its `progress` if it can."""
        script = bind(load_sql(name), params, self.conn) if params else load_sql(name)
        try:
            results = [self.engine.execute(self.conn, s, progress) for s in split(script)]
        except psycopg.OperationalError:
            raise  # the connection, not the SQL: worth a retry
        except psycopg.Error as exc:
            raise SqlError(f"sql/{name}.sql failed on the warehouse: {exc.diag.message_primary or exc}") from exc
        except StatementRefused as exc:
            raise SqlError(f"sql/{name}.sql: {exc}") from exc
        return [r for r in results if r is not None]

    def execute(self, statement: str) -> CopyResult | None:
        """Run one statement, as a script's are run; a COPY returns what it loaded."""
        return self.engine.execute(self.conn, statement)

    def query(self, statement: str | sql.Composable, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        return self.cursor(statement, params).fetchall()

    def count(self, table: str) -> int:
        return int(self.scalar(sql.SQL("SELECT COUNT(*) FROM {}").format(sql.Identifier(table))))

    def scalar(self, statement: str | sql.Composable, params: tuple[Any, ...] = ()) -> Any:
        row = self.cursor(statement, params).fetchone()
        return row[0] if row else None

    def cursor(self, statement: str | sql.Composable, params: tuple[Any, ...] = ()) -> psycopg.Cursor:
        """A query with bound parameters, run by the engine: the local one checks it against Redshift's rules."""
        text = statement if isinstance(statement, str) else statement.as_string(self.conn)
        return self.engine.query(self.conn, text, params)


_RETRY_PAUSE_S = 2


class WarehouseUnreachable(RuntimeError):
    """No answer from the endpoint within the connect timeout; retrying the task would not help."""


def _open(dsn: Dsn) -> psycopg.Connection:
    """Connect, trying again for up to `dsn.connect_timeout_s` while the endpoint does not answer."""
    deadline = time.monotonic() + dsn.connect_timeout_s
    while True:
        remaining = deadline - time.monotonic()
        try:
            return psycopg.connect(
                host=dsn.host,
                port=dsn.port,
                dbname=dsn.dbname,
                user=dsn.user,
                password=dsn.password.get_secret_value(),
                connect_timeout=max(2, int(min(remaining, 15))),
                application_name="sparkify-dwh",
                autocommit=True,
            )
        except psycopg.OperationalError as exc:
            # The server answered (wrong password, no such database): waiting will not change that.
            if exc.sqlstate is not None:
                raise
            if time.monotonic() + _RETRY_PAUSE_S >= deadline:
                reason = str(exc).strip().splitlines()[-1].rstrip(".")
                raise WarehouseUnreachable(
                    f"cannot reach the warehouse at {dsn.host}:{dsn.port} within {dsn.connect_timeout_s} s "
                    f"({reason}); {dsn.unreachable_hint}"
                ) from None
            time.sleep(_RETRY_PAUSE_S)


@contextmanager
def connect(dsn: Dsn, engine: Engine) -> Iterator[Session]:
    """A session that commits when the block ends and rolls back if it raises."""
    conn = _open(dsn)
    try:
        with conn.transaction():
            yield Session(conn, engine)
    except LoadError as exc:
        # Redshift says why in stl_load_errors, readable in this session once the COPY rolled back.
        raise with_rejections(engine, conn, exc) from exc.__cause__
    finally:
        conn.close()
