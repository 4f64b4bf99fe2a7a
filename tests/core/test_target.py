"""core.target: the AWS target reaches your account's endpoints and admits only the CIDR it is given."""

from __future__ import annotations

import pytest
from pydantic import SecretStr

from core.engine import RedshiftEngine
from core.settings import Settings
from core.target import AwsTarget, Endpoint, Target


@pytest.fixture
def target(monkeypatch: pytest.MonkeyPatch) -> AwsTarget:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIATESTKEYID0000000")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-real-secret")
    return AwsTarget(Settings(target="aws", region="eu-west-1", allow_cidr="203.0.113.7/32"))


def test_the_aws_target_runs_redshift_sql_as_written_in_its_region(target: AwsTarget) -> None:
    assert isinstance(target.engine, RedshiftEngine)
    assert target.client("redshift").meta.region_name == "eu-west-1"
    assert target.caller_cidr() == "203.0.113.7/32"
    assert target.poll_seconds >= 5  # AWS changes state in minutes: no tight polling


def test_its_dsn_names_the_rule_to_check_when_unreachable(target: AwsTarget) -> None:
    dsn = target.dsn(Endpoint("c.example.eu-west-1.redshift.amazonaws.com", 5439, "sg-1"), SecretStr("Pw123456"))
    assert dsn.url() == "postgresql://sparkify_admin@c.example.eu-west-1.redshift.amazonaws.com:5439/sparkify"
    assert "security group sg-1 admits 203.0.113.7/32 on TCP port 5439" in dsn.unreachable_hint
    assert "Pw123456" not in dsn.url() and "Pw123456" not in repr(dsn)


def test_with_settings_addresses_another_cluster_and_leaves_the_original(target: AwsTarget) -> None:
    other = target.with_settings(cluster_id="team-dwh")
    assert (other.settings.cluster_id, target.settings.cluster_id) == ("team-dwh", "sparkify-dwh")
    assert other.creds is target.creds


def test_a_target_must_say_how_clusters_are_reached() -> None:
    with pytest.raises(TypeError, match="abstract"):
        Target(Settings(), None, RedshiftEngine())  # type: ignore[abstract,arg-type]
