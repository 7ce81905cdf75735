"""Running one phase the safe way, for the command and for the swap code alike:
take the migration lock, refuse a database left between migrations, plan again under the lock
(another run may have migrated meanwhile), refuse an unsafe phase, apply.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

from django.core.management.base import OutputWrapper
from django.db.backends.base.base import BaseDatabaseWrapper

from django_deploykit.migrate_safe import expansion, journal
from django_deploykit.migrate_safe.applying import ApplyOptions, MigrationFailed, apply_steps
from django_deploykit.migrate_safe.locks import migration_lock
from django_deploykit.migrate_safe.phases import ADDITIVE
from django_deploykit.migrate_safe.planning import PhasePlan, Target, applied_state, executor_for, plan_to
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
