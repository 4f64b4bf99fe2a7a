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
        assert f"SPARKIFY_{name.upper()}" in properties[name]["description"]
    port = properties["port"]["anyOf"][0]
    limits = {type(m).__name__: m for m in Settings.model_fields["port"].metadata}
    assert (port["minimum"], port["maximum"]) == (limits["Ge"].ge, limits["Le"].le)
    assert f"default {Settings.model_fields['port'].default}" in properties["port"]["description"]
    assert properties["node_type"]["anyOf"][0]["enum"] == list(Settings.model_fields["node_type"].annotation.__args__)
    assert properties["target"]["anyOf"][0]["enum"] == ["local", "aws"]
    # Switches are booleans with their default; the rest are empty unless given.
    assert properties["keep_cluster"] == {**properties["keep_cluster"], "type": "boolean", "default": False}
    assert properties["port"]["default"] is None


def test_a_parameter_the_flow_is_given_is_validated_by_its_declaration() -> None:
    with pytest.raises(ParameterTypeError, match="greater than or equal to 1150"):
        sparkify_etl.validate_parameters({"port": 80})
    assert sparkify_etl.validate_parameters({"port": "5440"})["port"] == 5440
