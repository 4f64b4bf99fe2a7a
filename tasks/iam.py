"""The role Redshift assumes to read the source and manifest buckets, and nothing more."""

from __future__ import annotations

import json

from prefect import get_run_logger, task

from core.aws import is_not_found
from core.resources import POLICY_NAME, ROLE_PATH, role_name, tagged_by_project, tags
from core.retry import RETRYING
from core.target import Target
from tasks.cluster import describe_cluster
from tasks.manifest import bucket_name


def trust_policy() -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "redshift.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }


def read_policy(buckets: list[str]) -> dict:
    """s3:ListBucket on the buckets and s3:GetObject on their objects: all COPY needs."""
    return {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": [f"arn:aws:s3:::{b}" for b in buckets]},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": [f"arn:aws:s3:::{b}/*" for b in buckets]},
        ],
    }


def _is_ours(iam, role: dict) -> bool:
    """Under the project's path and tagged by it: only such a role is adopted or deleted."""
    tags = iam.list_role_tags(RoleName=role["RoleName"])["Tags"]
    return role.get("Path") == ROLE_PATH and tagged_by_project(tags)


@task(**RETRYING)
def create_role(target: Target, run_id: str) -> str:
    """Create (or adopt) the role that reads the source and manifest buckets; return its ARN."""
    iam = target.client("iam")
    name = role_name(target.settings.cluster_id)
    buckets = [target.settings.source_bucket, bucket_name(target)]
    try:
        arn = iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(trust_policy()),
            Description="Lets Redshift read the Sparkify source and manifest buckets",
            Path=ROLE_PATH,
            Tags=tags(target.settings, run_id),
        )["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        role = iam.get_role(RoleName=name)["Role"]
        if not _is_ours(iam, role):
            raise ValueError(
                f"IAM role {name} exists and was not created by this project; it is left alone: "
                "delete it or choose another --cluster-id"
            ) from None
        iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust_policy()))
        arn = role["Arn"]
    iam.put_role_policy(RoleName=name, PolicyName=POLICY_NAME, PolicyDocument=json.dumps(read_policy(buckets)))
    get_run_logger().info("IAM role %s may read %s", name, ", ".join(buckets))
    return arn


def delete_role(target: Target) -> None:
    """Delete the role and its inline policies; a role already gone is success."""
    iam = target.client("iam")
    name = role_name(target.settings.cluster_id)
    try:
        role = iam.get_role(RoleName=name)["Role"]
        if not _is_ours(iam, role):
            return
        arn = role["Arn"]
        cluster = describe_cluster(target)
        # A reused cluster outlives the run: take the run's role back from it first.
        if cluster and arn in [r["IamRoleArn"] for r in cluster.get("IamRoles", [])]:
            target.client("redshift").modify_cluster_iam_roles(
                ClusterIdentifier=target.settings.cluster_id, RemoveIamRoles=[arn]
            )
        for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            iam.delete_role_policy(RoleName=name, PolicyName=policy)
        for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=name, PolicyArn=attached["PolicyArn"])
        iam.delete_role(RoleName=name)
    except Exception as exc:
        if not is_not_found(exc):
            raise
