"""One run at a time per cluster: a second run of the same target and cluster id waits for the first.

Runs on one machine share a file lock, which the kernel releases when its holder dies, even killed
with SIGKILL. Deployment runs, which may run on several workers, also share a Prefect global
concurrency limit named after the cluster, held under a lease that Prefect's server reclaims from a
run killed without a word (a temporary server does not, so runs without a deployment use only the
file lock).
"""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from prefect.client.orchestration import get_client
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
from prefect.concurrency.sync import concurrency
from prefect.exceptions import ObjectAlreadyExists
from prefect.runtime import deployment

from core.settings import Settings

_POLL_S = 0.5


class ClusterBusy(TimeoutError):
    """Another run held the cluster for longer than this run would wait."""


def lock_name(settings: Settings) -> str:
    return f"sparkify-cluster-{settings.target}-{settings.cluster_id}"


@contextmanager
def cluster_lock(settings: Settings) -> Iterator[None]:
    """Hold the cluster for this run, waiting up to `settings.cluster_lock_timeout_s` for another's."""
    name, timeout = lock_name(settings), settings.cluster_lock_timeout_s
    busy = (
        f"cluster {settings.cluster_id} ({settings.target}) stayed in use by another run for {timeout} s; "
        "let that run finish, or raise --cluster-lock-timeout-s"
    )
    with ExitStack() as held:
        held.enter_context(_file_lock(settings.state_dir / "locks" / f"{name}.lock", timeout, busy))
        if deployment.id:
            _ensure_limit(name)
            try:
                held.enter_context(concurrency(name, occupy=1, timeout_seconds=timeout, strict=True))
            except TimeoutError:
                raise ClusterBusy(busy) from None
        yield


@contextmanager
def _file_lock(path: Path, timeout_s: float, busy: str) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise ClusterBusy(busy) from None
                time.sleep(_POLL_S)
        yield
    finally:
        os.close(fd)  # releases the lock


def _ensure_limit(name: str) -> None:
    """Create the cluster's limit of one slot, once; Prefect 3.9 has no create-if-missing."""
    with get_client(sync_client=True) as client:
        try:
            client.create_global_concurrency_limit(GlobalConcurrencyLimitCreate(name=name, limit=1))
        except ObjectAlreadyExists:
            pass
