"""deploy: the whole procedure under one lock, each stage a subprocess (or a callable), logged.

The parent holds the deploy lock for the whole run and hands its token to every stage it
starts (``DEPLOYKIT_LOCK_TOKEN``): ``deploy_pull`` and ``swap_live`` in the children see the
token matches the holder and run under the parent's lock instead of waiting for it.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any, Final

from django.utils import timezone

from django_deploykit.conf import conf
from django_deploykit.deploy.notify import Notifier
from django_deploykit.deploy.pipeline import (
    PULL_STAGE,
    PipelineError,
    StageSpec,
    parse_pipeline,
    swap_position,
)
from django_deploykit.deploy_root import history, links, locate
from django_deploykit.deploy_root.history import Result
from django_deploykit.deploy_root.layout import DeployRoot
from django_deploykit.deploy_root.lock import DeployLockBusy, LockHolder, child_environment, deploy_lock
from django_deploykit.deploy_root.logs import StageLog
from django_deploykit.deploy_root.revision import read_revision
from django_deploykit.deploy_root.run import Run, RunFailed, record_now
from django_deploykit.deploy_root.slot_commands import (
    CommandResult,
    SlotProject,
    failure_text,
    production_env,
    run_manage,
    run_program,
)
from django_deploykit.deploy_root.stages import (
    Report,
    StageFailed,
    StageResult,
    StageRunner,
    StageSkipped,
    applied_migrations_summary,
)
from django_deploykit.exit_codes import ExitCode, answer_of
from django_deploykit.interrupts import Interrupted
from django_deploykit.maintenance.schedule import ScheduleError, describe_moment, parse_duration, parse_when
from django_deploykit.notifications.targets import SETTING as NOTIFICATIONS_SETTING
from django_deploykit.notifications.targets import TargetError, parse_targets
from django_deploykit.text import Say

MAINTENANCE_POLL: Final = 2.0
MAINTENANCE_REPORT_EVERY: Final = 60.0
# What a deploy's JSON keeps of its pull's: the pull's stages and error are in 'deploy_log <pull id>'.
PULL_FIELDS: Final = ("id", "slot", "result", "from_revision", "to_revision", "commits", "tag", "log_dir")


def maintenance_options_error(
    at: str | None, duration: str | None, warn: str | None, *, now: datetime, zone: tzinfo
) -> str | None:
    """Why ``maintenance on`` would refuse these options, as its own sentence; ``None`` when it would not.

    Asked before the deploy starts, so a typo in ``--for`` fails at once instead of in the
    maintenance-on stage, after the lock, the logs and a history record.
    """
    try:
        start = (
            now
            if at is None or at.strip().lower() == "now"
            else parse_when(at, "--at", now=now, zone=zone).moment
        )
        if duration is not None and start + parse_duration(duration, "--for") <= now:
            return f"--for {duration} from --at {at} ends before now; give a later start or a longer window."
        if warn is not None:
            parse_duration(warn, "--warn")
    except ScheduleError as exc:
        return str(exc)
    except OverflowError:
        return (
            f"The window (--at {at or 'now'}, --for {duration or 'no end'}) would fall outside the years 1 to 9999; "
            "give a start and a length within them."
        )
    return None


def maintenance_arguments(
    enabled: bool,
    at: str | None,
    warn: str | None,
    duration: str | None,
    message: str | None,
    *,
    now: datetime | None = None,
    zone: tzinfo | None = None,
) -> tuple[str, ...]:
    """The ``maintenance on`` arguments of ``deploy --maintenance``; ``ValueError`` with a sentence when they
    would be refused, or are given without ``--maintenance``."""
    given = [
        (flag, value)
        for flag, value in (("--at", at), ("--warn", warn), ("--for", duration), ("--message", message))
        if value is not None
    ]
    if given and not enabled:
        raise ValueError(f"{given[0][0]} only makes sense with --maintenance; add it or drop {given[0][0]}.")
    problem = maintenance_options_error(
        at, duration, warn, now=now or datetime.now(UTC), zone=zone or timezone.get_default_timezone()
    )
    if problem:
        raise ValueError(f"{problem} Nothing was deployed.")
    return tuple(part for flag, value in given for part in (flag, value))


class DeployFailed(RunFailed):
    """A deploy that failed; its outcome is already recorded, with what to run next."""


@dataclass
class DeployOptions:
    project_subdir: Path
    stages: list[StageSpec]
    ref: str = "main"
    offline: bool = False
    # Deploy a commit that is not a fast-forward of the stage slot's (going back to a recorded release).
    allow_non_fast_forward: bool = False
    maintenance: bool = False
    maintenance_args: tuple[str, ...] = ()
    resume_from: str | None = None
    production_variable: str = "PRODUCTION"
    stage_timeout: float = 1800.0
    swap_timeout: float = 30.0
    wait_lock: float = 0.0
    log_keep: int = 100
    # The id to record the run under, chosen by the console that started it (None: a new one).
    run_id: str | None = None

    @classmethod
    def from_settings(
        cls, project_subdir: Path, stages: list[StageSpec], *, offline: bool, **given: Any
    ) -> DeployOptions:
        """The options of a deploy the command line asked for (``given``), the rest from the settings."""
        return cls(
            project_subdir=project_subdir,
            stages=stages,
            offline=offline or conf.OFFLINE,
            production_variable=locate.production_variable(),
            stage_timeout=conf.STAGE_TIMEOUT,
            log_keep=conf.LOG_KEEP,
            **given,
        )


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
        # The message of a failure is the command's error; it is not repeated here.
        data = {key: value for key, value in vars(self).items() if key not in ("stages", "message", "pull")}
        data["pull"] = {key: self.pull[key] for key in PULL_FIELDS if key in self.pull}
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
    run = Run(root, "deploy", options.run_id)
    record = run.record
    outcome = DeployOutcome(id=run.id, ref=options.ref)
    runner = run.stages(len(options.stages), report, planned=[stage.name for stage in options.stages])
    outcome.log_dir = str(runner.logs.directory)
    notifier = Notifier(root, run, options.ref, options.stages, options.resume_from)
    exit_code = ExitCode.OK
    # Read again under the lock below; this first reading is for the record of a deploy that cannot start.
    record.from_slot, record.to_slot = _deploy_slots(root, options)
    try:
        with deploy_lock(root, wait=options.wait_lock, command=f"deploy --ref {options.ref}") as holder:
            outcome.warnings.extend(_mark_unfinished(root, report))
            state = links.read_links(root)
            outcome.live_before = state.live
            record.from_slot, record.to_slot = _deploy_slots(root, options)
            _record_start(root, record, options, outcome)
            procedure = _Procedure(root, options, outcome, runner, holder, notifier)
            try:
                procedure.run()
            except Interrupted as exc:
                # Still under the lock: what the interruption leaves is tidied before another deploy can start.
                exit_code = _explain_interruption(exc, options, outcome, runner, procedure)
    except DeployLockBusy as exc:
        outcome.message = (
            f"{exc} Nothing was changed; wait for it to finish, or use --wait-lock, such as --wait-lock 5min."
        )
        exit_code = ExitCode.LOCK_BUSY
    except links.LinkError as exc:
        outcome.message = f"{exc} Nothing was changed."
        exit_code = ExitCode.FAILED
    except StageFailed as exc:
        exit_code = _explain_failure(exc, options, outcome, runner)
    except Interrupted as exc:
        outcome.message = f"deploy was {exc} before its first stage; nothing was changed."
        exit_code = ExitCode.FAILED
    outcome.stages = runner.results
    interrupted = bool(runner.results) and runner.results[-1].status == "interrupted"
    result: Result = "ok" if exit_code == ExitCode.OK else "interrupted" if interrupted else "failed"
    outcome.result = result
    try:
        outcome.live_after = links.read_links(root).live
    except links.LinkError:
        outcome.live_after = None
    notified = notifier.finish(runner.results, result, outcome.message)
    run.finish(
        result,
        log_keep=options.log_keep,
        from_revision=read_revision(root.path / record.from_slot) if record.from_slot else None,
        to_revision=read_revision(root.path / record.to_slot) if record.to_slot else None,
        message=outcome.message,
        details={
            "ref": options.ref,
            "swapped": outcome.swapped,
            "pull_id": outcome.pull.get("id"),
            "commits": outcome.pull.get("commits", []),
            "log_dir": outcome.log_dir,
            "stages": [stage.as_dict() for stage in runner.results],
            "next_steps": outcome.next_steps,
            **({"notifications": notified} if notified else {}),
        },
    )
    if exit_code != ExitCode.OK:
        raise DeployFailed(outcome.message, exit_code, outcome)
    return outcome


def _record_start(
    root: DeployRoot, record: history.HistoryRecord, options: DeployOptions, outcome: DeployOutcome
) -> None:
    """Write the deploy's record as "started" now: if the process is killed, the next deploy finds it."""
    started = dataclasses.replace(
        record,
        result="started",
        details={"ref": options.ref, "log_dir": outcome.log_dir, "pid": os.getpid()},
    )
    history.append(root, started)


def _mark_unfinished(root: DeployRoot, report: Report) -> list[str]:
    """Find deploys recorded "started" that never ended (killed: nothing else frees the lock without an
    outcome), record them "interrupted" and say what each left; called under the lock."""
    said = []
    for record in unfinished_deploys(root):
        message = unfinished_message(record)
        history.append(root, dataclasses.replace(record, result="interrupted", message=message))
        report(f"WARNING: {message}")
        said.append(message)
    return said


def unfinished_deploys(root: DeployRoot) -> list[history.HistoryRecord]:
    """Deploys recorded "started" and not yet ended. Whoever does not hold the deploy lock must check that
    no deploy holds it (a running deploy is "started" too)."""
    return [record for record in history.read(root) if record.kind == "deploy" and record.result == "started"]


def unfinished_message(record: history.HistoryRecord) -> str:
    """What a deploy that ended without an outcome reached, and what to check."""
    log_dir = Path(str(record.details.get("log_dir") or ""))
    logs = sorted(log_dir.glob("[0-9][0-9]-*.log")) if log_dir.name else []
    where = f"during its {logs[-1].stem.split('-', 1)[1]} stage" if logs else "before its first stage"
    return (
        f"The deploy {record.id} (started {record.started_at} by {record.user}) did not finish: its process "
        f"ended {where} without recording an outcome (killed, or the machine stopped). Check what it left "
        "with 'manage.py swap_live --status' and 'manage.py maintenance status'; its logs: "
        f"{log_dir if log_dir.name else 'none'}."
    )


def _explain_interruption(
    exc: Interrupted,
    options: DeployOptions,
    outcome: DeployOutcome,
    runner: StageRunner,
    procedure: _Procedure,
) -> ExitCode:
    """Say what a stop signal left, and tidy what can be tidied: a maintenance window this deploy started
    before the swap is ended, since the old code keeps serving."""
    stage = runner.results[-1].name if runner.results and runner.results[-1].status == "interrupted" else None
    during = f"during its {stage} stage" if stage else "between stages"
    said = f"deploy was {exc} {during}; the stage's command was stopped too."
    if (
        stage is not None
        and procedure.swap_index is not None
        and stage == procedure.stage_names[procedure.swap_index]
    ):
        outcome.swap_uncertain = True
        outcome.next_steps = ["manage.py swap_live --status", "manage.py swap_live --repair"]
        outcome.message = (
            f"{said} The swap may or may not have happened: check with '{outcome.next_steps[0]}', and if it reports "
            f"an unfinished swap, run '{outcome.next_steps[1]}'. Logs: {outcome.log_dir}"
        )
        return ExitCode.UNCERTAIN
    if outcome.swapped:
        resume_from = stage or "?"
        outcome.next_steps = _after_swap_steps(options, resume_from)
        outcome.message = (
            f"{said} The new code IS LIVE. Resume with: {outcome.next_steps[0]} ; or roll back with: "
            f"{outcome.next_steps[1]} . Logs: {outcome.log_dir}"
        )
        return ExitCode.FAILED_PARTWAY
    outcome.next_steps = [f"manage.py deploy --ref {options.ref} --yes"]
    # Interrupted while 'maintenance on' ran, the window may be on without the stage having said so.
    window = procedure.maintenance_started or stage == "maintenance-on"
    ended = procedure.end_maintenance_after_interruption() if window else ""
    outcome.message = (
        f"{said} Live was not touched ({outcome.live_before} still serves the old code). {ended}"
        f"Run the deploy again when ready: {outcome.next_steps[0]} . Logs: {outcome.log_dir}"
    )
    return ExitCode.FAILED


def pipeline_of_settings(root: DeployRoot, ref: str, resume_from: str | None) -> list[StageSpec]:
    """The stages of ``DEPLOYKIT_DEPLOY_PIPELINE``; ``PipelineError`` when the setting is wrong (recorded as a
    refused deploy), ``resume_from`` is not one of them, or a target of ``DEPLOYKIT_NOTIFICATIONS`` is wrong
    (refused before anything is written, like a bad option)."""
    try:
        parse_targets(conf.NOTIFICATIONS, NOTIFICATIONS_SETTING)
    except TargetError as exc:
        raise PipelineError(
            f"{exc} Nothing was deployed; 'manage.py check' reports it as django_deploykit.E060."
        ) from exc
    try:
        stages = parse_pipeline(conf.DEPLOY_PIPELINE)
    except PipelineError as exc:
        message = f"{exc} Nothing was deployed."
        refused(root, ref, message)
        raise PipelineError(message) from exc
    names = [stage.name for stage in stages]
    if resume_from is not None and resume_from not in names:
        raise PipelineError(f"--resume-from must be one of the pipeline's stages: {', '.join(names)}.")
    return stages


def outcome_lines(outcome: DeployOutcome) -> list[Say]:
    """What a finished deploy says in text."""
    return [Say(f"WARNING: {warning}", "warning") for warning in outcome.warnings] + [
        Say(
            f"Deployed {outcome.ref}: {outcome.live_after} is live (was {outcome.live_before}); "
            f"logs in {outcome.log_dir}.",
            "success",
        )
    ]


def refused(root: DeployRoot, ref: str, message: str) -> None:
    """Record a deploy that did not start (a bad pipeline setting): the failure is in the history too."""
    from_slot, to_slot = _deploy_slots(root, None)
    record_now(
        root, "deploy", "refused", from_slot=from_slot, to_slot=to_slot, message=message, details={"ref": ref}
    )


def _deploy_slots(root: DeployRoot, options: DeployOptions | None) -> tuple[str | None, str | None]:
    """The slot live before the deploy and the slot it deploys into (the stage slot), for its record,
    whatever becomes of it. A run resumed after its swap finds the two already exchanged."""
    try:
        state = links.read_links(root)
    except links.LinkError:
        return None, None
    swap_index = swap_position(options.stages) if options is not None else None
    if options is not None and options.resume_from is not None and swap_index is not None:
        names = [stage.name for stage in options.stages]
        if options.resume_from in names and names.index(options.resume_from) > swap_index:
            return state.stage, state.live
    return state.live, state.stage


def _after_swap_steps(options: DeployOptions, stage: str) -> list[str]:
    """What to run when a deploy stopped after its swap: resume at ``stage``, or roll back."""
    return [
        f"manage.py deploy --ref {options.ref} --resume-from {stage} --yes",
        "manage.py swap_live --rollback",
    ]


def _explain_failure(
    exc: StageFailed, options: DeployOptions, outcome: DeployOutcome, runner: StageRunner
) -> ExitCode:
    failed = runner.results[-1].name if runner.results else "?"
    if outcome.swapped:
        outcome.next_steps = _after_swap_steps(options, failed)
        outcome.message = (
            f"{exc} The new code IS LIVE ({outcome.live_after or 'the new slot'} after the swap). Resume with: "
            f"{outcome.next_steps[0]} ; or roll back with: {outcome.next_steps[1]} . Logs: {outcome.log_dir}"
        )
        return ExitCode.FAILED_PARTWAY
    if outcome.swap_uncertain:
        outcome.message = (
            f"{exc} Check the servers now (manage.py swap_live --status). Logs: {outcome.log_dir}"
        )
        return ExitCode.UNCERTAIN
    maintenance = any(r.name == "maintenance-on" and r.status == "ok" for r in runner.results)
    outcome.next_steps = [f"manage.py deploy --ref {options.ref} --yes"]
    if maintenance:
        outcome.next_steps.insert(0, "manage.py maintenance off")
    outcome.message = (
        f"{exc} Live was not touched ({outcome.live_before} still serves the old code). "
        + ("Maintenance is still on: end it with 'manage.py maintenance off'. " if maintenance else "")
        + f"Fix the cause and run the deploy again ({outcome.next_steps[-1]}). Logs: {outcome.log_dir}"
    )
    return ExitCode.FAILED


class _Procedure:
    def __init__(
        self,
        root: DeployRoot,
        options: DeployOptions,
        outcome: DeployOutcome,
        runner: StageRunner,
        holder: LockHolder | None,
        notifier: Notifier,
    ) -> None:
        self.root = root
        self.notifier = notifier
        self.options = options
        self.outcome = outcome
        self.runner = runner
        self.lock_env = child_environment(holder)
        self.swap_index = swap_position(options.stages)
        self.stages = list(options.stages)
        self.maintenance_started = False

    @property
    def env(self) -> dict[str, str]:
        return {**production_env(self.options.production_variable), **self.lock_env}

    def project(self, slot: str) -> SlotProject:
        return SlotProject(self.root, slot, self.options.project_subdir)

    @property
    def stage_names(self) -> list[str]:
        return [stage.name for stage in self.stages]

    def end_maintenance_after_interruption(self) -> str:
        """End the window this deploy started; the words that say how it went."""
        live = links.read_links(self.root).live
        result = run_manage(self.project(live), ["maintenance", "off"], env=self.env, timeout=60)
        if result.exit_code == 0:
            return "The maintenance window it started is ended. "
        self.outcome.next_steps.insert(0, "manage.py maintenance off")
        return (
            f"MAINTENANCE IS STILL ON: ending it failed ({failure_text(result)}); end it with "
            "'manage.py maintenance off'. "
        )

    def run(self) -> None:
        self.stages = stages = list(self.options.stages)
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
                    self.stages = stages = self._continue_with_new_pipeline(stages, index)
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
            return _ran(result, log, f"manage.py {' '.join((stage.command, *stage.args))} in {slot}")
        if stage.kind == "argv":
            result = run_program(
                stage.argv, cwd=self.root.path, env=self.env, timeout=self.options.stage_timeout, log=log
            )
            return _ran(result, log, " ".join(stage.argv))
        assert stage.function is not None
        context = StageContext(self.root, self.options.project_subdir, state, log, self.outcome, self.env)
        returned = stage.function(context)
        return str(returned) if returned is not None else "done"

    def _notify(self, log: StageLog) -> str:
        return self.notifier.start(log)

    def _maintenance_on(self, log: StageLog) -> str:
        if not self.options.maintenance:
            raise StageSkipped("no --maintenance")
        live = links.read_links(self.root).live
        args = ["maintenance", "on", *self.options.maintenance_args, "--format", "json"]
        result = self._live_command(live, args, log)
        self.maintenance_started = True
        return _window_summary(result.document().get("window", {}))

    def _maintenance_off(self, log: StageLog) -> str:
        if not (self.options.maintenance or self.maintenance_started):
            raise StageSkipped("no --maintenance")
        live = links.read_links(self.root).live
        document = self._live_command(live, ["maintenance", "off", "--format", "json"], log).document()
        scope = document.get("scope", "host")
        if document.get("removed"):
            return f"maintenance window ended ({scope} scope)"
        return f"no maintenance window was on ({scope} scope)"

    def _live_command(self, slot: str, args: list[str], log: StageLog) -> CommandResult:
        """Run a built-in stage's command in ``slot``; a non-zero exit fails the stage with its error."""
        result = run_manage(
            self.project(slot), args, env=self.env, timeout=self.options.stage_timeout, log=log
        )
        if result.exit_code != 0:
            raise StageFailed(
                f"manage.py {' '.join(args[:2])} exited {result.exit_code}: {failure_text(result, log)}"
            )
        return result

    def _pull(self, log: StageLog) -> str:
        live = links.read_links(self.root).live
        args = ["deploy_pull", "--ref", self.options.ref, "--format", "json"]
        if self.options.offline:
            args.append("--offline")
        if self.options.allow_non_fast_forward:
            args.append("--allow-non-fast-forward")
        if locate.running_slot() == live:
            # The pull's own run, followed from this deploy's page while it goes on. Only when this deploy runs
            # the live slot's code: a deploy run from a newer slot must not pass live's deploy_pull an option
            # that its version may not have.
            pull_id = history.new_run_id()
            args += ["--run-id", pull_id]
            self.runner.note_child(pull_id)
        result = run_manage(
            self.project(live), args, env=self.env, timeout=self.options.stage_timeout, log=log
        )
        self.outcome.pull = result.document()
        self.outcome.warnings.extend(self.outcome.pull.get("warnings", []))
        if result.exit_code != 0:
            raise StageFailed(_pull_failure(result, self.outcome.pull, log))
        pull = self.outcome.pull
        count = len(pull.get("commits", []))
        return (
            f"{pull.get('slot')} is at {str(pull.get('to_revision'))[:12]} "
            f"({count} new commit{'' if count == 1 else 's'}); pull {pull.get('id')}"
        )

    def _wait_for_window(self, live: str, log: StageLog) -> str:
        """With ``--maintenance --at``, the swap waits for the announced window to start."""
        reported = 0.0
        started = time.monotonic()
        while True:
            status = run_manage(
                self.project(live),
                ["maintenance", "status", "--format", "json"],
                env=self.env,
                timeout=60,
                log=log,
            )
            answer = answer_of("maintenance status", status.exit_code)
            if answer == ExitCode.MAINTENANCE_ACTIVE:
                waited = time.monotonic() - started
                return f"the maintenance window is on (waited {waited:.0f} s)" if waited >= 1 else ""
            if answer != ExitCode.MAINTENANCE_ANNOUNCED:
                raise StageFailed(
                    f"the maintenance window is not on and not announced (maintenance status exit "
                    f"{status.exit_code}); nothing was swapped. Announce it again or deploy without --maintenance."
                )
            if time.monotonic() - reported >= MAINTENANCE_REPORT_EVERY:
                reported = time.monotonic()
                starts = _starts(status.document())
                self.runner.report(
                    f"      swap: waiting for the announced maintenance window to start{starts}"
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
        if result.exit_code == ExitCode.UNCERTAIN:
            self.outcome.swap_uncertain = True
            raise StageFailed(
                f"swap_live could not verify the new slot and the state is uncertain: {failure_text(result, log)}"
            )
        if result.exit_code != 0:
            raise StageFailed(
                f"swap_live exited {result.exit_code} and left {live} live: {failure_text(result, log)}"
            )
        state = links.read_links(self.root)
        self.outcome.live_after = state.live
        swapped = result.document()
        revision = str(swapped.get("revisions", {}).get(state.live) or "?")[:12]
        # What the live server reported is in the log; the summary only says whether it was asked.
        verification = (
            "verified by the live server" if swapped.get("verified") else swapped.get("verification")
        )
        return f"{state.live} is live at {revision}, {state.stage} is the stage; {verification}" + (
            f"; {waited}" if waited else ""
        )

    def _migrate_destructive(self, log: StageLog) -> str:
        live = links.read_links(self.root).live
        result = run_manage(
            self.project(live),
            ["migrate_safe", "--phase=destructive", "--format", "json"],
            env=self.env,
            timeout=self.options.stage_timeout,
            log=log,
        )
        if result.exit_code != 0:
            raise StageFailed(
                f"migrate_safe --phase=destructive exited {result.exit_code} in {live}: {failure_text(result, log)}"
            )
        return applied_migrations_summary(result.document(), "destructive", str(log.path)) + f" in {live}"

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
        result = self._live_command(state.live, ["clear_cache", "--slot", str(old), "--format", "json"], log)
        return _cleared_summary(result.document(), str(old))


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


def _ran(result: CommandResult, log: StageLog, what: str) -> str:
    """The summary of a pipeline entry of the project's own: what ran (its output is in the log)."""
    if result.exit_code != 0:
        raise StageFailed(f"{what} exited {result.exit_code}: {failure_text(result, log)}")
    return f"ran {what}"


def _pull_failure(result: CommandResult, pull: dict[str, Any], log: StageLog) -> str:
    """Which of deploy_pull's own stages failed and why, said once (its JSON has both)."""
    failed = [stage for stage in pull.get("stages", []) if stage.get("status") == "failed"]
    if not failed:
        return f"deploy_pull exited {result.exit_code}: {failure_text(result, log)}"
    return (
        f"deploy_pull failed at its {failed[-1].get('name')} stage: {failed[-1].get('summary')} "
        f"(its stage logs: {pull.get('log_dir')})"
    )


def _moment(value: Any) -> str | None:
    """An ISO time of a maintenance window's JSON in words ("today at 14:30"), in the project's TIME_ZONE."""
    if not isinstance(value, str) or not value:
        return None
    return describe_moment(
        datetime.fromisoformat(value), now=datetime.now(UTC), zone=timezone.get_default_timezone()
    )


def _window_summary(window: dict[str, Any]) -> str:
    """What 'maintenance on' set, from the window of its JSON: "maintenance window on until today at 14:30"."""
    end = _moment(window.get("end"))
    until = f"until {end}" if end else "until 'maintenance off'"
    if window.get("phase") == "active":
        return f"maintenance window on {until}"
    return (
        f"maintenance window from {_moment(window.get('start'))} {until} "
        f"(banner from {_moment(window.get('announce_from'))})"
    )


def _starts(status: dict[str, Any]) -> str:
    """ " (starts today at 14:00)" for the announced window of 'maintenance status --format json'."""
    starts = [
        _moment(scope.get("start")) for scope in status.get("scopes", []) if scope.get("phase") == "announced"
    ]
    return f" ({', '.join(str(start) for start in starts)})" if starts else ""


def _cleared_summary(document: dict[str, Any], old: str) -> str:
    """What 'clear_cache --slot OLD --format json' did, alias by alias."""
    said = []
    for alias in document.get("aliases", []):
        name, prefix, strategy = alias.get("alias"), alias.get("prefix"), alias.get("strategy")
        if strategy in ("redis-scan", "database-rows"):
            keys = alias.get("keys")
            said.append(
                f"cleared {keys} key{'' if keys == 1 else 's'} of {old} (prefix {prefix}) from {name}"
            )
        elif strategy == "memcached-generation" and alias.get("generation"):
            generation = alias["generation"]
            said.append(
                f"moved {old}'s keys (prefix {prefix}) of {name} from generation {generation.get('from')} to "
                f"{generation.get('to')}; the old ones stop being read when the servers reload"
            )
        else:
            said.append(f"nothing to clear of {old} in {name}")
    return "; ".join(said) or f"no cache alias of {old} to clear"
