"""The cluster's master password: from a Prefect Secret block, or generated for one run; never logged."""

from __future__ import annotations

import secrets
import string

from pydantic import SecretStr


def check_password_policy(password: str) -> None:
    """Raise ValueError unless `password` meets Redshift's master password policy."""
    rules = [
        (8 <= len(password) <= 64, "be 8-64 characters long"),
        (any(c.isupper() for c in password), "contain an upper-case letter"),
        (any(c.islower() for c in password), "contain a lower-case letter"),
        (any(c.isdigit() for c in password), "contain a digit"),
        (
            all(33 <= ord(c) <= 126 and c not in "'\"\\/@" for c in password),
            "use printable ASCII other than ' \" \\ / @ and space",
        ),
    ]
    broken = [rule for ok, rule in rules if not ok]
    if broken:
        # Never echo the password itself.
        raise ValueError("the master password breaks Redshift's policy: it must " + ", ".join(broken))


def master_password(secret_block: str | None) -> SecretStr:
    """From the named Prefect Secret block, else generated for this run only."""
    if secret_block:
        from prefect.blocks.system import Secret

        password = str(Secret.load(secret_block).get())
        try:
            check_password_policy(password)
        except ValueError as exc:
            raise ValueError(f"Secret block {secret_block!r}: {exc}; update the block") from None
        return SecretStr(password)
    alphabet = string.ascii_letters + string.digits
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(32))
        try:
            check_password_policy(password)
            return SecretStr(password)
        except ValueError:
            continue
