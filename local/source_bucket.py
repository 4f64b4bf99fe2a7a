"""The local source bucket: the files of a data folder under their S3 keys, which moto's process
fills into its S3 from the start of a run.

Light to import, on purpose: a run's command line starts moto's process here before it loads
Prefect and the flow (flows/cli.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from core.settings import Settings
from local.moto_server import MotoProcessError, MotoServer, open_moto


@contextmanager
def starting(settings: Settings) -> Iterator[None]:
    """Start moto's process and its fill of the source bucket, to run beside the body; keep it
    until the body ends. It imports moto, loads EC2 and Redshift (1.5 s of CPU) and fills the
    bucket on the other core; the run's twin then finds it serving (local.moto_server.open_moto)
    and its fill done or under way."""
    moto = open_moto(warm_region=settings.region)
    # Asked from a thread: the answer comes once moto is imported, which the body need not wait for.
    asking = threading.Thread(target=_prefill, args=(moto, settings), name="prefill", daemon=True)
    asking.start()
    try:
        yield
    finally:
        asking.join()
        moto.stop()


def _prefill(moto: MotoServer, settings: Settings) -> None:
    try:
        moto.call("prefill", **fill_arguments(settings.source_bucket, settings.region, source_files(settings)))
    except MotoProcessError:
        pass  # the flow's own fill meets the same failure, and reports it


def source_files(settings: Settings) -> list[tuple[Path, str]]:
    """(file, key) for what the source bucket holds: the song and log files, and a JSONPaths file of the data dir's."""
    own_jsonpaths = (settings.log_jsonpaths_key,) if settings.log_jsonpaths_key else ()
    return data_files(settings.data_dir, (settings.song_prefix, settings.log_prefix), own_jsonpaths)


def fill_arguments(bucket: str, region: str, files: Iterable[tuple[Path, str]]) -> dict[str, Any]:
    """local.moto_process's fill and prefill arguments: the files' paths absolute, as moto's process
    works in the project's folder, not necessarily the caller's."""
    return {"bucket": bucket, "region": region, "files": [(str(path.absolute()), key) for path, key in files]}


def iter_data_files(data_dir: Path, prefixes: tuple[str, ...]) -> Iterator[tuple[Path, str]]:
    """(file, S3 key) for every file under the given prefixes of `data_dir`."""
    for prefix in prefixes:
        for path in sorted((data_dir / prefix).rglob("*")):
            if path.is_file():
                yield path, path.relative_to(data_dir).as_posix()


def data_files(data_dir: Path, prefixes: tuple[str, ...], extra: tuple[str, ...]) -> list[tuple[Path, str]]:
    """(file, S3 key) for the files under `prefixes` of `data_dir`, and the `extra` keys that exist."""
    return list(iter_data_files(data_dir, prefixes)) + [(data_dir / k, k) for k in extra if (data_dir / k).is_file()]
