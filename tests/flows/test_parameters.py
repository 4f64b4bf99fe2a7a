"""flows.parameters: the flow's signature and its deployment schema are generated from core.settings."""

from __future__ import annotations

import inspect

import pytest
from prefect.exceptions import ParameterTypeError
from prefect.utilities.callables import parameter_schema

from core.settings import Settings, run_parameters
from flows.sparkify import sparkify_etl


def test_the_flow_takes_exactly_the_run_parameters_in_order() -> None:
    assert list(inspect.signature(sparkify_etl).parameters) == list(run_parameters())


def test_the_schema_carries_each_parameters_description_limits_and_default() -> None:
    properties = parameter_schema(sparkify_etl).model_dump()["properties"]
    for name, field in run_parameters().items():
        assert properties[name]["description"].startswith(field.description), name
    port = properties["port"]
    limits = {type(m).__name__: m for m in Settings.model_fields["port"].metadata}
    assert (port["minimum"], port["maximum"]) == (limits["Ge"].ge, limits["Le"].le)
    # A value default fills the form; one without (or a path of the deploying machine) leaves it empty.
    assert port["default"] == Settings.model_fields["port"].default
    assert properties["keep_cluster"]["default"] is False and properties["keep_cluster"]["type"] == "boolean"
    assert properties["node_type"]["enum"] == list(Settings.model_fields["node_type"].annotation.__args__)
    assert properties["target"]["enum"] == ["local", "aws"]
    for name in ("data_dir", "start", "allow_cidr"):
        assert properties[name]["default"] is None, name
        assert f"if empty: SPARKIFY_{name.upper()} if set" in properties[name]["description"], name


def test_a_parameter_the_flow_is_given_is_validated_by_its_declaration() -> None:
    with pytest.raises(ParameterTypeError, match="greater than or equal to 1150"):
        sparkify_etl.validate_parameters({"port": 80})
    assert sparkify_etl.validate_parameters({"port": "5440"})["port"] == 5440
