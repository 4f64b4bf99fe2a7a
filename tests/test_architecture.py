"""The layout's contract: the AWS path never loads the local twin (package `local`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROBE = """
import sys
from core.settings import Settings
from flows.sparkify import sparkify_etl
from flows.targets import open_target
target = open_target(Settings(target=sys.argv[1]))
print(sorted({m.split('.')[0] for m in sys.modules if m == 'local' or m.startswith('local.')}))
target.close()
"""


def loaded_local_packages(target: str, state: Path) -> str:
    """The `local` packages a fresh interpreter has loaded once it built the target and imported the flow."""
    env = {**os.environ, "AWS_ACCESS_KEY_ID": "AKIATESTKEYID0000000", "AWS_SECRET_ACCESS_KEY": "not-a-secret",
           "SPARKIFY_STATE_DIR": str(state)}
    done = subprocess.run([sys.executable, "-c", PROBE, target], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_aws_path_never_imports_the_local_twin(tmp_path: Path) -> None:
    assert loaded_local_packages("aws", tmp_path) == "[]"


def test_the_local_path_does(tmp_path: Path) -> None:
    """The probe can see the package when it is loaded."""
    assert loaded_local_packages("local", tmp_path) == "['local']"


HEAD_START_PROBE = """
import sys
import local.starting

def starting(settings):
    print(sorted(m for m in ("prefect", "flows.sparkify") if m in sys.modules))
    raise SystemExit(0)

local.starting.starting = starting
from flows.cli import main
main([])
"""


def test_a_local_run_starts_its_twin_before_the_command_loads_prefect_or_the_flow(tmp_path: Path) -> None:
    """moto's process loads for 1.5 s; the command's imports of Prefect and the flow take 2 s and run beside it."""
    env = {**os.environ, "SPARKIFY_STATE_DIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-c", HEAD_START_PROBE], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


SERVER_FIRST_PROBE = """
import contextlib, sys
import flows.prefect_server

@contextlib.contextmanager
def prefect_api():
    from prefect.logging.configuration import PROCESS_LOGGING_CONFIG
    # The flow not loaded yet, and Prefect's logging set up for the server's log line.
    print("flows.sparkify" in sys.modules, bool(PROCESS_LOGGING_CONFIG))
    raise SystemExit(0)
    yield

flows.prefect_server.prefect_api = prefect_api
from flows.cli import main
main(["--target", "aws"])
"""


def test_the_command_launches_prefects_temporary_server_before_it_loads_the_flow() -> None:
    """The server takes 4 to 12 s to start; the flow's imports (about 1.5 s) run beside it."""
    done = subprocess.run([sys.executable, "-c", SERVER_FIRST_PROBE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False True"


def test_the_command_reads_its_flags_before_it_imports_prefect() -> None:
    """python flows/sparkify.py hands over to the command line before its own imports (flows/cli.py)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", str(ROOT / "flows" / "sparkify.py"), "--help"],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 0 and "--target" in done.stdout, done.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    assert "core.settings" in imported  # the probe sees the command line's imports
    assert "prefect" not in imported and "flows.sparkify" not in imported
