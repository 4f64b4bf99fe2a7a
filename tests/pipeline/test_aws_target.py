"""What the AWS target promises a real account, shown against moto's server: nothing is left after a
failure at any stage, a crash or a kill; exactly least privilege, with every call made as the operator
holding deployments/aws-operator-policy.json under moto's IAM enforcement; no secret in any log or artifact."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from prefect.settings import PREFECT_API_URL

from core.aws import bucket_region
from core.resources import REUSE_TAG
from flows.cli import main
from local.operator import OperatorAccount
from tests.support import NOTHING, SAMPLE, client, cut_a_line, leftovers, run, sample_copy, upload_data_dir

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def fail_aws_call(monkeypatch: pytest.MonkeyPatch) -> Callable[[str, str], None]:
    """Make AWS answer one operation with an error code, as a real account's policy or quota would."""

    def arm(operation: str, code: str) -> None:
        real = BaseClient._make_api_call

        def call(client: BaseClient, name: str, params: dict[str, Any]) -> Any:
            if name == operation:
                raise ClientError({"Error": {"Code": code, "Message": "injected by the test"}}, name)
            return real(client, name, params)

        monkeypatch.setattr(BaseClient, "_make_api_call", call)

    return arm


def append_event(data: Path, **fields: Any) -> None:
    """Append to the last day a valid event, the latest of user 15, with `fields` changed."""
    day = data / "log_data" / "2018" / "11" / "2018-11-30-events.json"
    last = json.loads(day.read_text().splitlines()[-1])
    event = {**last, "userId": "15", "ts": last["ts"] + 1000, "page": "Home", **fields}
    event = {k: v for k, v in event.items() if v is not None}
    with day.open("a") as out:
        out.write("\n" + json.dumps(event))


# stage -> (AWS operation and error to inject, or a change to the data; what the error must say)
STAGES: dict[str, tuple[tuple[str, str] | Callable[[Path], None], str]] = {
    "role": (("CreateRole", "AccessDenied"), "AWS refused CreateRole (AccessDenied: injected by the test); grant"),
    "cluster": (("CreateCluster", "ClusterQuotaExceededFault"), "delete clusters you no longer need"),
    "ingress": (
        ("AuthorizeSecurityGroupIngress", "UnauthorizedOperation"),
        "AWS refused AuthorizeSecurityGroupIngress",
    ),
    "manifest": (("PutBucketEncryption", "AccessDenied"), "AWS refused PutBucketEncryption"),
    "copy": (cut_a_line, "2018-11-07-events.json line 3"),
    "insert": (lambda d: append_event(d, level=None), 'null value in column "level" of relation "users"'),
    "check": (lambda d: append_event(d, level="gold"), "data-quality checks failed: accepted_values:users.level"),
}


@pytest.mark.parametrize("stage", STAGES)
def test_a_failure_at_any_stage_leaves_nothing(
    stage: str, isolated: Path, aws: str, fail_aws_call: Callable[[str, str], None]
) -> None:
    fault, message = STAGES[stage]
    data = sample_copy(isolated)
    if callable(fault):
        fault(data)
    else:
        fail_aws_call(*fault)

    code, summary = run("--data-dir", str(data), tmp=isolated)

    assert code == 1
    assert message in summary["error"], summary["error"]
    assert "\n" not in summary["error"]
    assert leftovers(aws) == NOTHING


def test_a_failed_run_that_cannot_clean_up_says_both(
    isolated: Path, aws: str, fail_aws_call: Callable[[str, str], None], capsys: pytest.CaptureFixture
) -> None:
    """The load error comes first, then what is left and the command that deletes it; the summary
    table on stdout says both too."""
    data = sample_copy(isolated)
    where = cut_a_line(data)
    fail_aws_call("DeleteBucket", "AccessDenied")

    code, summary = run("--data-dir", str(data), tmp=isolated)
    table = dict(line.split("  ", 1) for line in capsys.readouterr().out.splitlines() if "  " in line)

    assert code == 1
    error = summary["error"]
    assert error.index(where) < error.index("then teardown left the manifest bucket of sparkify-dwh")
    assert "python flows/sparkify.py --target local --cluster-id sparkify-dwh teardown" in error
    assert leftovers(aws)["buckets"] == ["sparkify-dwh-123456789012-us-west-2-sparkify-dwh"]
    assert not (isolated / "state" / "pgdata" / "postmaster.pid").exists()
    assert summary["left"] == ["manifest bucket of sparkify-dwh"]
    assert (table["status"].strip(), table["left behind"].strip()) == ("failed", "manifest bucket of sparkify-dwh")
    assert table["error"].strip() == error and table["duration"].strip().endswith(" s")


@pytest.fixture
def account(aws: str, s3: Any, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """moto's server as an AWS account holding the source bucket, reached through AWS_ENDPOINT_URL,
    and called as the operator: an IAM user holding deployments/aws-operator-policy.json, with
    moto's IAM enforcement on (as moto can evaluate it: local.operator.moto_view).

    The cluster endpoints moto hands out do not resolve, so runs end at the first connection.
    """
    upload_data_dir(s3, "udacity-dend", SAMPLE, ("song_data", "log_data"))
    operator = OperatorAccount()
    keys = {name.upper(): value for name, value in operator.keys.items()}
    env = {"AWS_ENDPOINT_URL": aws, "AWS_DEFAULT_REGION": "us-west-2", **keys}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    yield env
    operator.close()


def test_unreachable_cluster_fails_in_bounded_time_naming_endpoint_and_rule(
    account: dict[str, str], isolated: Path
) -> None:
    started = time.monotonic()
    code, summary = run("--target", "aws", "--allow-cidr", "203.0.113.7/32", "--connect-timeout-s", "5", tmp=isolated)

    assert code == 1
    assert time.monotonic() - started < 60
    error = summary["error"]
    assert "cannot reach the warehouse at sparkify-dwh." in error and ":5439 within 5 s" in error
    assert "check that security group sg-" in error and "admits 203.0.113.7/32 on TCP port 5439" in error
    assert leftovers(account["AWS_ENDPOINT_URL"]) == NOTHING


def test_created_resources_are_exactly_least_privilege(account: dict[str, str], isolated: Path, s3: Any) -> None:
    """Kept after the run, the role, security group and cluster are inspected as AWS holds them."""
    endpoint = account["AWS_ENDPOINT_URL"]
    code, _ = run("--target", "aws", "--allow-cidr", "203.0.113.7/32", "--connect-timeout-s", "2", "--keep-cluster",
                  tmp=isolated)
    assert code == 1
    try:
        iam, ec2, redshift = (client(endpoint, s) for s in ("iam", "ec2", "redshift"))
        [role] = iam.list_roles()["Roles"]
        assert role["Path"] == "/sparkify-dwh/"
        assert role["AssumeRolePolicyDocument"]["Statement"] == [
            {"Effect": "Allow", "Principal": {"Service": "redshift.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ]
        assert iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"] == []
        [policy_name] = iam.list_role_policies(RoleName=role["RoleName"])["PolicyNames"]
        policy = iam.get_role_policy(RoleName=role["RoleName"], PolicyName=policy_name)["PolicyDocument"]
        account_id = client(endpoint, "sts").get_caller_identity()["Account"]
        manifest = f"sparkify-dwh-{account_id}-us-west-2-sparkify-dwh"
        assert policy["Statement"] == [
            {"Effect": "Allow", "Action": "s3:ListBucket",
             "Resource": ["arn:aws:s3:::udacity-dend", f"arn:aws:s3:::{manifest}"]},
            {"Effect": "Allow", "Action": "s3:GetObject",
             "Resource": ["arn:aws:s3:::udacity-dend/*", f"arn:aws:s3:::{manifest}/*"]},
        ]

        [cluster] = redshift.describe_clusters()["Clusters"]
        assert cluster["Encrypted"] is True
        assert cluster["PubliclyAccessible"] is True  # 203.0.113.7 is outside the VPC
        [group_ref] = cluster["VpcSecurityGroups"]
        [group] = ec2.describe_security_groups(GroupIds=[group_ref["VpcSecurityGroupId"]])["SecurityGroups"]
        assert group["GroupName"] == "sparkify-dwh-ingress"
        [rule] = group["IpPermissions"]
        assert (rule["IpProtocol"], rule["FromPort"], rule["ToPort"]) == ("tcp", 5439, 5439)
        assert [r["CidrIp"] for r in rule["IpRanges"]] == ["203.0.113.7/32"]
        assert rule.get("Ipv6Ranges", []) == [] and rule.get("UserIdGroupPairs", []) == []
        for tags in (cluster["Tags"], group["Tags"], iam.list_role_tags(RoleName=role["RoleName"])["Tags"]):
            assert {t["Key"] for t in tags} == {"Project", "FlowRunId", "ClusterId"}
    finally:
        assert main(["--target", "aws", "teardown"]) == 0
    assert leftovers(endpoint) == NOTHING


def test_manifest_bucket_is_private_and_encrypted(account: dict[str, str], isolated: Path, fail_aws_call) -> None:
    """Stopped right after the manifest is written (the cluster is refused), the bucket is inspected."""
    endpoint = account["AWS_ENDPOINT_URL"]
    s3 = client(endpoint, "s3")
    seen: dict[str, Any] = {}
    real = BaseClient._make_api_call

    # Inspect the bucket when teardown starts emptying it: the manifest stage is over by then.
    def inspect_first(client: BaseClient, name: str, params: dict[str, Any]) -> Any:
        if name == "ListObjectVersions" and not seen:
            bucket = params["Bucket"]
            seen["block"] = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
            seen["sse"] = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
            try:
                seen["policy"] = s3.get_bucket_policy(Bucket=bucket)["Policy"]
            except ClientError as exc:
                seen["policy"] = exc.response["Error"]["Code"]
            seen["manifest"] = json.loads(
                s3.get_object(Bucket=bucket, Key="manifests/song_data.manifest")["Body"].read()
            )
        if name == "CreateCluster":
            raise ClientError({"Error": {"Code": "ClusterQuotaExceeded", "Message": "injected"}}, name)
        return real(client, name, params)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(BaseClient, "_make_api_call", inspect_first)
        code, _ = run("--target", "aws", "--allow-cidr", "203.0.113.7/32", tmp=isolated)

    assert code == 1
    assert seen["block"] == {
        "BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True
    }
    assert seen["sse"][0]["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert seen["policy"] == "NoSuchBucketPolicy"
    assert len(seen["manifest"]["entries"]) == len(list((SAMPLE / "song_data").rglob("*.json")))
    assert leftovers(endpoint) == NOTHING


def test_no_secret_in_logs_artifacts_or_summary(account: dict[str, str], isolated: Path) -> None:
    """A run on the local target with a Secret block password, and an AWS run failing at connect:
    neither the password nor the secret key appears in any log line, artifact or summary."""
    from prefect.blocks.system import Secret
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        FlowRunFilter,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )

    password = "Zq7" + "x" * 12 + "Secret9Pw"
    Secret(value=password).save("sparkify-master-password", overwrite=True)
    secrets = [password, account["AWS_SECRET_ACCESS_KEY"]]

    local_code, local = run("--password-secret-block", "sparkify-master-password", tmp=isolated)
    assert local_code == 0, local
    aws_code, failed = run(
        "--target", "aws", "--allow-cidr", "203.0.113.7/32", "--connect-timeout-s", "2",
        "--password-secret-block", "sparkify-master-password", tmp=isolated,
    )
    assert aws_code == 1

    run_ids = [local["flow_run_id"], failed["flow_run_id"]]
    with get_client(sync_client=True) as prefect:
        runs = prefect.read_flow_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=run_ids)))
        logs = prefect.read_logs(log_filter=LogFilter(flow_run_id=LogFilterFlowRunId(any_=run_ids)))
        artifacts = prefect.read_artifacts(
            artifact_filter=ArtifactFilter(), flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=run_ids))
        )
    texts = [log.message for log in logs] + [str(a.data) for a in artifacts]
    texts += [json.dumps(local), json.dumps(failed)] + [r.state.message or "" for r in runs if r.state]
    assert len(runs) == 2 and len(logs) > 20 and len(artifacts) >= 2
    for secret in secrets:
        assert not [t for t in texts if secret in t]


def start_run_until_cluster_exists(endpoint: str) -> subprocess.Popen:
    """`python flows/sparkify.py --target aws` in its own process, returned once its cluster exists;
    it then waits up to 300 s on the unreachable endpoint."""
    env = {**os.environ, "PREFECT_API_URL": PREFECT_API_URL.value(), "PYTHONPATH": str(ROOT)}
    flow = subprocess.Popen(
        [sys.executable, str(ROOT / "flows" / "sparkify.py"), "--target", "aws", "--allow-cidr", "203.0.113.7/32",
         "--connect-timeout-s", "300"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    redshift = client(endpoint, "redshift")
    deadline = time.monotonic() + 120
    while not redshift.describe_clusters()["Clusters"]:
        if time.monotonic() > deadline or flow.poll() is not None:
            flow.kill()
            pytest.fail("the run never created its cluster")
        time.sleep(0.5)
    time.sleep(1)  # into the wait on the endpoint
    return flow


def test_teardown_command_removes_what_a_killed_run_left(account: dict[str, str], isolated: Path) -> None:
    """kill -9 while the run waits on the endpoint: the run's resources stay, until teardown --run-id."""
    endpoint = account["AWS_ENDPOINT_URL"]
    flow = start_run_until_cluster_exists(endpoint)
    flow.send_signal(signal.SIGKILL)
    flow.wait()
    redshift = client(endpoint, "redshift")
    [cluster] = redshift.describe_clusters()["Clusters"]
    run_id = {t["Key"]: t["Value"] for t in cluster["Tags"]}["FlowRunId"]
    assert leftovers(endpoint) != NOTHING

    assert main(["--target", "aws", "teardown", "--run-id", "another-run"]) == 0
    assert leftovers(endpoint)["clusters"] == ["sparkify-dwh"]  # another run's teardown leaves it
    assert main(["--target", "aws", "teardown", "--run-id", run_id]) == 0
    assert leftovers(endpoint) == NOTHING


def test_sigterm_mid_run_leaves_nothing(account: dict[str, str], isolated: Path) -> None:
    """What a worker does to cancel a run: SIGTERM to the flow's process. The run tears down."""
    endpoint = account["AWS_ENDPOINT_URL"]
    flow = start_run_until_cluster_exists(endpoint)
    flow.send_signal(signal.SIGTERM)
    assert flow.wait(timeout=120) != 0
    assert leftovers(endpoint) == NOTHING


def create_foreign_cluster(endpoint: str, password: str, tags: list[dict[str, str]]) -> None:
    """A cluster of the user's own, created outside this project (no Project tag)."""
    client(endpoint, "redshift").create_cluster(
        ClusterIdentifier="team-dwh", NodeType="ra3.xlplus", ClusterType="single-node", DBName="analytics",
        MasterUsername="team_admin", MasterUserPassword=password, Tags=[{"Key": "Owner", "Value": "team"}, *tags],
    )


@pytest.fixture
def modify_cluster_iam_roles(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """The parameters of every ModifyClusterIamRoles call (moto answers it: local.moto_redshift)."""
    real = BaseClient._make_api_call
    calls: list[dict[str, Any]] = []

    def call(client: BaseClient, name: str, params: dict[str, Any]) -> Any:
        if name == "ModifyClusterIamRoles":
            calls.append(params)
        return real(client, name, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", call)
    return calls


def test_existing_cluster_is_reused_and_never_deleted(
    account: dict[str, str], isolated: Path, modify_cluster_iam_roles: list[dict[str, Any]]
) -> None:
    from prefect.blocks.system import Secret

    endpoint = account["AWS_ENDPOINT_URL"]
    create_foreign_cluster(endpoint, "TeamPassw0rd", [REUSE_TAG])
    Secret(value="TeamPassw0rd").save("team-dwh-password", overwrite=True)

    code, summary = run(
        "--target", "aws", "--cluster-id", "team-dwh", "--password-secret-block", "team-dwh-password",
        "--allow-cidr", "203.0.113.7/32", "--connect-timeout-s", "2", tmp=isolated,
    )

    assert code == 1  # moto's endpoint does not resolve: the run got as far as connecting
    assert "cannot reach the warehouse at team-dwh." in summary["error"]
    [cluster] = client(endpoint, "redshift").describe_clusters()["Clusters"]
    assert cluster["ClusterIdentifier"] == "team-dwh"
    # The run's role was attached, then taken back and deleted; nothing else was changed.
    [added, removed] = modify_cluster_iam_roles
    assert added["AddIamRoles"] == removed["RemoveIamRoles"] and added["AddIamRoles"][0].endswith("/team-dwh-s3-read")
    assert cluster["IamRoles"] == []
    assert leftovers(endpoint) == {**NOTHING, "clusters": ["team-dwh"]}
    assert main(["--target", "aws", "--cluster-id", "team-dwh", "teardown"]) == 0
    assert leftovers(endpoint) == {**NOTHING, "clusters": ["team-dwh"]}


def test_existing_cluster_without_its_password_is_refused_before_creating_anything(
    account: dict[str, str], isolated: Path
) -> None:
    endpoint = account["AWS_ENDPOINT_URL"]
    create_foreign_cluster(endpoint, "TeamPassw0rd", [REUSE_TAG])

    code, summary = run("--target", "aws", "--cluster-id", "team-dwh", "--allow-cidr", "203.0.113.7/32", tmp=isolated)

    assert code == 1
    assert "cluster team-dwh exists and was not created by this project" in summary["error"]
    assert "--password-secret-block" in summary["error"]
    assert leftovers(endpoint) == {**NOTHING, "clusters": ["team-dwh"]}


def test_a_cluster_its_owner_did_not_tag_for_reuse_is_refused_before_creating_anything(
    account: dict[str, str], isolated: Path
) -> None:
    """The operator policy lends the read role only to clusters tagged SparkifyDwhReuse=allowed."""
    from prefect.blocks.system import Secret

    endpoint = account["AWS_ENDPOINT_URL"]
    create_foreign_cluster(endpoint, "TeamPassw0rd", [])
    Secret(value="TeamPassw0rd").save("team-dwh-password", overwrite=True)

    code, summary = run("--target", "aws", "--cluster-id", "team-dwh", "--password-secret-block", "team-dwh-password",
                        "--allow-cidr", "203.0.113.7/32", tmp=isolated)

    assert code == 1
    assert "to load into it, its owner tags it SparkifyDwhReuse=allowed" in summary["error"]
    assert leftovers(endpoint) == {**NOTHING, "clusters": ["team-dwh"]}


def test_a_new_cluster_outside_the_policys_names_is_refused_before_creating_anything(
    account: dict[str, str], isolated: Path
) -> None:
    code, summary = run("--target", "aws", "--cluster-id", "analytics", "--allow-cidr", "203.0.113.7/32", tmp=isolated)

    assert code == 1
    assert "a new cluster's id starts with sparkify- (the operator policy" in summary["error"]
    assert leftovers(account["AWS_ENDPOINT_URL"]) == NOTHING


def test_rerun_after_a_kept_run_adopts_everything(isolated: Path, aws: str) -> None:
    """Creation is idempotent: a second run finds the first one's resources, adopts them, and cleans up."""
    first, _ = run("--keep-cluster", tmp=isolated)
    assert first == 0 and leftovers(aws) != NOTHING

    second, summary = run(tmp=isolated)

    assert second == 0, summary
    assert leftovers(aws) == NOTHING


# S3 operations whose IAM action is named differently; every other operation is service:Operation.
S3_ACTIONS = {
    "HeadBucket": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket",
    "ListObjectVersions": "s3:ListBucketVersions",
    "ListBuckets": "s3:ListAllMyBuckets",
    "PutBucketEncryption": "s3:PutEncryptionConfiguration",
    "PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "DeleteObjects": "s3:DeleteObject",
}


POLICY = json.loads((ROOT / "deployments" / "aws-operator-policy.json").read_text())
RUN = ("--target", "aws", "--allow-cidr", "203.0.113.7/32", "--connect-timeout-s", "1")
UNREACHABLE = "cannot reach the warehouse at "


def granted(policy: dict[str, Any]) -> set[str]:
    return {a for s in policy["Statement"] if s["Effect"] == "Allow"
            for a in ([s["Action"]] if isinstance(s["Action"], str) else s["Action"])}


def without_actions(policy: dict[str, Any], *removed: str) -> dict[str, Any]:
    """`policy` with `removed` taken out of every statement, and statements left empty dropped."""
    kept = []
    for statement in policy["Statement"]:
        actions = [a for a in ([statement["Action"]] if isinstance(statement["Action"], str) else statement["Action"])
                   if a not in removed]
        kept += [{**statement, "Action": actions}] if actions else []
    return {**policy, "Statement": kept}


def left_group_with_a_stale_rule(endpoint: str) -> str:
    """The security group an earlier run left (tagged as this project's), admitting an IP it had then."""
    ec2 = client(endpoint, "ec2")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"][0]["VpcId"]
    group = ec2.create_security_group(
        GroupName="sparkify-dwh-ingress", Description="left by an earlier run", VpcId=vpc,
        TagSpecifications=[{"ResourceType": "security-group", "Tags": [{"Key": "Project", "Value": "sparkify-dwh"},
                                                                      {"Key": "ClusterId", "Value": "sparkify-dwh"}]}],
    )["GroupId"]
    add_a_stale_rule(endpoint, group)
    return group


def add_a_stale_rule(endpoint: str, group: str) -> None:
    """The rule of an address this machine had at an earlier run."""
    stale = {"IpProtocol": "tcp", "FromPort": 5439, "ToPort": 5439, "IpRanges": [{"CidrIp": "198.51.100.9/32"}]}
    client(endpoint, "ec2").authorize_security_group_ingress(GroupId=group, IpPermissions=[stale])


def admitted(endpoint: str, group: str) -> list[str]:
    [found] = client(endpoint, "ec2").describe_security_groups(GroupIds=[group])["SecurityGroups"]
    return [r["CidrIp"] for p in found["IpPermissions"] for r in p["IpRanges"]]


@pytest.fixture
def exercised(account: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> set[str]:
    """The IAM actions of every call made with the operator's key (the tests' own calls use the admin's)."""
    real = BaseClient._make_api_call
    actions: set[str] = set()

    def record(client: BaseClient, name: str, params: dict[str, Any]) -> Any:
        if client._request_signer._credentials.access_key == account["AWS_ACCESS_KEY_ID"]:
            prefix = client.meta.service_model.signing_name
            actions.add(S3_ACTIONS.get(name, f"s3:{name}") if prefix == "s3" else f"{prefix}:{name}")
        return real(client, name, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", record)
    return actions


def test_every_path_runs_as_the_operator_with_nothing_beyond_its_policy(
    account: dict[str, str], isolated: Path, exercised: set[str], capsys: pytest.CaptureFixture
) -> None:
    """Under moto's IAM enforcement, as the user holding exactly deployments/aws-operator-policy.json: a
    run that creates everything and keeps it; a run that adopts all of it, its security group holding a
    stale rule by then; the teardown command; a run reusing a cluster its owner tagged for reuse, and
    its teardown. Each run ends at the unreachable endpoint, never at a refusal, and nothing is left."""
    from prefect.blocks.system import Secret

    endpoint = account["AWS_ENDPOINT_URL"]
    code, summary = run(*RUN, "--keep-cluster", tmp=isolated)
    assert code == 1 and UNREACHABLE in summary["error"], summary["error"]
    [group] = [g["GroupId"] for g in client(endpoint, "ec2").describe_security_groups()["SecurityGroups"]
               if g["GroupName"] == "sparkify-dwh-ingress"]
    add_a_stale_rule(endpoint, group)

    code, summary = run(*RUN, "--keep-cluster", tmp=isolated)
    assert code == 1 and UNREACHABLE in summary["error"], summary["error"]
    assert admitted(endpoint, group) == ["203.0.113.7/32"]
    assert main(["--target", "aws", "teardown"]) == 0
    assert leftovers(endpoint) == NOTHING

    create_foreign_cluster(endpoint, "TeamPassw0rd", [REUSE_TAG])
    Secret(value="TeamPassw0rd").save("team-dwh-password", overwrite=True)
    code, summary = run(*RUN, "--cluster-id", "team-dwh", "--password-secret-block", "team-dwh-password", tmp=isolated)
    assert code == 1 and UNREACHABLE in summary["error"], summary["error"]
    assert main(["--target", "aws", "--cluster-id", "team-dwh", "teardown"]) == 0
    assert leftovers(endpoint) == {**NOTHING, "clusters": ["team-dwh"]}
    assert client(endpoint, "redshift").describe_clusters()["Clusters"][0]["IamRoles"] == []

    assert exercised - granted(POLICY) == set()
    assert {"ec2:CreateSecurityGroup", "ec2:RevokeSecurityGroupIngress", "iam:UpdateAssumeRolePolicy",
            "redshift:ModifyCluster", "redshift:ModifyClusterIamRoles", "redshift:DescribeOrderableClusterOptions",
            "iam:DeleteRole", "s3:DeleteBucket"} <= exercised
    with capsys.disabled():
        print(f"\nactions the operator exercised ({len(exercised)}): {', '.join(sorted(exercised))}")


def test_without_revoke_the_operator_cannot_adopt_a_group_with_a_stale_rule(
    account: dict[str, str], isolated: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same path with ec2:RevokeSecurityGroupIngress taken out of the policy fails, as it would on AWS."""
    endpoint = account["AWS_ENDPOINT_URL"]
    group = left_group_with_a_stale_rule(endpoint)
    operator = OperatorAccount(without_actions(POLICY, "ec2:RevokeSecurityGroupIngress"))
    for name, value in operator.keys.items():
        monkeypatch.setenv(name.upper(), value)
    try:
        code, summary = run(*RUN, tmp=isolated)
    finally:
        operator.close()

    assert code == 1
    operator_arn = "arn:aws:iam::123456789012:user/sparkify-operator"
    refused = f"AWS refused RevokeSecurityGroupIngress (AccessDenied: User: {operator_arn} is not authorized"
    assert refused in summary["error"]
    assert "198.51.100.9/32" not in " ".join(map(str, leftovers(endpoint).values())) and group
    assert leftovers(endpoint) == NOTHING


def test_a_local_run_calls_as_the_operator_too(
    isolated: Path, aws: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Every local run holds deployments/aws-operator-policy.json: without one action it needs, it is refused."""
    import local.operator

    reduced = tmp_path / "policy.json"
    reduced.write_text(json.dumps(without_actions(POLICY, "redshift:DescribeOrderableClusterOptions")))
    monkeypatch.setattr(local.operator, "OPERATOR_POLICY", reduced)

    code, summary = run(tmp=isolated)

    assert code == 1
    assert "AWS refused DescribeOrderableClusterOptions (AccessDenied" in summary["error"]
    assert leftovers(aws) == NOTHING


def test_transient_errors_are_retried(isolated: Path, aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS throttles CreateRole twice and CreateCluster once: the run still completes."""
    real = BaseClient._make_api_call
    throttles = {"CreateRole": 2, "CreateCluster": 1}

    def call(client: BaseClient, name: str, params: dict[str, Any]) -> Any:
        if throttles.get(name, 0) > 0:
            throttles[name] -= 1
            raise ClientError({"Error": {"Code": "Throttling", "Message": "Rate exceeded"}}, name)
        return real(client, name, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", call)
    code, summary = run(tmp=isolated)

    assert code == 0, summary
    assert throttles == {"CreateRole": 0, "CreateCluster": 0}
    assert leftovers(aws) == NOTHING


def test_cluster_not_available_in_time_is_torn_down(isolated: Path, aws: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cluster stuck in 'creating' fails the run after --cluster-timeout-s, and is deleted."""
    real = BaseClient._make_api_call

    def call(client: BaseClient, name: str, params: dict[str, Any]) -> Any:
        response = real(client, name, params)
        if name == "DescribeClusters" and "ClusterIdentifier" in params:
            for cluster in response["Clusters"]:
                cluster["ClusterStatus"] = "creating"
        return response

    monkeypatch.setattr(BaseClient, "_make_api_call", call)
    code, summary = run("--cluster-timeout-s", "1", tmp=isolated)

    assert code == 1
    assert "cluster sparkify-dwh was not available after 1 s (still creating)" in summary["error"]
    assert leftovers(aws) == NOTHING


def test_a_left_cluster_with_other_settings_is_named_not_adopted(isolated: Path, aws: str) -> None:
    """A cluster of this project's, left with another node type, fails the run at once, untouched."""
    client(aws, "redshift").create_cluster(
        ClusterIdentifier="sparkify-dwh",
        NodeType="ra3.xlplus",
        ClusterType="single-node",
        DBName="sparkify",
        MasterUsername="sparkify_admin",
        MasterUserPassword="Left0verPass",
        Tags=[{"Key": "Project", "Value": "sparkify-dwh"}],
    )
    code, summary = run("--keep-cluster", tmp=isolated)

    assert code == 1
    assert (
        "cluster sparkify-dwh, left by an earlier run, has other settings: NodeType ra3.xlplus (wanted ra3.large)"
        in summary["error"]
    )
    assert "teardown" in summary["error"]
    assert main(["teardown"]) == 0  # as the error says: the left cluster is this project's to delete
    assert leftovers(aws) == NOTHING


def test_any_ip_only_by_name_and_with_a_warning(
    account: dict[str, str], isolated: Path, caplog: pytest.LogCaptureFixture
) -> None:
    endpoint = account["AWS_ENDPOINT_URL"]
    code, _ = run("--target", "aws", "--allow-any-ip", "--connect-timeout-s", "1", "--keep-cluster", tmp=isolated)
    assert code == 1
    try:
        [group] = [g for g in client(endpoint, "ec2").describe_security_groups()["SecurityGroups"]
                   if g["GroupName"] == "sparkify-dwh-ingress"]
        assert [r["CidrIp"] for p in group["IpPermissions"] for r in p["IpRanges"]] == ["0.0.0.0/0"]
        assert "Port 5439 of cluster sparkify-dwh is open to the whole internet (--allow-any-ip)" in caplog.text
    finally:
        assert main(["--target", "aws", "teardown"]) == 0


def test_a_cluster_refusing_deletion_while_it_changes_is_deleted_once_it_lets(
    isolated: Path, aws: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """AWS refuses DeleteCluster with InvalidClusterState while a cluster is creating: teardown waits."""
    real = BaseClient._make_api_call
    refusals = [2]

    def call(client: BaseClient, name: str, params: dict[str, Any]) -> Any:
        if name == "DeleteCluster" and refusals[0] > 0:
            refusals[0] -= 1
            raise ClientError({"Error": {"Code": "InvalidClusterState", "Message": "operation running"}}, name)
        return real(client, name, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", call)
    code, summary = run(tmp=isolated)

    assert code == 0, summary
    assert refusals == [0]
    assert leftovers(aws) == NOTHING


def test_a_cluster_in_another_region_than_the_source_gets_its_manifests_in_the_sources_region(
    account: dict[str, str], isolated: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The cluster in us-east-1, udacity-dend in us-west-2: COPY reads with REGION us-west-2, so the manifest
    bucket is created in us-west-2 (named for the cluster's region, so teardown finds it by the cluster)."""
    endpoint = account["AWS_ENDPOINT_URL"]
    real = BaseClient._make_api_call
    seen: dict[str, str] = {}

    # Where the bucket is, asked as teardown starts emptying it: the manifest stage is over by then.
    def inspect(client_: BaseClient, name: str, params: dict[str, Any]) -> Any:
        if name == "ListObjectVersions" and not seen:
            seen[params["Bucket"]] = bucket_region(client(endpoint, "s3", "us-east-1"), params["Bucket"])
        return real(client_, name, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", inspect)
    monkeypatch.setenv("SPARKIFY_REGION", "us-east-1")
    code, summary = run(*RUN, "--keep-cluster", tmp=isolated)
    assert code == 1 and UNREACHABLE in summary["error"], summary["error"]
    try:
        assert seen == {"sparkify-dwh-123456789012-us-east-1-sparkify-dwh": "us-west-2"}
        [cluster] = client(endpoint, "redshift", "us-east-1").describe_clusters()["Clusters"]
        assert cluster["Endpoint"]["Address"].endswith(".us-east-1.redshift.amazonaws.com")
        assert "COPY reads across regions (REGION us-west-2)" in caplog.text
    finally:
        assert main(["--target", "aws", "teardown"]) == 0
    assert client(endpoint, "redshift", "us-east-1").describe_clusters()["Clusters"] == []
    assert leftovers(endpoint) == NOTHING
