"""Fixtures of the local twin's tests: a source bucket in moto, and a spy on the columnar path."""

from __future__ import annotations

from typing import Any

import pytest

from local.copy.columnar import ColumnarLoader
from tests.local.copying import BUCKET, REGION


@pytest.fixture
def bucket(s3: Any) -> Any:
    """The `s3` client with an empty source bucket in us-west-2."""
    s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    return s3


@pytest.fixture
def vouched(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Whether the columnar path took each chunk it was offered, in order."""
    taken: list[bool] = []
    convert = ColumnarLoader.convert

    def spy(self: ColumnarLoader, chunk: bytes) -> Any:
        result = convert(self, chunk)
        taken.append(result is not None)
        return result

    monkeypatch.setattr(ColumnarLoader, "convert", spy)
    return taken
