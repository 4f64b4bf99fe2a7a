"""core.plan: --plan names every resource and the hourly cost, asks AWS what it sells and where the
source is, and creates nothing."""

from __future__ import annotations

import socket
from typing import Any

import pytest

from core.aws import bucket_location
from flows.cli import main
from tests.support import NOTHING, client, leftovers

AWS_ARGS = ["--target", "aws", "--plan", "--allow-cidr", "203.0.113.7/32"]


@pytest.fixture
def account(aws: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """moto as the AWS account, reached through AWS_ENDPOINT_URL, with the source bucket in us-west-2."""
    client(aws, "s3").create_bucket(Bucket="udacity-dend", **bucket_location("us-west-2"))
    for name, value in {"AWS_ENDPOINT_URL": aws, "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}.items():
        monkeypatch.setenv(name, value)
    return aws


def test_plan_prints_resources_and_cost_and_creates_nothing(account: str, capsys: pytest.CaptureFixture) -> None:
    assert main([*AWS_ARGS, "--number-of-nodes", "2"]) == 0
    out = capsys.readouterr().out
    # aws.amazon.com/redshift/pricing: ra3.large, on demand in us-east-1, $0.543 per node-hour.
    assert "Estimated cost: $1.09 per hour" in out and "at $0.543 per node-hour" in out
    assert "Prices: on-demand, us-east-1, as aws.amazon.com/redshift/pricing/ listed them in 2026" in out
    for resource in ("/sparkify-dwh/sparkify-dwh-s3-read", "bounded by sparkify-dwh-read-role-boundary",
                     "sparkify-dwh-ingress", "TCP 5439 from", "203.0.113.7/32",
                     "sparkify-dwh-<account>-us-west-2-sparkify-dwh in us-west-2", "2 x ra3.large",
                     "publicly accessible: yes", "COPY reads with REGION us-west-2",
                     "Redshift sells 2 x ra3.large in us-west-2 (DescribeOrderableClusterOptions)"):
        assert resource in out
    assert leftovers(account) == {**NOTHING, "buckets": []}


def test_a_retired_node_type_exits_2_naming_the_replacement(account: str, capsys: pytest.CaptureFixture) -> None:
    assert main([*AWS_ARGS, "--node-type", "dc2.large"]) == 2
    assert capsys.readouterr().err == (
        "sparkify: invalid parameter: dc2.large can no longer be ordered for new clusters: use ra3.large\n"
    )


def test_a_cluster_in_another_region_than_the_source_reads_it_through_region(
    account: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("SPARKIFY_REGION", "us-east-1")
    assert main(AWS_ARGS) == 0
    out = capsys.readouterr().out
    assert "Plan for cluster sparkify-dwh in us-east-1" in out
    assert "sparkify-dwh-<account>-us-east-1-sparkify-dwh in us-west-2:" in out
    assert "COPY reads with REGION us-west-2" in out
    assert "The source is in us-west-2: COPY reads across regions, billed as S3 data transfer." in out


def test_when_aws_does_not_answer_the_plan_says_what_it_did_not_check(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed: Any = sock.getsockname()[1]
    for name, value in {"AWS_ENDPOINT_URL": f"http://127.0.0.1:{closed}", "AWS_ACCESS_KEY_ID": "k",
                        "AWS_SECRET_ACCESS_KEY": "s"}.items():
        monkeypatch.setenv(name, value)
    assert main(AWS_ARGS) == 0
    out = capsys.readouterr().out
    assert f"orderable       not checked: could not connect to http://127.0.0.1:{closed}/" in out
    assert "in the region of udacity-dend, read when the run starts" in out
