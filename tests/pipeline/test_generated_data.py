"""The local pipeline on a dataset from bench.generate gives the counts polars computed at generation."""

from __future__ import annotations

import json
from pathlib import Path

from bench.generate import generate
from tests.support import run


def test_pipeline_counts_equal_the_generators_own(tmp_path: Path, isolated: Path) -> None:
    generated = tmp_path / "generated"
    generate(generated, songs=150, events=12_000, days=3, seed=7)
    expected = json.loads((generated / "expected.json").read_text())
    assert expected["songplays_matched"] > 0 and expected["users_by_level"]["paid"] > 0
    code, summary = run("--data-dir", str(generated), tmp=isolated)
    assert code == 0
    assert summary["tables"] == expected["tables"]
    assert summary["songplays_matched"] == expected["songplays_matched"]
    assert summary["users_by_level"] == expected["users_by_level"]
