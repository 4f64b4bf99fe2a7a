"""The Redshift SQL layer of the local engine: Redshift's grammar in, PostgreSQL 16 out.

Every statement the local engine runs passes through `translate`: it is parsed with the Redshift
grammar (`core.redshift_sql`), refused with `RedshiftRefused` where Redshift would refuse it
(`rules`), and otherwise rewritten so that PostgreSQL gives Redshift's result (`translate`). Some
rewrites call functions that `functions.FUNCTIONS_SQL` creates in the local database, which also
gives a psql user Redshift's functions.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from sqlglot import exp

from core.redshift_sql import CopyCommand, copy_command, parse
from local.redshift.rules import NotEmulated, RedshiftRefused, check, mark_top
from local.redshift.translate import POSTGRES, mark_identity, translate_tree

__all__ = ["NotEmulated", "RedshiftRefused", "Translation", "to_postgres", "translate"]


@dataclass(frozen=True)
class Translation:
    """One statement: `postgres` to run, or `copy` for the local engine's COPY emulation."""

    postgres: str | None
    copy: CopyCommand | None = None


@functools.lru_cache(maxsize=4096)
def translate(statement: str) -> Translation:
    """Check one statement against Redshift's rules and translate it; cached, as runs repeat statements.
    Raises RedshiftRefused, NotEmulated, or core.redshift_sql.NotParsed."""
    tree = parse(statement)
    mark_top(tree, statement)
    check(tree, statement)
    if isinstance(tree, exp.Copy):
        return Translation(postgres=None, copy=copy_command(tree))
    if isinstance(tree, exp.Command):
        return Translation(postgres=statement.strip().rstrip(";"))
    mark_identity(tree, statement)
    return Translation(postgres=POSTGRES.generate(translate_tree(tree)))


def to_postgres(statement: str) -> str:
    """PostgreSQL for one Redshift statement that is no COPY."""
    result = translate(statement)
    if result.postgres is None:
        raise ValueError("COPY is emulated by the local engine, not translated")
    return result.postgres
