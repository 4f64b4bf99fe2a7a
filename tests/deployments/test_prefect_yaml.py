"""deployments/prefect.yaml: every deployment's entrypoint loads, and its parameters are the flow's."""

from __future__ import annotations

from pathlib import Path

import yaml
from prefect.flows import load_flow_from_entrypoint

ROOT = Path(__file__).resolve().parents[2]


def test_every_deployment_loads_its_flow_with_valid_parameters() -> None:
    config = yaml.safe_load((ROOT / "deployments" / "prefect.yaml").read_text())
    assert config["deployments"]
    for deployment in config["deployments"]:
        flow = load_flow_from_entrypoint(str(ROOT / deployment["entrypoint"]))
        flow.validate_parameters(deployment.get("parameters", {}))  # raises on a bad one
        assert set(deployment.get("parameters", {})) <= set(flow.parameters.properties), deployment["name"]
