"""The notify stage of ``deploy``: the start posted to the notification targets, then the end.

The stage posts "start" where it stands in the pipeline; the deploy's end ("success" or "failure") goes to
the same targets once the run is over, whether it succeeded, failed or was stopped, when the stage ran in
this run or was passed over by ``--resume-from``. What was sent is appended to the stage's log and
summed up in the history record. Nothing here fails a deploy: every error becomes a line in the log.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django_deploykit.conf import conf
from django_deploykit.deploy.pipeline import NOTIFY_STAGE, StageSpec
from django_deploykit.deploy_root.layout import DeployRoot
from django_deploykit.deploy_root.logs import StageLog
from django_deploykit.deploy_root.revision import read_revision
from django_deploykit.deploy_root.run import Run
from django_deploykit.deploy_root.stages import StageResult, StageSkipped
from django_deploykit.interrupts import Interrupted
from django_deploykit.notifications.send import Delivery, DeployEvent, send, summary
from django_deploykit.notifications.targets import Event, Target, configured_targets


def project_name(root: DeployRoot) -> str:
    """What the targets call the project: ``DEPLOYKIT_SERVERS['name']``, else the deploy root's folder name."""
    servers = conf.SERVERS
    name = servers.get("name") if isinstance(servers, dict) else None
    return name if isinstance(name, str) and name else root.path.name


class Notifier:
    """The notifications of one deploy run."""

    def __init__(
        self, root: DeployRoot, run: Run, ref: str, stages: Sequence[StageSpec], resume_from: str | None
    ) -> None:
        self.root = root
        self.run = run
        self.record = run.record
        self.ref = ref
        self.targets: list[Target] | None = None
        self.log_path: Path | None = None
        names = [stage.name for stage in stages]
        self.passed_over = (
            resume_from in names
            and any(stage.kind == "builtin" and stage.name == NOTIFY_STAGE for stage in stages)
            and names.index(NOTIFY_STAGE) < names.index(str(resume_from))
        )

    def start(self, log: StageLog) -> str:
        """The notify stage's body: post the start; its summary, or ``StageSkipped`` without targets."""
        self.log_path = log.path
        try:
            targets = self._load(log)
        except Exception as exc:
            log.write(f"the notification targets cannot be read: {type(exc).__name__}: {exc}")
            return f"no notification was sent: the targets cannot be read ({type(exc).__name__}; see the log)"
        if not targets:
            raise StageSkipped("no notification targets")
        self.targets = targets
        event = self._event("start", "started")
        deliveries = send(targets, event)
        _log_deliveries(log, "start", deliveries)
        if not deliveries:
            return f"none of the {len(targets)} notification targets wants the start"
        return summary(deliveries, "start")

    def finish(self, results: Sequence[StageResult], result: str, message: str) -> dict[str, Any] | None:
        """Post the end to the targets when the stage ran (or was passed over); what the record keeps of it."""
        try:
            return self._finish(results, result, message)
        except (Exception, Interrupted) as exc:
            # A stop signal now arrives after the deploy's work: the run is still recorded.
            self._write(f"end: not sent ({type(exc).__name__}: {exc})")
            return {"event": _end_event(result), "error": type(exc).__name__}

    def _finish(self, results: Sequence[StageResult], result: str, message: str) -> dict[str, Any] | None:
        if self.targets is None:
            if not self.passed_over:
                return None
            logged = [stage.log for stage in results if stage.name == NOTIFY_STAGE and stage.log]
            if not logged:
                # The run ended before its stages (the lock was busy): nothing began, so nothing ends.
                return None
            self.log_path = Path(logged[0])
            self.targets = self._load(StageLog(self.log_path))
        event = _end_event(result)
        revision = read_revision(self.root.path / self.record.to_slot) if self.record.to_slot else None
        deliveries = send(self.targets, self._event(event, result, message, revision))
        if self.log_path is not None:
            _log_deliveries(StageLog(self.log_path), event, deliveries)
        return {
            "event": event,
            "sent": sum(delivery.ok for delivery in deliveries),
            "failed": [
                f"{delivery.target} ({delivery.detail})" for delivery in deliveries if not delivery.ok
            ],
        }

    def _load(self, log: StageLog | None) -> list[Target]:
        targets, problems = configured_targets(self.root)
        for problem in problems:
            if log is not None:
                log.write(f"skipped a notification target: {problem}")
        return targets

    def _event(
        self, event: Event, result: str, message: str = "", revision: str | None = None
    ) -> DeployEvent:
        from_slot = self.record.from_slot
        return DeployEvent(
            event=event,
            project=project_name(self.root),
            run_id=self.record.id,
            ref=self.ref,
            user=self.record.user,
            result=result,
            duration=self.run.stopwatch.elapsed,
            revision=revision,
            from_revision=read_revision(self.root.path / from_slot) if from_slot else None,
            message=message,
        )

    def _write(self, text: str) -> None:
        if self.log_path is not None:
            with contextlib.suppress(OSError):
                StageLog(self.log_path).write(text)


def _end_event(result: str) -> Event:
    return "success" if result == "ok" else "failure"


def _log_deliveries(log: StageLog, event: Event, deliveries: Sequence[Delivery]) -> None:
    if not deliveries:
        log.write(f"{event}: no target wants it")
    for delivery in deliveries:
        log.write(f"{event}: {delivery.target}: {'sent' if delivery.ok else 'FAILED'} ({delivery.detail})")
