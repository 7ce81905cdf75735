"""migrate_safe: run migrations in two phases, additive before the swap and destructive after.

The logic is in django_deploykit.migrate_safe; this file reads options and prints.
Exit codes: django_deploykit.exit_codes (and docs/exit_codes.md).
"""

from __future__ import annotations

import datetime
import time
from argparse import ArgumentParser
from importlib import import_module
from typing import Any

from django.apps import apps
from django.core.management.base import CommandError
from django.db import connections
from django.db.migrations import Migration
from django.db.migrations.executor import MigrationExecutor
from django.utils.module_loading import module_has_submodule

from django_deploykit.exit_codes import ExitCode
from django_deploykit.management.base import DeploykitCommand, add_format_argument
from django_deploykit.migrate_safe import exitcodes, journal
from django_deploykit.migrate_safe.applying import ApplyOptions, MigrationFailed, apply_steps
from django_deploykit.migrate_safe.locks import LockBusy, migration_lock
from django_deploykit.migrate_safe.options import OptionError, Options, read_options
from django_deploykit.migrate_safe.phases import ADDITIVE
from django_deploykit.migrate_safe.planning import (
    PhasePlan,
    PlanError,
    executor_for,
    plan_to,
    resolve_targets,
)
from django_deploykit.migrate_safe.report import plan_as_dict, plan_as_text, sql_by_migration
from django_deploykit.migrate_safe.reviews import (
    ReviewFileError,
    Undecided,
    current_reviews,
    update_reviews,
    write_atomically,
)
from django_deploykit.migrate_safe.roundtrip import RoundtripError, run_roundtrip
from django_deploykit.migrate_safe.runner import BetweenMigrations, PhaseRefused, run_phase
from django_deploykit.migrate_safe.verdicts import InvalidPhaseOverride


class Command(DeploykitCommand):
    help = (
        "Apply migrations in deploy phases: --phase=additive before the new code goes live, "
        "--phase=destructive after it, --phase=all for everything in order."
    )
    # Checked in handle(), for the chosen database only, as migrate does.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("app_label", nargs="?", help="Only this app's migrations (and what they need).")
        parser.add_argument(
            "migration_name", nargs="?", help="Migrate the app to this migration; 'zero' unapplies all."
        )
        parser.add_argument("--skip-checks", action="store_true", help="Skip the system checks.")
        parser.add_argument("--phase", help="additive (before the swap), destructive (after it) or all.")
        parser.add_argument("--plan", action="store_true", help="Show the classified plan; apply nothing.")
        parser.add_argument("--sql", action="store_true", help="With --plan: the SQL of each migration.")
        add_format_argument(parser)
        parser.add_argument(
            "--check",
            action="store_true",
            help="Exit 0 when nothing is pending, 3 when migrations are pending, 4 when one is mixed or unclassifiable.",
        )
        parser.add_argument("--database", default="default", help="The database alias to migrate.")
        parser.add_argument("--lock-timeout", help="How long a migration may wait for a lock, e.g. 5s.")
        parser.add_argument(
            "--statement-timeout", help="PostgreSQL: longest statement, e.g. 10min; 0 = no limit."
        )
        parser.add_argument(
            "--retries", type=int, help="Retries of an atomic migration after a lock timeout."
        )
        parser.add_argument(
            "--no-wait", action="store_true", help="Fail at once when another run holds the lock."
        )
        parser.add_argument(
            "--roundtrip",
            action="store_true",
            help="On a throwaway test database: forwards, backwards, forwards; report what breaks.",
        )
        parser.add_argument(
            "--fake", action="store_true", help="Record the migrations as run without running them."
        )
        parser.add_argument(
            "--resume", action="store_true", help="Finish a half-applied migration (MySQL/MariaDB)."
        )
        parser.add_argument(
            "--undo", action="store_true", help="Revert a half-applied migration (MySQL/MariaDB)."
        )
        parser.add_argument(
            "--review",
            action="store_true",
            help="Write every pending migration no rule can judge (RunPython, RunSQL, custom operations) "
            "into the reviewed-phases file (DEPLOYKIT_REVIEWED_MIGRATIONS), for a phase and a reason.",
        )
        parser.add_argument(
            "--started",
            help="With --resume or --undo: 'applied' or 'not-applied', what you found by checking the "
            "operation a stopped run left started, when the schema cannot tell.",
        )

    def handle(self, *args: Any, **raw: Any) -> None:
        self.verbosity = int(raw.get("verbosity", 1))
        self._line_open = False
        if self.json_output:
            # Only the JSON document goes to stdout: no progress, no signal receivers' chatter.
            self.verbosity = 0
        try:
            options = read_options(raw)
        except (OptionError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        # As migrate does: the system checks of this database, unless --skip-checks.
        if not raw.get("skip_checks"):
            self.check(databases=[options.database])
        # As migrate does: apps register their signal receivers in their management modules.
        for app_config in apps.get_app_configs():
            if module_has_submodule(app_config.module, "management"):
                import_module(".management", app_config.name)
        connection = connections[options.database]
        connection.prepare_database()
        try:
            self.exit_code = self._run(options)
        except (PlanError, InvalidPhaseOverride, ReviewFileError, RoundtripError) as exc:
            raise CommandError(str(exc)) from exc

    def _plan(self, options: Options) -> tuple[MigrationExecutor, PhasePlan]:
        connection = connections[options.database]
        executor = executor_for(connection, self._progress)
        targets = resolve_targets(executor.loader, options.app_label, options.migration_name)
        return executor, plan_to(targets, connection, executor)

    def _run(self, options: Options) -> int:
        executor, plan = self._plan(options)
        if options.plan or options.check:
            return self._show(options, executor, plan)
        if options.review:
            return self._review(executor, plan)
        if options.roundtrip:
            return self._roundtrip(options)
        if options.resume or options.undo:
            return self._finish_partials(options)
        if options.phase is None:
            raise CommandError("Choose a phase: --phase=additive, --phase=destructive or --phase=all.")
        # Refused before waiting for the lock too, so a wrong phase fails at once.
        refusal = plan.refusal(options.phase)
        if refusal:
            raise CommandError(refusal)
        self.document = {
            "action": "apply",
            "database": options.database,
            "phase": options.phase,
            "applied": [],
        }
        try:
            run = run_phase(
                connections[options.database],
                options.phase,
                resolve_targets(executor.loader, options.app_label, options.migration_name),
                options=ApplyOptions(
                    fake=options.fake,
                    lock_timeout=options.lock_timeout or None,
                    statement_timeout=options.statement_timeout,
                    retries=options.retries,
                    retry_delay=options.retry_delay,
                ),
                wait=options.wait,
                verbosity=self.verbosity,
                stdout=self.stdout,
                say=self._say,
                progress=self._progress,
                announce=lambda plan: self._announce(options.phase or "all", plan),
            )
        except LockBusy as exc:
            raise CommandError(str(exc), returncode=ExitCode.LOCK_BUSY) from exc
        except BetweenMigrations as exc:
            raise CommandError(str(exc), returncode=ExitCode.HALF_APPLIED) from exc
        except (PhaseRefused, MigrationFailed) as exc:
            self._close_line()
            raise CommandError(str(exc)) from exc
        for kept in run.expanded:
            self._say(
                f"  Kept DB default {kept.split(' DEFAULT ', 1)[1]} on {kept.split(' DEFAULT ', 1)[0]} "
                "for the old code's INSERTs; --phase=destructive removes it."
            )
        self.document.update(
            applied=run.applied,
            expanded=run.expanded,
            contracted=run.contracted,
            relaxed=run.relaxed,
            fake=options.fake,
            waiting_for_destructive=[v.label for v in run.plan.destructive]
            if options.phase == ADDITIVE
            else [],
        )
        return ExitCode.OK

    def _announce(self, phase: str, plan: PhasePlan) -> None:
        if self.verbosity < 1:
            return
        self.stdout.write(self.style.MIGRATE_HEADING(f"Running migrations ({phase} phase):"))
        if not plan.select(phase):
            self.stdout.write("  No migrations to apply.")
        if phase == ADDITIVE and plan.destructive:
            self.stdout.write(
                self.style.NOTICE(
                    f"  {len(plan.destructive)} migration(s) wait for the destructive phase: "
                    + ", ".join(v.label for v in plan.destructive)
                )
            )
            for label, reason in plan.held_back.items():
                self.stdout.write(self.style.NOTICE(f"  {label}: {reason}"))
        if phase == "all" and plan.blocked:
            self.stdout.write(
                self.style.WARNING(
                    "  Running mixed or unclassified migrations too (--phase=all): "
                    + ", ".join(v.label for v in plan.blocked)
                )
            )

    def _show(self, options: Options, executor: Any, plan: PhasePlan) -> int:
        connection = connections[options.database]
        sql = (
            sql_by_migration(
                executor, plan.steps, expand=options.phase == ADDITIVE and not plan.first_install
            )
            if options.sql
            else None
        )
        code = exitcodes.for_check(plan, options.phase) if options.check else ExitCode.OK
        if self.json_output:
            self.document = plan_as_dict(
                plan, database=options.database, vendor=connection.vendor, phase=options.phase, sql=sql
            )
        elif self.verbosity >= 1:
            for line in plan_as_text(
                plan,
                database=options.database,
                vendor=connection.vendor,
                phase=options.phase,
                sql=sql,
                heading=self.style.MIGRATE_HEADING,
                warning=self.style.WARNING,
                show_locks=self.verbosity >= 2,
            ):
                self.stdout.write(line)
        return code

    def _review(self, executor: MigrationExecutor, plan: PhasePlan) -> int:
        if plan.direction == "backwards":
            raise CommandError(
                "--review records phases of migrations to apply; this plan unapplies. Run it without "
                "a target behind the applied state."
            )
        # Parsed (and checked) before anything is written: a bad file is reported, not replaced.
        path, existing = current_reviews()
        steps = {(m.app_label, m.name): m for m, _ in plan.steps}
        undecided = [
            Undecided(steps[v.key], [(op.index, op.description, op.phase) for op in v.operations])
            for v in plan.migrations
            # Reviewed ones too, so their digests are checked and their comments stay current.
            if v.undecided or v.source == "reviewed"
        ]
        graph = executor.loader.graph

        def find(label: str) -> Migration | None:
            app_label, _, name = label.partition(".")
            migration: Migration | None = graph.nodes.get((app_label, name))
            return migration

        update = update_reviews(existing, undecided, find, datetime.date.today().isoformat())
        old = path.read_text(encoding="utf-8") if path.exists() else None
        # No file is created for nothing; an existing one is rewritten only when it changes.
        written = update.text != old and (old is not None or bool(update.added))
        if written:
            write_atomically(path, update.text)
        self.document = {
            "action": "review",
            "file": str(path),
            "written": written,
            "added": update.added,
            "reopened": update.reopened,
            "waiting": update.waiting,
            "kept": update.kept,
            "unreviewable": update.unreviewable,
        }
        if not (update.added or update.reopened or update.waiting or update.unreviewable):
            self._say(
                f"No pending migration needs a review; {path} is unchanged."
                if not written
                else f"No pending migration needs a review; updated the comments of {path}."
            )
            return ExitCode.OK
        for label in update.added:
            self._say(f"Added {label}: record its phase and reason.")
        for label in update.reopened:
            self._say(f"Reopened {label}: it changed since it was reviewed; decide again.")
        for label in update.waiting:
            self._say(f"Still waiting for a phase and a reason: {label}.")
        for label in update.kept:
            self._say(f"Kept the review of {label}.")
        for label in update.unreviewable:
            self._say(
                f"Cannot review {label}: it has no source file; mark it or use DEPLOYKIT_MIGRATION_PHASES."
            )
        self._say(
            f"Wrote {path}; fill in phase and reason, then commit it." if written else f"{path} is unchanged."
        )
        return ExitCode.OK

    def _finish_partials(self, options: Options) -> int:
        connection = connections[options.database]
        try:
            with migration_lock(connection, wait=options.wait, say=self._say):
                partials = journal.partial_migrations(connection)
                if not partials:
                    raise CommandError(
                        "The journal shows no half-applied migration; there is nothing to resume or undo."
                    )
                executor = executor_for(connection, self._progress)
                self.document = {
                    "action": "undo" if options.undo else "resume",
                    "partials": [partial.describe() for partial in partials],
                }
                self._settle_started(options, executor, partials)
                partials = journal.partial_migrations(connection)
                for partial in partials:
                    if options.undo:
                        journal.undo_partial(executor, partial)
                        self._say(f"Undid {partial.describe()}.")
                        continue
                    migration = executor.loader.get_migration(partial.app_label, partial.name)
                    apply_steps(
                        executor,
                        [(migration, partial.backwards)],
                        ApplyOptions(lock_timeout=options.lock_timeout or None),
                        verbosity=self.verbosity,
                        stdout=self.stdout,
                        say=self._say,
                    )
        except LockBusy as exc:
            raise CommandError(str(exc), returncode=ExitCode.LOCK_BUSY) from exc
        except (MigrationFailed, journal.StartedUndecided) as exc:
            self._close_line()
            raise CommandError(str(exc), returncode=ExitCode.HALF_APPLIED) from exc
        return ExitCode.OK

    def _settle_started(
        self, options: Options, executor: MigrationExecutor, partials: list[journal.Partial]
    ) -> None:
        """An operation a stopped run left started is decided from the schema before anything runs."""
        undecided = [p for p in partials if p.started is not None]
        if options.started and not undecided:
            raise CommandError("--started answers for an operation left started, and the journal shows none.")
        database_option = "" if options.database == "default" else f" --database {options.database}"
        settled: list[str] = []
        if self.document is not None:
            self.document["settled"] = settled
        for partial in undecided:
            found = journal.settle_started(executor, partial, options.started, database_option)
            settled.append(found)
            self._say(found)

    def _roundtrip(self, options: Options) -> int:
        problems = run_roundtrip(options.database, options.app_label, say=self._say)
        self.document = {"action": "roundtrip", "database": options.database, "problems": problems}
        if problems:
            if not self.json_output:
                for problem in problems:
                    self.stderr.write(problem)
            return ExitCode.ROUNDTRIP_FAILED
        self._say("Every migration survived forwards, backwards, forwards.")
        return ExitCode.OK

    def _say(self, message: str) -> None:
        if self.verbosity >= 1:
            self._close_line()
            self.stdout.write(message)

    def _close_line(self) -> None:
        if self._line_open:
            self.stdout.write("")
            self._line_open = False

    def _progress(self, action: str, migration: Any = None, fake: bool = False) -> None:
        if self.verbosity < 1:
            return
        if action in ("apply_start", "unapply_start"):
            self.start = time.monotonic()
            verb = "Applying" if action == "apply_start" else "Unapplying"
            self.stdout.write(f"  {verb} {migration}...", ending="")
            self.stdout.flush()
            self._line_open = True
        elif action in ("apply_success", "unapply_success"):
            elapsed = f" ({time.monotonic() - self.start:.3f}s)" if self.verbosity > 1 else ""
            self.stdout.write(self.style.SUCCESS((" FAKED" if fake else " OK") + elapsed))
            self._line_open = False
