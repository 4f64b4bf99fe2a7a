"""A helper process for tests/core/test_child_process.py (`python -m tests.core.echo_child`):
core.child_process's own loop, with commands that answer what they were given."""

from __future__ import annotations

import time
from typing import Any

from core.child_process import reply_channel, serve


def echo(value: Any, seconds: float = 0.0) -> Any:
    time.sleep(seconds)
    return value


if __name__ == "__main__":
    serve({"echo": echo}, reply_channel())
