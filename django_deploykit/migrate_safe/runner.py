"""Running one phase the safe way, for the command and for the swap code alike:
take the migration lock, refuse a database left between migrations, plan again under the lock
(another run may have migrated meanwhile), refuse an unsafe phase, apply.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from django.core.management.base import OutputWrapper
from django.db.backends.base.base import BaseDatabaseWrapper

from django_deploykit.migrate_safe import journal
from django_deploykit.migrate_safe.applying import ApplyOptions, apply_steps
from django_deploykit.migrate_safe.locks import migration_lock
from django_deploykit.migrate_safe.planning import PhasePlan, Target, executor_for, plan_to


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

    Raises LockBusy (``wait=False``), BetweenMigrations, PhaseRefused, PlanError or
    MigrationFailed; in each case the message is a sentence that says what to do.
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
        applied = apply_steps(
            executor, steps, options or ApplyOptions(), verbosity=verbosity, stdout=stdout, say=say
        )
        return PhaseRun(plan, applied)
