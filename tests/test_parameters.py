"""Invalid parameters are rejected before Prefect, moto or AWS is touched, naming the rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.sparkify import main
from tasks.settings import NODE_TYPES
from tests.support import NOTHING, leftovers


@pytest.mark.parametrize(
    ("args", "rule"),
    [
        (["--cluster-id", "Sparkify"], "cluster id 'Sparkify' breaks AWS's rules"),
        (["--cluster-id", "sparkify--dwh"], "avoid '--'"),
        (["--cluster-id", "1sparkify"], "start with a letter"),
        (["--cluster-id", "a" * 64], "1-63 lower-case letters"),
        (["--cluster-id", "a" * 40], "is too long for the manifest bucket's name in us-west-2: use at most 30 characters"),
        (["--start", "2018-11-10", "--end", "2018-11-01"], "--start 2018-11-10 is after --end 2018-11-01"),
        (["--start", "2018-11-10"], "give both --start and --end, or neither"),
        (["--node-type", "dc1.large"], "unknown node type 'dc1.large': choose one of dc2.large"),
        (["--port", "80"], "--port: input should be greater than or equal to 1150"),
        (["--port", "70000"], "--port: input should be less than or equal to 65535"),
        (["--number-of-nodes", "0"], "--number-of-nodes: input should be greater than or equal to 1"),
        (["--max-errors", "-1"], "--max-errors: input should be greater than or equal to 0"),
        (["--allow-cidr", "everyone"], "--allow-cidr 'everyone' is not a CIDR"),
        (["--allow-cidr", "0.0.0.0/0"], "admits the whole internet to the cluster port; pass --allow-any-ip"),
        (["--allow-cidr", "10.0.0.0/8", "--allow-any-ip"], "--allow-any-ip and --allow-cidr contradict"),
    ],
)
def test_invalid_parameter_is_rejected(args: list[str], rule: str, aws: str, capsys: pytest.CaptureFixture) -> None:
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("sparkify: invalid parameter: ")
    assert rule in err
    assert err.count("\n") == 1
    assert leftovers(aws) == NOTHING


def test_data_dir_without_the_source_layout(tmp_path: Path, aws: str, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "song_data").mkdir()
    assert main(["--data-dir", str(tmp_path)]) == 2
    assert f"data dir {tmp_path} lacks log_data/" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Short1", "be 8-64 characters long"),
        ("alllowercase1", "contain an upper-case letter"),
        ("ALLUPPERCASE1", "contain a lower-case letter"),
        ("NoDigitsHere", "contain a digit"),
        ("With space1A", "use printable ASCII"),
    ],
)
def test_secret_block_password_breaking_the_policy(
    password: str, rule: str, aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """The password is checked before any resource exists, and never echoed."""
    from prefect.blocks.system import Secret

    Secret(value=password).save("bad-master-password", overwrite=True)
    monkeypatch.setenv("SPARKIFY_STATE_DIR", str(tmp_path / "state"))

    assert main(["--password-secret-block", "bad-master-password"]) == 1

    err = capsys.readouterr().err
    assert "Secret block 'bad-master-password': the master password breaks Redshift's policy" in err
    assert rule in err
    assert password not in err
    assert leftovers(aws) == NOTHING


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
