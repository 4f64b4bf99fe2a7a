"""tasks.sources: the survey of the source bucket, on moto's S3, before anything is created."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from prefect.logging import disable_run_logger

from core.settings import Settings
from core.target import AwsTarget
from core.window import Window
from tasks.sources import PROJECT_JSONPATHS, survey_sources
from tests.support import SAMPLE, upload_data_dir


@pytest.fixture
def target(aws: str, s3: Any, monkeypatch: pytest.MonkeyPatch) -> AwsTarget:
    """The AWS target on moto's server, whose source bucket holds the sample."""
    upload_data_dir(s3, "udacity-dend", SAMPLE, ("song_data", "log_data"))
    for name, value in {"AWS_ENDPOINT_URL": aws, "AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s"}.items():
        monkeypatch.setenv(name, value)
    return AwsTarget(Settings(target="aws"))


def survey(target: AwsTarget, window: Window | None = None) -> Any:
    with disable_run_logger():
        return survey_sources.fn(target, window or Window())


def test_the_survey_lists_every_song_file_and_the_windows_event_files(target: AwsTarget) -> None:
    everything = survey(target)
    assert len(everything.songs) == len(list((SAMPLE / "song_data").rglob("*.json")))
    assert len(everything.events) == len(list((SAMPLE / "log_data").rglob("*.json")))
    one_day = survey(target, Window(date(2018, 11, 5), date(2018, 11, 5)))
    assert [o.key for o in one_day.events] == ["log_data/2018/11/2018-11-05-events.json"]
    assert one_day.songs_signature() == everything.songs_signature()


def test_a_rewritten_song_file_changes_the_signature(target: AwsTarget, s3: Any) -> None:
    before = survey(target).songs_signature()
    key = survey(target).songs[0].key
    s3.put_object(Bucket="udacity-dend", Key=key, Body=json.dumps({"song_id": "changed"}).encode())
    assert survey(target).songs_signature() != before


@pytest.mark.parametrize(
    ("key", "body", "message"),
    [
        ("log_data/2018/12/", b"", "is a zero-byte object, a console 'folder' marker"),
        ("song_data/A/A/A/empty.json", b"", "is a zero-byte object, an empty file"),
    ],
)
def test_what_copy_could_not_use_fails_the_survey(
    target: AwsTarget, s3: Any, key: str, body: bytes, message: str
) -> None:
    s3.put_object(Bucket="udacity-dend", Key=key, Body=body)
    with pytest.raises(ValueError, match=message):
        survey(target)


def test_the_projects_jsonpaths_serve_a_source_without_one(target: AwsTarget) -> None:
    assert survey(target).jsonpaths == PROJECT_JSONPATHS.read_bytes()


def test_a_sources_own_jsonpaths_file_is_read_and_checked(target: AwsTarget, s3: Any) -> None:
    own = target.with_settings(log_jsonpaths_key="config/paths.json")
    body = json.dumps({"jsonpaths": [f"$.{c}" for c in ("artist", "auth")]}).encode()
    s3.put_object(Bucket="udacity-dend", Key="config/paths.json", Body=body)
    assert survey(own).jsonpaths == body
    s3.put_object(Bucket="udacity-dend", Key="config/paths.json", Body=b'{"jsonpaths": [')
    with pytest.raises(ValueError, match="config/paths.json is not valid JSON"):
        survey(own)


def test_a_missing_jsonpaths_file_names_the_setting(target: AwsTarget) -> None:
    with pytest.raises(ValueError, match="s3://udacity-dend/missing.json does not exist.*SPARKIFY_LOG_JSONPATHS_KEY"):
        survey(target.with_settings(log_jsonpaths_key="missing.json"))
