"""Helpers shared by tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3

SAMPLE = Path(__file__).resolve().parent.parent / "data" / "sample"


def client(endpoint: str, service: str, region: str = "us-west-2") -> Any:
    """A boto3 client on the test's moto server."""
    return boto3.client(
        service, endpoint_url=endpoint, region_name=region, aws_access_key_id="local", aws_secret_access_key="local"
    )


def read_artifact(flow_run_id: str, key: str) -> str:
    """The data of the artifact `key` that the flow run published, from Prefect's API."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey, FlowRunFilter, FlowRunFilterId

    with get_client(sync_client=True) as prefect:
        [artifact] = prefect.read_artifacts(
            artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])),
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[flow_run_id])),
        )
    return str(artifact.data)
