"""The source data in S3, surveyed before anything billable is created.

COPY reads every key under a prefix; a zero-byte object there loads nothing and hides a broken
upstream, so it is an error here on both targets, before a cluster exists to pay for. The source
bucket's region is read here too: COPY names it in REGION, and the manifest bucket is created in
it, since with REGION every file COPY reads, the manifest included, must be in that region.

The events' JSONPaths file is the pipeline's own configuration (sql/staging/), not the source's: a
source needs only its song and event files, unless it names a JSONPaths file of its own.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from botocore.exceptions import ClientError
from prefect import get_run_logger, task

from core.aws import bucket_region, is_not_found
from core.jsonpaths import parse_jsonpaths_file
from core.retry import RETRYING
from core.target import Target
from core.warehouse import SQL_DIR
from core.window import Window

# Maps the event simulator's keys to staging_events' columns, in order.
PROJECT_JSONPATHS = SQL_DIR / "staging" / "staging_events_jsonpaths.json"


@dataclass(frozen=True)
class SourceObject:
    key: str
    size: int
    etag: str


@dataclass(frozen=True)
class Sources:
    """What the two COPYs will read: the song files, and the event files of the window, in the
    bucket `bucket` of region `region`, and the JSONPaths document for the events."""

    bucket: str
    region: str
    songs: list[SourceObject]
    events: list[SourceObject]
    jsonpaths: bytes
    window: Window = field(default_factory=Window)

    def url(self, obj: SourceObject) -> str:
        return f"s3://{self.bucket}/{obj.key}"

    def songs_signature(self) -> str:
        """Changes whenever a song file is added, removed or rewritten."""
        listing = "\n".join(f"{o.key} {o.size} {o.etag}" for o in sorted(self.songs, key=lambda o: o.key))
        return hashlib.sha256(listing.encode()).hexdigest()


def list_objects(s3, bucket: str, prefix: str) -> list[SourceObject]:
    """Every object under `prefix`, one ListObjectsV2 request per 1,000 keys."""
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return [
        SourceObject(o["Key"], int(o["Size"]), o["ETag"].strip('"')) for page in pages for o in page.get("Contents", [])
    ]


def _listed(s3, bucket: str, prefix: str) -> list[SourceObject]:
    objects = list_objects(s3, bucket, prefix)
    if not objects:
        raise ValueError(
            f"the S3 prefix s3://{bucket}/{prefix} holds no objects; check the bucket, the prefix and --data-dir"
        )
    return objects


def _usable(bucket: str, prefix: str, objects: list[SourceObject]) -> list[SourceObject]:
    where = f"s3://{bucket}/{prefix}"
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
def survey_sources(target: Target, window: Window) -> Sources:
    """List the song files and the window's event files and read the JSONPaths file; fail on
    anything COPY cannot use. A window without event files is not an error: there is nothing to do."""
    s3 = target.client("s3")
    s = target.settings
    try:
        region = bucket_region(s3, s.source_bucket)
    except ClientError as exc:
        if not is_not_found(exc):
            raise
        raise ValueError(f"the source bucket {s.source_bucket} does not exist; check SPARKIFY_SOURCE_BUCKET") from None
    songs = _usable(s.source_bucket, s.song_prefix + "/", _listed(s3, s.source_bucket, s.song_prefix + "/"))
    in_window = [o for o in _listed(s3, s.source_bucket, s.log_prefix + "/") if window.covers(o.key)]
    events = _usable(s.source_bucket, s.log_prefix + "/", in_window)
    jsonpaths = read_jsonpaths(target)
    logger = get_run_logger()
    logger.info(
        "Sources: %d song files, and %d event files for %s, in s3://%s (%s)",
        len(songs),
        len(events),
        window,
        s.source_bucket,
        region,
    )
    if region != s.region:
        logger.warning(
            "The source is in %s and the cluster in %s: COPY reads across regions (REGION %s), which AWS "
            "bills as S3 data transfer; set SPARKIFY_REGION=%s to avoid it",
            region, s.region, region, region,
        )
    return Sources(s.source_bucket, region, songs, events, jsonpaths, window)


def read_jsonpaths(target: Target) -> bytes:
    """The events' JSONPaths document: the source's own if `log_jsonpaths_key` names one, else the
    project's; checked here, so a broken one fails before a cluster exists."""
    s = target.settings
    if s.log_jsonpaths_key is None:
        body, where = PROJECT_JSONPATHS.read_bytes(), str(PROJECT_JSONPATHS)
    else:
        where = f"s3://{s.source_bucket}/{s.log_jsonpaths_key}"
        s3 = target.client("s3")
        try:
            body = s3.get_object(Bucket=s.source_bucket, Key=s.log_jsonpaths_key)["Body"].read()
        except s3.exceptions.NoSuchKey:
            raise ValueError(
                f"JSONPaths file {where} does not exist; upload it, or unset SPARKIFY_LOG_JSONPATHS_KEY to use "
                "the project's own"
            ) from None
    parse_jsonpaths_file(body, where)
    return body
