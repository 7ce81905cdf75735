"""deploy: the whole procedure under one lock, each stage a subprocess (or a callable), logged.

The parent holds the deploy lock for the whole run and hands its token to every stage it
starts (``DEPLOYKIT_LOCK_TOKEN``): ``deploy_pull`` and ``swap_live`` in the children see the
token matches the holder and run under the parent's lock instead of waiting for it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from django_deploykit import history
from django_deploykit.deploy.pipeline import (
    PULL_STAGE,
    PipelineError,
    StageSpec,
    parse_pipeline,
    swap_position,
)
from django_deploykit.deploy_lock import DeployLockBusy, LockHolder, child_environment, deploy_lock
from django_deploykit.deploy_pull.logs import RunLogs, StageLog, prune
from django_deploykit.deploy_pull.stages import Report, StageFailed, StageResult, StageRunner, StageSkipped
from django_deploykit.redact import redact_text
from django_deploykit.revision import read_revision
from django_deploykit.slot_commands import CommandResult, SlotProject, run_manage, run_program
from django_deploykit.slots import DeployRoot
from django_deploykit.swap_live import links
from django_deploykit.swap_live.gate import production_env

# Exit codes of deploy (see docs/deploy.md).
EXIT_OK: Final = 0
EXIT_BEFORE_SWAP: Final = 1
EXIT_AFTER_SWAP: Final = 3
EXIT_UNCERTAIN: Final = 4
SWAP_LIVE_UNCERTAIN: Final = 4
# 'maintenance status' exit codes (docs/maintenance.md).
MAINTENANCE_ANNOUNCED: Final = 3
MAINTENANCE_ACTIVE: Final = 4
MAINTENANCE_POLL: Final = 2.0
MAINTENANCE_REPORT_EVERY: Final = 60.0


class DeployFailed(Exception):
    def __init__(self, message: str, exit_code: int, outcome: DeployOutcome) -> None:
        super().__init__(message)
        self.exit_code = exit_code
        self.outcome = outcome


@dataclass
class DeployOptions:
    project_subdir: Path
    stages: list[StageSpec]
    ref: str = "main"
    offline: bool = False
    maintenance: bool = False
    maintenance_args: tuple[str, ...] = ()
    resume_from: str | None = None
    production_variable: str = "PRODUCTION"
    stage_timeout: float = 1800.0
    swap_timeout: float = 30.0
    wait_lock: float = 0.0
    log_keep: int = 100


@dataclass
class DeployOutcome:
    id: str
    ref: str
    result: str = "pending"
    live_before: str | None = None
    live_after: str | None = None
    swapped: bool = False
    swap_uncertain: bool = False
    pull: dict[str, Any] = field(default_factory=dict)
    log_dir: str | None = None
    stages: list[StageResult] = field(default_factory=list)
    message: str = ""
    next_steps: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = {key: value for key, value in vars(self).items() if key != "stages"}
        data["stages"] = [stage.as_dict() for stage in self.stages]
        return data


@dataclass
class StageContext:
    """What a callable stage gets: the deploy root, the current links, its log and the outcome so far."""

    root: DeployRoot
    project_subdir: Path
    links: links.LinkState
    log: StageLog
    outcome: DeployOutcome
    environment: dict[str, str]

    def project(self, slot: str) -> SlotProject:
        return SlotProject(self.root, slot, self.project_subdir)


def deploy(root: DeployRoot, options: DeployOptions, report: Report) -> DeployOutcome:
    stopwatch = history.Stopwatch()
    record = history.HistoryRecord(
        kind="deploy", result="failed", started_at=stopwatch.started_at, duration=0.0
    )
    outcome = DeployOutcome(id=record.id, ref=options.ref)
    logs = RunLogs(root, record.id)
    outcome.log_dir = str(logs.directory)
    runner = StageRunner(logs, len(options.stages), report)
    exit_code = EXIT_OK
    try:
        with deploy_lock(root, wait=options.wait_lock, command=f"deploy --ref {options.ref}") as holder:
            state = links.read_links(root)
            outcome.live_before = state.live
            record.from_slot, record.from_revision = state.live, read_revision(root.path / state.live)
            _Procedure(root, options, outcome, runner, holder).run()
    except DeployLockBusy as exc:
        outcome.message = f"{exc} Nothing was changed; wait for it to finish, or use --wait-lock SECONDS."
        exit_code = EXIT_BEFORE_SWAP
    except links.LinkError as exc:
        outcome.message = f"{exc} Nothing was changed."
        exit_code = EXIT_BEFORE_SWAP
    except StageFailed as exc:
        exit_code = _explain_failure(exc, options, outcome, runner)
    outcome.stages = runner.results
    outcome.result = "ok" if exit_code == EXIT_OK else "failed"
    try:
        outcome.live_after = links.read_links(root).live
    except links.LinkError:
        outcome.live_after = None
    record.result = "ok" if exit_code == EXIT_OK else "failed"
    record.duration = stopwatch.elapsed
    record.to_slot = outcome.live_after
    record.to_revision = read_revision(root.path / outcome.live_after) if outcome.live_after else None
    record.message = outcome.message
    record.details = {
        "ref": options.ref,
        "swapped": outcome.swapped,
        "pull_id": outcome.pull.get("id"),
        "commits": outcome.pull.get("commits", []),
        "log_dir": outcome.log_dir,
        "stages": [stage.as_dict() for stage in runner.results],
        "next_steps": outcome.next_steps,
    }
    history.append(root, record)
    prune(root, options.log_keep)
    if exit_code != EXIT_OK:
        raise DeployFailed(outcome.message, exit_code, outcome)
    return outcome


def refused(root: DeployRoot, ref: str, message: str) -> None:
    """Record a deploy that did not start (a bad pipeline setting): the failure is in the history too."""
    stopwatch = history.Stopwatch()
    history.append(
        root,
        history.HistoryRecord(
            kind="deploy",
            result="refused",
            started_at=stopwatch.started_at,
            duration=0.0,
            message=message,
            details={"ref": ref},
        ),
    )


def _explain_failure(
    exc: StageFailed, options: DeployOptions, outcome: DeployOutcome, runner: StageRunner
) -> int:
    failed = runner.results[-1].name if runner.results else "?"
    if outcome.swapped:
        outcome.next_steps = [
            f"manage.py deploy --ref {options.ref} --resume-from {failed} --yes",
            "manage.py swap_live --rollback",
        ]
        outcome.message = (
            f"{exc} The new code IS LIVE ({outcome.live_after or 'the new slot'} after the swap). Resume with: "
            f"{outcome.next_steps[0]} ; or roll back with: {outcome.next_steps[1]} . Logs: {outcome.log_dir}"
        )
        return EXIT_AFTER_SWAP
    if outcome.swap_uncertain:
        outcome.message = (
            f"{exc} Check the servers now (manage.py swap_live --status). Logs: {outcome.log_dir}"
        )
        return EXIT_UNCERTAIN
    maintenance = any(r.name == "maintenance-on" and r.status == "ok" for r in runner.results)
    outcome.next_steps = [f"manage.py deploy --ref {options.ref} --yes"]
    if maintenance:
        outcome.next_steps.insert(0, "manage.py maintenance off")
    outcome.message = (
        f"{exc} Live was not touched ({outcome.live_before} still serves the old code). "
        + ("Maintenance is still on: end it with 'manage.py maintenance off'. " if maintenance else "")
        + f"Fix the cause and run the deploy again. Logs: {outcome.log_dir}"
    )
    return EXIT_BEFORE_SWAP


class _Procedure:
    def __init__(
        self,
        root: DeployRoot,
        options: DeployOptions,
        outcome: DeployOutcome,
        runner: StageRunner,
        holder: LockHolder | None,
    ) -> None:
        self.root = root
        self.options = options
        self.outcome = outcome
        self.runner = runner
        self.lock_env = child_environment(holder)
        self.swap_index = swap_position(options.stages)
        self.maintenance_started = False

    @property
    def env(self) -> dict[str, str]:
        return {**production_env(self.options.production_variable), **self.lock_env}

    def project(self, slot: str) -> SlotProject:
        return SlotProject(self.root, slot, self.options.project_subdir)

    def run(self) -> None:
        stages = list(self.options.stages)
        start = 0
        if self.options.resume_from is not None:
            start = [stage.name for stage in stages].index(self.options.resume_from)
            if self.swap_index is not None and start > self.swap_index:
                self.outcome.swapped = True
        index = 0
        while index < len(stages):
            stage = stages[index]
            if index < start:
                self.runner.run(stage.name, _skip(f"before --resume-from {self.options.resume_from}"))
            else:
                self.runner.run(stage.name, self._body(stage))
                if index == self.swap_index:
                    self.outcome.swapped = True
                if stage.kind == "builtin" and stage.name == PULL_STAGE:
                    stages = self._continue_with_new_pipeline(stages, index)
            index += 1

    def _continue_with_new_pipeline(self, stages: list[StageSpec], pull_index: int) -> list[StageSpec]:
        """After the pull, the stages that follow come from the pulled code's own pipeline.

        What a release configures takes effect for the deploy that brings it (slot_settings).
        """
        reported = self.outcome.pull.get("slot_settings") or {}
        if "DEPLOY_PIPELINE" not in reported:
            return stages
        try:
            new = parse_pipeline(reported["DEPLOY_PIPELINE"])
        except PipelineError as exc:
            warning = (
                f"The pulled code's DEPLOYKIT_DEPLOY_PIPELINE cannot be used by this deploy ({exc}); it continues "
                "with the pipeline of the code that started it."
            )
            self.outcome.warnings.append(warning)
            return stages
        names = [stage.name for stage in new]
        if PULL_STAGE not in names:
            return stages
        continued = stages[: pull_index + 1] + new[names.index(PULL_STAGE) + 1 :]
        if continued != stages:
            self.outcome.warnings.append(
                "The pulled code's pipeline continues this deploy: "
                + ", ".join(stage.name for stage in continued[pull_index + 1 :])
                + "."
            )
        self.swap_index = swap_position(continued)
        self.runner.total = len(continued)
        return continued

    def _body(self, stage: StageSpec) -> Callable[[StageLog], str]:
        return lambda log: self._run_stage(stage, log)

    def _run_stage(self, stage: StageSpec, log: StageLog) -> str:
        log.write(f"stage: {stage.describe()}")
        if stage.kind == "builtin":
            body = getattr(self, "_" + stage.name.replace("-", "_"))
            summary: str = body(log)
            return summary
        state = links.read_links(self.root)
        if stage.kind == "command":
            assert stage.command is not None
            slot = state.live if stage.slot == "live" else state.stage
            result = run_manage(
                self.project(slot),
                [stage.command, *stage.args],
                env=self.env,
                timeout=self.options.stage_timeout,
                log=log,
            )
            return _ok(result, f"manage.py {stage.command} in {slot}")
        if stage.kind == "argv":
            result = run_program(
                stage.argv, cwd=self.root.path, env=self.env, timeout=self.options.stage_timeout, log=log
            )
            return _ok(result, stage.argv[0])
        assert stage.function is not None
        context = StageContext(self.root, self.options.project_subdir, state, log, self.outcome, self.env)
        returned = stage.function(context)
        return str(returned) if returned is not None else "done"

    def _maintenance_on(self, log: StageLog) -> str:
        if not self.options.maintenance:
            raise StageSkipped("no --maintenance")
        live = links.read_links(self.root).live
        args = ["maintenance", "on", *self.options.maintenance_args]
        result = run_manage(
            self.project(live), args, env=self.env, timeout=self.options.stage_timeout, log=log
        )
        self.maintenance_started = True
        return _ok(result, "manage.py maintenance on")

    def _maintenance_off(self, log: StageLog) -> str:
        if not (self.options.maintenance or self.maintenance_started):
            raise StageSkipped("no --maintenance")
        live = links.read_links(self.root).live
        result = run_manage(
            self.project(live),
            ["maintenance", "off"],
            env=self.env,
            timeout=self.options.stage_timeout,
            log=log,
        )
        return _ok(result, "manage.py maintenance off")

    def _pull(self, log: StageLog) -> str:
        live = links.read_links(self.root).live
        args = ["deploy_pull", "--ref", self.options.ref, "--format", "json"]
        if self.options.offline:
            args.append("--offline")
        result = run_manage(
            self.project(live), args, env=self.env, timeout=self.options.stage_timeout, log=log
        )
        try:
            self.outcome.pull = json.loads(result.stdout)
        except ValueError:
            self.outcome.pull = {}
        self.outcome.warnings.extend(self.outcome.pull.get("warnings", []))
        if result.exit_code != 0:
            raise StageFailed(
                f"deploy_pull exited {result.exit_code}: {_tail(result)} (its own stage logs: "
                f"{self.outcome.pull.get('log_dir')})"
            )
        count = len(self.outcome.pull.get("commits", []))
        return (
            f"{self.outcome.pull.get('slot')} is at {str(self.outcome.pull.get('to_revision'))[:12]} "
            f"({count} new commit{'' if count == 1 else 's'}); pull {self.outcome.pull.get('id')}"
        )

    def _wait_for_window(self, live: str, log: StageLog) -> str:
        """With ``--maintenance --at``, the swap waits for the announced window to start."""
        reported = 0.0
        started = time.monotonic()
        while True:
            status = run_manage(
                self.project(live), ["maintenance", "status"], env=self.env, timeout=60, log=log
            )
            if status.exit_code == MAINTENANCE_ACTIVE:
                waited = time.monotonic() - started
                return f"the maintenance window is on (waited {waited:.0f} s)" if waited >= 1 else ""
            if status.exit_code != MAINTENANCE_ANNOUNCED:
                raise StageFailed(
                    f"the maintenance window is not on and not announced (maintenance status exit "
                    f"{status.exit_code}); nothing was swapped. Announce it again or deploy without --maintenance."
                )
            if time.monotonic() - reported >= MAINTENANCE_REPORT_EVERY:
                reported = time.monotonic()
                self.runner.report(
                    f"      swap: waiting for the announced maintenance window to start ({_tail(status)})"
                )
            time.sleep(MAINTENANCE_POLL)

    def _swap(self, log: StageLog) -> str:
        live = links.read_links(self.root).live
        waited = self._wait_for_window(live, log) if self.maintenance_started else ""
        result = run_manage(
            self.project(live),
            ["swap_live", "--format", "json", "--timeout", f"{self.options.swap_timeout:g}"],
            env=self.env,
            timeout=self.options.stage_timeout,
            log=log,
        )
        if result.exit_code == SWAP_LIVE_UNCERTAIN:
            self.outcome.swap_uncertain = True
            raise StageFailed(
                f"swap_live could not verify the new slot and the state is uncertain: {_tail(result)}"
            )
        if result.exit_code != 0:
            raise StageFailed(f"swap_live exited {result.exit_code} and left {live} live: {_tail(result)}")
        state = links.read_links(self.root)
        self.outcome.live_after = state.live
        return f"{state.live} is live, {state.stage} is the stage" + (f"; {waited}" if waited else "")

    def _migrate_destructive(self, log: StageLog) -> str:
        live = links.read_links(self.root).live
        result = run_manage(
            self.project(live),
            ["migrate_safe", "--phase=destructive"],
            env=self.env,
            timeout=self.options.stage_timeout,
            log=log,
        )
        return _ok(result, f"migrate_safe --phase=destructive in {live}")

    def _clear_old_cache(self, log: StageLog) -> str:
        state = links.read_links(self.root)
        # After the swap the old instance is the stage slot.
        old = self.outcome.live_before if self.outcome.live_before != state.live else state.stage
        project = self.project(state.live)
        kind = run_manage(
            project,
            ["shell", "--no-color", "-v", "0", "-c", _CACHE_KIND_SNIPPET],
            env=self.env,
            timeout=self.options.stage_timeout,
            log=log,
        )
        if kind.exit_code == 0 and kind.stdout.strip().endswith(_PER_PROCESS):
            raise StageSkipped(
                "the default cache lives in each server process (LocMemCache): the old slot's keys go with its "
                "processes"
            )
        result = run_manage(
            project,
            ["clear_cache", "--slot", str(old)],
            env=self.env,
            timeout=self.options.stage_timeout,
            log=log,
        )
        return _ok(result, f"clear_cache --slot {old}")


_PER_PROCESS: Final = "per-process"
_CACHE_KIND_SNIPPET: Final = (
    "from django.core.cache import caches; "
    "from django_deploykit.cache_clearing.backends import BackendKind, backend_kind; "
    f"print({_PER_PROCESS!r} if backend_kind(caches['default']) is BackendKind.LOCMEM else 'shared')"
)


def _skip(reason: str) -> Any:
    def body(log: StageLog) -> str:
        raise StageSkipped(reason)

    return body


def _ok(result: CommandResult, what: str) -> str:
    if result.exit_code != 0:
        raise StageFailed(f"{what} exited {result.exit_code}: {_tail(result)}")
    lines = redact_text(result.stdout.strip()).splitlines()
    return f"{what}: " + (lines[-1] if lines else "done")


def _tail(result: CommandResult, lines: int = 6) -> str:
    text = redact_text(result.stderr.strip() or result.stdout.strip())
    return " | ".join(text.splitlines()[-lines:])
