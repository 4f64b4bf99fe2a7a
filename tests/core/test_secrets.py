"""core.secrets: the master password meets Redshift's policy, and a broken one is named, not echoed."""

from __future__ import annotations

import pytest

from core.secrets import check_password_policy, master_password


def test_a_generated_password_is_new_each_time_and_meets_the_policy() -> None:
    first, second = master_password(None), master_password(None)
    assert first.get_secret_value() != second.get_secret_value()
    check_password_policy(first.get_secret_value())
    assert first.get_secret_value() not in repr(first)


@pytest.mark.parametrize(
    ("password", "rule"),
    [("Short1a", "8-64 characters"), ("x" * 65 + "A1", "8-64 characters"), ("nouppercase1", "upper-case"),
     ("NOLOWERCASE1", "lower-case"), ("NoDigitsHere", "digit"), ("Has@Sign12", "printable ASCII")],
)
def test_each_rule_is_named(password: str, rule: str) -> None:
    with pytest.raises(ValueError, match=rule) as info:
        check_password_policy(password)
    assert password not in str(info.value)
