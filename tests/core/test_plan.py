"""core.plan: --plan names every resource and the hourly cost, and contacts nothing."""

from __future__ import annotations

import pytest

from core.settings import NODE_TYPES
from flows.sparkify import main
from tests.support import NOTHING, leftovers


def test_plan_prints_resources_and_cost_and_creates_nothing(aws: str, capsys: pytest.CaptureFixture) -> None:
    assert main(["--target", "aws", "--plan", "--node-type", "dc2.large", "--number-of-nodes", "2",
                 "--allow-cidr", "203.0.113.7/32"]) == 0
    out = capsys.readouterr().out
    price = NODE_TYPES["dc2.large"]
    assert f"Estimated cost: ${2 * price:.2f} per hour" in out
    for resource in ("/sparkify-dwh/sparkify-dwh-s3-read", "sparkify-dwh-ingress", "TCP 5439 from", "203.0.113.7/32",
                     "sparkify-dwh-manifests-<account>-us-west-2", "2 x dc2.large", "publicly accessible: yes"):
        assert resource in out
    assert leftovers(aws) == NOTHING
