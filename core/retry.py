"""Which failures are retried, and how.

Two kinds: a task retries (through Prefect) what is transient anywhere: throttling, 5xx, dropped
connections. A single AWS call waits out, with bounded backoff, the refusals AWS returns while a
change it has accepted is still propagating (a role just created, a cluster still modifying, a
security group still held by a deleted cluster's interfaces). Retrying the call, not the task,
keeps a whole task and what it created from being redone for them. The two sets of codes are
disjoint, so the retries never multiply. A SQL or data error, or a refusal AWS will repeat, fails
at once.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import psycopg
from botocore.exceptions import ClientError
from prefect.cache_policies import NONE
from prefect.logging import get_logger
from prefect.tasks import exponential_backoff

from core.aws import is_transient as aws_transient

T = TypeVar("T")

logger = get_logger("sparkify.retry")


def is_transient(exc: BaseException) -> bool:
    """Throttling, 5xx, dropped connections to AWS or to the warehouse. An error the server
    answered with (a wrong password, say) has an SQLSTATE and would only repeat."""
    return aws_transient(exc) or (isinstance(exc, psycopg.OperationalError) and exc.sqlstate is None)


def retry_transient(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect's retry_condition_fn: retry only if the failure was transient."""
    try:
        state.result()
    except Exception as exc:  # the task's own exception, re-raised by result()
        return is_transient(exc)
    return False


# Options shared by every task that talks to AWS or the warehouse. Inputs hold clients and
# connection details, so results are never cached by input.
RETRYING = dict(
    retries=3,
    retry_delay_seconds=exponential_backoff(backoff_factor=2),
    retry_jitter_factor=0.5,
    retry_condition_fn=retry_transient,
    cache_policy=NONE,
)


@dataclass(frozen=True)
class Backoff:
    """Which failures one call waits out, and for how long at most.

    `refusals` maps an AWS error code to text its message must contain ("" for any message), so a
    code as broad as InvalidParameterValue is waited out only for the one cause that clears;
    `transient` adds what is_transient() names. Waits double from `base_delay` up to `max_delay`;
    `attempts` counts calls, the first included.
    """

    refusals: Mapping[str, str]
    attempts: int
    base_delay: float
    max_delay: float
    why: str
    transient: bool = False

    def __post_init__(self) -> None:
        if not (self.refusals or self.transient) or self.attempts < 1 or not 0 < self.base_delay <= self.max_delay:
            raise ValueError(f"unusable backoff {self!r}")

    def delay(self, retry: int) -> float:
        """The longest wait before retry number `retry` (0 is the first retry)."""
        return min(self.max_delay, self.base_delay * 2**retry)

    def worst_case_wait(self) -> float:
        """The longest time spent sleeping before giving up."""
        return sum(self.delay(i) for i in range(self.attempts - 1))

    def matches(self, exc: BaseException) -> bool:
        if self.transient and is_transient(exc):
            return True
        if not isinstance(exc, ClientError):
            return False
        error = exc.response.get("Error", {})
        code = error.get("Code", "")
        return code in self.refusals and self.refusals[code] in error.get("Message", "")

    def scaled(self, factor: float) -> Backoff:
        """The same schedule with every wait multiplied by `factor`."""
        if factor == 1:
            return self
        return replace(self, base_delay=self.base_delay * factor, max_delay=self.max_delay * factor)

    def __or__(self, other: Backoff) -> Backoff:
        """Both kinds of failure waited out, on the more patient of the two schedules."""
        clash = {c for c in self.refusals.keys() & other.refusals.keys() if self.refusals[c] != other.refusals[c]}
        if clash:
            raise ValueError(f"both backoffs narrow {', '.join(sorted(clash))} by different messages")
        return Backoff(
            refusals={**self.refusals, **other.refusals},
            attempts=max(self.attempts, other.attempts),
            base_delay=max(self.base_delay, other.base_delay),
            max_delay=max(self.max_delay, other.max_delay),
            why=f"{self.why}, or {other.why}",
            transient=self.transient or other.transient,
        )


def call_with_retry(
    call: Callable[..., T],
    /,
    *args: Any,
    backoff: Backoff,
    sleep: Callable[[float], None] = time.sleep,
    jitter: Callable[[], float] = random.random,
    **kwargs: Any,
) -> T:
    """`call(*args, **kwargs)`, called again while it fails with what `backoff` waits out.

    Each wait is between half and all of the backoff's delay (jitter keeps parallel runs from
    retrying in step). After `backoff.attempts` calls the last failure is raised unchanged, so
    core.aws.explain() still words it for the user.
    """
    attempt = 0
    while True:
        try:
            return call(*args, **kwargs)
        except Exception as exc:
            attempt += 1
            if attempt >= backoff.attempts or not backoff.matches(exc):
                raise
            wait = backoff.delay(attempt - 1) * (0.5 + 0.5 * jitter())
            name = getattr(call, "__name__", "a call")
            retries = backoff.attempts - 1
            logger.info("%s failed (%s: %s); retry %d of %d in %.1f s", name, exc, backoff.why, attempt, retries, wait)
            sleep(wait)


# What AWS answers while a change propagates, with how long to wait it out: Backoff(refusals,
# attempts, base_delay, max_delay, why). AWS publishes no propagation times: these bounds (1 to 22
# minutes) are judgement, from the public reports cited.
# hashicorp/terraform-provider-aws#19113: a role passed to Redshift seconds after CreateRole.
ROLE_NOT_YET_TRUSTED = Backoff(
    {"InvalidParameterValue": "must delegate access to an Amazon Redshift account"}, 8, 2.0, 20.0,
    "a role created seconds ago is not yet visible to Redshift",
)
# botocore's RoleExists waiter retries NoSuchEntity; IAM is eventually consistent (aws/aws-cdk#29871).
ROLE_NOT_YET_VISIBLE = Backoff({"NoSuchEntity": ""}, 6, 1.0, 8.0, "IAM is eventually consistent right after CreateRole")
# hashicorp/terraform-provider-aws#34775: "The Cluster is being modified by a concurrent operation".
CLUSTER_BUSY = Backoff({"InvalidClusterState": ""}, 12, 15.0, 60.0, "the cluster is being changed by another operation")
# DeleteCluster is refused the same way while the cluster is still being created: minutes more.
CLUSTER_STILL_CREATING = replace(CLUSTER_BUSY, attempts=24, why="the cluster is still being created or changed")
# botocore's ClusterAvailable waiter retries ClusterNotFound.
CLUSTER_NOT_YET_LISTED = Backoff({"ClusterNotFound": ""}, 6, 2.0, 15.0, "a cluster just created is not yet listed")
# botocore's SecurityGroupExists waiter retries InvalidGroup.NotFound.
GROUP_NOT_YET_VISIBLE = Backoff({"InvalidGroup.NotFound": ""}, 6, 1.0, 8.0, "a group just created is not yet seen")
# kubernetes/kops#6454, lianghong/delete_vpc#10: "resource sg-... has a dependent object".
GROUP_STILL_IN_USE = Backoff(
    {"DependencyViolation": ""}, 10, 10.0, 60.0, "the deleted cluster's network interfaces still hold the group"
)
# aws/aws-cli#2593: "A conflicting conditional operation is currently in progress against this resource".
BUCKET_NAME_BUSY = Backoff({"OperationAborted": ""}, 8, 5.0, 60.0, "a bucket of this name was deleted moments ago")
BUCKET_NOT_YET_VISIBLE = Backoff({"NoSuchBucket": ""}, 5, 1.0, 8.0, "a bucket just created is not yet seen")
# Each teardown step, whole: a throttled or dropped call must not leave a resource behind.
TEARDOWN_STEP = Backoff({}, 4, 2.0, 20.0, "AWS throttled the call or the connection dropped", transient=True)
