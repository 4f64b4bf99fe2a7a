"""The flow end to end on the local target: moto's server, embedded PostgreSQL, Prefect's harness."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from psycopg import sql

from bench.expected import expected_counts
from flows.cli import main
from tests.support import (
    NOTHING,
    SAMPLE,
    cut_a_line,
    leftovers,
    local_warehouse,
    read_artifact,
    run,
    sample_copy,
    upload_data_dir,
)

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


def test_sample_end_to_end(isolated: Path, aws: str, capsys: pytest.CaptureFixture) -> None:
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
    # The run ends with its summary table on stdout.
    table = dict(line.split("  ", 1) for line in capsys.readouterr().out.splitlines() if "  " in line)
    assert {k: v.strip() for k, v in table.items() if k.startswith("rows in ")} == {
        f"rows in {t}": f"{n:,}" for t, n in SAMPLE_FIGURES["tables"].items()
    }
    assert table["songplays matched to a song"].strip() == f"1 of {SAMPLE_FIGURES['tables']['songplays']:,}"
    assert table["checks"].strip() == f"{len(summary['checks'])} passed, 0 failed"
    assert table["report"].strip() == str(isolated / "results")
    assert "sparkify-summary-adhoc-local" in table["artifacts"]
    assert table["duration"].strip().endswith(" s")


def subset(data: Path) -> Path:
    """Two days of the sample's events and a quarter of its song files: other counts, same layout."""
    for day in ("2018-11-05", "2018-11-21"):
        dest = data / "log_data" / "2018" / "11"
        dest.mkdir(parents=True, exist_ok=True)
        shutil.copy(SAMPLE / "log_data" / "2018" / "11" / f"{day}-events.json", dest)
    shutil.copytree(SAMPLE / "song_data" / "A" / "A", data / "song_data" / "A" / "A")
    return data


def test_switching_data_dirs_never_mixes_datasets(isolated: Path, aws: str) -> None:
    """Dataset A, then the sample, then A again, into one state dir: each run gives its own source's counts."""
    other = subset(isolated / "other")
    for data in (other, SAMPLE, other):
        code, summary = run("--data-dir", str(data), tmp=isolated)
        assert code == 0, summary
        assert {k: summary[k] for k in ("tables", "songplays_matched", "users_by_level")} == expected_counts(data)


def test_a_full_run_rebuilds_every_table_from_the_current_files(isolated: Path, aws: str) -> None:
    """Song files and event days removed from a source leave its warehouse on the next full run,
    dimensions included, as on a new cluster."""
    data = sample_copy(isolated)
    assert run("--data-dir", str(data), tmp=isolated)[0] == 0
    shutil.rmtree(data / "song_data" / "A" / "B")
    for day in ("01", "02", "03"):
        (data / "log_data" / "2018" / "11" / f"2018-11-{day}-events.json").unlink()

    code, summary = run("--data-dir", str(data), tmp=isolated)

    assert code == 0, summary
    assert {k: summary[k] for k in ("tables", "songplays_matched", "users_by_level")} == expected_counts(data)
    assert summary["tables"]["songs"] < SAMPLE_FIGURES["tables"]["songs"]


def test_a_warehouse_from_before_the_songplays_columns_gets_them(isolated: Path, aws: str) -> None:
    """A kept warehouse whose songplays predates song_title and artist_name: the next run adds them."""
    assert run("--keep-cluster", tmp=isolated)[0] == 0
    with local_warehouse(isolated / "state") as conn:
        conn.execute("ALTER TABLE songplays DROP COLUMN song_title, DROP COLUMN artist_name")

    code, summary = run(tmp=isolated)

    assert code == 0, summary
    assert summary["tables"] == SAMPLE_FIGURES["tables"]
    with local_warehouse(isolated / "state") as conn:
        titled = conn.execute("SELECT COUNT(song_title) FROM songplays").fetchone()[0]
    assert titled == SAMPLE_FIGURES["tables"]["songplays"]


def test_other_dataset_gives_its_own_counts(isolated: Path, aws: str) -> None:
    """A subset of the sample (other counts) holding only song_data/ and log_data/: the project's own
    JSONPaths file maps the events."""
    data = subset(isolated / "data")
    assert sorted(p.name for p in data.iterdir()) == ["log_data", "song_data"]

    code, summary = run("--data-dir", str(data), tmp=isolated)

    assert code == 0, summary
    assert {k: summary[k] for k in ("tables", "songplays_matched", "users_by_level")} == expected_counts(data)
    assert summary["tables"]["staging_events"] < SAMPLE_FIGURES["tables"]["staging_events"]


def kept_rows(state: Path, data: Path) -> dict[str, int]:
    """Row counts of the final tables in the warehouse of `data` a --keep-cluster run left, read as the superuser."""
    with local_warehouse(state, data) as conn:
        return {
            table: conn.execute(sql.SQL("SELECT COUNT(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]
            for table in ("songplays", "users", "songs", "artists", "time")
        }


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


@pytest.mark.parametrize(
    ("spoil", "at_copy"),
    [(cut_a_line, True), (break_song_file, True), (empty_event_file, False), (no_event_files, False)],
    ids=["malformed-log-line", "song-not-json", "empty-file", "no-objects"],
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
        assert set(kept_rows(isolated / "state", data).values()) == {0}
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
    upload_data_dir(s3, "udacity-dend", SAMPLE, ("song_data", "log_data"))
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
