"""The source data in S3, surveyed before anything billable is created.

COPY reads every key under a prefix; a zero-byte object there loads nothing and hides a broken
upstream, so it is an error here on both targets, before a cluster exists to pay for.
"""

from __future__ import annotations

from dataclasses import dataclass

from prefect import get_run_logger, task

from tasks.copy_engine import parse_jsonpaths_file
from tasks.retry import RETRYING
from tasks.target import Target


@dataclass(frozen=True)
class SourceObject:
    key: str
    size: int
    etag: str


@dataclass(frozen=True)
class Sources:
    """What the two COPYs will read: the song files (via the manifest) and the event files."""

    bucket: str
    songs: list[SourceObject]
    events: list[SourceObject]

    def url(self, obj: SourceObject) -> str:
        return f"s3://{self.bucket}/{obj.key}"


def list_objects(s3, bucket: str, prefix: str) -> list[SourceObject]:
    """Every object under `prefix`, one ListObjectsV2 request per 1,000 keys."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [
        SourceObject(o["Key"], int(o["Size"]), o["ETag"].strip('"')) for page in pages for o in page.get("Contents", [])
    ]


def _usable(bucket: str, prefix: str, objects: list[SourceObject]) -> list[SourceObject]:
    where = f"s3://{bucket}/{prefix}"
    if not objects:
        raise ValueError(f"the S3 prefix {where} holds no objects; check the bucket, the prefix and --data-dir")
    empty = [o for o in objects if o.size == 0]
    if empty:
        first = empty[0].key
        kind = "a console 'folder' marker" if first.endswith("/") else "an empty file"
        others = f" (and {len(empty) - 1} more)" if len(empty) > 1 else ""
        raise ValueError(
            f"s3://{bucket}/{first} is a zero-byte object, {kind}{others}, under {where}: "
            "COPY would load nothing from it; delete it or fix the upstream export, then rerun"
        )
    return objects


@task(**RETRYING)
def survey_sources(target: Target) -> Sources:
    """List the song and event files and read the JSONPaths file; fail on anything COPY cannot use."""
    s3 = target.client("s3")
    s = target.settings
    songs = _usable(s.source_bucket, s.song_prefix + "/", list_objects(s3, s.source_bucket, s.song_prefix + "/"))
    # The events COPY reads the bare prefix, as Redshift does: survey exactly what it will read.
    events = _usable(s.source_bucket, s.log_prefix, list_objects(s3, s.source_bucket, s.log_prefix))
    jsonpaths = f"s3://{s.source_bucket}/{s.log_jsonpaths_key}"
    try:
        body = s3.get_object(Bucket=s.source_bucket, Key=s.log_jsonpaths_key)["Body"].read()
    except s3.exceptions.NoSuchKey:
        raise ValueError(f"JSONPaths file {jsonpaths} does not exist; upload it or set SPARKIFY_LOG_JSONPATHS_KEY") from None
    parse_jsonpaths_file(body, jsonpaths)
    get_run_logger().info(
        "Sources: %d song files and %d event files in s3://%s", len(songs), len(events), s.source_bucket
    )
    return Sources(s.source_bucket, songs, events)
