"""The history page: every recorded run, newest first, filtered by result, ref and who, a page at a time.

The history is a file of one line per run (10,000 deploys with their stages are about 17 MB). Parsing it on
every page would cost a quarter of a second; the worker keeps it parsed instead (``WORKER_HISTORY``) and
reads only the lines appended since its last page. ``benchmarks/console_history.py`` measures both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from django_deploykit.deploy_root import history
from django_deploykit.deploy_root.layout import DeployRoot

PAGE_SIZE: Final = 50
# The history as this worker last read it: every console page asks it, each reading only what was appended.
WORKER_HISTORY: Final = history.AppendedReader()


def recorded_runs(root: DeployRoot) -> tuple[list[history.HistoryRecord], str]:
    """Every recorded run, and "" or why the history cannot be read (a page says so instead of failing)."""
    try:
        return WORKER_HISTORY.records(root), ""
    except OSError as exc:
        return [], f"The deploy history {root.history_file} cannot be read: {exc.strerror or exc}."


RESULTS: Final = ("ok", "failed", "swapped-back", "refused", "started", "interrupted")


@dataclass(frozen=True)
class Filters:
    result: str = ""
    ref: str = ""
    who: str = ""
    kind: str = ""

    @classmethod
    def from_query(cls, query: dict[str, str]) -> Filters:
        """Unknown results and kinds are dropped rather than refused: a filter link is never an error."""
        result = query.get("result", "")
        kind = query.get("kind", "")
        return cls(
            result=result if result in RESULTS else "",
            ref=query.get("ref", "").strip()[:200],
            who=query.get("who", "").strip()[:150],
            kind=kind if kind in history.KINDS else "",
        )

    def matches(self, record: history.HistoryRecord) -> bool:
        if self.result and record.result != self.result:
            return False
        if self.kind and record.kind != self.kind:
            return False
        if self.ref and self.ref not in str(record.details.get("ref", "")):
            return False
        return not (self.who and self.who.lower() not in record.user.lower())

    @property
    def active(self) -> bool:
        return bool(self.result or self.ref or self.who or self.kind)


@dataclass
class HistoryPage:
    rows: list[history.HistoryRecord]
    number: int
    pages: int
    total: int
    filters: Filters
    kinds: tuple[str, ...] = field(default=history.KINDS)
    problem: str = ""

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number < self.pages


def page_of(root: DeployRoot, filters: Filters, number: int, size: int = PAGE_SIZE) -> HistoryPage:
    records, problem = recorded_runs(root)
    if filters.active:
        records = [record for record in records if filters.matches(record)]
    total = len(records)
    pages = max(1, -(-total // size))
    number = min(max(number, 1), pages)
    end = total - (number - 1) * size
    rows = list(reversed(records[max(0, end - size) : end]))
    return HistoryPage(rows=rows, number=number, pages=pages, total=total, filters=filters, problem=problem)
