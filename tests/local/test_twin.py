"""local.twin: moto's server and the embedded PostgreSQL as one twin; the source bucket filled from a folder."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import psycopg
import pytest

from local.source_bucket import data_files
from local.twin import LocalTwin
from tests.support import SAMPLE, client, sample_copy, upload_data_dir


def test_the_twin_backs_a_cluster_with_a_database(tmp_path: Path) -> None:
    stack = LocalTwin(tmp_path / "state", "us-west-2")
    try:
        dsn = stack.back_cluster("my-cluster", "admin_user", "Secret123")
        with psycopg.connect(**dsn, password="Secret123") as conn:
            assert conn.execute("SELECT current_database(), current_user").fetchone() == ("my-cluster", "admin_user")
        stack.drop_cluster_database("my-cluster")
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(**dsn, password="Secret123")
    finally:
        stack.stop()


def test_upload_fills_the_source_bucket_from_the_data_dir(s3) -> None:
    count = upload_data_dir(s3, "udacity-dend", SAMPLE, ("song_data", "log_data"))
    keys = [
        o["Key"] for p in s3.get_paginator("list_objects_v2").paginate(Bucket="udacity-dend") for o in p["Contents"]
    ]
    on_disk = [p for p in SAMPLE.rglob("*") if p.is_file()]
    assert count == len(keys) == len(on_disk)
    assert sum(k.startswith("song_data/") for k in keys) == len(list((SAMPLE / "song_data").rglob("*.json")))


def test_fill_bucket_serves_the_data_dir_through_the_s3_api(tmp_path: Path) -> None:
    """Files put through moto's backend are listed and read back over HTTP like uploaded ones."""
    data = sample_copy(tmp_path)
    (data / "paths.json").write_text('{"jsonpaths": []}')
    stack = LocalTwin(tmp_path / "state", "us-west-2")
    try:
        files = data_files(data, ("song_data", "log_data"), ("paths.json", "no_such_file.json"))
        assert files[-1][1] == "paths.json"  # an extra key that exists; the missing one is left out
        assert stack.fill_bucket("udacity-dend", "us-west-2", files) == len(files)
        s3 = client(stack.endpoint_url, "s3")
        listed = {
            o["Key"]: o
            for p in s3.get_paginator("list_objects_v2").paginate(Bucket="udacity-dend")
            for o in p["Contents"]
        }
        assert sorted(listed) == sorted(key for _, key in files)
        path, key = files[-1]
        assert s3.get_object(Bucket="udacity-dend", Key=key)["Body"].read() == path.read_bytes()
        assert listed[key]["ETag"].strip('"') == hashlib.md5(path.read_bytes()).hexdigest()
        # A second fill in the same process's moto keeps the bucket and mirrors the new files alone.
        assert stack.fill_bucket("udacity-dend", "us-west-2", files[:1]) == 1
        [only] = s3.list_objects_v2(Bucket="udacity-dend")["Contents"]
        assert only["Key"] == files[0][1]
    finally:
        stack.stop()


def test_fill_bucket_reads_a_data_dir_relative_to_the_callers_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """moto's process works in the project's folder; a relative --data-dir is the caller's."""
    data = sample_copy(tmp_path)
    monkeypatch.chdir(data.parent)
    stack = LocalTwin(tmp_path / "state", "us-west-2")
    try:
        files = data_files(Path(data.name), ("song_data",), ())
        assert not files[0][0].is_absolute()
        assert stack.fill_bucket("udacity-dend", "us-west-2", files) == len(files)
        body = client(stack.endpoint_url, "s3").get_object(Bucket="udacity-dend", Key=files[0][1])["Body"].read()
        assert body == files[0][0].read_bytes()
    finally:
        stack.stop()


def test_rows_deleted_in_a_backed_database_are_reclaimed_before_postgres_stops(tmp_path: Path) -> None:
    """As Redshift's automatic vacuum does: reruns delete and rebuild rows, and would otherwise grow the tables."""
    twin = LocalTwin(tmp_path / "state", "us-west-2")
    try:
        dsn = twin.back_cluster("my-cluster", "admin_user", "Secret123")
        with psycopg.connect(**dsn, password="Secret123", autocommit=True) as conn:
            conn.execute("CREATE TABLE plays (n INT)")
            conn.execute("INSERT INTO plays SELECT generate_series(1, 1000)")
            conn.execute("DELETE FROM plays WHERE n > 10")
        # A backend reports its counts when it ends, shortly after its client closed; the twin
        # vacuums what the counts show.
        with twin.superuser("my-cluster") as conn:
            deadline = time.monotonic() + 10
            while not conn.execute("SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'plays'").fetchone()[0]:
                assert time.monotonic() < deadline
                time.sleep(0.05)
    finally:
        twin.stop()
    again = LocalTwin(tmp_path / "state", "us-west-2")
    try:
        with again.superuser("my-cluster") as conn:
            vacuums, dead = conn.execute(
                "SELECT vacuum_count, n_dead_tup FROM pg_stat_user_tables WHERE relname = 'plays'"
            ).fetchone()
            assert conn.execute("SELECT COUNT(*) FROM plays").fetchone() == (10,)
    finally:
        again.stop()
    assert (vacuums, dead) == (1, 0)
