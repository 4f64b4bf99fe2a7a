"""A master password from a Prefect Secret block is checked before anything is created, and never echoed."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.cli import main
from tests.support import NOTHING, leftovers


@pytest.mark.parametrize(
    ("password", "rule"),
    [
        ("Short1", "be 8-64 characters long"),
        ("alllowercase1", "contain an upper-case letter"),
        ("ALLUPPERCASE1", "contain a lower-case letter"),
        ("NoDigitsHere", "contain a digit"),
        ("With space1A", "use printable ASCII"),
    ],
)
def test_secret_block_password_breaking_the_policy(
    password: str, rule: str, aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    """The password is checked before any resource exists, and never echoed."""
    from prefect.blocks.system import Secret

    Secret(value=password).save("bad-master-password", overwrite=True)
    monkeypatch.setenv("SPARKIFY_STATE_DIR", str(tmp_path / "state"))

    assert main(["--password-secret-block", "bad-master-password"]) == 1

    err = capsys.readouterr().err
    assert "Secret block 'bad-master-password': the master password breaks Redshift's policy" in err
    assert rule in err
    assert password not in err
    assert leftovers(aws) == NOTHING
