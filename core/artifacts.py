"""What a run publishes in Prefect besides its logs: artifacts keyed per deployment and target, so that
one deployment's latest report never hides another's, and the progress of long steps."""

from __future__ import annotations

import functools
import re
import threading
import time
from uuid import UUID

from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.client.orchestration import get_client
from prefect.context import FlowRunContext, TaskRunContext


def artifact_key(kind: str, target: str) -> str:
    """`sparkify-<kind>-<deployment, or adhoc for a run without one>-<target>`, as Prefect's keys allow."""
    raw = f"sparkify-{kind}-{_deployment_name() or 'adhoc'}-{target}"
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", raw.lower())).strip("-")


def _deployment_name() -> str | None:
    """The name of the current run's deployment; None for a run without one.

    Inside the run, its context says which deployment: prefect.runtime.deployment would read the
    flow run back from the API on every call, half a second each on a busy run. Outside it (a
    worker's state hook), that is the only way.
    """
    context = FlowRunContext.get()
    if context is None or context.flow_run is None:
        from prefect.runtime import deployment

        return deployment.name
    return None if context.flow_run.deployment_id is None else _name_of(context.flow_run.deployment_id)


@functools.cache
def _name_of(deployment_id: UUID) -> str:
    # A deployment's name never changes.
    with get_client(sync_client=True) as client:
        return client.read_deployment(deployment_id).name


class Progress:
    """A progress artifact of one long step, updated from any thread; nothing outside a run.

    Updates replace each other in the API, so they are sent in order, under a lock, and at most
    every `every_s` seconds, then the final one: each is a request the step waits for, and
    thousands of objects make one COPY.
    """

    def __init__(self, step: str, every_s: float = 2.0) -> None:
        self.step = step
        self._lock = threading.Lock()
        self._every_s = every_s
        self._sent = time.monotonic()
        in_run = FlowRunContext.get() is not None or TaskRunContext.get() is not None
        self._id = create_progress_artifact(0.0, description=f"{step}: starting") if in_run else None

    def update(self, percent: float, detail: str, final: bool = False) -> None:
        """Report `percent` (0-100) done; `final` sends it whatever the pace."""
        if self._id is None:
            return
        with self._lock:
            now = time.monotonic()
            if final or now - self._sent >= self._every_s:
                update_progress_artifact(self._id, min(percent, 100.0), description=f"{self.step}: {detail}")
                self._sent = now

    def objects(self, done: int, total: int) -> None:
        """Report `done` of `total` objects read, as the local COPY does after each object."""
        self.update(100 * done / total if total else 100.0, f"{done} of {total} objects", final=done == total)
