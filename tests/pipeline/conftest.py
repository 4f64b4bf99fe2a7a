"""The flow-level tests share one Prefect test harness: a temporary API server for the session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import drain_prefect_workers, run

# How long the session's end waits for Prefect's log and event workers to send what they hold.
DRAIN_TIMEOUT_S = 60


@pytest.fixture(scope="session", autouse=True)
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

    # Workers started before (tests/deployments' in-process client) keep sending to the server
    # they first met, which is gone: they must not carry into the harness.
    drain_prefect_workers(DRAIN_TIMEOUT_S)
    with prefect_test_harness(server_startup_timeout=120):
        yield
        drain_prefect_workers(DRAIN_TIMEOUT_S)


@pytest.fixture(scope="session")
def sample_warehouse(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """The state dir of one run over the sample, whose warehouse tests only read, and its summary."""
    tmp = tmp_path_factory.mktemp("sample-warehouse")
    with pytest.MonkeyPatch.context() as env:
        env.setenv("SPARKIFY_STATE_DIR", str(tmp / "state"))
        env.setenv("SPARKIFY_RESULTS_DIR", str(tmp / "results"))
        code, summary = run(tmp=tmp)
    assert code == 0, summary
    return tmp / "state", summary
