"""deployments/aws-operator-policy.json, the role boundary, and the read role's own policies, as
parliament (PyPI) lints them, and as tight as the code's names and tags allow."""

from __future__ import annotations

import fnmatch
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from core.resources import BOUNDARY_NAME, NEW_CLUSTER_PREFIX, REUSE_TAG, boundary_arn, manifest_bucket_name, role_name
from tasks.iam import read_policy, trust_policy

DEPLOYMENTS = Path(__file__).resolve().parents[2] / "deployments"
OPERATOR = json.loads((DEPLOYMENTS / "aws-operator-policy.json").read_text())
BOUNDARY = json.loads((DEPLOYMENTS / f"{BOUNDARY_NAME}.json").read_text())
ACCOUNT = "123456789012"
ROLE_ARN = f"arn:aws:iam::{ACCOUNT}:role/sparkify-dwh/{role_name('sparkify-dwh')}"


def role_trust() -> dict[str, Any]:
    """The trust policy with the role it belongs to as its Resource: parliament reads only policies
    with a Resource (its statement.py says trust policies "would break other things")."""
    policy = trust_policy()
    return {**policy, "Statement": [{**s, "Resource": ROLE_ARN} for s in policy["Statement"]]}


POLICIES = {
    "operator": OPERATOR,
    "boundary": BOUNDARY,
    "role trust": role_trust(),
    "role inline": read_policy(["udacity-dend", manifest_bucket_name("sparkify-dwh", ACCOUNT, "us-west-2")]),
}
# Findings of LOW severity allowed, each with its reason. parliament finds none today.
ALLOWED_LOW: dict[tuple[str, str], str] = {}
# What the community auditors add, all MEDIUM, and why each stays.
COMMUNITY = {
    ("operator", "PERMISSIONS_MANAGEMENT_ACTIONS"): "the tool must create, tag and delete its read role, grant it "
    "its inline policy, pass it to Redshift and block public access to its bucket; the boundary, the role path, the "
    "tag conditions and iam:PassedToService are what bound it",
    ("role trust", "CREDENTIALS_EXPOSURE"): "sts:AssumeRole is what a trust policy grants; only "
    "redshift.amazonaws.com may assume the role",
}
SEVERITIES = ["INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL"]


def findings(policy: dict[str, Any], community: bool = False) -> list[tuple[str, str]]:
    """(severity, issue) of each finding of `parliament --json`, which reads the policy on stdin."""
    command = [str(Path(sys.executable).with_name("parliament")), "--json"]
    command += ["--include-community-auditors"] if community else []
    done = subprocess.run(command, input=json.dumps(policy), capture_output=True, text=True, check=False)
    assert done.returncode in (0, 1), done.stderr  # 1: there are findings
    return sorted((f["severity"], f["issue"]) for f in map(json.loads, done.stdout.splitlines()))


@pytest.mark.parametrize("name", POLICIES)
def test_parliament_finds_nothing_above_low(name: str) -> None:
    found = findings(POLICIES[name])
    assert [f for f in found if SEVERITIES.index(f[0]) > SEVERITIES.index("LOW")] == []
    assert {(name, issue) for severity, issue in found if severity == "LOW"} <= set(ALLOWED_LOW)


@pytest.mark.parametrize("name", POLICIES)
def test_the_community_auditors_add_only_the_findings_named_with_their_reason(name: str) -> None:
    added = set(findings(POLICIES[name], community=True)) - set(findings(POLICIES[name]))
    assert added == {("MEDIUM", issue) for policy, issue in COMMUNITY if policy == name}


def test_parliament_catches_what_the_old_policy_had() -> None:
    """The check has teeth: mutations on "*" (the policy before this change) are a finding."""
    wide = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["redshift:DeleteCluster", "ec2:DeleteSecurityGroup"], "Resource": "*"}
    ]}
    assert findings(wide) == [("LOW", "RESOURCE_STAR")]


def statements(**match: Any) -> list[dict[str, Any]]:
    """The operator policy's statements granting (or denying) an action, by effect."""
    action = match["action"]
    return [
        s for s in OPERATOR["Statement"]
        if s["Effect"] == match.get("effect", "Allow") and action in ([s["Action"]] if isinstance(s["Action"], str)
                                                                     else s["Action"])
    ]


def test_only_read_only_discovery_takes_resource_star() -> None:
    star = [s for s in OPERATOR["Statement"] if s["Resource"] == "*"]
    assert [s["Sid"] for s in star] == ["ReadOnlyDiscovery"]
    assert all(a.split(":")[1].startswith(("Describe", "List", "Get")) for a in star[0]["Action"])


def test_roles_are_created_only_with_the_boundary_the_code_passes_and_passed_only_to_redshift() -> None:
    [create] = statements(action="iam:CreateRole")
    [grant] = statements(action="iam:PutRolePolicy")
    expected = boundary_arn("${aws:PrincipalAccount}")
    assert create["Condition"]["ArnEquals"]["iam:PermissionsBoundary"] == expected
    assert grant["Condition"]["ArnEquals"]["iam:PermissionsBoundary"] == expected
    [passing] = statements(action="iam:PassRole")
    assert passing["Condition"] == {"StringEquals": {"iam:PassedToService": "redshift.amazonaws.com"}}
    for action in ("iam:PutRolePermissionsBoundary", "iam:DeleteRolePermissionsBoundary", "iam:CreatePolicyVersion",
                   "iam:AttachRolePolicy"):
        assert statements(action=action) == [], action


def test_creating_and_tagging_require_the_projects_tags_and_changes_its_tags_on_the_resource() -> None:
    for action in ("redshift:CreateCluster", "redshift:CreateTags", "iam:CreateRole", "iam:TagRole"):
        [allow] = statements(action=action)
        assert allow["Condition"]["StringEquals"]["aws:RequestTag/Project"] == "sparkify-dwh", action
    [ec2_tags] = statements(action="ec2:CreateTags")
    assert ec2_tags["Condition"] == {"StringEquals": {"ec2:CreateAction": "CreateSecurityGroup"}}
    denies = statements(action="ec2:CreateSecurityGroup", effect="Deny")
    assert {json.dumps(d["Condition"], sort_keys=True) for d in denies} == {
        json.dumps({"StringNotEquals": {"aws:RequestTag/Project": "sparkify-dwh"}}, sort_keys=True),
        json.dumps({"ForAnyValue:StringNotEquals": {"aws:TagKeys": ["Project", "FlowRunId", "ClusterId"]}},
                   sort_keys=True),
    }
    for action in ("ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:DeleteSecurityGroup",
                   "redshift:ModifyCluster", "redshift:DeleteCluster", "iam:DeleteRole"):
        for allow in statements(action=action):
            assert allow["Condition"]["StringEquals"]["aws:ResourceTag/Project"] == "sparkify-dwh", action


def test_clusters_are_changed_only_in_the_projects_names_or_with_the_owners_tag() -> None:
    ours = f"arn:aws:redshift:*:*:cluster:{NEW_CLUSTER_PREFIX}*"
    resources = {
        s["Sid"]: (s["Resource"], s.get("Condition")) for s in statements(action="redshift:ModifyClusterIamRoles")
    }
    assert resources["ChangeAndDeleteOnlyTheProjectsClusters"][0] == ours
    assert resources["LendTheReadRoleToClustersWhoseOwnersAgreed"] == (
        "arn:aws:redshift:*:*:cluster:*",
        {"StringEquals": {f"aws:ResourceTag/{REUSE_TAG['Key']}": REUSE_TAG["Value"]}},
    )
    for action in ("redshift:CreateCluster", "redshift:DeleteCluster", "redshift:ModifyCluster"):
        assert [s["Resource"] for s in statements(action=action)] == [ours]


def test_bucket_arns_match_the_names_the_project_builds_and_no_other() -> None:
    [create] = statements(action="s3:CreateBucket")
    pattern = create["Resource"].removeprefix("arn:aws:s3:::").replace("${aws:PrincipalAccount}", ACCOUNT)
    for region in ("us-west-2", "ap-southeast-2"):
        assert fnmatch.fnmatchcase(manifest_bucket_name("team-dwh", ACCOUNT, region), pattern)
    for other in ("team-dwh-manifests-123456789012-us-west-2", "sparkify-dwh-210987654321-us-west-2-x", "udacity-dend"):
        assert not fnmatch.fnmatchcase(other, pattern), other
    for action in ("s3:PutObject", "s3:DeleteBucket", "s3:PutBucketTagging"):
        for allow in statements(action=action):
            assert allow["Condition"] == {"StringEquals": {"s3:ResourceAccount": "${aws:PrincipalAccount}"}}
