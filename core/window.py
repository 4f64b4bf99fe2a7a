"""The event days a run loads."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

_DAY = re.compile(r"(\d{4}-\d{2}-\d{2})-events\.json$")


@dataclass(frozen=True)
class Window:
    """The event days a run loads, `start` to `end` inclusive; every day when both are None."""

    start: date | None = None
    end: date | None = None

    def covers(self, key: str) -> bool:
        """Whether the event file `key` (log_data/YYYY/MM/YYYY-MM-DD-events.json) is in the window."""
        if self.start is None or self.end is None:
            return True
        day = _DAY.search(key)
        return day is not None and self.start <= date.fromisoformat(day.group(1)) <= self.end

    def bounds(self) -> dict[str, datetime | None]:
        """The SQL parameters of the window: [window_start, window_end) in event time, or NULLs."""
        if self.start is None or self.end is None:
            return {"window_start": None, "window_end": None}
        start = datetime.combine(self.start, datetime.min.time())
        return {
            "window_start": start,
            "window_end": datetime.combine(self.end + timedelta(days=1), datetime.min.time()),
        }

    def __str__(self) -> str:
        return "all days" if self.start is None else f"{self.start} to {self.end}"
