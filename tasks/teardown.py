"""Delete everything a run created; every step tolerates "not found" and the others' failures."""

from __future__ import annotations

import logging
from collections.abc import Callable

from prefect import get_run_logger, task
from prefect.cache_policies import NONE
from prefect.logging import get_logger

from tasks.cluster import delete_cluster, delete_security_group
from tasks.iam import delete_role
from tasks.manifest import delete_bucket
from tasks.target import Target


def teardown_resources(target: Target, keep_cluster: bool = False, logger: logging.Logger | None = None) -> list[str]:
    """Delete the cluster, its security group, the manifest bucket and the role, then stop what
    the target started. Return what could not be deleted."""
    logger = logger or get_logger("sparkify.teardown")
    steps: list[tuple[str, Callable[[Target], None]]] = [("manifest bucket", delete_bucket)]
    if not keep_cluster:
        # The security group and role stay with a kept cluster: it needs both to be used.
        steps += [("cluster", delete_cluster), ("security group", delete_security_group), ("IAM role", delete_role)]
    left: list[str] = []
    for what, step in steps:
        try:
            step(target)
            logger.info("Teardown: %s deleted", what)
        except Exception as exc:
            logger.error("Teardown: could not delete the %s: %s", what, exc)
            left.append(what)
    try:
        target.close(keep_warehouse=keep_cluster)
    except Exception as exc:
        logger.error("Teardown: could not stop the %s target's services: %s", target.name, exc)
        left.append(f"{target.name} services")
    return left


@task(cache_policy=NONE)
def teardown(target: Target, keep_cluster: bool = False) -> None:
    """The always-run final task; fails if anything is left behind."""
    left = teardown_resources(target, keep_cluster, get_run_logger())
    if left:
        raise RuntimeError(
            f"teardown left {', '.join(left)} of cluster {target.settings.cluster_id}; "
            "run `python flows/sparkify.py teardown` to retry"
        )
