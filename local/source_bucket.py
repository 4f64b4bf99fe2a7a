"""The local source bucket: the files of a data folder under their S3 keys, which moto's process
fills into its S3. Light to import, as local/starting.py is."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from core.settings import Settings


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
