"""core.settings: one declaration per run parameter, read from arguments, then SPARKIFY_* variables."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from core.settings import Settings, run_parameters, settings_from


def test_every_setting_says_what_it_is() -> None:
    undescribed = [name for name, field in Settings.model_fields.items() if not field.description]
    assert undescribed == []


def test_flags_are_the_run_parameters_scheduled_runs_add_to() -> None:
    assert set(run_parameters(flags=True)) < set(run_parameters())
    assert set(run_parameters()) - set(run_parameters(flags=True)) == {"scheduled_day", "schedule_lag_days"}
    # Settings that only a deployment's environment sets are not run parameters.
    assert {"state_dir", "results_dir", "region", "wipe_warehouse"}.isdisjoint(run_parameters())


def test_an_argument_overrides_its_variable_which_overrides_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().port == Settings.model_fields["port"].default
    monkeypatch.setenv("SPARKIFY_PORT", "5440")
    monkeypatch.setenv("SPARKIFY_START", "2018-11-02")
    monkeypatch.setenv("SPARKIFY_END", "2018-11-03")
    assert Settings().port == 5440
    assert settings_from({"port": 5441, "start": None}).port == 5441
    # None is "not given": the variable still applies.
    assert settings_from({"start": None, "end": None}).start == date(2018, 11, 2)


def test_a_limit_is_enforced_wherever_the_value_comes_from(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SPARKIFY_NUMBER_OF_NODES", "0")
    with pytest.raises(ValidationError, match="greater than or equal to 1"):
        Settings()


def test_the_local_target_checks_the_data_dir_layout(tmp_path: Path) -> None:
    (tmp_path / "song_data").mkdir()
    with pytest.raises(ValidationError, match="lacks log_data/"):
        Settings(data_dir=tmp_path)
    assert Settings(target="aws", data_dir=tmp_path).data_dir == tmp_path  # the AWS target reads S3


def test_any_ip_becomes_the_admitted_cidr() -> None:
    assert Settings(allow_any_ip=True).allow_cidr == "0.0.0.0/0"
    assert Settings(allow_cidr="203.0.113.7").allow_cidr == "203.0.113.7/32"
