"""What a run publishes in Prefect besides its logs: artifacts keyed per deployment and target, so that
one deployment's latest report never hides another's, and the progress of long steps."""

from __future__ import annotations

import re
import threading
import time

from prefect.artifacts import create_progress_artifact, update_progress_artifact
from prefect.context import FlowRunContext, TaskRunContext


def artifact_key(kind: str, target: str) -> str:
    """`sparkify-<kind>-<deployment, or adhoc for a run without one>-<target>`, as Prefect's keys allow."""
    from prefect.runtime import deployment

    raw = f"sparkify-{kind}-{deployment.name or 'adhoc'}-{target}"
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", raw.lower())).strip("-")


class Progress:
    """A progress artifact of one long step, updated from any thread; nothing outside a run.

    Updates replace each other in the API, so they are sent in order, under a lock, and at most
    every `every_s` seconds or 5 points, whichever comes first (thousands of objects make one COPY).
    """

    def __init__(self, step: str, every_s: float = 2.0) -> None:
        self.step = step
        self._lock = threading.Lock()
        self._every_s = every_s
        self._sent = (0.0, time.monotonic())
        in_run = FlowRunContext.get() is not None or TaskRunContext.get() is not None
        self._id = create_progress_artifact(0.0, description=f"{step}: starting") if in_run else None

    def update(self, percent: float, detail: str, final: bool = False) -> None:
        """Report `percent` (0-100) done; `final` sends it whatever the pace."""
        if self._id is None:
            return
        with self._lock:
            last_percent, last_time = self._sent
            now = time.monotonic()
            if final or percent - last_percent >= 5 or now - last_time >= self._every_s:
                update_progress_artifact(self._id, min(percent, 100.0), description=f"{self.step}: {detail}")
                self._sent = (percent, now)

    def objects(self, done: int, total: int) -> None:
        """Report `done` of `total` objects read, as the local COPY does after each object."""
        self.update(100 * done / total if total else 100.0, f"{done} of {total} objects", final=done == total)
