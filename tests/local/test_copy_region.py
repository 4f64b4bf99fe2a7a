"""The twin's COPY is as strict as Redshift about regions: with REGION, every file it reads, the
manifest included, must be in that region; without it, in the cluster's (the client's) region
(Developer Guide, COPY, "Data source parameters": REGION)."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from core.load_errors import CopyError
from local.engine import LocalEngine
from tests.support import client

SONG = {"song_id": "S1", "title": "A song", "artist_id": "AR1", "year": 2000, "duration": 200.5}


@pytest.fixture
def table(pg: psycopg.Connection) -> psycopg.Connection:
    pg.execute("CREATE TABLE songs (song_id TEXT, title TEXT, artist_id TEXT, year INT, duration FLOAT)")
    return pg


def bucket(aws: str, name: str, region: str, objects: dict[str, bytes]) -> Any:
    s3 = client(aws, "s3", region)
    location = {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    s3.create_bucket(Bucket=name, **location)
    for key, body in objects.items():
        s3.put_object(Bucket=name, Key=key, Body=body)
    return s3


def manifest(*urls: str) -> bytes:
    return json.dumps({"entries": [{"url": url, "mandatory": True} for url in urls]}).encode()


def copy(table: psycopg.Connection, s3: Any, source: str, region: str | None) -> Any:
    region_option = f" REGION '{region}'" if region else ""
    return LocalEngine(lambda: s3).execute(
        table, f"COPY songs FROM '{source}' IAM_ROLE 'arn:aws:iam::123456789012:role/r'{region_option}"
        " FORMAT AS JSON 'auto' MANIFEST"
    )


def test_a_copy_across_regions_reads_through_region(aws: str, table: psycopg.Connection) -> None:
    """The cluster in us-east-1, the source and its manifest in us-west-2: REGION 'us-west-2' loads."""
    bucket(aws, "source-oregon", "us-west-2", {"song_data/s.json": json.dumps(SONG).encode()})
    bucket(aws, "manifests-oregon", "us-west-2", {"m": manifest("s3://source-oregon/song_data/s.json")})
    cluster_side = client(aws, "s3", "us-east-1")

    assert copy(table, cluster_side, "s3://manifests-oregon/m", "us-west-2").rows == 1


def test_without_region_the_files_must_be_in_the_clusters_region(aws: str, table: psycopg.Connection) -> None:
    bucket(aws, "source-oregon", "us-west-2", {"song_data/s.json": json.dumps(SONG).encode()})
    bucket(aws, "manifests-oregon", "us-west-2", {"m": manifest("s3://source-oregon/song_data/s.json")})

    with pytest.raises(CopyError, match="COPY reads from us-east-1, but s3://manifests-oregon/m is in us-west-2"):
        copy(table, client(aws, "s3", "us-east-1"), "s3://manifests-oregon/m", None)


def test_with_region_the_manifest_must_be_there_too(aws: str, table: psycopg.Connection) -> None:
    """The mistake the pipeline made before: REGION names the source's region, the manifest is elsewhere."""
    bucket(aws, "source-oregon", "us-west-2", {"song_data/s.json": json.dumps(SONG).encode()})
    bucket(aws, "manifests-virginia", "us-east-1", {"m": manifest("s3://source-oregon/song_data/s.json")})

    with pytest.raises(CopyError, match="s3://manifests-virginia/m is in us-east-1: name us-east-1 in REGION"):
        copy(table, client(aws, "s3", "us-east-1"), "s3://manifests-virginia/m", "us-west-2")
    assert table.execute("SELECT count(*) FROM songs").fetchone() == (0,)
