"""core.retry's Backoff and call_with_retry: the schedule, its bound, and which failures it waits out."""

from __future__ import annotations

import pytest
from botocore.exceptions import ClientError, ConnectionClosedError, EndpointConnectionError

from core.retry import CLUSTER_BUSY, ROLE_NOT_YET_TRUSTED, TEARDOWN_STEP, Backoff, call_with_retry


class Refusing:
    """A call that fails with `errors` in turn, then answers "done"; it counts its calls."""

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"


def refusal(code: str, message: str = "m") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "Op")


def test_waits_double_up_to_the_cap_and_stop_within_the_bound() -> None:
    """With jitter at its top, the waits are the schedule itself: 1, 2, 4, then capped at 5."""
    backoff = Backoff(refusals={"DependencyViolation": ""}, attempts=5, base_delay=1, max_delay=5, why="in use")
    sleeps: list[float] = []
    call = Refusing(*[refusal("DependencyViolation")] * 9)

    with pytest.raises(ClientError):
        call_with_retry(call, backoff=backoff, sleep=sleeps.append, jitter=lambda: 1.0)

    assert call.calls == 5
    assert sleeps == [1, 2, 4, 5]
    assert sum(sleeps) == backoff.worst_case_wait()


def test_jitter_waits_between_half_and_all_of_the_delay() -> None:
    sleeps: list[float] = []
    call = Refusing(refusal("InvalidClusterState"), refusal("InvalidClusterState"))
    assert call_with_retry(call, backoff=CLUSTER_BUSY, sleep=sleeps.append, jitter=lambda: 0.0) == "done"
    assert sleeps == [CLUSTER_BUSY.delay(0) / 2, CLUSTER_BUSY.delay(1) / 2]


def test_a_code_narrowed_by_its_message_is_waited_out_for_that_cause_only() -> None:
    sleeps: list[float] = []
    untrusted = "The IAM role r is not valid. The IAM role must delegate access to an Amazon Redshift account."
    assert call_with_retry(Refusing(refusal("InvalidParameterValue", untrusted)),
                           backoff=ROLE_NOT_YET_TRUSTED, sleep=sleeps.append) == "done"
    other = Refusing(refusal("InvalidParameterValue", "Invalid node type: dc2.large."))
    with pytest.raises(ClientError, match="Invalid node type"):
        call_with_retry(other, backoff=ROLE_NOT_YET_TRUSTED, sleep=sleeps.append)
    assert other.calls == 1 and len(sleeps) == 1


def test_combined_backoffs_wait_out_both_and_keep_the_more_patient_schedule() -> None:
    both = CLUSTER_BUSY | ROLE_NOT_YET_TRUSTED
    assert both.attempts == max(CLUSTER_BUSY.attempts, ROLE_NOT_YET_TRUSTED.attempts)
    assert set(both.refusals) == {"InvalidClusterState", "InvalidParameterValue"}
    with pytest.raises(ValueError, match="narrow InvalidParameterValue by different messages"):
        ROLE_NOT_YET_TRUSTED | Backoff({"InvalidParameterValue": "other"}, 2, 1, 1, "x")


def test_teardown_steps_retry_dropped_connections_and_throttling_not_refusals() -> None:
    sleeps: list[float] = []
    flaky = Refusing(ConnectionClosedError(endpoint_url="https://ec2"), refusal("Throttling"))
    assert call_with_retry(flaky, backoff=TEARDOWN_STEP, sleep=sleeps.append) == "done"
    assert len(sleeps) == 2
    for final in (refusal("AccessDenied"), EndpointConnectionError(endpoint_url="https://ec2.us-weest-2")):
        call = Refusing(final)
        with pytest.raises(type(final)):
            call_with_retry(call, backoff=TEARDOWN_STEP, sleep=sleeps.append)
        assert call.calls == 1


def test_a_schedule_scales_for_a_target_that_need_not_wait() -> None:
    quick = CLUSTER_BUSY.scaled(0.01)
    assert quick.worst_case_wait() == pytest.approx(CLUSTER_BUSY.worst_case_wait() * 0.01)
    assert (quick.attempts, quick.refusals) == (CLUSTER_BUSY.attempts, CLUSTER_BUSY.refusals)
