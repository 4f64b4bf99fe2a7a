"""The analytics team's queries: one Redshift SQL file per question under sql/analytics/, named
`NN_<name>.sql`, whose first line is a `--` comment holding its title."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from core.warehouse import SQL_DIR

ANALYTICS_DIR = SQL_DIR / "analytics"


@dataclass(frozen=True)
class AnalyticsQuery:
    name: str
    title: str
    sql: str

    @property
    def artifact_kind(self) -> str:
        """The kind of the table artifact that publishes its result (core.artifacts.artifact_key)."""
        return "analytics-" + self.name.replace("_", "-")


def analytics_queries(folder: Path = ANALYTICS_DIR) -> list[AnalyticsQuery]:
    """Every query of `folder`, in the order of the files' numbers."""
    queries = []
    for path in sorted(folder.glob("*.sql")):
        number, _, name = path.stem.partition("_")
        text = path.read_text()
        first = text.splitlines()[0] if text else ""
        if not (number.isdigit() and name and first.startswith("--")):
            raise ValueError(
                f"{path} is not an analytics query: name it NN_<name>.sql and start it with a '--' title line"
            )
        queries.append(AnalyticsQuery(name, first.removeprefix("--").strip(), text))
    return queries
