"""What a local run's command starts before it loads Prefect and the flow (about 2 s of imports),
for the run's twin to take over: moto's process, which imports moto, loads EC2 and Redshift (1.5 s
of CPU) and fills the source bucket, and the embedded PostgreSQL (initdb on a new state dir).

Light to import, on purpose: no more than the settings (tests/test_architecture.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from core.settings import Settings
from local.moto_server import MotoProcessError, MotoServer, open_moto
from local.postgres import data_directory, postgres_ahead
from local.source_bucket import fill_arguments, source_files


@contextmanager
def starting(settings: Settings) -> Iterator[None]:
    """Start moto's process, its fill of the source bucket and PostgreSQL, to run beside the body;
    keep them until the body ends. The run's twin finds moto serving (local.moto_server.open_moto)
    with its fill done or under way, and takes PostgreSQL over (local.postgres.start_postgres)."""
    moto = open_moto(warm_region=settings.region)
    # Asked from a thread: the answer comes once moto is imported, which the body need not wait for.
    asking = threading.Thread(target=_prefill, args=(moto, settings), name="prefill", daemon=True)
    asking.start()
    try:
        with postgres_ahead(data_directory(settings.state_dir)):
            yield
    finally:
        asking.join()
        moto.stop()


def _prefill(moto: MotoServer, settings: Settings) -> None:
    try:
        moto.call("prefill", **fill_arguments(settings.source_bucket, settings.region, source_files(settings)))
    except MotoProcessError:
        pass  # the flow's own fill meets the same failure, and reports it
