"""AWS's eventual consistency, replayed with botocore's Stubber at the project's own call sites: the
tasks' functions run against a target whose clients answer what AWS is reported to answer (the
refusal, then success) and whose sleeps are recorded. Each sequence asserts the call waits and
succeeds; a refusal that never clears stops within its bound; one AWS will repeat fails at once.

Refusal messages are quoted from the public reports cited in core/retry.py.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from botocore.stub import ANY, Stubber
from prefect.logging import disable_run_logger
from prefect_aws import AwsCredentials
from pydantic import SecretStr

from core import aws
from core.engine import RedshiftEngine
from core.resources import tags
from core.retry import (
    BUCKET_NAME_BUSY,
    CLUSTER_BUSY,
    CLUSTER_NOT_YET_LISTED,
    CLUSTER_STILL_CREATING,
    GROUP_NOT_YET_VISIBLE,
    GROUP_STILL_IN_USE,
    ROLE_NOT_YET_TRUSTED,
    ROLE_NOT_YET_VISIBLE,
    TEARDOWN_STEP,
)
from core.settings import Settings
from core.target import Endpoint, Target
from core.window import Window
from tasks.cluster import create_cluster, delete_cluster, reuse_cluster, wait_for_cluster
from tasks.iam import create_role, delete_role
from tasks.manifest import write_manifests
from tasks.network import create_security_group, delete_security_group
from tasks.sources import SourceObject, Sources
from tasks.teardown import delete_resources

ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/sparkify-dwh/sparkify-dwh-s3-read"
# hashicorp/terraform-provider-aws#19113
NOT_TRUSTED = (
    "The IAM role sparkify-dwh-s3-read is not valid. The IAM role must delegate access to an Amazon Redshift account."
)
# hashicorp/terraform-provider-aws#34775
BUSY = "The Cluster is being modified by a concurrent operation. Please check the Cluster's status and try again."
# aws/aws-cli#2593
ABORTED = "A conflicting conditional operation is currently in progress against this resource. Please try again."
GROUP = "sg-0123456789abcdef0"
VPC = "vpc-0123456789abcdef0"


class StubbedTarget(Target):
    """A target whose every client is replayed by a Stubber, and whose sleeps are recorded."""

    name = "aws"
    poll_seconds = 0.0

    def __init__(self, settings: Settings) -> None:
        creds = aws.configure(AwsCredentials(aws_access_key_id="k", aws_secret_access_key="s"), settings.region)
        super().__init__(settings, creds, RedshiftEngine())
        self.stubbers: dict[tuple[str, str | None], Stubber] = {}
        self.sleeps: list[float] = []

    def client(self, service: str, region: str | None = None) -> Any:
        client = super().client(service, region)
        if (service, region) not in self.stubbers:
            self.stubbers[service, region] = Stubber(client)
            self.stubbers[service, region].activate()
        return client

    def stub(self, service: str, region: str | None = None) -> Stubber:
        self.client(service, region)
        return self.stubbers[service, region]

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)

    def dsn(self, endpoint: Endpoint, password: SecretStr) -> Any:
        raise NotImplementedError

    def existing_warehouse(self, password: SecretStr | None) -> Any:
        raise NotImplementedError

    def caller_cidr(self) -> str:
        return "203.0.113.7/32"


@pytest.fixture
def target() -> Iterator[StubbedTarget]:
    target = StubbedTarget(Settings(target="aws", allow_cidr="203.0.113.7/32"))
    with disable_run_logger():
        yield target
    for stubber in target.stubbers.values():
        stubber.assert_no_pending_responses()


def refuse(stubber: Stubber, method: str, code: str, message: str, times: int = 1, status: int = 400) -> None:
    for _ in range(times):
        stubber.add_client_error(method, service_error_code=code, service_message=message, http_status_code=status)


def cluster(status: str, **more: Any) -> dict[str, Any]:
    return {"ClusterIdentifier": "sparkify-dwh", "ClusterStatus": status, **more}


def waited(target: StubbedTarget, backoff: Any, times: int) -> None:
    """`times` waits, each at most the schedule's delay for its retry."""
    assert len(target.sleeps) == times
    assert all(0 < wait <= backoff.delay(i) for i, wait in enumerate(target.sleeps))


def test_create_cluster_waits_until_redshift_trusts_the_new_role(target: StubbedTarget) -> None:
    redshift = target.stub("redshift")
    refuse(redshift, "create_cluster", "InvalidParameterValue", NOT_TRUSTED, times=2)
    redshift.add_response(
        "create_cluster",
        {"Cluster": cluster("creating")},
        {"ClusterIdentifier": "sparkify-dwh", "ClusterType": "single-node", "NodeType": "ra3.large",
         "DBName": "sparkify", "Port": 5439, "MasterUsername": "sparkify_admin", "MasterUserPassword": ANY,
         "IamRoles": [ROLE_ARN], "VpcSecurityGroupIds": [GROUP], "Encrypted": True, "PubliclyAccessible": True,
         "Tags": tags(target.settings, "run-1")},
    )

    create_cluster.fn(target, ROLE_ARN, GROUP, "203.0.113.7/32", SecretStr("Passw0rdPassw0rd"), "run-1")

    waited(target, ROLE_NOT_YET_TRUSTED, 2)


def test_another_invalid_parameter_fails_at_once(target: StubbedTarget) -> None:
    refuse(target.stub("redshift"), "create_cluster", "InvalidParameterValue", "Invalid node type: ra3.large.")

    with pytest.raises(ClientError, match="Invalid node type"):
        create_cluster.fn(target, ROLE_ARN, GROUP, "203.0.113.7/32", SecretStr("Passw0rdPassw0rd"), "run-1")

    assert target.sleeps == []


def test_reusing_a_cluster_waits_while_it_is_busy_and_until_it_trusts_the_role(target: StubbedTarget) -> None:
    redshift = target.stub("redshift")
    team = target.with_settings(cluster_id="team-dwh")
    refuse(redshift, "modify_cluster_iam_roles", "InvalidClusterState", BUSY)
    refuse(redshift, "modify_cluster_iam_roles", "InvalidParameterValue", NOT_TRUSTED)
    redshift.add_response(
        "modify_cluster_iam_roles", {"Cluster": cluster("modifying")},
        {"ClusterIdentifier": "team-dwh", "AddIamRoles": [ROLE_ARN]},
    )
    existing = {"ClusterIdentifier": "team-dwh", "NumberOfNodes": 1, "NodeType": "ra3.xlplus",
                "MasterUsername": "team_admin", "DBName": "analytics", "IamRoles": []}

    reused = reuse_cluster.fn(team, existing, ROLE_ARN)

    assert (reused.settings.master_user, reused.settings.db_name) == ("team_admin", "analytics")
    waited(target, CLUSTER_BUSY | ROLE_NOT_YET_TRUSTED, 2)


def test_waiting_for_a_cluster_just_created_outlasts_its_absence(target: StubbedTarget) -> None:
    redshift = target.stub("redshift")
    refuse(redshift, "describe_clusters", "ClusterNotFound", "Cluster sparkify-dwh not found.", status=404)
    endpoint = {"Address": "sparkify-dwh.abc.us-west-2.redshift.amazonaws.com", "Port": 5439}
    redshift.add_response(
        "describe_clusters",
        {"Clusters": [cluster("available", Endpoint=endpoint, VpcSecurityGroups=[{"VpcSecurityGroupId": GROUP}])]},
        {"ClusterIdentifier": "sparkify-dwh"},
    )

    assert wait_for_cluster.fn(target) == Endpoint(endpoint["Address"], 5439, GROUP)
    waited(target, CLUSTER_NOT_YET_LISTED, 1)


def test_deleting_a_cluster_waits_while_it_is_still_being_created(target: StubbedTarget) -> None:
    redshift = target.stub("redshift")
    redshift.add_response(
        "describe_clusters", {"Clusters": [cluster("creating", Tags=tags(target.settings, "run-1"))]},
        {"ClusterIdentifier": "sparkify-dwh"},
    )
    refuse(redshift, "delete_cluster", "InvalidClusterState", "There is an operation running on the Cluster.", times=3)
    redshift.add_response(
        "delete_cluster", {"Cluster": cluster("deleting")},
        {"ClusterIdentifier": "sparkify-dwh", "SkipFinalClusterSnapshot": True},
    )
    # botocore's ClusterDeleted waiter: ClusterNotFound is success.
    refuse(redshift, "describe_clusters", "ClusterNotFound", "Cluster sparkify-dwh not found.", status=404)

    delete_cluster(target)

    waited(target, CLUSTER_STILL_CREATING, 3)


def group_lookup(ec2: Stubber, group: dict[str, Any] | None) -> None:
    ec2.add_response("describe_vpcs", {"Vpcs": [{"VpcId": VPC, "IsDefault": True}]})
    ec2.add_response("describe_security_groups", {"SecurityGroups": [group] if group else []})


def our_group(target: Target, permissions: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {"GroupId": GROUP, "GroupName": "sparkify-dwh-ingress", "VpcId": VPC,
            "Tags": tags(target.settings, "run-1"), "IpPermissions": permissions or []}


def test_ingress_waits_for_a_security_group_just_created(target: StubbedTarget) -> None:
    ec2 = target.stub("ec2")
    group_lookup(ec2, None)
    ec2.add_response("create_security_group", {"GroupId": GROUP})
    missing = f"The security group '{GROUP}' does not exist"
    refuse(ec2, "authorize_security_group_ingress", "InvalidGroup.NotFound", missing)
    ec2.add_response("authorize_security_group_ingress", {"Return": True})

    assert create_security_group.fn(target, "203.0.113.7/32", "run-1") == GROUP
    waited(target, GROUP_NOT_YET_VISIBLE, 1)


def test_deleting_a_security_group_waits_for_the_deleted_clusters_interfaces(target: StubbedTarget) -> None:
    ec2 = target.stub("ec2")
    group_lookup(ec2, our_group(target))
    # kubernetes/kops#6454, lianghong/delete_vpc#10
    refuse(ec2, "delete_security_group", "DependencyViolation", f"resource {GROUP} has a dependent object", times=2)
    ec2.add_response("delete_security_group", {"Return": True, "GroupId": GROUP}, {"GroupId": GROUP})

    delete_security_group(target)

    waited(target, GROUP_STILL_IN_USE, 2)


def test_a_refusal_that_never_clears_stops_within_its_bound(target: StubbedTarget) -> None:
    ec2 = target.stub("ec2")
    group_lookup(ec2, our_group(target))
    refuse(ec2, "delete_security_group", "DependencyViolation", f"resource {GROUP} has a dependent object",
           times=GROUP_STILL_IN_USE.attempts)

    with pytest.raises(ClientError) as refused:
        delete_security_group(target)

    # The last refusal is raised as AWS sent it, after exactly `attempts` calls (the stubber is empty).
    assert refused.value.response["Error"]["Code"] == "DependencyViolation"
    waited(target, GROUP_STILL_IN_USE, GROUP_STILL_IN_USE.attempts - 1)
    assert sum(target.sleeps) <= GROUP_STILL_IN_USE.worst_case_wait()


def test_an_access_denied_is_never_waited_out(target: StubbedTarget) -> None:
    ec2 = target.stub("ec2")
    group_lookup(ec2, our_group(target))
    refuse(ec2, "delete_security_group", "UnauthorizedOperation", "You are not authorized to perform this operation.",
           status=403)

    with pytest.raises(ClientError, match="UnauthorizedOperation"):
        delete_security_group(target)
    assert target.sleeps == []


def identity(sts: Stubber, times: int = 1) -> None:
    for _ in range(times):
        sts.add_response("get_caller_identity", {"Account": ACCOUNT, "Arn": f"arn:aws:iam::{ACCOUNT}:user/op",
                                                 "UserId": "AIDA0123456789ABCDEF"})


def test_the_manifest_bucket_waits_while_a_deleted_name_is_released_in_the_sources_region() -> None:
    """The cluster in us-east-1, the source in us-west-2: the bucket is created in us-west-2."""
    target = StubbedTarget(Settings(target="aws", region="us-east-1"))
    identity(target.stub("sts"))
    s3 = target.stub("s3", region="us-west-2")
    bucket = f"sparkify-dwh-{ACCOUNT}-us-east-1-sparkify-dwh"
    refuse(s3, "create_bucket", "OperationAborted", ABORTED, status=409)
    s3.add_response("create_bucket", {}, {"Bucket": bucket,
                                          "CreateBucketConfiguration": {"LocationConstraint": "us-west-2"}})
    refuse(s3, "put_public_access_block", "NoSuchBucket", "The specified bucket does not exist", status=404)
    for method in ("put_public_access_block", "put_bucket_encryption", "put_bucket_tagging", *["put_object"] * 3):
        s3.add_response(method, {})
    song = SourceObject("song_data/A/A/A/TRAAAAW128F429D538.json", 250, "etag")
    sources = Sources("udacity-dend", "us-west-2", [song], [song], b'{"jsonpaths": []}', Window())

    with disable_run_logger():
        urls = write_manifests.fn(target, sources, "run-1")

    assert urls["songs"] == f"s3://{bucket}/manifests/song_data.manifest"
    assert urls["jsonpaths"] == f"s3://{bucket}/manifests/staging_events_jsonpaths.json"
    assert len(target.sleeps) == 2
    assert target.sleeps[0] <= BUCKET_NAME_BUSY.delay(0)
    for stubber in target.stubbers.values():
        stubber.assert_no_pending_responses()


def role(name: str, arn: str) -> dict[str, Any]:
    return {"RoleName": name, "Arn": arn, "Path": "/sparkify-dwh/", "RoleId": "AROA0123456789ABCDEF",
            "CreateDate": "2026-12-01T00:00:00Z"}


def test_the_roles_policy_waits_for_a_role_just_created(target: StubbedTarget) -> None:
    identity(target.stub("sts"), times=2)
    iam = target.stub("iam")
    boundary = f"arn:aws:iam::{ACCOUNT}:policy/sparkify-dwh/sparkify-dwh-read-role-boundary"
    iam.add_response(
        "create_role",
        {"Role": role("sparkify-dwh-s3-read", ROLE_ARN)},
        {"RoleName": "sparkify-dwh-s3-read", "AssumeRolePolicyDocument": ANY, "Description": ANY,
         "Path": "/sparkify-dwh/", "PermissionsBoundary": boundary, "Tags": tags(target.settings, "run-1")},
    )
    gone = "The role with name sparkify-dwh-s3-read cannot be found."
    refuse(iam, "put_role_policy", "NoSuchEntity", gone, status=404)
    iam.add_response("put_role_policy", {})

    assert create_role.fn(target, "run-1") == ROLE_ARN
    waited(target, ROLE_NOT_YET_VISIBLE, 1)


def test_taking_the_role_back_from_a_reused_cluster_waits_while_it_is_busy(target: StubbedTarget) -> None:
    team = target.with_settings(cluster_id="team-dwh")
    iam, redshift = target.stub("iam"), target.stub("redshift")
    arn = ROLE_ARN.replace("sparkify-dwh-s3-read", "team-dwh-s3-read")
    iam.add_response("list_roles", {"Roles": [role("team-dwh-s3-read", arn)]})
    iam.add_response("list_role_tags", {"Tags": tags(team.settings, "run-1")})
    redshift.add_response("describe_clusters", {"Clusters": [
        {"ClusterIdentifier": "team-dwh", "IamRoles": [{"IamRoleArn": arn, "ApplyStatus": "in-sync"}]}
    ]})
    refuse(redshift, "modify_cluster_iam_roles", "InvalidClusterState", BUSY, times=2)
    redshift.add_response("modify_cluster_iam_roles", {"Cluster": {"ClusterIdentifier": "team-dwh"}},
                          {"ClusterIdentifier": "team-dwh", "RemoveIamRoles": [arn]})
    iam.add_response("list_role_policies", {"PolicyNames": ["read-source-and-manifest"]})
    iam.add_response("delete_role_policy", {})
    iam.add_response("list_attached_role_policies", {"AttachedPolicies": []})
    iam.add_response("delete_role", {}, {"RoleName": "team-dwh-s3-read"})

    delete_role(team)

    waited(target, CLUSTER_BUSY, 2)


def test_a_teardown_step_is_retried_whole_when_aws_throttles(target: StubbedTarget) -> None:
    """The manifest bucket's step meets a throttled HeadBucket, runs again, and finds the bucket gone."""
    identity(target.stub("sts"), times=2)
    s3 = target.stub("s3")
    refuse(s3, "head_bucket", "Throttling", "Rate exceeded")
    refuse(s3, "head_bucket", "404", "Not Found", status=404)

    assert delete_resources(target, keep_cluster=True, logger=logging.getLogger("test")) == []
    waited(target, TEARDOWN_STEP, 1)
