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
