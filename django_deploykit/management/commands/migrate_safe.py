"""migrate_safe: migrations in two phases. The logic is in django_deploykit.migrate_safe; exit codes in
django_deploykit.exit_codes (docs/exit_codes.md)."""

from __future__ import annotations

from argparse import ArgumentParser
from functools import partial
from typing import Any

from django.core.management.base import CommandError
from django.db import connections

from django_deploykit.exit_codes import ExitCode
from django_deploykit.management.base import DeploykitCommand, add_format_argument
from django_deploykit.migrate_safe import planning, roundtrip, runner
from django_deploykit.migrate_safe.applying import MigrationFailed, load_signal_receivers
from django_deploykit.migrate_safe.journal import StartedUndecided
from django_deploykit.migrate_safe.locks import LockBusy
from django_deploykit.migrate_safe.options import OptionError, Options, read_options
from django_deploykit.migrate_safe.progress import ProgressWriter
from django_deploykit.migrate_safe.report import show_plan
from django_deploykit.migrate_safe.reviewing import ReviewRefused, review_pending
from django_deploykit.migrate_safe.reviews import ReviewFileError
from django_deploykit.migrate_safe.verdicts import InvalidPhaseOverride

# Exit 1: refused, or failed leaving nothing half done (but see MigrationFailed in handle()).
REFUSED = (OptionError, planning.PlanError, InvalidPhaseOverride, runner.PhaseRefused, runner.NothingToFinish)
FAILED = (*REFUSED, ReviewFileError, ReviewRefused, roundtrip.RoundtripError, MigrationFailed)


class Command(DeploykitCommand):
    help = (
        "Apply migrations in deploy phases: --phase=additive before the new code goes live, "
        "--phase=destructive after it, --phase=all for everything in order."
    )
    # Checked in handle(), for the chosen database only, as migrate does.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: ArgumentParser) -> None:
        add = parser.add_argument
        flag = partial(add, action="store_true")
        add("app_label", nargs="?", help="Only this app's migrations (and what they need).")
        add("migration_name", nargs="?", help="Migrate the app to this migration; 'zero' unapplies all.")
        flag("--skip-checks", help="Skip the system checks.")
        add("--phase", help="additive (before the swap), destructive (after it) or all.")
        flag("--plan", help="Show the classified plan; apply nothing.")
        flag("--sql", help="With --plan: the SQL of each migration.")
        add_format_argument(parser)
        flag(
            "--check",
            help="Exit 0 when nothing is pending, 10 when some is, 11 when one is mixed or unclassified.",
        )
        add("--database", default="default", help="The database alias to migrate.")
        add("--lock-timeout", help="How long a migration may wait for a lock, e.g. 5s.")
        add("--statement-timeout", help="PostgreSQL: longest statement, e.g. 10min; 0 = no limit.")
        add("--retries", type=int, help="Retries of an atomic migration after a lock timeout.")
        flag("--no-wait", help="Fail at once when another run holds the lock.")
        flag(
            "--roundtrip",
            help="On a throwaway test database: forwards, backwards, forwards; report what breaks.",
        )
        flag("--fake", help="Record the migrations as run without running them.")
        flag("--resume", help="Finish a half-applied migration (MySQL/MariaDB).")
        flag("--undo", help="Revert a half-applied migration (MySQL/MariaDB).")
        flag(
            "--review",
            help="Write every pending migration no rule can judge (RunPython, RunSQL, custom operations) "
            "into the reviewed-phases file (DEPLOYKIT_REVIEWED_MIGRATIONS), for a phase and a reason.",
        )
        add(
            "--started",
            help="With --resume or --undo: 'applied' or 'not-applied', what you found by checking the "
            "operation a stopped run left started, when the schema cannot tell.",
        )

    def handle(self, *args: Any, **raw: Any) -> None:
        # Only the JSON document goes to stdout: no progress, no signal receivers' chatter.
        self.verbosity = 0 if self.json_output else int(raw.get("verbosity", 1))
        try:
            options = read_options(raw)
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        # As migrate does: the system checks of this database, unless --skip-checks.
        if not raw.get("skip_checks"):
            self.check(databases=[options.database])
        load_signal_receivers()
        connections[options.database].prepare_database()
        output = ProgressWriter(self.stdout, self.stderr, self.style, self.verbosity, self.json_output)
        try:
            self.exit_code = self._run(options, output)
        except LockBusy as exc:
            raise CommandError(str(exc), returncode=ExitCode.LOCK_BUSY) from exc
        except (runner.BetweenMigrations, StartedUndecided) as exc:
            output.close_line()
            raise CommandError(str(exc), returncode=ExitCode.HALF_APPLIED) from exc
        except FAILED as exc:
            # A failed migration's line is still open: the error starts on a line of its own.
            output.close_line()
            # A migration that --resume or --undo could not finish is still half applied.
            finishing = isinstance(exc, MigrationFailed) and (options.resume or options.undo)
            code = ExitCode.HALF_APPLIED if finishing else ExitCode.FAILED
            raise CommandError(str(exc), returncode=code) from exc

    def _run(self, options: Options, output: ProgressWriter) -> int:
        arguments = (options.app_label, options.migration_name, output.migration_progress)
        executor, plan = planning.plan_for_arguments(connections[options.database], *arguments)
        # Filled in as the run goes: the JSON of a run that fails says how far it got.
        self.document = {}
        if options.plan or options.check:
            return show_plan(executor, plan, options, self.document, output)
        if options.review:
            review_pending(plan, executor.loader.graph, self.document, output.say)
        elif options.roundtrip:
            return roundtrip.report_roundtrip(options.database, options.app_label, self.document, output)
        elif options.resume or options.undo:
            runner.finish_partials(executor.connection, options, self.document, output)
        else:
            runner.apply_phase(executor, plan, options, self.document, output)
        return ExitCode.OK
