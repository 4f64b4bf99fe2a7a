"""The Redshift cluster and its network: a security group of its own admitting one CIDR."""

from __future__ import annotations

import ipaddress
import secrets
import string
import time

from prefect import get_run_logger, task
from pydantic import SecretStr

from tasks.aws import error_code, is_not_found
from tasks.retry import RETRYING
from tasks.settings import check_password_policy
from tasks.target import Endpoint, Target, tagged_by_project

POLL_SECONDS = {"local": 0.2, "aws": 15.0}


def security_group_name(cluster_id: str) -> str:
    return f"{cluster_id}-ingress"


def _find_security_group(ec2, vpc_id: str, name: str) -> dict | None:
    groups = ec2.describe_security_groups(
        Filters=[{"Name": "vpc-id", "Values": [vpc_id]}, {"Name": "group-name", "Values": [name]}]
    )["SecurityGroups"]
    return groups[0] if groups else None


def _default_vpc(ec2) -> str:
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    if not vpcs:
        raise RuntimeError("the region has no default VPC; create one or choose another region")
    return vpcs[0]["VpcId"]


@task(**RETRYING)
def create_security_group(target: Target, cidr: str, run_id: str) -> str:
    """A security group of the cluster's own, admitting `cidr` on the cluster port only."""
    ec2 = target.client("ec2")
    s = target.settings
    vpc_id = _default_vpc(ec2)
    name = security_group_name(s.cluster_id)
    group = _find_security_group(ec2, vpc_id, name)
    rule = {"IpProtocol": "tcp", "FromPort": s.port, "ToPort": s.port, "IpRanges": [{"CidrIp": cidr}]}
    if group is not None and not is_ours(group):
        raise ValueError(
            f"security group {name} exists in {vpc_id} and was not created by this project; "
            "delete or rename it, or choose another --cluster-id"
        )
    if group is None:
        group_id = ec2.create_security_group(
            GroupName=name,
            Description=f"Redshift {s.cluster_id}: port {s.port} from {cidr}",
            VpcId=vpc_id,
            TagSpecifications=[{"ResourceType": "security-group", "Tags": target.tags(run_id)}],
        )["GroupId"]
    else:
        # Adopted from an earlier run: only this run's rule may stay (say, no 0.0.0.0/0 left over).
        group_id = group["GroupId"]
        stale = [_only_ip_ranges(p) for p in group.get("IpPermissions", []) if _only_ip_ranges(p) != rule]
        if stale:
            ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=stale)
    try:
        ec2.authorize_security_group_ingress(GroupId=group_id, IpPermissions=[rule])
    except ec2.exceptions.ClientError as exc:
        if "Duplicate" not in exc.response["Error"]["Code"]:
            raise
    logger = get_run_logger()
    logger.info("Security group %s admits %s on port %d", group_id, cidr, s.port)
    if ipaddress.ip_network(cidr).prefixlen == 0:
        logger.warning("Port %d of cluster %s is open to the whole internet (--allow-any-ip)", s.port, s.cluster_id)
    return group_id


def _only_ip_ranges(permission: dict) -> dict:
    """An ingress permission in the shape this module writes, for comparison and revocation."""
    keep = {k: permission[k] for k in ("IpProtocol", "FromPort", "ToPort") if k in permission}
    return keep | {"IpRanges": [{"CidrIp": r["CidrIp"]} for r in permission.get("IpRanges", [])]}


# Address space a VPC (or a host on the same machine) uses: clients there need no public endpoint.
_VPC_RANGES = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8")]


def publicly_accessible(cidr: str) -> bool:
    """A public endpoint only when clients in the admitted CIDR are outside any VPC's private ranges."""
    network = ipaddress.ip_network(cidr)
    return not any(network.version == r.version and network.subnet_of(r) for r in _VPC_RANGES)


def describe_cluster(target: Target) -> dict | None:
    """The cluster of `target.settings.cluster_id`, or None if there is none."""
    try:
        return target.client("redshift").describe_clusters(ClusterIdentifier=target.settings.cluster_id)["Clusters"][0]
    except Exception as exc:
        if is_not_found(exc):
            return None
        raise


def is_ours(resource: dict) -> bool:
    """Tagged by this project: only such a cluster or security group is ever deleted or adopted."""
    return tagged_by_project(resource.get("Tags", []))


@task(**RETRYING)
def reuse_cluster(target: Target, cluster: dict, role_arn: str) -> Target:
    """Load into a cluster this project did not create: give it the run's read role, provision
    nothing else, and return the target addressing its database and master user."""
    s = target.settings
    redshift = target.client("redshift")
    if role_arn not in [r["IamRoleArn"] for r in cluster.get("IamRoles", [])]:
        redshift.modify_cluster_iam_roles(ClusterIdentifier=s.cluster_id, AddIamRoles=[role_arn])
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
        redshift.create_cluster(
            ClusterIdentifier=s.cluster_id,
            ClusterType="single-node" if s.number_of_nodes == 1 else "multi-node",
            **{k: v for k, v in settings.items() if k != "NumberOfNodes" or s.number_of_nodes > 1},
            MasterUserPassword=password.get_secret_value(),
            IamRoles=[role_arn],
            VpcSecurityGroupIds=[security_group_id],
            Encrypted=True,
            PubliclyAccessible=public,
            Tags=target.tags(run_id),
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
    _wait_until_available(redshift, s.cluster_id, s.cluster_timeout_s, POLL_SECONDS[target.name])
    redshift.modify_cluster(ClusterIdentifier=s.cluster_id, MasterUserPassword=password.get_secret_value())
    logger.info("Cluster %s was left by an earlier run; adopting it", s.cluster_id)


@task(**RETRYING)
def wait_for_cluster(target: Target) -> Endpoint:
    """Poll until the cluster is available; fail after the configured timeout."""
    redshift = target.client("redshift")
    s = target.settings
    logger = get_run_logger()
    deadline = time.monotonic() + s.cluster_timeout_s
    last = None
    while True:
        cluster = redshift.describe_clusters(ClusterIdentifier=s.cluster_id)["Clusters"][0]
        status = cluster["ClusterStatus"]
        if status != last:
            logger.info("Cluster %s is %s", s.cluster_id, status)
            last = status
        # A role being added or removed is not usable by COPY yet.
        roles_ready = all(r.get("ApplyStatus", "in-sync") == "in-sync" for r in cluster.get("IamRoles", []))
        if status == "available" and cluster.get("Endpoint") and roles_ready:
            groups = ", ".join(g["VpcSecurityGroupId"] for g in cluster.get("VpcSecurityGroups", [])) or "none"
            return Endpoint(cluster["Endpoint"]["Address"], int(cluster["Endpoint"]["Port"]), groups)
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"cluster {s.cluster_id} was not available after {s.cluster_timeout_s} s (still {status}); "
                "it is being torn down. Raise --cluster-timeout-s or check the Redshift console"
            )
        time.sleep(POLL_SECONDS[target.name])


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
    created refuses deletion (InvalidClusterState), so that is retried until the timeout."""
    redshift = target.client("redshift")
    cluster_id = target.settings.cluster_id
    cluster = describe_cluster(target)
    if cluster is not None and not is_ours(cluster):
        return
    deadline = time.monotonic() + target.settings.cluster_timeout_s
    while True:
        try:
            redshift.delete_cluster(ClusterIdentifier=cluster_id, SkipFinalClusterSnapshot=True)
            break
        except Exception as exc:
            if is_not_found(exc):
                break
            if error_code(exc) != "InvalidClusterState" or time.monotonic() > deadline:
                raise
            time.sleep(POLL_SECONDS[target.name])
    try:
        redshift.get_waiter("cluster_deleted").wait(
            ClusterIdentifier=cluster_id,
            WaiterConfig={"Delay": POLL_SECONDS[target.name], "MaxAttempts": 120},
        )
    except Exception as exc:
        if not is_not_found(exc):
            raise
    target.forget_cluster(cluster_id)


def delete_security_group(target: Target) -> None:
    """Delete the cluster's security group with its rules; gone already is success."""
    ec2 = target.client("ec2")
    group = _find_security_group(ec2, _default_vpc(ec2), security_group_name(target.settings.cluster_id))
    if group is None or not is_ours(group):
        return
    try:
        ec2.delete_security_group(GroupId=group["GroupId"])
    except Exception as exc:
        if not is_not_found(exc):
            raise


def master_password(secret_block: str | None) -> SecretStr:
    """From the named Prefect Secret block, else generated for this run only."""
    if secret_block:
        from prefect.blocks.system import Secret

        password = str(Secret.load(secret_block).get())
        try:
            check_password_policy(password)
        except ValueError as exc:
            raise ValueError(f"Secret block {secret_block!r}: {exc}; update the block") from None
        return SecretStr(password)
    alphabet = string.ascii_letters + string.digits
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(32))
        try:
            check_password_policy(password)
            return SecretStr(password)
        except ValueError:
            continue
