"""Delete everything a run created; every step tolerates "not found", is retried when AWS throttles
or a connection drops, and goes on past the others' failures."""

from __future__ import annotations

import logging
from collections.abc import Callable

from prefect import get_run_logger, task
from prefect.cache_policies import NONE
from prefect.events import emit_event
from prefect.logging import get_logger
from prefect.runtime import flow_run

from core.resources import PROJECT_TAG, ROLE_PATH, is_manifest_bucket, tagged_by_project
from core.retry import TEARDOWN_STEP
from core.target import Target
from tasks.cluster import delete_cluster
from tasks.iam import delete_role
from tasks.manifest import account_id, delete_bucket
from tasks.network import delete_security_group


def teardown_resources(target: Target, keep_cluster: bool = False, logger: logging.Logger | None = None) -> list[str]:
    """Delete the cluster, its security group, the manifest bucket and the role, then stop what
    the target started. Return what could not be deleted."""
    logger = logger or get_logger("sparkify.teardown")
    left = delete_resources(target, keep_cluster, logger)
    try:
        # The local warehouse's server stays up only for a user who asked to keep it and query it;
        # a run that may only use an existing cluster keeps the cluster's data, not the process.
        target.close(keep_warehouse=target.settings.keep_cluster)
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
            target.retry(TEARDOWN_STEP, step, target)
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
    clusters = redshift.describe_clusters(TagKeys=["Project"], TagValues=[PROJECT_TAG])["Clusters"]
    groups = ec2.describe_security_groups(Filters=[{"Name": "tag:Project", "Values": [PROJECT_TAG]}])["SecurityGroups"]
    tag_sets = [resource.get("Tags", []) for resource in clusters + groups]
    roles = [r for page in iam.get_paginator("list_roles").paginate(PathPrefix=ROLE_PATH) for r in page["Roles"]]
    tag_sets += [iam.list_role_tags(RoleName=r["RoleName"])["Tags"] for r in roles]
    account = account_id(target)
    for bucket in s3.list_buckets()["Buckets"]:
        if is_manifest_bucket(bucket["Name"], account):
            try:
                tag_sets.append(s3.get_bucket_tagging(Bucket=bucket["Name"])["TagSet"])
            except s3.exceptions.ClientError:
                continue  # untagged, or not ours to read
    return {cluster_id for tags in tag_sets if (cluster_id := _matches(tags, run_id))}


def retry_hint(target: Target) -> str:
    """How to delete by hand what a teardown left."""
    return (
        f"retry with `python flows/sparkify.py --target {target.name} --cluster-id {target.settings.cluster_id} "
        "teardown`, or run the sparkify-teardown deployment"
    )


def report_left(target: Target, left: list[str], run_id: str) -> None:
    """Emit the Prefect event `sparkify.teardown.incomplete` naming what is left, for an automation to alert on."""
    cluster_id = target.settings.cluster_id
    resource = {
        "prefect.resource.id": f"sparkify.cluster.{target.name}.{cluster_id}", "prefect.resource.name": cluster_id
    }
    emit_event(
        event="sparkify.teardown.incomplete",
        resource=resource,
        related=[{"prefect.resource.id": f"prefect.flow-run.{run_id}", "prefect.resource.role": "flow-run"}],
        payload={"left": left, "target": target.name, "cluster_id": cluster_id, "retry": retry_hint(target)},
    )


class ResourcesLeft(RuntimeError):
    """Teardown could not delete `left` (e.g. ["cluster sparkify-dwh"])."""

    def __init__(self, left: list[str], hint: str) -> None:
        super().__init__(f"teardown left the {', '.join(left)}; {hint}")
        self.left = left


@task(cache_policy=NONE)
def teardown(target: Target, keep_cluster: bool = False) -> None:
    """The always-run final task; fails if anything is left behind."""
    left = teardown_resources(target, keep_cluster, get_run_logger())
    if left:
        report_left(target, left, str(flow_run.id))
        raise ResourcesLeft(left, retry_hint(target))


def teardown_orphans(target: Target, run_id: str | None, logger: logging.Logger | None = None) -> list[str]:
    """Delete the resources of every cluster id the project's tags name (only run `run_id`'s, if
    given; else also `--cluster-id`'s, found by name), stop the target, return what is left."""
    logger = logger or get_logger("sparkify.teardown")
    try:
        cluster_ids = tagged_clusters(target, run_id) | (set() if run_id else {target.settings.cluster_id})
        logger.info("Tearing down: %s", ", ".join(sorted(cluster_ids)) or "nothing found")
        left = [
            what
            for cid in sorted(cluster_ids)
            for what in delete_resources(target.with_settings(cluster_id=cid), False, logger)
        ]
    finally:
        target.close()
    return left
