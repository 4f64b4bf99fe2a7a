"""The project's own private bucket, holding the manifests COPY reads and the events' JSONPaths file.

It is created in the source bucket's region, not necessarily the cluster's: COPY names the source's
region in REGION, and with REGION every file it reads, the manifest included, must be there. Its
name carries the cluster's region, so teardown finds it knowing the cluster alone.
"""

from __future__ import annotations

import json

from prefect import get_run_logger, task

from core.aws import bucket_location, bucket_region, is_not_found
from core.resources import JSONPATHS_KEY, MANIFEST_KEYS, manifest_bucket_name, tags
from core.retry import BUCKET_NAME_BUSY, BUCKET_NOT_YET_VISIBLE, RETRYING
from core.target import Target
from tasks.sources import Sources


def account_id(target: Target) -> str:
    return target.client("sts").get_caller_identity()["Account"]


def bucket_name(target: Target) -> str:
    """The manifest bucket of the target's cluster id, in the caller's account."""
    return manifest_bucket_name(target.settings.cluster_id, account_id(target), target.settings.region)


@task(**RETRYING)
def write_manifests(target: Target, sources: Sources, run_id: str) -> dict[str, str]:
    """Create the private manifest bucket in the sources' region and write the two manifests and the
    events' JSONPaths file; return their s3:// URLs (keys songs, events and jsonpaths)."""
    s3 = target.client("s3", region=sources.region)
    bucket = bucket_name(target)
    try:
        target.retry(BUCKET_NAME_BUSY, s3.create_bucket, Bucket=bucket, **bucket_location(sources.region))
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass  # adopted from an earlier run
    target.retry(
        BUCKET_NOT_YET_VISIBLE,
        s3.put_public_access_block,
        Bucket=bucket,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": True,
            "IgnorePublicAcls": True,
            "BlockPublicPolicy": True,
            "RestrictPublicBuckets": True,
        },
    )
    target.retry(
        BUCKET_NOT_YET_VISIBLE,
        s3.put_bucket_encryption,
        Bucket=bucket,
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    target.retry(
        BUCKET_NOT_YET_VISIBLE, s3.put_bucket_tagging, Bucket=bucket, Tagging={"TagSet": tags(target.settings, run_id)}
    )
    urls = {}
    for name, objects in (("songs", sources.songs), ("events", sources.events)):
        # content_length is optional for JSON; the local engine sizes its read-ahead by it.
        entries = [{"url": sources.url(o), "mandatory": True, "meta": {"content_length": o.size}} for o in objects]
        s3.put_object(Bucket=bucket, Key=MANIFEST_KEYS[name], Body=json.dumps({"entries": entries}).encode())
        urls[name] = f"s3://{bucket}/{MANIFEST_KEYS[name]}"
        get_run_logger().info("Manifest %s lists %d %s files", urls[name], len(entries), name[:-1])
    s3.put_object(Bucket=bucket, Key=JSONPATHS_KEY, Body=sources.jsonpaths)
    urls["jsonpaths"] = f"s3://{bucket}/{JSONPATHS_KEY}"
    return urls


def delete_bucket(target: Target) -> None:
    """Empty and delete the manifest bucket, in whichever region it is; gone already is success."""
    bucket = bucket_name(target)
    try:
        s3 = target.client("s3", region=bucket_region(target.client("s3"), bucket))
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
