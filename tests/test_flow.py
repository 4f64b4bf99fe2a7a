"""The flow end to end on the local target: moto's server, embedded PostgreSQL, Prefect's harness."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from flows.sparkify import main
from tests.support import SAMPLE, client
from tests.expected import expected_counts

# The figures for the bundled sample; the same numbers must also come out of the data.
SAMPLE_FIGURES = {
    "tables": {
        "staging_events": 8056,
        "staging_songs": 71,
        "songplays": 6820,
        "users": 97,
        "songs": 71,
        "artists": 69,
        "time": 6813,
    },
    "songplays_matched": 1,
    "users_by_level": {"free": 75, "paid": 22},
}


@pytest.fixture
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aws: str) -> Path:
    """Keep the run's warehouse and report under tmp_path; start from a clean moto state."""
    monkeypatch.setenv("SPARKIFY_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("SPARKIFY_RESULTS_DIR", str(tmp_path / "results"))
    return tmp_path


def leftovers(endpoint: str) -> dict[str, list[str]]:
    """What the run created that still exists in moto (the source bucket is the emulated input)."""
    iam, redshift, ec2, s3 = (client(endpoint, s) for s in ("iam", "redshift", "ec2", "s3"))
    return {
        "roles": [r["RoleName"] for r in iam.list_roles()["Roles"]],
        "clusters": [c["ClusterIdentifier"] for c in redshift.describe_clusters()["Clusters"]],
        "security_groups": [g["GroupName"] for g in ec2.describe_security_groups()["SecurityGroups"] if g["GroupName"] != "default"],
        "buckets": [b["Name"] for b in s3.list_buckets()["Buckets"] if b["Name"] != "udacity-dend"],
    }


NOTHING = {"roles": [], "clusters": [], "security_groups": [], "buckets": []}


def run(*args: str, tmp: Path) -> tuple[int, dict]:
    summary = tmp / "summary.json"
    code = main([*args, "--summary-json", str(summary)])
    return code, json.loads(summary.read_text())


def test_sample_end_to_end(isolated: Path, aws: str) -> None:
    code, summary = run(tmp=isolated)

    assert code == 0, summary
    assert summary["status"] == "completed"
    got = {k: summary[k] for k in ("tables", "songplays_matched", "users_by_level")}
    assert got == expected_counts(SAMPLE)
    assert got == SAMPLE_FIGURES
    assert all(c["passed"] for c in summary["checks"])
    for files in summary["report"].values():
        assert Path(files["html"]).stat().st_size > 0
        assert Path(files["png"]).read_bytes().startswith(b"\x89PNG")
    assert leftovers(aws) == NOTHING
    # The embedded PostgreSQL was stopped: no postmaster is left behind.
    assert not (isolated / "state" / "pgdata" / "postmaster.pid").exists()


def test_other_dataset_gives_its_own_counts(isolated: Path, aws: str) -> None:
    """A subset of the sample (other counts) laid out the same way."""
    data = isolated / "data"
    for day in ("2018-11-05", "2018-11-21"):
        dest = data / "log_data" / "2018" / "11"
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLE / "log_data" / "2018" / "11" / f"{day}-events.json", dest)
    shutil.copytree(SAMPLE / "song_data" / "A" / "A", data / "song_data" / "A" / "A")
    shutil.copy(SAMPLE / "log_json_path.json", data)

    code, summary = run("--data-dir", str(data), tmp=isolated)

    assert code == 0, summary
    assert {k: summary[k] for k in ("tables", "songplays_matched", "users_by_level")} == expected_counts(data)
    assert summary["tables"]["staging_events"] < SAMPLE_FIGURES["tables"]["staging_events"]


def test_failure_in_a_middle_task_tears_down(isolated: Path, aws: str) -> None:
    """A malformed event line fails the events COPY, after provisioning: nothing is left."""
    data = isolated / "data"
    shutil.copytree(SAMPLE, data)
    broken = data / "log_data" / "2018" / "11" / "2018-11-07-events.json"
    lines = broken.read_text().splitlines(keepends=True)
    lines[2] = lines[2][: len(lines[2]) // 2] + "\n"
    broken.write_text("".join(lines))

    code, summary = run("--data-dir", str(data), tmp=isolated)

    assert code == 1
    assert summary["status"] == "failed"
    assert "2018-11-07-events.json line 3" in summary["error"]
    assert leftovers(aws) == NOTHING
    assert not (isolated / "state" / "pgdata" / "postmaster.pid").exists()


def test_invalid_data_dir_is_rejected_before_any_call(isolated: Path, aws: str, capsys: pytest.CaptureFixture) -> None:
    (isolated / "empty").mkdir()
    assert main(["--data-dir", str(isolated / "empty")]) == 2
    assert "lacks song_data/ and log_data/" in capsys.readouterr().err
    assert leftovers(aws) == NOTHING
