"""Running one phase the safe way, for the command and for the swap code alike:
take the migration lock, refuse a database left between migrations, plan again under the lock
(another run may have migrated meanwhile), refuse an unsafe phase, apply.

For the command: ``apply_phase`` (``--phase``) and ``finish_partials`` (``--resume``, ``--undo``) fill
in the JSON document as they go, so the document of a run that fails says how far it got.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from django.core.management.base import OutputWrapper
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.executor import MigrationExecutor

from django_deploykit.migrate_safe import expansion, journal
from django_deploykit.migrate_safe.applying import ApplyOptions, MigrationFailed, apply_steps
from django_deploykit.migrate_safe.locks import migration_lock
from django_deploykit.migrate_safe.options import OptionError, Options
from django_deploykit.migrate_safe.phases import ADDITIVE
from django_deploykit.migrate_safe.planning import (
    PhasePlan,
    Target,
    applied_state,
    executor_for,
    plan_to,
    resolve_targets,
)
from django_deploykit.migrate_safe.progress import ProgressWriter
from django_deploykit.migrate_safe.timeouts import session_timeouts


class PhaseRefused(RuntimeError):
    """The phase must not run now; the message says why and what to do. Nothing was applied."""


class BetweenMigrations(RuntimeError):
    """The journal shows a half-applied migration; it must be resumed or undone first."""

    def __init__(self, partials: list[journal.Partial]) -> None:
        self.partials = partials
        super().__init__(
            "The database is between migrations: "
            + "; ".join(p.describe() for p in partials)
            + ". Run migrate_safe --resume to finish, or --undo to revert, first."
        )


class NothingToFinish(RuntimeError):
    """--resume, --undo or --started found nothing of theirs in the journal. Nothing was changed."""


@dataclass
class PhaseRun:
    plan: PhasePlan
    applied: list[str] = field(default_factory=list)
    # 'table.column DEFAULT value' kept for the old code by this additive run.
    expanded: list[str] = field(default_factory=list)
    # 'table.column' whose kept DB default this destructive (or all) run removed.
    contracted: list[str] = field(default_factory=list)
    # 'table.column' this additive run made nullable before the destructive phase drops it.
    relaxed: list[str] = field(default_factory=list)


def run_phase(
    connection: BaseDatabaseWrapper,
    phase: str,
    targets: Sequence[Target] | None = None,
    *,
    options: ApplyOptions | None = None,
    wait: bool = True,
    verbosity: int = 1,
    stdout: OutputWrapper | None = None,
    say: Callable[[str], None] = lambda _: None,
    progress: Callable[..., None] | None = None,
    announce: Callable[[PhasePlan], None] = lambda _: None,
) -> PhaseRun:
    """Apply ``phase`` ('additive', 'destructive' or 'all') of the plan to ``targets`` (default:
    every leaf node) under the migration lock. ``announce`` sees the plan before anything runs.

    The additive phase creates NOT NULL columns with only a Python default with that value as
    their DB default (expansion.py); the destructive phase and ``all`` then remove those defaults,
    after their migrations, even when no migration is pending. ``--fake`` does neither.

    Raises LockBusy (``wait=False``), BetweenMigrations, PhaseRefused, PlanError or
    MigrationFailed (ContractionFailedError when removing a kept default failed); in each case the
    message is a sentence that says what to do.
    """
    with migration_lock(connection, wait=wait, say=say):
        partials = journal.partial_migrations(connection)
        if partials:
            raise BetweenMigrations(partials)
        executor = executor_for(connection, progress)
        plan = plan_to(
            targets if targets is not None else executor.loader.graph.leaf_nodes(), connection, executor
        )
        refusal = plan.refusal(phase)
        if refusal:
            raise PhaseRefused(refusal)
        announce(plan)
        steps = plan.steps_for(plan.select(phase))
        options = options or ApplyOptions()
        # A first install has no old code whose INSERTs a kept default would serve.
        options = replace(options, expand=phase == ADDITIVE and not options.fake and not plan.first_install)
        run = PhaseRun(plan)
        run.applied = apply_steps(
            executor, steps, options, verbosity=verbosity, stdout=stdout, say=say, expanded=run.expanded
        )
        if options.expand:
            dropping = [migration for migration, _ in plan.steps_for(plan.destructive)]
            with session_timeouts(connection, options.lock_timeout, options.statement_timeout):
                run.relaxed = expansion.prepare_destructive(
                    connection, applied_state(executor), dropping, say
                )
        if phase != ADDITIVE and not options.fake and expansion.pending_contractions(connection):
            try:
                with session_timeouts(connection, options.lock_timeout, options.statement_timeout):
                    run.contracted = expansion.contract(connection, applied_state(executor), say)
            except expansion.ContractionFailed as exc:
                applied = f" Applied before it in this run: {', '.join(run.applied)}." if run.applied else ""
                raise ContractionFailedError(f"{exc}{applied}") from exc
        return run


class ContractionFailedError(MigrationFailed):
    """Removing a DB default kept for the old code failed; running the destructive phase again resumes."""


def apply_phase(
    executor: MigrationExecutor,
    plan: PhasePlan,
    options: Options,
    document: dict[str, Any],
    output: ProgressWriter,
) -> None:
    """--phase: ``run_phase`` with the command's options, ``plan`` being the plan made before the lock.

    Raises OptionError without a phase, PhaseRefused when ``plan`` already refuses it, and what
    ``run_phase`` raises."""
    if options.phase is None:
        raise OptionError("Choose a phase: --phase=additive, --phase=destructive or --phase=all.")
    # Refused before waiting for the lock too, so a wrong phase fails at once.
    refusal = plan.refusal(options.phase)
    if refusal:
        raise PhaseRefused(refusal)
    phase = options.phase
    document.update(action="apply", database=options.database, phase=phase, applied=[])
    run = run_phase(
        executor.connection,
        phase,
        resolve_targets(executor.loader, options.app_label, options.migration_name),
        options=ApplyOptions(
            fake=options.fake,
            lock_timeout=options.lock_timeout or None,
            statement_timeout=options.statement_timeout,
            retries=options.retries,
            retry_delay=options.retry_delay,
        ),
        wait=options.wait,
        verbosity=output.verbosity,
        stdout=output.stdout,
        say=output.say,
        progress=output.migration_progress,
        announce=lambda plan: output.announce(phase, plan),
    )
    for kept in run.expanded:
        column, default = kept.split(" DEFAULT ", 1)
        output.say(
            f"  Kept DB default {default} on {column} for the old code's INSERTs; "
            "--phase=destructive removes it."
        )
    document.update(
        applied=run.applied,
        expanded=run.expanded,
        contracted=run.contracted,
        relaxed=run.relaxed,
        fake=options.fake,
        waiting_for_destructive=[v.label for v in run.plan.destructive] if phase == ADDITIVE else [],
    )


def finish_partials(
    connection: BaseDatabaseWrapper, options: Options, document: dict[str, Any], output: ProgressWriter
) -> None:
    """--resume or --undo: under the migration lock, settle what a stopped run left started, then
    finish (or revert) every half-applied migration the journal shows.

    Raises NothingToFinish, LockBusy (``--no-wait``), StartedUndecided or MigrationFailed."""
    with migration_lock(connection, wait=options.wait, say=output.say):
        partials = journal.partial_migrations(connection)
        if not partials:
            raise NothingToFinish(
                "The journal shows no half-applied migration; there is nothing to resume or undo."
            )
        executor = executor_for(connection, output.migration_progress)
        document.update(
            action="undo" if options.undo else "resume",
            partials=[partial.describe() for partial in partials],
        )
        _settle_started(executor, partials, options, document, output.say)
        # Settling changes the journal: what is left to finish is read again.
        for partial in journal.partial_migrations(connection):
            if options.undo:
                journal.undo_partial(executor, partial)
                output.say(f"Undid {partial.describe()}.")
                continue
            migration = executor.loader.get_migration(partial.app_label, partial.name)
            apply_steps(
                executor,
                [(migration, partial.backwards)],
                ApplyOptions(lock_timeout=options.lock_timeout or None),
                verbosity=output.verbosity,
                stdout=output.stdout,
                say=output.say,
            )


def _settle_started(
    executor: MigrationExecutor,
    partials: list[journal.Partial],
    options: Options,
    document: dict[str, Any],
    say: Callable[[str], None],
) -> None:
    """An operation a stopped run left started is decided from the schema before anything runs."""
    undecided = [p for p in partials if p.started is not None]
    if options.started and not undecided:
        raise NothingToFinish("--started answers for an operation left started, and the journal shows none.")
    database_option = "" if options.database == "default" else f" --database {options.database}"
    settled: list[str] = document.setdefault("settled", [])
    for partial in undecided:
        found = journal.settle_started(executor, partial, options.started, database_option)
        settled.append(found)
        say(found)
