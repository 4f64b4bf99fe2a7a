"""Invalid parameters are rejected before Prefect, moto or AWS is touched, naming the rule."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import run_parameters
from flows.cli import main
from tests.support import NOTHING, leftovers


@pytest.mark.parametrize(
    ("args", "rule"),
    [
        (["--cluster-id", "Sparkify"], "cluster id 'Sparkify' breaks AWS's rules"),
        (["--cluster-id", "sparkify--dwh"], "avoid '--'"),
        (["--cluster-id", "1sparkify"], "start with a letter"),
        (["--cluster-id", "a" * 64], "1-63 lower-case letters"),
        (
            ["--cluster-id", "a" * 40],
            "is too long for the manifest bucket's name in us-west-2: use at most 27 characters",
        ),
        (["--start", "2018-11-10", "--end", "2018-11-01"], "--start 2018-11-10 is after --end 2018-11-01"),
        (["--start", "2018-11-10"], "give both --start and --end, or neither"),
        (["--node-type", "dc1.large"], "dc1.large can no longer be ordered for new clusters: use ra3.large"),
        (["--node-type", "rg.xlarge"], "unknown node type 'rg.xlarge': choose one of ra3.large"),
        (["--port", "80"], "--port: input should be greater than or equal to 1150"),
        (["--port", "70000"], "--port: input should be less than or equal to 65535"),
        (["--port", "5456"], "port 5456 is not allowed for ra3.large clusters: use 5431-5455 or 8191-8215"),
        (["--number-of-nodes", "0"], "--number-of-nodes: input should be greater than or equal to 1"),
        (["--number-of-nodes", "101", "--node-type", "ra3.16xlarge"], "less than or equal to 100"),
        (["--node-type", "ra3.16xlarge"], "ra3.16xlarge clusters have at least 2 nodes"),
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


def test_every_run_parameter_is_a_flag_with_its_help_and_the_readme_lists_it(capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    table = readme[readme.index("## Configuration") : readme.index("Every setting can also come")]
    for name, field in run_parameters(flags=True).items():
        flag = "--" + name.replace("_", "-")
        assert f"{flag} " in help_text and field.description in help_text, name
        assert f"`{flag}" in table, f"README's configuration table lacks {flag}"


def test_a_flag_overrides_its_variable(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture) -> None:
    monkeypatch.setenv("SPARKIFY_NUMBER_OF_NODES", "3")
    assert main(["--target", "aws", "--plan", "--allow-cidr", "203.0.113.7/32"]) == 0
    assert "3 x " in capsys.readouterr().out
    assert main(["--target", "aws", "--plan", "--allow-cidr", "203.0.113.7/32", "--number-of-nodes", "2"]) == 0
    assert "2 x " in capsys.readouterr().out


def test_a_misspelt_region_exits_2_before_anything_is_contacted(
    monkeypatch: pytest.MonkeyPatch, aws: str, capsys: pytest.CaptureFixture
) -> None:
    monkeypatch.setenv("SPARKIFY_REGION", "us-weest-2")
    assert main(["--target", "aws"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("sparkify: invalid parameter: region 'us-weest-2' is not a region where botocore knows")
    assert "did you mean us-west-2" in err and err.count("\n") == 1
    assert leftovers(aws) == NOTHING
