"""Delete everything a run created; every step tolerates "not found" and the others' failures."""

from __future__ import annotations

import logging
from collections.abc import Callable

from prefect import get_run_logger, task
from prefect.cache_policies import NONE
from prefect.logging import get_logger

from tasks.cluster import delete_cluster, delete_security_group
from tasks.iam import ROLE_PATH, delete_role
from tasks.manifest import MANIFEST_BUCKET_MARK, delete_bucket
from tasks.target import PROJECT_TAG, Target, tagged_by_project


def teardown_resources(target: Target, keep_cluster: bool = False, logger: logging.Logger | None = None) -> list[str]:
    """Delete the cluster, its security group, the manifest bucket and the role, then stop what
    the target started. Return what could not be deleted."""
    logger = logger or get_logger("sparkify.teardown")
    left = delete_resources(target, keep_cluster, logger)
    try:
        target.close(keep_warehouse=keep_cluster)
    except Exception as exc:
        logger.error("Teardown: could not stop the %s target's services: %s", target.name, exc)
        left.append(f"{target.name} services")
    return left


def delete_resources(target: Target, keep_cluster: bool, logger: logging.Logger) -> list[str]:
    """Delete what a run of `target.settings.cluster_id` creates; return what could not be deleted."""
    steps: list[tuple[str, Callable[[Target], None]]] = [("manifest bucket", delete_bucket)]
    if not keep_cluster:
        # The security group and role stay with a kept cluster: it needs both to be used.
        steps += [("cluster", delete_cluster), ("security group", delete_security_group), ("IAM role", delete_role)]
    left: list[str] = []
    for what, step in steps:
        try:
            step(target)
            logger.info("Teardown: %s deleted", what)
        except Exception as exc:
            logger.error("Teardown: could not delete the %s of %s: %s", what, target.settings.cluster_id, exc)
            left.append(f"{what} of {target.settings.cluster_id}")
    return left


def _matches(tags: list[dict[str, str]], run_id: str | None) -> str | None:
    """The ClusterId tag of a resource this project created (in run `run_id`, if given)."""
    found = {t["Key"]: t["Value"] for t in tags}
    if not tagged_by_project(tags) or (run_id and found.get("FlowRunId") != run_id):
        return None
    return found.get("ClusterId")


def tagged_clusters(target: Target, run_id: str | None = None) -> set[str]:
    """Cluster ids named by the tags of any cluster, security group, role or bucket this project
    created, or that run `run_id` created: what a run killed with -9 left behind."""
    redshift, ec2, iam, s3 = (target.client(s) for s in ("redshift", "ec2", "iam", "s3"))
    tag_sets = [c.get("Tags", []) for c in redshift.describe_clusters(TagKeys=["Project"], TagValues=[PROJECT_TAG])["Clusters"]]
    tag_sets += [
        g.get("Tags", [])
        for g in ec2.describe_security_groups(Filters=[{"Name": "tag:Project", "Values": [PROJECT_TAG]}])["SecurityGroups"]
    ]
    roles = [r for page in iam.get_paginator("list_roles").paginate(PathPrefix=ROLE_PATH) for r in page["Roles"]]
    tag_sets += [iam.list_role_tags(RoleName=r["RoleName"])["Tags"] for r in roles]
    for bucket in s3.list_buckets()["Buckets"]:
        if MANIFEST_BUCKET_MARK in bucket["Name"]:
            try:
                tag_sets.append(s3.get_bucket_tagging(Bucket=bucket["Name"])["TagSet"])
            except s3.exceptions.ClientError:
                continue  # untagged, or not ours to read
    return {cluster_id for tags in tag_sets if (cluster_id := _matches(tags, run_id))}


@task(cache_policy=NONE)
def teardown(target: Target, keep_cluster: bool = False) -> None:
    """The always-run final task; fails if anything is left behind."""
    left = teardown_resources(target, keep_cluster, get_run_logger())
    if left:
        raise RuntimeError(
            f"teardown left the {', '.join(left)}; retry with "
            f"`python flows/sparkify.py --target {target.name} --cluster-id {target.settings.cluster_id} teardown`"
        )
