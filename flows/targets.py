"""The one place that chooses the target: the local twin, or your AWS account."""

from __future__ import annotations

from core.settings import Settings
from core.target import AwsTarget, Target


def target_class(settings: Settings) -> type[Target]:
    """The class of the target `settings.target` names; the only place that branches on it."""
    if settings.target == "local":
        from local.target import LocalTarget  # the AWS path never loads the local twin

        return LocalTarget
    return AwsTarget


def open_target(settings: Settings) -> Target:
    """Build the target `settings.target` names."""
    return target_class(settings)(settings)
