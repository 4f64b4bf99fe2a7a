"""core.settings: one declaration per run parameter, read from arguments, then SPARKIFY_* variables."""

from __future__ import annotations

import gzip
import json
import re
from datetime import date
from pathlib import Path

import botocore
import pytest
from pydantic import ValidationError

from core.settings import Settings, run_parameters, settings_from


def test_every_setting_says_what_it_is() -> None:
    undescribed = [name for name, field in Settings.model_fields.items() if not field.description]
    assert undescribed == []


def test_flags_are_the_run_parameters_scheduled_runs_add_to() -> None:
    assert set(run_parameters(flags=True)) < set(run_parameters())
    assert set(run_parameters()) - set(run_parameters(flags=True)) == {"scheduled_day", "schedule_lag_days"}
    # Settings that only a deployment's environment sets are not run parameters.
    assert {"state_dir", "results_dir", "region", "wipe_warehouse"}.isdisjoint(run_parameters())


def test_an_argument_overrides_its_variable_which_overrides_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().port == Settings.model_fields["port"].default
    monkeypatch.setenv("SPARKIFY_PORT", "5440")
    monkeypatch.setenv("SPARKIFY_START", "2018-11-02")
    monkeypatch.setenv("SPARKIFY_END", "2018-11-03")
    assert Settings().port == 5440
    assert settings_from({"port": 5441, "start": None}).port == 5441
    # None is "not given": the variable still applies.
    assert settings_from({"start": None, "end": None}).start == date(2018, 11, 2)


def test_a_limit_is_enforced_wherever_the_value_comes_from(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARKIFY_NUMBER_OF_NODES", "0")
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        Settings()


def test_the_local_target_checks_the_data_dir_layout(tmp_path: Path) -> None:
    (tmp_path / "song_data").mkdir()
    with pytest.raises(ValidationError, match="lacks log_data/"):
        Settings(data_dir=tmp_path)
    assert Settings(target="aws", data_dir=tmp_path).data_dir == tmp_path  # the AWS target reads S3


def test_any_ip_becomes_the_admitted_cidr() -> None:
    assert Settings(allow_any_ip=True).allow_cidr == "0.0.0.0/0"
    assert Settings(allow_cidr="203.0.113.7").allow_cidr == "203.0.113.7/32"


def botocore_create_cluster_doc(member: str) -> str:
    """The documentation botocore ships for a CreateCluster parameter."""
    model = Path(botocore.__file__).parent / "data" / "redshift" / "2012-12-01" / "service-2.json.gz"
    shapes = json.loads(gzip.decompress(model.read_bytes()))["shapes"]
    return shapes["CreateClusterMessage"]["members"][member]["documentation"]


def test_the_default_is_a_node_type_aws_sells_single_node() -> None:
    """ra3.large is in botocore's valid NodeType values, and AWS's own SDK example creates it single-node."""
    settings = Settings()
    assert (settings.node_type, settings.number_of_nodes) == ("ra3.large", 1)
    assert "<code>ra3.large</code>" in botocore_create_cluster_doc("NodeType")


@pytest.mark.parametrize(
    ("retired", "replacement"),
    [("dc2.large", "ra3.large"), ("dc2.8xlarge", "ra3.4xlarge"), ("dc1.large", "ra3.large"),
     ("ds2.xlarge", "ra3.xlplus")],
)
def test_a_retired_node_type_is_refused_naming_its_replacement(retired: str, replacement: str) -> None:
    with pytest.raises(ValidationError, match=f"{retired} can no longer be ordered for new clusters") as refused:
        Settings(node_type=retired)
    assert str(refused.value.errors()[0]["msg"]).endswith(f": use {replacement}")


def test_ports_follow_botocores_documentation_for_ra3() -> None:
    """The ranges are parsed out of botocore's Port documentation, not copied from the product."""
    doc = botocore_create_cluster_doc("Port")
    ra3 = re.search(r"For clusters with RG or RA3 nodes - Select a port within the ranges (.*?)\.", doc).group(1)
    ranges = [(int(low), int(high)) for low, high in re.findall(r"(\d+)-(\d+)", ra3)]
    assert ranges == [(5431, 5455), (8191, 8215)]
    for node_type in ("ra3.large", "ra3.xlplus"):
        for low, high in ranges:
            assert Settings(node_type=node_type, port=low).port == low
            assert Settings(node_type=node_type, port=high).port == high
    for outside in (ranges[0][0] - 1, ranges[0][1] + 1, ranges[1][1] + 1, 1150):
        with pytest.raises(ValidationError, match=f"port {outside} is not allowed for ra3.large clusters: use "
                                                   "5431-5455 or 8191-8215"):
            Settings(port=outside)


def test_node_counts_follow_the_node_type() -> None:
    most = int(re.search(r"no more than (\d+)", botocore_create_cluster_doc("NumberOfNodes")).group(1))
    assert Settings(node_type="ra3.16xlarge", number_of_nodes=most).number_of_nodes == most
    with pytest.raises(ValidationError, match=f"less than or equal to {most}"):
        Settings(node_type="ra3.16xlarge", number_of_nodes=most + 1)
    with pytest.raises(ValidationError, match="ra3.4xlarge clusters have at least 2 nodes"):
        Settings(node_type="ra3.4xlarge")
    # The Management Guide's node range at creation: ra3.xlplus single-node or 2-16.
    assert Settings(node_type="ra3.xlplus", number_of_nodes=16).number_of_nodes == 16
    with pytest.raises(ValidationError, match="a new ra3.xlplus cluster has at most 16 nodes"):
        Settings(node_type="ra3.xlplus", number_of_nodes=17)


def test_a_misspelt_region_is_refused_before_any_call() -> None:
    assert Settings(region="eu-west-1").region == "eu-west-1"
    with pytest.raises(ValidationError, match="region 'us-weest-2' is not a region where botocore knows Redshift"):
        Settings(region="us-weest-2")
    with pytest.raises(ValidationError, match="did you mean us-west-2"):
        Settings(region="us-weest-2")
