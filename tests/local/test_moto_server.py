"""local.moto_server: moto's process, shared by everything in one Python process, and its commands."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import requests

from local.moto_server import MotoProcessError, MotoServer, open_moto
from tests.support import client

ROOT = Path(__file__).resolve().parents[2]


def test_one_moto_process_serves_a_python_process_and_ends_with_its_last_user() -> None:
    # In a process of its own: this one's moto is held open by the session's fixture.
    script = textwrap.dedent("""
        import psutil
        from local.moto_server import open_moto
        first, second = open_moto(), open_moto()
        assert first is second and first.endpoint_url == second.endpoint_url
        moto = psutil.Process(first.pid)
        first.stop()
        assert moto.is_running(), "stopped while a user was left"
        second.stop()
        assert not moto.is_running(), "still running after its last user stopped it"
        assert open_moto().pid != first.pid, "a stopped server was handed out again"
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


def test_a_failed_command_names_its_cause_and_the_server_serves_on(moto: MotoServer, aws: str, tmp_path: Path) -> None:
    missing = tmp_path / "gone.json"
    with pytest.raises(MotoProcessError, match=f"FileNotFoundError: .*{missing}"):
        moto.call("fill", bucket="udacity-dend", region="us-west-2", files=[(str(missing), "song_data/gone.json")])
    (tmp_path / "here.json").write_text("{}")
    assert moto.call("fill", bucket="udacity-dend", region="us-west-2",
                     files=[(str(tmp_path / "here.json"), "song_data/here.json")]) == 1
    listed = client(aws, "s3").list_objects_v2(Bucket="udacity-dend")["Contents"]
    assert [o["Key"] for o in listed] == ["song_data/here.json"]
    assert open_moto() is moto
    moto.stop()  # the reference open_moto() just took


def keys(endpoint: str) -> list[str]:
    return [o["Key"] for o in client(endpoint, "s3").list_objects_v2(Bucket="udacity-dend").get("Contents", [])]


def test_a_fill_of_what_was_prefilled_waits_for_it_and_another_fill_replaces_it(
    moto: MotoServer, aws: str, tmp_path: Path
) -> None:
    files = []
    for name in ("a", "b", "c"):
        (tmp_path / f"{name}.json").write_text(f'{{"name": "{name}"}}')
        files.append((str(tmp_path / f"{name}.json"), f"song_data/{name}.json"))
    moto.call("prefill", bucket="udacity-dend", region="us-west-2", files=files)
    assert moto.call("fill", bucket="udacity-dend", region="us-west-2", files=files) == 3
    assert keys(aws) == [key for _, key in files]

    moto.call("prefill", bucket="udacity-dend", region="us-west-2", files=files)
    assert moto.call("fill", bucket="udacity-dend", region="us-west-2", files=files[:1]) == 1
    assert keys(aws) == [files[0][1]]  # the prefill ended first; the later fill decides


def test_a_failed_prefill_fails_the_fill_that_waits_for_it(moto: MotoServer, aws: str, tmp_path: Path) -> None:
    files = [(str(tmp_path / "gone.json"), "song_data/gone.json")]
    moto.call("prefill", bucket="udacity-dend", region="us-west-2", files=files)
    with pytest.raises(MotoProcessError, match="FileNotFoundError"):
        moto.call("fill", bucket="udacity-dend", region="us-west-2", files=files)


def test_a_fill_after_a_reset_fills_again_what_a_prefill_had_filled(
    moto: MotoServer, aws: str, tmp_path: Path
) -> None:
    (tmp_path / "a.json").write_text("{}")
    files = [(str(tmp_path / "a.json"), "song_data/a.json")]
    moto.call("prefill", bucket="udacity-dend", region="us-west-2", files=files)
    moto.call("prefill", bucket="udacity-dend", region="us-west-2", files=files)  # the later one counts
    time.sleep(0.5)  # the prefill is done
    requests.post(f"{aws}/moto-api/reset", timeout=10)
    assert moto.call("fill", bucket="udacity-dend", region="us-west-2", files=files) == 1
    assert keys(aws) == ["song_data/a.json"]
