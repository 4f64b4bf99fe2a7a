"""The project's own private bucket, holding the manifest of the song files COPY reads."""

from __future__ import annotations

import json

from prefect import get_run_logger, task

from tasks.aws import bucket_location, is_not_found
from tasks.retry import RETRYING
from tasks.sources import Sources
from tasks.target import Target

# One manifest per COPY: every song file, and the event files of the run's window.
MANIFEST_KEYS = {"songs": "manifests/song_data.manifest", "events": "manifests/log_data.manifest"}
MANIFEST_BUCKET_MARK = "-manifests-"


def bucket_name(target: Target) -> str:
    """Unique per account and region, derived from the cluster id."""
    account = target.client("sts").get_caller_identity()["Account"]
    return f"{target.settings.cluster_id}{MANIFEST_BUCKET_MARK}{account}-{target.settings.region}"


@task(**RETRYING)
def write_manifests(target: Target, sources: Sources, run_id: str) -> dict[str, str]:
    """Create the private manifest bucket and write the two manifests; return their s3:// URLs."""
    s3 = target.client("s3")
    s = target.settings
    bucket = bucket_name(target)
    try:
        s3.create_bucket(Bucket=bucket, **bucket_location(s.region))
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass  # adopted from an earlier run
    s3.put_public_access_block(
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    s3.put_bucket_encryption(
        Bucket=bucket,
        ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
    )
    s3.put_bucket_tagging(
        Bucket=bucket,
        Tagging={"TagSet": target.tags(run_id)},
    )
    urls = {}
    for name, objects in (("songs", sources.songs), ("events", sources.events)):
        # content_length is optional for JSON; the local engine sizes its read-ahead by it.
        entries = [{"url": sources.url(o), "mandatory": True, "meta": {"content_length": o.size}} for o in objects]
        s3.put_object(Bucket=bucket, Key=MANIFEST_KEYS[name], Body=json.dumps({"entries": entries}).encode())
        urls[name] = f"s3://{bucket}/{MANIFEST_KEYS[name]}"
        get_run_logger().info("Manifest %s lists %d %s files", urls[name], len(entries), name[:-1])
    return urls


def delete_bucket(target: Target) -> None:
    """Empty and delete the manifest bucket; gone already is success."""
    s3 = target.client("s3")
    bucket = bucket_name(target)
    try:
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
            doomed = [
                {"Key": v["Key"], "VersionId": v["VersionId"]}
                for v in page.get("Versions", []) + page.get("DeleteMarkers", [])
            ]
            if doomed:
                s3.delete_objects(Bucket=bucket, Delete={"Objects": doomed, "Quiet": True})
        s3.delete_bucket(Bucket=bucket)
    except Exception as exc:
        if not is_not_found(exc):
            raise
