"""The cluster's network: a security group of its own in the default VPC, admitting one CIDR on the
cluster port."""

from __future__ import annotations

import ipaddress

from prefect import get_run_logger, task

from core.aws import is_not_found
from core.resources import is_ours, security_group_name, tags
from core.retry import GROUP_NOT_YET_VISIBLE, GROUP_STILL_IN_USE, RETRYING
from core.target import Target


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
            TagSpecifications=[{"ResourceType": "security-group", "Tags": tags(target.settings, run_id)}],
        )["GroupId"]
    else:
        # Adopted from an earlier run: only this run's rule may stay (say, no 0.0.0.0/0 left over).
        group_id = group["GroupId"]
        stale = [_only_ip_ranges(p) for p in group.get("IpPermissions", []) if _only_ip_ranges(p) != rule]
        if stale:
            ec2.revoke_security_group_ingress(GroupId=group_id, IpPermissions=stale)
    try:
        target.retry(
            GROUP_NOT_YET_VISIBLE, ec2.authorize_security_group_ingress, GroupId=group_id, IpPermissions=[rule]
        )
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


def delete_security_group(target: Target) -> None:
    """Delete the cluster's security group with its rules; gone already is success."""
    ec2 = target.client("ec2")
    group = _find_security_group(ec2, _default_vpc(ec2), security_group_name(target.settings.cluster_id))
    if group is None or not is_ours(group):
        return
    try:
        target.retry(GROUP_STILL_IN_USE, ec2.delete_security_group, GroupId=group["GroupId"])
    except Exception as exc:
        if not is_not_found(exc):
            raise
