"""A helper process of the run's own, `python -m <module>`: it takes JSON commands, one line each, on
its stdin and answers each with one JSON line on its stdout.

It exits when its stdin closes: when its parent stops it, or when the parent dies however it dies,
as the kernel closes the pipe even after a SIGKILL. So a killed run leaves no helper behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Mapping
from typing import Any, TextIO

from core.settings import PROJECT_ROOT

_STOP_TIMEOUT_S = 5.0


class ChildProcess:
    """The parent's side: `python -m module *args`, started now from the project's root."""

    def __init__(self, module: str, args: list[str], name: str, error: type[Exception]) -> None:
        self.name, self._error = name, error
        self._process = subprocess.Popen(
            [sys.executable, "-m", module, *args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=PROJECT_ROOT,
        )
        self.pid = self._process.pid
        # Replies to calls that were interrupted (Ctrl-C) while they waited: read before the next
        # call's, which would otherwise get the reply of the call before it.
        self._owed = 0

    def call(self, op: str, **arguments: Any) -> Any:
        """Run the child's command `op` and return its result; raise `error` with the child's own
        words if it failed. One caller at a time: the replies come in the order of the calls."""
        assert self._process.stdin is not None
        while self._owed:
            self.reply()
            self._owed -= 1
        try:
            self._process.stdin.write(json.dumps({"op": op, **arguments}) + "\n")
            self._process.stdin.flush()
        except BrokenPipeError:
            raise self._error(f"{self.name} (pid {self.pid}) ended: its error, if any, is printed above") from None
        self._owed += 1
        reply = self.reply()
        self._owed -= 1
        if "error" in reply:
            raise self._error(reply["error"])
        return reply["result"]

    def reply(self) -> dict[str, Any]:
        """The next line the child wrote; raise `error` if it ended instead."""
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise self._error(f"{self.name} (pid {self.pid}) ended: its error, if any, is printed above")
        return json.loads(line)

    def alive(self) -> bool:
        return self._process.poll() is None

    def stop(self) -> None:
        """Close its stdin, on which it exits; kill it if it has not within 5 s."""
        assert self._process.stdin is not None
        with contextlib.suppress(BrokenPipeError):  # it ended with a command unread
            self._process.stdin.close()
        try:
            self._process.wait(_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        if self._process.stdout is not None:
            self._process.stdout.close()


def reply_channel() -> TextIO:
    """The child's first step: the stdout its replies go to. Anything else it prints goes to stderr,
    and Ctrl-C, which reaches the whole process group, is left to the parent, which then closes stdin."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    replies = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    return replies


def serve(commands: Mapping[str, Callable[..., Any]], replies: TextIO) -> None:
    """The child's loop: for each line {"op": NAME, ...arguments} on stdin, one line back, {"result": ...}
    or {"error": "one sentence"}; it returns when stdin closes."""
    for line in sys.stdin:
        command = json.loads(line)
        try:
            reply = {"result": commands[command.pop("op")](**command)}
        except Exception as exc:  # reported to the caller, which raises it
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        print(json.dumps(reply), file=replies, flush=True)
