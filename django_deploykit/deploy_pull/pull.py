"""deploy_pull: lock, git, dependencies, collectstatic, additive migrations, checks, reload and record.

Everything after the lock runs in the target slot (the stage slot unless ``in_place``) as a
subprocess of that slot's own interpreter: its code, its migrations, its virtualenv.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django_deploykit.conf import conf
from django_deploykit.deploy_pull import applied, preview, static
from django_deploykit.deploy_root import dependencies, git, links, locate, revision, slot_settings
from django_deploykit.deploy_root.layout import DeployRoot
from django_deploykit.deploy_root.lock import DeployLockBusy, LockHolder, deploy_lock
from django_deploykit.deploy_root.logs import StageLog
from django_deploykit.deploy_root.run import Run, RunFailed
from django_deploykit.deploy_root.slot_commands import (
    CommandResult,
    SlotProject,
    failure_text,
    production_env,
    run_manage,
)
from django_deploykit.deploy_root.slot_settings import SlotSettings
from django_deploykit.deploy_root.stages import (
    Report,
    StageFailed,
    StageResult,
    StageRunner,
    StageSkipped,
    applied_migrations_summary,
)
from django_deploykit.exit_codes import ExitCode, answer_of, meaning
from django_deploykit.interrupts import Interrupted
from django_deploykit.servers.reload import ReloadError, build_reloader
from django_deploykit.servers.verify import wait_for_revision
from django_deploykit.text import shorten

STAGE_NAMES = ("lock", "git", "dependencies", "collectstatic", "migrate", "checks", "reload-and-record")


class PullError(RunFailed):
    """A pull that failed; its outcome is already recorded."""


@dataclass
class PullOptions:
    project_subdir: Path
    ref: str = "main"
    remote: str = "origin"
    offline: bool = False
    dry_run: bool = False
    wait_lock: float = 0.0
    in_place_slot: str | None = None
    allow_non_fast_forward: bool = False
    discard_local_changes: bool = False
    production_variable: str = "PRODUCTION"
    requirements: str | None = "requirements.txt"
    wheelhouse: str = "wheelhouse"
    test_settings: str | None = None
    stage_timeout: float = 1800.0
    reload: dict[str, Any] | None = None
    stage_url: str | None = None
    revision_token: str | None = None
    log_keep: int = 100
    # The id to record the run under, chosen by the deploy that runs this pull (its page follows it).
    run_id: str | None = None

    @classmethod
    def from_settings(cls, project_subdir: Path, *, offline: bool, **given: Any) -> PullOptions:
        """The options of a pull the command line asked for (``given``), the rest from the settings."""
        return cls(
            project_subdir=project_subdir,
            remote=conf.PULL_REMOTE,
            offline=offline or conf.OFFLINE,
            production_variable=locate.production_variable(),
            requirements=conf.REQUIREMENTS_FILE,
            wheelhouse=conf.WHEELHOUSE,
            test_settings=conf.TEST_SETTINGS,
            stage_timeout=conf.STAGE_TIMEOUT,
            reload=conf.RELOAD,
            stage_url=conf.STAGE_URL,
            revision_token=conf.REVISION_TOKEN,
            log_keep=conf.LOG_KEEP,
            **given,
        )


@dataclass
class PullOutcome:
    id: str
    slot: str | None = None
    result: str = "pending"
    ref: str = ""
    from_revision: str | None = None
    to_revision: str | None = None
    commits: list[str] = field(default_factory=list)
    tag: str | None = None
    log_dir: str | None = None
    stages: list[StageResult] = field(default_factory=list)
    plan: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    # The new code's deploy settings (slot_settings.REPORTED), once read.
    slot_settings: SlotSettings = field(default_factory=lambda: SlotSettings())
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        # The message of a failure is the command's error; it is not repeated here.
        data = {key: value for key, value in vars(self).items() if key not in ("stages", "message")}
        data["stages"] = [stage.as_dict() for stage in self.stages]
        return data


def pull(root: DeployRoot, options: PullOptions, report: Report) -> PullOutcome:
    """Run deploy_pull; raise PullError (with the outcome, already recorded) when a stage fails."""
    run = Run(root, "pull", options.run_id)
    outcome = PullOutcome(id=run.id, ref=options.ref)
    work = _Pull(root, options, outcome, report, run)
    try:
        work.run()
    except StageFailed as exc:
        outcome.result = "failed"
        outcome.message = (
            f"{str(exc).rstrip('.')}. Live was not touched; the stage logs are in {outcome.log_dir}. Once that is fixed, run "
            f"'manage.py {_command_line(options)}' again."
        )
    except Interrupted as exc:
        # Recorded like a failure, then the signal goes on: the command exits 128 + its number.
        outcome.result = "interrupted"
        results = work.runner.results if work.runner else []
        during = f" during its {results[-1].name} stage" if results else ""
        outcome.message = exc.explanation = (
            f"deploy_pull was {exc}{during}; the stage's command was stopped too. Live was not touched; the stage "
            f"logs are in {outcome.log_dir}. Run 'manage.py {_command_line(options)}' again to finish the pull."
        )
        outcome.stages = results
        if not options.dry_run:
            _record(run, outcome)
        raise
    else:
        outcome.result = "dry-run" if options.dry_run else "ok"
    outcome.stages = work.runner.results if work.runner else []
    if options.dry_run:
        # The dry run's logs were temporary and are gone.
        for stage in outcome.stages:
            stage.log = None
    if not options.dry_run:
        _record(run, outcome, log_keep=options.log_keep)
    if outcome.result == "failed":
        raise PullError(outcome.message, ExitCode.LOCK_BUSY if work.lock_busy else ExitCode.FAILED, outcome)
    return outcome


def _command_line(options: PullOptions) -> str:
    """The deploy_pull command that runs this pull again."""
    words = ["deploy_pull", "--ref", options.ref]
    if options.offline:
        words.append("--offline")
    if options.in_place_slot:
        words.append("--in-place")
    return " ".join(words)


def _record(run: Run, outcome: PullOutcome, log_keep: int | None = None) -> None:
    run.finish(
        "ok" if outcome.result == "ok" else "interrupted" if outcome.result == "interrupted" else "failed",
        log_keep=log_keep,
        to_slot=outcome.slot,
        from_revision=outcome.from_revision,
        to_revision=outcome.to_revision,
        message=outcome.message,
        details={
            "ref": outcome.ref,
            "commits": outcome.commits,
            "tag": outcome.tag,
            "log_dir": outcome.log_dir,
            "stages": [stage.as_dict() for stage in outcome.stages],
        },
    )


class _Pull:
    def __init__(
        self, root: DeployRoot, options: PullOptions, outcome: PullOutcome, report: Report, run: Run
    ) -> None:
        self.root = root
        self.recorded_run = run
        self.options = options
        self.outcome = outcome
        self.report = report
        self.runner: StageRunner | None = None
        self.holder: LockHolder | None = None
        self.new: str | None = None
        self.changed: list[str] = []
        self.timeout = options.stage_timeout
        # Set when the lock stage failed because another run holds the lock: its own exit code.
        self.lock_busy = False

    @property
    def env(self) -> dict[str, str]:
        return production_env(self.options.production_variable)

    def run(self) -> None:
        self.runner = self.recorded_run.stages(len(STAGE_NAMES), self.report, temporary=self.options.dry_run)
        logs = self.runner.logs
        if not self.options.dry_run:
            self.outcome.log_dir = str(logs.directory)
        try:
            with deploy_lock(
                self.root, wait=self.options.wait_lock, command=f"deploy_pull --ref {self.options.ref}"
            ) as holder:
                self.holder = holder
                self.runner.run("lock", self._lock)
                self._choose_slot()
                self.runner.run("git", self._git)
                if self.options.dry_run:
                    self._plan()
                    return
                self.runner.run("dependencies", self._dependencies)
                self.runner.run("collectstatic", self._collectstatic)
                self.runner.run("migrate", self._migrate)
                self.runner.run("checks", self._checks)
                self.runner.run("reload-and-record", self._reload_and_record)
        except DeployLockBusy as exc:
            self.lock_busy = True
            busy = f"{exc} Wait for it, or use --wait-lock, such as --wait-lock 5min."
            self.runner.run("lock", lambda log: _fail(busy))
        finally:
            if self.options.dry_run:
                logs.discard()

    # 1. lock
    def _lock(self, log: StageLog) -> str:
        if self.holder is None:
            text = "running under the lock of the deploy that started this pull"
        else:
            text = f"held by {self.holder.describe()}"
        log.write(text)
        return text

    def _choose_slot(self) -> None:
        try:
            state = links.read_links(self.root)
        except links.LinkError as exc:
            self.runner_fail("links", str(exc))
        slot = self.options.in_place_slot or state.stage
        if slot == state.live:
            self.outcome.warnings.append(
                f"Updating {slot} in place: it is the LIVE slot, so its server runs the new code as soon as it "
                "reloads, with no swap to undo."
            )
            self.report(f"WARNING: {self.outcome.warnings[-1]}")
        self.outcome.slot = slot
        self.project = SlotProject(self.root, slot, self.options.project_subdir)

    def runner_fail(self, stage: str, message: str) -> None:
        assert self.runner is not None
        self.runner.run(stage, lambda log: _fail(message))

    # 2. git
    def _git(self, log: StageLog) -> str:
        checkout = self.project.slot_dir
        try:
            git.fetch(checkout, self.options.remote, log)
            new = git.resolve(checkout, self.options.remote, self.options.ref, log)
            old = git.head(checkout, log)
            self.outcome.from_revision, self.new = old, new
            dirty = git.dirty_files(checkout, log)
            # Files an earlier pull's checkout left unwritten (a full disk) are not local changes.
            unfinished = git.unfinished_checkout(checkout, log)
            if unfinished:
                log.write(f"an earlier pull left its checkout of {unfinished[:12]} unfinished; it is redone")
            if dirty and not self.options.discard_local_changes and not unfinished:
                listing = shorten(", ".join(dirty), 300, full=f"'git status' in {checkout}")
                raise StageFailed(
                    f"The {self.project.slot} checkout has local changes ({listing}); commit them upstream, or "
                    "pass --discard-local-changes to throw them away."
                )
            if not git.is_ancestor(checkout, old, new, log) and not self.options.allow_non_fast_forward:
                raise StageFailed(
                    f"{self.options.ref} ({new[:12]}) is not a fast-forward of {self.project.slot}'s {old[:12]}; "
                    "pass --allow-non-fast-forward to move the slot to it anyway."
                )
            if new != old:
                # The slot already runs ``old``, so only a different commit can lack applied migrations.
                self._refuse_older_than_database(new, log)
            commits = git.commit_range(checkout, old, new, log)
            self.outcome.commits = list(commits.commits)
            self.changed = git.changed_files(checkout, old, new, log) if not commits.unchanged else []
            if self.options.dry_run:
                return f"would move {self.project.slot} {commits.describe()}"
            if not commits.unchanged or dirty or unfinished:
                if dirty:
                    git.git(checkout, "reset", "--hard", "--quiet", log=log)
                git.checkout(checkout, new, log)
            self.outcome.to_revision = revision.write_revision(checkout)
            return f"{self.project.slot} {commits.describe()}"
        except git.GitError as exc:
            raise StageFailed(str(exc)) from exc

    def _refuse_older_than_database(self, new: str, log: StageLog) -> None:
        try:
            applied_now = applied.applied_in_checkout(self.project, self.env, self.timeout, log)
        except (applied.AppliedUnknown, ValueError) as exc:
            raise StageFailed(
                f"Could not read the applied migrations with {self.project.slot}'s code ({exc}); fix its settings "
                "or database first."
            ) from exc
        missing = applied.missing_from(applied_now, git.migration_files(self.project.slot_dir, new, log))
        if missing:
            raise StageFailed(
                f"{self.options.ref} ({new[:12]}) is older than the database: it lacks migrations already applied: "
                + ", ".join(missing)
                + ". Deploy a newer ref, or reverse those migrations first."
            )

    def _plan(self) -> None:
        self.outcome.plan = preview.plan(
            self.project,
            requirements=self.options.requirements,
            changed=self.changed,
            old=self.outcome.from_revision or "",
            new=self.new or "",
            env=self.env,
            timeout=self.timeout,
        )
        self.outcome.plan["commits"] = self.outcome.commits
        self.outcome.plan["stages"] = list(STAGE_NAMES)

    # 3. dependencies, then the new code's own settings
    def _dependencies(self, log: StageLog) -> str:
        try:
            summary = self._install(log)
        except StageSkipped:
            self._adopt_new_settings(log)
            raise
        self._adopt_new_settings(log)
        return summary

    def _adopt_new_settings(self, log: StageLog) -> None:
        """From here on the new code's settings govern the pull: its checks, its reload adapter.

        Read only now, because importing the new settings may need a package just installed.
        """
        try:
            new = slot_settings.read(self.project, self.env, self.timeout, log)
        except slot_settings.SlotSettingsError as exc:
            raise StageFailed(f"{exc}. Fix the new code's settings; nothing after this stage ran.") from exc
        self.options.test_settings = new.get("TEST_SETTINGS")
        self.options.reload = new.get("RELOAD") or {}
        self.options.stage_url = new.get("STAGE_URL")
        self.outcome.slot_settings = new
        log.write(
            f"settings of {self.project.slot}'s new code govern the rest of this pull: "
            + slot_settings.describe_reload(new, "stage")
        )

    def _install(self, log: StageLog) -> str:
        slot_dir = self.project.slot_dir
        requirements = dependencies.requirements_file(slot_dir, self.options.requirements)
        if requirements is None:
            raise StageSkipped(f"no requirements file {self.options.requirements!r} in the checkout")
        if dependencies.is_current(slot_dir, requirements):
            raise StageSkipped(
                f"{self.options.requirements} is what was last installed into {self.project.slot}'s virtualenv"
            )
        wheelhouse = slot_dir / self.options.wheelhouse
        if self.options.offline and not wheelhouse.is_dir():
            raise StageFailed(
                f"--offline needs the wheelhouse folder {self.options.wheelhouse}/ in the repository."
            )
        result = dependencies.install(
            self.project.python,
            slot_dir,
            requirements,
            offline=self.options.offline,
            wheelhouse=wheelhouse,
            timeout=self.timeout,
            log=log,
        )
        if result.exit_code != 0:
            where = f"from the wheelhouse {self.options.wheelhouse}/" if self.options.offline else "with pip"
            raise StageFailed(
                f"the requirements could not be installed {where} (pip exit {result.exit_code}): "
                + failure_text(result, log)
            )
        source = " from the wheelhouse" if self.options.offline else ""
        packages = dependencies.newly_installed(result.stdout)
        if not packages:
            return f"{self.options.requirements}: every requirement was already installed{source}"
        listing = shorten(", ".join(packages), 300, full=str(log.path))
        return f"installed {len(packages)} package{'' if len(packages) == 1 else 's'}{source}: {listing}"

    # 4. collectstatic
    def _collectstatic(self, log: StageLog) -> str:
        slot_dir = self.project.slot_dir
        fingerprint = static.fingerprint(slot_dir, log)
        if static.collected_fingerprint(slot_dir) == fingerprint:
            raise StageSkipped("no static source or installed package changed since the last collectstatic")
        static.forget(slot_dir)
        result = run_manage(
            self.project, ["collectstatic", "--noinput", "-v1"], env=self.env, timeout=self.timeout, log=log
        )
        if result.exit_code != 0:
            raise StageFailed(f"collectstatic exited {result.exit_code}: {failure_text(result, log)}")
        static.remember(slot_dir, fingerprint)
        return static.collected_summary(result.stdout)

    # 5. additive migrations
    def _migrate(self, log: StageLog) -> str:
        # --phase=additive alone leaves an unclassified migration pending; the check refuses it first.
        check = run_manage(
            self.project,
            ["migrate_safe", "--phase=additive", "--check", "--format", "json"],
            env=self.env,
            timeout=self.timeout,
            log=log,
        )
        answer = answer_of("migrate_safe --check", check.exit_code)
        if answer not in (ExitCode.OK, ExitCode.MIGRATIONS_PENDING):
            raise StageFailed(
                f"migrate_safe --phase=additive --check exited {check.exit_code} ({meaning(answer)}): "
                + _blocked_or_failure(check, log)
            )
        if answer == ExitCode.OK:
            return "no additive migration pending"
        result = run_manage(
            self.project,
            ["migrate_safe", "--phase=additive", "--format", "json"],
            env=self.env,
            timeout=self.timeout,
            log=log,
        )
        if result.exit_code != 0:
            raise StageFailed(
                f"migrate_safe --phase=additive exited {result.exit_code} ({meaning(result.exit_code)}): "
                f"{failure_text(result, log)}"
            )
        return applied_migrations_summary(result.document(), "additive", str(log.path))

    # 6. checks and tests
    def _checks(self, log: StageLog) -> str:
        result = run_manage(
            self.project,
            ["check", "--deploy", "--fail-level", "ERROR"],
            env=self.env,
            timeout=self.timeout,
            log=log,
        )
        if result.exit_code != 0:
            raise StageFailed(
                f"check --deploy with the production settings exited {result.exit_code}: {failure_text(result, log)}"
            )
        if not self.options.test_settings:
            return "check --deploy passed; no DEPLOYKIT_TEST_SETTINGS, so no tests run"
        # The production switch is removed so the tests can never reach the production database.
        tests = run_manage(
            self.project,
            ["test", "--noinput", f"--settings={self.options.test_settings}"],
            timeout=self.timeout,
            log=log,
            unset=(self.options.production_variable, "DJANGO_SETTINGS_MODULE", "DATABASE_URL"),
        )
        if tests.exit_code != 0:
            raise StageFailed(
                f"the project's tests failed (exit {tests.exit_code}): {failure_text(tests, log)}"
            )
        return f"check --deploy passed; tests passed with {self.options.test_settings}"

    # 7. reload and record
    def _reload_and_record(self, log: StageLog) -> str:
        parts = []
        config = (self.options.reload or {}).get("stage")
        slot_is_live = self.outcome.slot == links.read_links(self.root).live
        if slot_is_live:
            config = (self.options.reload or {}).get("live")
        if config:
            try:
                reloader = build_reloader(config, self.root.path)
                log.write(f"reload: {reloader.describe()}")
                reloader.reload()
                parts.append(f"reloaded ({reloader.describe()})")
            except ReloadError as exc:
                raise StageFailed(f"the server of {self.outcome.slot} did not reload: {exc}") from exc
            if self.options.stage_url and not slot_is_live:
                seen = wait_for_revision(
                    self.options.stage_url,
                    revision=self.outcome.to_revision,
                    slot=str(self.outcome.slot),
                    slot_dir=str(self.project.slot_dir.resolve()),
                    timeout=30.0,
                    token=self.options.revision_token,
                )
                log.write(f"stage server: {seen.describe()}")
                if not seen.verified:
                    raise StageFailed(f"the stage server {seen.describe()}")
                parts.append("the stage server serves it")
        else:
            link = "live" if slot_is_live else "stage"
            warning = (
                f"{self.outcome.slot} was not reloaded: the new code's DEPLOYKIT_RELOAD has no adapter for {link}, "
                f"so a server serving {link} still runs the code it started with"
            )
            self.outcome.warnings.append(warning + ".")
            self.report(f"WARNING: {warning}.")
            log.write(f"WARNING: {warning}.")
            parts.append(f"NOT reloaded (no reload adapter for {link})")
        try:
            self.outcome.tag = git.tag_deploy(self.project.slot_dir, str(self.outcome.to_revision), log)
        except git.GitError as exc:
            raise StageFailed(str(exc)) from exc
        parts.append(f"tagged {self.outcome.tag}")
        return "; ".join(parts)


def _fail(message: str) -> str:
    raise StageFailed(message)


def _blocked_or_failure(check: CommandResult, log: StageLog) -> str:
    """The migrations ``migrate_safe --check --format json`` found mixed or unclassified, with why."""
    document = check.document()
    reasons = {
        f"{m.get('app_label')}.{m.get('name')}": str(m.get("reason", ""))
        for m in document.get("migrations", [])
        if isinstance(m, dict)
    }
    blocked = [str(label) for label in document.get("blocked", [])]
    if not blocked:
        return failure_text(check, log)
    return shorten(
        "; ".join(f"{label}: {reasons.get(label, '')}".rstrip(": ") for label in blocked),
        600,
        full=str(log.path),
    )
