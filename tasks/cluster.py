"""The Redshift cluster: created encrypted, adopted when this project left it, or reused when its
owner allows it; waited for; deleted only when it is this project's."""

from __future__ import annotations

import time

from prefect import get_run_logger, task
from pydantic import SecretStr

from core.artifacts import Progress
from core.aws import check_orderable, is_not_found
from core.resources import NEW_CLUSTER_PREFIX, REUSE_TAG, is_ours, publicly_accessible, reuse_allowed, tags
from core.retry import (
    CLUSTER_BUSY,
    CLUSTER_NOT_YET_LISTED,
    CLUSTER_STILL_CREATING,
    RETRYING,
    ROLE_NOT_YET_TRUSTED,
)
from core.target import Endpoint, Target


def describe_cluster(target: Target) -> dict | None:
    """The cluster of `target.settings.cluster_id`, or None if there is none."""
    try:
        return target.client("redshift").describe_clusters(ClusterIdentifier=target.settings.cluster_id)["Clusters"][0]
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise


@task(**RETRYING)
def cluster_to_reuse(target: Target) -> dict | None:
    """The user's own cluster to load into, or None when the run creates (or adopts) this project's.

    What AWS would refuse later is refused here, before anything is created: a cluster whose owner
    did not tag it for reuse, a new cluster outside the names the operator policy lets it create,
    and a node type Redshift does not sell in the region (DescribeOrderableClusterOptions).
    """
    s = target.settings
    existing = describe_cluster(target)
    if existing is None and s.require_existing_cluster:
        raise ValueError(
            f"cluster {s.cluster_id} does not exist, and this run may only use an existing one "
            "(require_existing_cluster): create it or correct cluster_id; nothing was created"
        )
    if existing is not None and not is_ours(existing):
        if not reuse_allowed(existing):
            raise ValueError(
                f"cluster {s.cluster_id} exists and was not created by this project: to load into it, its owner "
                f"tags it {REUSE_TAG['Key']}={REUSE_TAG['Value']}; to build a new cluster, choose another --cluster-id"
            )
        if not s.password_secret_block:
            raise ValueError(
                f"cluster {s.cluster_id} exists and was not created by this project: to load into it, "
                "name a Secret block holding its master password with --password-secret-block; "
                "to build a new cluster, choose another --cluster-id"
            )
        return existing
    if not s.cluster_id.startswith(NEW_CLUSTER_PREFIX):
        raise ValueError(
            f"a new cluster's id starts with {NEW_CLUSTER_PREFIX} (the operator policy creates and deletes only "
            f"those): choose another --cluster-id than {s.cluster_id}"
        )
    check_orderable(target.client("redshift"), s.node_type, s.number_of_nodes)
    get_run_logger().info("Redshift sells %d x %s in %s", s.number_of_nodes, s.node_type, s.region)
    return None


@task(**RETRYING)
def reuse_cluster(target: Target, cluster: dict, role_arn: str) -> Target:
    """Load into a cluster this project did not create: give it the run's read role, provision
    nothing else, and return the target addressing its database and master user."""
    s = target.settings
    redshift = target.client("redshift")
    if role_arn not in [r["IamRoleArn"] for r in cluster.get("IamRoles", [])]:
        target.retry(
            CLUSTER_BUSY | ROLE_NOT_YET_TRUSTED,
            redshift.modify_cluster_iam_roles,
            ClusterIdentifier=s.cluster_id,
            AddIamRoles=[role_arn],
        )
    get_run_logger().info(
        "Reusing cluster %s (%d x %s): it is yours and is never deleted; its network rules are yours to manage",
        s.cluster_id, cluster["NumberOfNodes"], cluster["NodeType"],
    )
    return target.with_settings(master_user=cluster["MasterUsername"], db_name=cluster["DBName"])


@task(**RETRYING)
def create_cluster(
    target: Target, role_arn: str, security_group_id: str, cidr: str, password: SecretStr, run_id: str
) -> None:
    """Start creating the cluster, or adopt this project's cluster of the same identifier."""
    redshift = target.client("redshift")
    s = target.settings
    logger = get_run_logger()
    public = publicly_accessible(cidr)
    logger.info(
        "Cluster %s %s: %s",
        s.cluster_id,
        "gets a public endpoint" if public else "stays inside its VPC",
        f"clients in {cidr} are outside the VPC" if public else f"{cidr} is a private range",
    )
    settings = dict(
        NodeType=s.node_type,
        NumberOfNodes=s.number_of_nodes,
        DBName=s.db_name,
        Port=s.port,
        MasterUsername=s.master_user,
    )
    try:
        target.retry(
            ROLE_NOT_YET_TRUSTED,
            redshift.create_cluster,
            ClusterIdentifier=s.cluster_id,
            ClusterType="single-node" if s.number_of_nodes == 1 else "multi-node",
            **{k: v for k, v in settings.items() if k != "NumberOfNodes" or s.number_of_nodes > 1},
            MasterUserPassword=password.get_secret_value(),
            IamRoles=[role_arn],
            VpcSecurityGroupIds=[security_group_id],
            Encrypted=True,
            PubliclyAccessible=public,
            Tags=tags(target.settings, run_id),
        )
        logger.info("Creating cluster %s (%d x %s)", s.cluster_id, s.number_of_nodes, s.node_type)
        return
    except redshift.exceptions.ClusterAlreadyExistsFault:
        pass
    existing = describe_cluster(target) or {}
    if not is_ours(existing):
        raise ValueError(
            f"cluster {s.cluster_id} appeared during this run and was not created by this project; "
            "it is left alone: choose another --cluster-id"
        )
    # The port is known once the endpoint is; a cluster still being created has none yet.
    found = {k: existing.get(k) for k in settings} | {"Port": existing.get("Endpoint", {}).get("Port", s.port)}
    differs = [f"{k} {found[k]} (wanted {v})" for k, v in settings.items() if found[k] != v]
    if differs:
        raise ValueError(
            f"cluster {s.cluster_id}, left by an earlier run, has other settings: {', '.join(differs)}; "
            "delete it with `python flows/sparkify.py --target aws teardown` or choose another --cluster-id"
        )
    if not existing.get("Encrypted"):
        raise ValueError(f"cluster {s.cluster_id}, left by an earlier run, is not encrypted; delete it and run again")
    # This run's password is new; the adopted cluster must accept it, once it accepts changes at all.
    _wait_until_available(redshift, s.cluster_id, s.cluster_timeout_s, target.poll_seconds)
    target.retry(
        CLUSTER_BUSY,
        redshift.modify_cluster,
        ClusterIdentifier=s.cluster_id,
        MasterUserPassword=password.get_secret_value(),
    )
    logger.info("Cluster %s was left by an earlier run; adopting it", s.cluster_id)


@task(**RETRYING)
def wait_for_cluster(target: Target) -> Endpoint:
    """Poll until the cluster is available; fail after the configured timeout."""
    redshift = target.client("redshift")
    s = target.settings
    logger = get_run_logger()
    started = time.monotonic()
    deadline = started + s.cluster_timeout_s
    progress = Progress(f"cluster {s.cluster_id}")
    last = None
    while True:
        clusters = target.retry(CLUSTER_NOT_YET_LISTED, redshift.describe_clusters, ClusterIdentifier=s.cluster_id)
        cluster = clusters["Clusters"][0]
        status = cluster["ClusterStatus"]
        if status != last:
            logger.info("Cluster %s is %s", s.cluster_id, status)
            last = status
        waited = time.monotonic() - started
        # Redshift tells no percentage: the bar moves with the time waited against the timeout.
        progress.update(100 * waited / s.cluster_timeout_s, f"{status} after {waited / 60:.0f} min")
        # A role being added or removed is not usable by COPY yet.
        roles_ready = all(r.get("ApplyStatus", "in-sync") == "in-sync" for r in cluster.get("IamRoles", []))
        if status == "available" and cluster.get("Endpoint") and roles_ready:
            groups = ", ".join(g["VpcSecurityGroupId"] for g in cluster.get("VpcSecurityGroups", [])) or "none"
            progress.update(100, f"available after {waited / 60:.0f} min", final=True)
            return Endpoint(cluster["Endpoint"]["Address"], int(cluster["Endpoint"]["Port"]), groups)
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"cluster {s.cluster_id} was not available after {s.cluster_timeout_s} s (still {status}); "
                "it is being torn down. Raise --cluster-timeout-s or check the Redshift console"
            )
        time.sleep(target.poll_seconds)


def _wait_until_available(redshift, cluster_id: str, timeout_s: float, poll_s: float) -> None:
    """Until the cluster accepts changes: Redshift refuses them while it is creating or modifying."""
    deadline = time.monotonic() + timeout_s
    while redshift.describe_clusters(ClusterIdentifier=cluster_id)["Clusters"][0]["ClusterStatus"] != "available":
        if time.monotonic() > deadline:
            raise TimeoutError(f"cluster {cluster_id} did not become available within {timeout_s} s")
        time.sleep(poll_s)


def delete_cluster(target: Target) -> None:
    """Delete the cluster without a final snapshot and wait until it is gone; gone already is
    success, and a cluster this project did not create is never deleted. A cluster still being
    created or modified refuses deletion (InvalidClusterState), so that is waited out."""
    redshift = target.client("redshift")
    cluster_id = target.settings.cluster_id
    cluster = describe_cluster(target)
    if cluster is not None and not is_ours(cluster):
        return
    try:
        target.retry(
            CLUSTER_STILL_CREATING, redshift.delete_cluster, ClusterIdentifier=cluster_id, SkipFinalClusterSnapshot=True
        )
    except Exception as exc:
        if not is_not_found(exc):
            raise
    try:
        redshift.get_waiter("cluster_deleted").wait(
            ClusterIdentifier=cluster_id,
            WaiterConfig={"Delay": target.poll_seconds, "MaxAttempts": 120},
        )
    except Exception as exc:
        if not is_not_found(exc):
            raise
    target.forget_cluster(cluster_id)
