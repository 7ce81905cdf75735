"""Running stages in order: each logged to its own file, timed, and the first failure halts the run."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Literal

from django_deploykit.deploy_root.history import Stopwatch
from django_deploykit.deploy_root.logs import RunLogs, StageLog
from django_deploykit.deploy_root.progress import ProgressFile
from django_deploykit.interrupts import Interrupted
from django_deploykit.redact import redact_text
from django_deploykit.text import shorten

Status = Literal["ok", "skipped", "failed", "planned", "interrupted"]
Report = Callable[[str], None]


class StageFailed(Exception):
    """A stage failed; the message says what failed and what to do."""


class StageSkipped(Exception):
    """A stage had nothing to do; the message says why."""


@dataclass
class StageResult:
    number: int
    name: str
    status: Status
    duration: float
    summary: str
    log: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


StageBody = Callable[[StageLog], str]


class StageRunner:
    """Runs named stage bodies; a body returns a one-line summary or raises StageFailed/StageSkipped."""

    def __init__(
        self, logs: RunLogs, total: int, report: Report, progress: ProgressFile | None = None
    ) -> None:
        self.logs = logs
        self.total = total
        self.report = report
        self.progress = progress
        self.results: list[StageResult] = []

    def note_child(self, run_id: str) -> None:
        """The running stage's command records its own run under ``run_id`` (its progress file says so)."""
        if self.progress is not None:
            self.progress.stage_child(run_id)

    def _ended(self, result: StageResult) -> None:
        self.results.append(result)
        if self.progress is not None:
            self.progress.stage_ended(result.number, result.status, result.duration, result.summary)

    def run(self, name: str, body: StageBody) -> StageResult:
        number = len(self.results) + 1
        log = self.logs.stage(number, name)
        self.report(f"[{number}/{self.total}] {name} ...")
        if self.progress is not None:
            self.progress.stage_started(number, name, log.path)
        stopwatch = Stopwatch()
        status: Status = "ok"
        try:
            summary = body(log)
        except StageSkipped as exc:
            status, summary = "skipped", str(exc)
        except StageFailed as exc:
            status, summary = "failed", str(exc)
        except Exception as exc:
            # An unexpected error is still a failed stage, with its log kept.
            status, summary = "failed", f"{type(exc).__name__}: {exc}"
        except Interrupted as exc:
            # The stage's child is already stopped (slot_commands); the run records where it stopped.
            log.write(f"=== {name}: interrupted — {exc}")
            self._ended(StageResult(number, name, "interrupted", stopwatch.elapsed, str(exc), str(log.path)))
            self.report(f"[{number}/{self.total}] {name}: {exc} ({stopwatch.elapsed:.1f} s)")
            raise
        # Summaries reach the terminal, the history and CommandError messages: redact them once, here.
        summary = redact_text(summary)
        log.write(f"=== {name}: {status} — {summary}")
        result = StageResult(number, name, status, stopwatch.elapsed, summary, str(log.path))
        self._ended(result)
        if status == "failed":
            # The reason is said once, by the error that ends the run, not here as well.
            self.report(f"[{number}/{self.total}] {name}: failed ({result.duration:.1f} s)")
            raise StageFailed(f"The {name} stage failed: {summary}")
        self.report(f"[{number}/{self.total}] {name}: {status} ({result.duration:.1f} s) {summary}")
        return result


def applied_migrations_summary(document: dict[str, Any], phase: str, full: str) -> str:
    """What ``migrate_safe --phase=PHASE --format json`` applied, in the words of a stage summary."""
    applied = [str(label) for label in document.get("applied", [])]
    if not applied:
        return f"no {phase} migration was pending"
    listing = shorten(", ".join(applied), 300, full=full)
    return f"applied {len(applied)} {phase} migration{'' if len(applied) == 1 else 's'}: {listing}"
