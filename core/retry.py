"""Which failures a task retries: transient ones only. A SQL or data error fails at once."""

from __future__ import annotations

from typing import Any

import psycopg
from prefect.cache_policies import NONE
from prefect.tasks import exponential_backoff

from core.aws import is_transient as aws_transient


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
