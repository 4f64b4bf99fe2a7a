"""local.postgres: the embedded PostgreSQL's lifecycle, shared by processes that may be killed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import psutil
import psycopg
import pytest

from local.postgres import EmbeddedPostgres, _postmaster, postgres_ahead, start_postgres

ROOT = Path(__file__).resolve().parents[2]
# A process using the server until it is killed: what a run of the flow is to it.
_USER = """
import sys, time
from pathlib import Path
from local.postgres import start_postgres
start_postgres(Path(sys.argv[1]))
print("up", flush=True)
time.sleep(600)
"""


@pytest.fixture
def pgdata(tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "state" / "pgdata"
    yield path
    pid = _postmaster(path)
    if pid is not None:  # a failed test must not leave its server behind
        psutil.Process(pid).kill()


def another_user(pgdata: Path) -> subprocess.Popen:
    """A process of its own using the server on `pgdata`, once it says so."""
    user = subprocess.Popen([sys.executable, "-c", _USER, str(pgdata)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert user.stdout is not None and user.stdout.readline() == "up\n"
    return user


def answers(server: EmbeddedPostgres) -> bool:
    with psycopg.connect(**server.superuser_dsn()) as conn:
        return conn.execute("SELECT 1").fetchone() == (1,)


def test_the_last_live_user_stops_the_server_though_another_was_killed(pgdata: Path) -> None:
    killed = another_user(pgdata)
    first, second = start_postgres(pgdata), start_postgres(pgdata)
    killed.send_signal(signal.SIGKILL)
    killed.wait()

    first.stop()
    assert answers(second)  # second still uses it
    second.stop()
    assert _postmaster(pgdata) is None
    assert not (pgdata / "postmaster.pid").exists()


def test_a_server_left_by_a_killed_process_is_adopted_then_stopped(pgdata: Path) -> None:
    killed = another_user(pgdata)
    left = _postmaster(pgdata)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    assert _postmaster(pgdata) == left

    server = start_postgres(pgdata)
    assert _postmaster(pgdata) == left and answers(server)
    server.stop()
    assert _postmaster(pgdata) is None


def test_a_detached_server_outlives_its_process_until_the_next_one_is_done(pgdata: Path) -> None:
    kept = start_postgres(pgdata)
    kept.detach()  # what --keep-cluster does
    running = _postmaster(pgdata)
    assert running is not None

    later = start_postgres(pgdata)
    assert _postmaster(pgdata) == running and answers(later)
    later.stop()
    assert _postmaster(pgdata) is None


@pytest.mark.parametrize("pid_now", ["dead", "someone else's"])
def test_a_postmaster_pid_left_by_a_dead_server_is_no_obstacle(pgdata: Path, pid_now: str) -> None:
    """A server killed with SIGKILL leaves postmaster.pid behind; after a restart of the machine its
    pid may belong to another process, and PostgreSQL then refuses to start over the file."""
    server = start_postgres(pgdata)
    postmaster = psutil.Process(_postmaster(pgdata))
    workers = postmaster.children()
    postmaster.kill()
    psutil.wait_procs([postmaster, *workers], timeout=30)
    pid_file = pgdata / "postmaster.pid"
    assert pid_file.exists()
    # As the server's own user, whose pids PostgreSQL can signal and so takes for a live server.
    squatter = subprocess.Popen(["sleep", "600"], user=pgdata.stat().st_uid)
    try:
        if pid_now != "dead":
            lines = pid_file.read_text().splitlines()
            pid_file.write_text("\n".join([str(squatter.pid), *lines[1:]]) + "\n")

        again = start_postgres(pgdata)
        assert answers(again)
        again.stop()
        server.stop()
        assert _postmaster(pgdata) is None
    finally:
        squatter.kill()
        squatter.wait()


@pytest.mark.skipif(shutil.which("pg_ctl") is None, reason="no PostgreSQL on PATH")
def test_postgres_from_the_machines_own_binaries(tmp_path: Path) -> None:
    bindir = Path(shutil.which("pg_ctl") or "").resolve().parent
    server = EmbeddedPostgres(tmp_path / "pgdata", bindir)
    try:
        with psycopg.connect(**server.superuser_dsn()) as conn:
            assert conn.execute("SELECT current_user").fetchone() == ("postgres",)
        assert Path(psutil.Process(_postmaster(tmp_path / "pgdata")).exe()).parent == bindir
    finally:
        server.stop()
    assert _postmaster(tmp_path / "pgdata") is None


def test_a_socket_path_too_long_for_unix_gets_a_folder_of_its_own(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 40) / "pgdata"
    server = start_postgres(deep)
    try:
        host = Path(server.superuser_dsn()["host"])
        assert host != deep and len(str(host / ".s.PGSQL.5432")) < 100
        assert answers(server)
    finally:
        server.stop()
    assert os.path.exists(deep / "PG_VERSION") and _postmaster(deep) is None


def test_a_server_started_ahead_is_taken_over_by_the_next_start_and_stopped_by_its_user(
    pgdata: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with postgres_ahead(pgdata):
        server = start_postgres(pgdata)
        assert answers(server)
    assert not server.adopted  # the start ahead's own server, not a second handle on it
    assert "already running" not in caplog.text
    assert answers(server)  # the end of the start ahead leaves it to its user
    server.stop()
    assert _postmaster(pgdata) is None


def test_a_server_started_ahead_that_no_one_took_over_is_stopped_at_the_end(pgdata: Path) -> None:
    with postgres_ahead(pgdata):
        pass
    assert (pgdata / "PG_VERSION").exists()  # it was started
    assert _postmaster(pgdata) is None


def test_a_server_running_before_the_start_ahead_is_left_running_if_no_one_took_it_over(pgdata: Path) -> None:
    kept = start_postgres(pgdata)
    kept.detach()  # what --keep-cluster does
    with postgres_ahead(pgdata):
        pass  # a run that failed before its twin took the server
    later = start_postgres(pgdata)
    assert later.adopted and answers(later)
    later.stop()
    assert _postmaster(pgdata) is None
