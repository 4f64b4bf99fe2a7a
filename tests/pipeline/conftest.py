"""The flow-level tests share one Prefect test harness: a temporary API server for the session."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.support import run

# How long the session's end waits for Prefect's log and event workers to send what they hold.
DRAIN_TIMEOUT_S = 60


@pytest.fixture(scope="session", autouse=True)
def prefect_harness() -> Iterator[None]:
    from prefect.testing.utilities import prefect_test_harness

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


def drain_prefect_workers(timeout: float) -> None:
    """Let Prefect's log and event workers finish sending, within `timeout`, before the harness stops.

    The harness drains them too, but without a timeout, and so does every worker at interpreter
    exit. Seen with Prefect 3.9 after a few hundred tests: the log worker's queue thread had ended,
    its drain never finished, and the session hung until CI's limit. A worker that does not finish
    in time is marked done (the state `_drain` checks), so neither later drain waits for it.
    """
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker

    for service in (APILogWorker, EventsWorker):
        for worker in list(service._instances.values()):
            try:
                worker._drain().result(timeout=timeout)
            except concurrent.futures.TimeoutError:  # not the builtin one before Python 3.11
                print(f"\n{service.__name__} did not drain within {timeout:.0f} s; its remaining items are dropped")
                worker._done_event = None
