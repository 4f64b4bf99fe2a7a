"""The flow end to end on the local target: moto's server, embedded PostgreSQL, Prefect's harness."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from bench.expected import expected_counts
from flows.sparkify import main
from local.postgres import start_postgres
from tests.support import NOTHING, SAMPLE, cut_a_line, leftovers, read_artifact, run, sample_copy, upload_data_dir

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


def kept_rows(state: Path, cluster_id: str = "sparkify-dwh") -> dict[str, int]:
    """Row counts of the final tables in a warehouse a --keep-cluster run left, read as the superuser."""
    server = start_postgres(state / "pgdata")
    try:
        with psycopg.connect(**{**server.superuser_dsn(), "dbname": cluster_id}) as conn:
            return {
                table: conn.execute(sql.SQL("SELECT COUNT(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]
                for table in ("songplays", "users", "songs", "artists", "time")
            }
    finally:
        # Left running as the kept run left it; the teardown after adopts and stops it.
        server.detach()


def break_song_file(data: Path) -> str:
    song = next((data / "song_data").rglob("*.json"))
    song.write_text("this is not JSON\n")
    return f"{song.name} line 1"


def empty_event_file(data: Path) -> str:
    (data / "log_data" / "2018" / "11" / "2018-11-30-events.json").write_bytes(b"")
    return "2018-11-30-events.json is a zero-byte object, an empty file"


def no_event_files(data: Path) -> str:
    shutil.rmtree(data / "log_data")
    (data / "log_data").mkdir()
    return "s3://udacity-dend/log_data/ holds no objects"


def jsonpaths_not_json(data: Path) -> str:
    (data / "log_json_path.json").write_text('{"jsonpaths": ["$.artist",')
    return "log_json_path.json is not valid JSON"


@pytest.mark.parametrize(
    ("spoil", "at_copy"),
    [(cut_a_line, True), (break_song_file, True), (empty_event_file, False), (no_event_files, False),
     (jsonpaths_not_json, False)],
    ids=["malformed-log-line", "song-not-json", "empty-file", "no-objects", "jsonpaths-not-json"],
)
def test_bad_input_fails_clearly_and_loads_nothing(isolated: Path, aws: str, spoil, at_copy: bool) -> None:
    """Each bad input ends the run with one sentence naming it, no final rows, and nothing left.

    COPY finds some; the others are found by surveying the sources, before anything is created.
    """
    data = sample_copy(isolated)
    expected = spoil(data)

    code, summary = run("--data-dir", str(data), "--keep-cluster", tmp=isolated)

    assert code == 1
    assert summary["status"] == "failed"
    assert expected in summary["error"]
    assert "\n" not in summary["error"]
    if at_copy:
        assert set(kept_rows(isolated / "state").values()) == {0}
    else:
        assert leftovers(aws) == NOTHING
    assert main(["teardown"]) == 0
    assert leftovers(aws) == NOTHING
    assert not (isolated / "state" / "pgdata" / "postmaster.pid").exists()


def test_max_errors_skips_the_cut_line_and_reports_it(isolated: Path, aws: str) -> None:
    """--max-errors 1: the run completes without the broken record, which the summary and report name."""
    data = sample_copy(isolated)
    where = cut_a_line(data)

    code, summary = run("--data-dir", str(data), "--max-errors", "1", tmp=isolated)

    assert code == 0, summary
    assert summary["tables"]["staging_events"] == expected_counts(SAMPLE)["tables"]["staging_events"] - 1
    [skipped] = summary["load_errors"]
    assert f"{skipped['filename'].rsplit('/', 1)[1]} line {skipped['line_number']}" == where
    assert "Invalid JSON" in skipped["err_reason"]
    report = read_artifact(summary["flow_run_id"], "sparkify-report-adhoc-local")
    assert f"{where}: Invalid JSON" in report
    assert leftovers(aws) == NOTHING


def test_zero_byte_folder_key_fails_before_provisioning(
    isolated: Path, aws: str, s3, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A console 'folder' under the events prefix in a real bucket: the AWS target stops before creating anything."""
    upload_data_dir(s3, "udacity-dend", SAMPLE, ("song_data", "log_data"), ("log_json_path.json",))
    s3.put_object(Bucket="udacity-dend", Key="log_data/2018/12/", Body=b"")
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")

    code, summary = run("--target", "aws", "--allow-cidr", "127.0.0.1/32", tmp=isolated)

    assert code == 1
    assert "s3://udacity-dend/log_data/2018/12/ is a zero-byte object, a console 'folder' marker" in summary["error"]
    assert leftovers(aws) == NOTHING


def test_invalid_data_dir_is_rejected_before_any_call(isolated: Path, aws: str, capsys: pytest.CaptureFixture) -> None:
    (isolated / "empty").mkdir()
    assert main(["--data-dir", str(isolated / "empty")]) == 2
    assert "lacks song_data/ and log_data/" in capsys.readouterr().err
    assert leftovers(aws) == NOTHING
