"""The role Redshift assumes to read the source and manifest buckets, and nothing more.

It is created with the project's permissions boundary (core.resources.BOUNDARY_NAME): the operator
policy lets the operator create roles and grant them policies only with that boundary, so no role
it makes, whatever its policies say, can do more than read those buckets.
"""

from __future__ import annotations

import json

from botocore.exceptions import ClientError
from prefect import get_run_logger, task

from core.aws import is_not_found
from core.resources import BOUNDARY_NAME, POLICY_NAME, ROLE_PATH, boundary_arn, role_name, tagged_by_project, tags
from core.retry import CLUSTER_BUSY, RETRYING, ROLE_NOT_YET_VISIBLE
from core.target import Target
from tasks.cluster import describe_cluster
from tasks.manifest import account_id, bucket_name


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


def _our_role(iam, name: str) -> dict | None:
    """The role `name` if it is under the project's path and tagged by it: only such a role is
    adopted or deleted. Found by listing the path, not by GetRole: the operator policy grants
    GetRole only under that path, and a role that does not exist has no path to match, so GetRole
    is refused rather than answered "no such role" (moto does so; AWS can only build the ARN
    from the name)."""
    pages = iam.get_paginator("list_roles").paginate(PathPrefix=ROLE_PATH)
    role = next((r for page in pages for r in page["Roles"] if r["RoleName"] == name), None)
    if role is None or not tagged_by_project(iam.list_role_tags(RoleName=name)["Tags"]):
        return None
    return role


@task(**RETRYING)
def create_role(target: Target, run_id: str) -> str:
    """Create (or adopt) the role that reads the source and manifest buckets; return its ARN."""
    iam = target.client("iam")
    name = role_name(target.settings.cluster_id)
    buckets = [target.settings.source_bucket, bucket_name(target)]
    boundary = boundary_arn(account_id(target))
    try:
        arn = iam.create_role(
            RoleName=name,
            AssumeRolePolicyDocument=json.dumps(trust_policy()),
            Description="Lets Redshift read the Sparkify source and manifest buckets",
            Path=ROLE_PATH,
            PermissionsBoundary=boundary,
            Tags=tags(target.settings, run_id),
        )["Role"]["Arn"]
    except iam.exceptions.EntityAlreadyExistsException:
        if _our_role(iam, name) is None:
            raise ValueError(
                f"IAM role {name} exists and was not created by this project; it is left alone: "
                "delete it or choose another --cluster-id"
            ) from None
        # ListRoles leaves the boundary out.
        role = iam.get_role(RoleName=name)["Role"]
        if role.get("PermissionsBoundary", {}).get("PermissionsBoundaryArn") != boundary:
            raise ValueError(
                f"IAM role {name}, left by an earlier run, lacks the permissions boundary {BOUNDARY_NAME}; delete it "
                f"with `python flows/sparkify.py --target {target.name} teardown` and run again"
            ) from None
        iam.update_assume_role_policy(RoleName=name, PolicyDocument=json.dumps(trust_policy()))
        arn = role["Arn"]
    except iam.exceptions.NoSuchEntityException as exc:
        raise ValueError(
            f"the permissions boundary {boundary} does not exist: an administrator creates it once from "
            "deployments/sparkify-dwh-read-role-boundary.json (see the README)"
        ) from exc
    target.retry(
        ROLE_NOT_YET_VISIBLE,
        iam.put_role_policy,
        RoleName=name,
        PolicyName=POLICY_NAME,
        PolicyDocument=json.dumps(read_policy(buckets)),
    )
    get_run_logger().info("IAM role %s may read %s", name, ", ".join(buckets))
    return arn


def delete_role(target: Target) -> None:
    """Delete the role and its inline policies; a role already gone is success."""
    iam = target.client("iam")
    name = role_name(target.settings.cluster_id)
    try:
        role = _our_role(iam, name)
        if role is None:
            return
        arn = role["Arn"]
        cluster = describe_cluster(target)
        # A reused cluster outlives the run: take the run's role back from it first.
        if cluster and arn in [r["IamRoleArn"] for r in cluster.get("IamRoles", [])]:
            target.retry(
                CLUSTER_BUSY,
                target.client("redshift").modify_cluster_iam_roles,
                ClusterIdentifier=target.settings.cluster_id,
                RemoveIamRoles=[arn],
            )
        for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            iam.delete_role_policy(RoleName=name, PolicyName=policy)
        for attached in iam.list_attached_role_policies(RoleName=name)["AttachedPolicies"]:
            iam.detach_role_policy(RoleName=name, PolicyArn=attached["PolicyArn"])
        iam.delete_role(RoleName=name)
    except ClientError as exc:
        if not is_not_found(exc):
            raise
