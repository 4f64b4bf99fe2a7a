"""The project's own private bucket, holding the manifest of the song files COPY reads."""

from __future__ import annotations

import json

from prefect import get_run_logger, task

from core.aws import bucket_location, is_not_found
from core.resources import MANIFEST_KEYS, manifest_bucket_name, tags
from core.retry import RETRYING
from core.target import Target
from tasks.sources import Sources


def bucket_name(target: Target) -> str:
    """The manifest bucket of the target's cluster id, in the caller's account."""
    account = target.client("sts").get_caller_identity()["Account"]
    return manifest_bucket_name(target.settings.cluster_id, account, target.settings.region)


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
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    s3.put_bucket_tagging(
        Bucket=bucket,
        Tagging={"TagSet": tags(target.settings, run_id)},
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
