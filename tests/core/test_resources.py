"""core.resources: names a run's resources derive from the cluster id, and the tags that mark them."""

from __future__ import annotations

import pytest

from core.resources import (
    is_ours,
    manifest_bucket_name,
    publicly_accessible,
    role_name,
    security_group_name,
    tagged_by_project,
    tags,
)
from core.settings import Settings


@pytest.mark.parametrize(
    ("cidr", "public"),
    [("203.0.113.7/32", True), ("0.0.0.0/0", True), ("10.1.2.3/32", False), ("172.16.0.0/12", False),
     ("192.168.1.0/24", False), ("127.0.0.1/32", False), ("172.32.0.1/32", True), ("2001:db8::/32", True)],
)
def test_a_public_endpoint_only_for_clients_outside_private_ranges(cidr: str, public: bool) -> None:
    assert publicly_accessible(cidr) is public


def test_names_derive_from_the_cluster_id() -> None:
    assert role_name("team-dwh") == "team-dwh-s3-read"
    assert security_group_name("team-dwh") == "team-dwh-ingress"
    # Under the prefix the operator policy names: arn:aws:s3:::sparkify-dwh-${aws:PrincipalAccount}-*.
    bucket = manifest_bucket_name("team-dwh", "123456789012", "eu-west-1")
    assert bucket == "sparkify-dwh-123456789012-eu-west-1-team-dwh"


def test_a_runs_tags_mark_it_as_the_projects() -> None:
    run_tags = tags(Settings(cluster_id="team-dwh"), "run-1")
    assert {t["Key"]: t["Value"] for t in run_tags} == {
        "Project": "sparkify-dwh", "FlowRunId": "run-1", "ClusterId": "team-dwh"
    }
    assert tagged_by_project(run_tags) and is_ours({"Tags": run_tags})
    assert not is_ours({"Tags": [{"Key": "Project", "Value": "someone-else"}]}) and not is_ours({})
