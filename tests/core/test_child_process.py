"""core.child_process: a call interrupted while it waits for its reply leaves the next call its own reply."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from typing import Any

import pytest

from core.child_process import ChildProcess


class EchoError(RuntimeError):
    pass


@pytest.fixture
def child() -> Iterator[ChildProcess]:
    process = ChildProcess("tests.core.echo_child", [], "the echo process", EchoError)
    yield process
    process.stop()


def test_a_call_interrupted_while_it_waits_does_not_answer_the_next(child: ChildProcess) -> None:
    """Ctrl-C in the middle of a call (here SIGALRM raising KeyboardInterrupt, as SIGINT's handler does)
    leaves its reply unread; the next call still gets its own."""
    def interrupt(*_: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGALRM, interrupt)
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.1)
        with pytest.raises(KeyboardInterrupt):
            child.call("echo", value="first", seconds=1.0)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert child.call("echo", value="second") == "second"
    assert child.call("echo", value="third") == "third"
