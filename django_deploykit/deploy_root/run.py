"""The skeleton every recorded run in a deploy root shares: timing, the history record, the stage logs.

``deploy_pull``, ``deploy`` and ``swap_live`` each start a ``Run``, take the deploy lock, do their work,
and end with ``finish``: the record gets its result, its duration and the fields only that command knows,
goes into ``history.jsonl``, and old log folders are pruned. A run that has nothing to time (``init``, a
refused deploy) is one call to ``record_now``.

What is recorded is decided by the command (a dry run records nothing, a busy lock is recorded by a
deploy but not by a swap); what a record is made of, when its clock starts and how it is written are
decided here, once.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from typing import Any, Protocol

from django_deploykit.deploy_root import history
from django_deploykit.deploy_root.history import HistoryRecord, Kind, Result, Stopwatch
from django_deploykit.deploy_root.layout import DeployRoot
from django_deploykit.deploy_root.logs import RunLogs, prune
from django_deploykit.deploy_root.progress import ProgressFile, RunProgress
from django_deploykit.deploy_root.stages import Report, StageRunner
from django_deploykit.exit_codes import ExitCode


class Outcome(Protocol):
    def as_dict(self) -> dict[str, Any]: ...


class RunFailed(Exception):
    """A run that failed or was refused: the sentence that says what to do, its exit code, and the outcome so
    far (what ``--format json`` prints with the error)."""

    def __init__(
        self, message: str, exit_code: ExitCode = ExitCode.FAILED, outcome: Outcome | None = None
    ) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.outcome = outcome


_FIELDS = frozenset(field.name for field in dataclasses.fields(HistoryRecord))


class Run:
    """One run of a command in a deploy root, from its start to its record."""

    def __init__(self, root: DeployRoot, kind: Kind, run_id: str | None = None) -> None:
        self.root = root
        self.stopwatch = Stopwatch()
        # "failed" until the command says otherwise: a run that ends by an exception it did not expect
        # must not be recorded as a success.
        self.record = HistoryRecord(
            kind=kind, result="failed", started_at=self.stopwatch.started_at, duration=0.0
        )
        self.logs: RunLogs | None = None
        self.progress: ProgressFile | None = None
        if run_id is not None:
            # Chosen by the console that started this run, so its page can follow the run from the start;
            # a run without stages (a rollback) still gets its progress file for that page.
            self.record.id = run_id
            self.logs = RunLogs(root, run_id)
            self.progress = self._progress_file(self.logs, ())

    @property
    def id(self) -> str:
        return self.record.id

    def stages(
        self, total: int, report: Report, *, temporary: bool = False, planned: Sequence[str] = ()
    ) -> StageRunner:
        """A stage runner whose logs go to ``ROOT/logs/<run id>/`` (or, for a dry run, a folder of its own
        that the caller discards), with the run's progress file beside them."""
        self.logs = RunLogs(None if temporary else self.root, self.id)
        self.progress = self._progress_file(self.logs, planned)
        return StageRunner(self.logs, total, report, progress=self.progress)

    def _progress_file(self, logs: RunLogs, planned: Sequence[str]) -> ProgressFile:
        return ProgressFile(
            logs.directory,
            RunProgress(
                id=self.id,
                kind=self.record.kind,
                user=self.record.user,
                started_at=self.record.started_at,
                pid=os.getpid(),
                planned=list(planned),
            ),
        )

    def finish(self, result: Result, *, log_keep: int | None = None, **fields: Any) -> HistoryRecord:
        """Append the record with ``result``, its duration and ``fields``; then keep the newest ``log_keep``
        log folders."""
        self.record.result = result
        self.record.duration = self.stopwatch.elapsed
        for name, value in fields.items():
            if name not in _FIELDS:
                raise TypeError(f"a history record has no field {name!r}")
            setattr(self.record, name, value)
        history.append(self.root, self.record)
        if self.progress is not None:
            self.progress.finished(result, self.record.message)
        if log_keep is not None:
            prune(self.root, log_keep)
        return self.record


def record_now(root: DeployRoot, kind: Kind, result: Result, **fields: Any) -> HistoryRecord:
    """Record a run that has nothing to time: it starts and ends now."""
    return Run(root, kind).finish(result, **fields)
