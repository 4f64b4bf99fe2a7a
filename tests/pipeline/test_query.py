"""`python flows/sparkify.py query`: Redshift SQL on the persisted local warehouse, through the same layer
as the pipeline's SQL; what Redshift refuses fails with the rule's sentence."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.expected import expected_counts
from flows.cli import main
from local.postgres import data_directory
from tests.support import SAMPLE


@pytest.fixture
def warehouse(sample_warehouse: tuple[Path, dict[str, Any]]) -> Path:
    """A state dir whose local warehouse holds the sample, as a run leaves it."""
    return sample_warehouse[0]


def query(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, *args: str
) -> tuple[int, str, str]:
    monkeypatch.setenv("SPARKIFY_STATE_DIR", str(warehouse))
    code = main(["query", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_a_query_prints_its_rows(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    code, out, _ = query(
        warehouse, monkeypatch, capsys, "SELECT level, COUNT(*) AS users FROM users GROUP BY 1 ORDER BY 1"
    )
    assert code == 0
    rows = [line.strip("│ ").split("┆") for line in out.splitlines() if line.startswith("│")]
    got = {level.strip(): int(users) for level, users in rows[1:]}
    assert got == expected_counts(SAMPLE)["users_by_level"]


def test_staging_outlives_the_run_that_stopped_its_postgres(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """staging_events is BACKUP NO, an unlogged table locally: a clean stop of PostgreSQL keeps its rows."""
    assert not (data_directory(warehouse) / "postmaster.pid").exists()  # the run stopped it
    code, out, err = query(warehouse, monkeypatch, capsys, "SELECT COUNT(*) AS n FROM staging_events")
    assert code == 0, err
    rows = [line.strip("│ ") for line in out.splitlines() if line.startswith("│")]
    assert int(rows[-1]) == expected_counts(SAMPLE)["tables"]["staging_events"]


def test_redshift_functions_run_locally(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, tmp_path: Path
) -> None:
    file = tmp_path / "q.sql"
    file.write_text(
        "SELECT TOP 1 NVL(NULL, level) AS lvl, DATEDIFF(day, MIN(start_time), MAX(start_time)) AS days\n"
        "FROM songplays GROUP BY level ORDER BY 1;\n"
        "SELECT LISTAGG(DISTINCT level, '/') WITHIN GROUP (ORDER BY level) AS levels FROM users"
    )
    code, out, err = query(warehouse, monkeypatch, capsys, "--file", str(file))
    assert code == 0, err
    assert "free/paid" in out
    assert out.count("-- SELECT") == 2


def test_what_redshift_refuses_fails_with_the_rules_sentence(
    warehouse: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    code, _, err = query(warehouse, monkeypatch, capsys, "SELECT DISTINCT ON (level) user_id FROM users")
    assert code == 1
    assert err.strip() == (
        "sparkify: the query failed: Redshift refuses SELECT DISTINCT ON: the SELECT list takes only ALL or"
        " DISTINCT (r_SELECT_list)"
    )


def test_no_warehouse_yet_says_what_to_run(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, tmp_path: Path
) -> None:
    code, _, err = query(tmp_path / "empty", monkeypatch, capsys, "SELECT 1")
    assert code == 1
    assert "there is no local warehouse sparkify-dwh" in err
    assert "run python flows/sparkify.py with the same --data-dir first" in err
