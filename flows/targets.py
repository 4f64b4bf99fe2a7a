"""The one place that chooses the target: the local twin, or your AWS account.

Light to import: the command line starts the target's slow parts here before it loads Prefect and
the flow (flows/cli.py).
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import TYPE_CHECKING

from core.settings import Settings

if TYPE_CHECKING:
    from core.target import Target


def target_class(settings: Settings) -> type[Target]:
    """The class of the target `settings.target` names."""
    if settings.target == "local":
        from local.target import LocalTarget  # the AWS path never loads the local twin

        return LocalTarget
    from core.target import AwsTarget

    return AwsTarget


def open_target(settings: Settings) -> Target:
    """Build the target `settings.target` names."""
    return target_class(settings)(settings)


def starting(settings: Settings) -> AbstractContextManager[None]:
    """Start what the target's runs need and is slow to start, to run beside the body (the imports
    of Prefect and the flow, Prefect's start); keep it until the body ends. AWS has nothing to start."""
    if settings.target == "local":
        from local.starting import starting as local_starting

        return local_starting(settings)
    return nullcontext()
