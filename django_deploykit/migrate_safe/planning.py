"""Pending plans split into phases, and the Python API the swap and rollback code uses.

``pending_for_leaves(connection)`` answers "what does this code base need that the database
lacks?"; ``plan_to(targets, connection)`` answers "what would reach these nodes?" (forwards or
backwards). Both return a ``PhasePlan`` whose every migration carries its phase.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations import Migration
from django.db.migrations.exceptions import AmbiguityError
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ProjectState

from django_deploykit.migrate_safe.classify import classify_operations, undo_verdicts
from django_deploykit.migrate_safe.expansion import Contraction, pending_contractions
from django_deploykit.migrate_safe.phases import ADDITIVE, DESTRUCTIVE
from django_deploykit.migrate_safe.running_code import Judging, RunningCode
from django_deploykit.migrate_safe.verdicts import MigrationVerdict, migration_verdict

Target = tuple[str, str | None]
Step = tuple[Migration, bool]


class PlanError(ValueError):
    """The targets cannot be planned: the message is a sentence that says what to do."""


@dataclass
class PhasePlan:
    """A plan in Django's order, every migration classified, split into the two phases.

    ``additive`` is the largest dependency-closed part of the plan holding only additive
    migrations; ``destructive`` is the rest, run after the swap. ``held_back`` explains each
    additive migration kept out of the additive phase by what it depends on. ``contractions``
    are the DB defaults an earlier additive phase kept for the old code (expansion.py): pending
    destructive work even when no destructive migration is pending.
    """

    direction: str
    migrations: list[MigrationVerdict]
    steps: list[Step]
    additive: list[MigrationVerdict] = field(default_factory=list)
    destructive: list[MigrationVerdict] = field(default_factory=list)
    held_back: dict[str, str] = field(default_factory=dict)
    irreversible: list[str] = field(default_factory=list)
    contractions: list[Contraction] = field(default_factory=list)

    @property
    def first_install(self) -> bool:
        """Nothing is applied on the database: no code runs against it, one phase runs it all."""
        return any(v.source == "first-install" for v in self.migrations)

    @property
    def blocked(self) -> list[MigrationVerdict]:
        """Mixed or unclassified migrations: they run in neither phase."""
        return [v for v in self.migrations if not v.runnable]

    def select(self, phase: str) -> list[MigrationVerdict]:
        if phase == ADDITIVE:
            return self.additive
        if phase == DESTRUCTIVE:
            return self.destructive
        return self.migrations

    def steps_for(self, verdicts: Iterable[MigrationVerdict]) -> list[Step]:
        wanted = {v.key for v in verdicts}
        return [(m, bw) for m, bw in self.steps if (m.app_label, m.name) in wanted]

    def refusal(self, phase: str) -> str | None:
        """Why ``phase`` must not run now (a sentence that says what to do), or None."""
        if self.irreversible:
            return (
                "Cannot unapply: "
                + "; ".join(self.irreversible)
                + " cannot be reversed. Nothing was unapplied."
            )
        if phase != DESTRUCTIVE:
            return None
        if self.additive:
            return (
                "Additive migrations are still pending ("
                + ", ".join(v.label for v in self.additive)
                + "); run --phase=additive before the swap, then --phase=destructive after it."
            )
        if self.blocked:
            return (
                "These migrations run in no phase: "
                + "; ".join(f"{v.label}: {v.reason}" for v in self.blocked)
                + " Split, review or mark them (see --plan); nothing was applied."
            )
        return None

    def as_dict(self) -> dict[str, Any]:
        return {
            "direction": self.direction,
            "migrations": [v.as_dict() for v in self.migrations],
            "additive": [v.label for v in self.additive],
            "destructive": [v.label for v in self.destructive],
            "held_back": self.held_back,
            "blocked": [v.label for v in self.blocked],
            "irreversible": self.irreversible,
            "contractions": [c.as_dict() for c in self.contractions],
        }


def executor_for(
    connection: BaseDatabaseWrapper, progress_callback: Callable[..., None] | None = None
) -> MigrationExecutor:
    """A MigrationExecutor whose graph is free of conflicts and consistent with the database."""
    executor = MigrationExecutor(connection, progress_callback)
    executor.loader.check_consistent_history(connection)
    conflicts = executor.loader.detect_conflicts()
    if conflicts:
        names = "; ".join(f"{', '.join(sorted(n))} in {app}" for app, n in sorted(conflicts.items()))
        raise PlanError(
            f"Conflicting migrations: several leaf nodes ({names}). Merge them with "
            "'manage.py makemigrations --merge' first."
        )
    return executor


def resolve_targets(
    loader: MigrationLoader, app_label: str | None, migration_name: str | None
) -> list[Target]:
    """Targets the way ``migrate`` reads its arguments: all leaves, an app's leaf, or one node."""
    if app_label is None:
        return list(loader.graph.leaf_nodes())
    try:
        apps.get_app_config(app_label)
    except LookupError as exc:
        raise PlanError(f"No installed app with label '{app_label}'; check INSTALLED_APPS.") from exc
    if app_label not in loader.migrated_apps:
        raise PlanError(f"App '{app_label}' has no migrations.")
    if migration_name is None:
        return [key for key in loader.graph.leaf_nodes() if key[0] == app_label]
    if migration_name == "zero":
        return [(app_label, None)]
    try:
        migration = loader.get_migration_by_prefix(app_label, migration_name)
    except AmbiguityError as exc:
        raise PlanError(
            f"More than one migration in '{app_label}' starts with '{migration_name}'; give more of its name."
        ) from exc
    except KeyError as exc:
        raise PlanError(
            f"App '{app_label}' has no migration named '{migration_name}'; see 'manage.py showmigrations {app_label}'."
        ) from exc
    return [(app_label, migration.name)]


def plan_for_arguments(
    connection: BaseDatabaseWrapper,
    app_label: str | None,
    migration_name: str | None,
    progress_callback: Callable[..., None] | None = None,
) -> tuple[MigrationExecutor, PhasePlan]:
    """The plan to the targets of ``migrate``-style arguments (see resolve_targets), and its executor."""
    executor = executor_for(connection, progress_callback)
    targets = resolve_targets(executor.loader, app_label, migration_name)
    return executor, plan_to(targets, connection, executor)


def pending_for_leaves(
    connection: BaseDatabaseWrapper, executor: MigrationExecutor | None = None
) -> PhasePlan:
    """The migrations this code base's leaf nodes need and the database has not applied,
    phase-classified. Forwards only, since leaves never require unapplying."""
    executor = executor or executor_for(connection)
    return plan_to(executor.loader.graph.leaf_nodes(), connection, executor)


def plan_to(
    targets: Sequence[Target], connection: BaseDatabaseWrapper, executor: MigrationExecutor | None = None
) -> PhasePlan:
    """The plan that reaches ``targets`` (``(app_label, name)``, or ``(app_label, None)`` for
    zero), phase-classified. Backwards plans flip phases: unapplying an additive migration is
    destructive. Raises ``PlanError`` for a plan that goes both ways."""
    executor = executor or executor_for(connection)
    steps: list[Step] = executor.migration_plan(list(targets))
    directions = {bw for _, bw in steps}
    if len(directions) > 1:
        raise PlanError(
            "These targets need some migrations applied and others unapplied; migrate to them one at a time."
        )
    backwards = directions == {True}
    classify = _classify_backwards if backwards else _classify_forwards
    verdicts = classify(executor, steps, connection)
    plan = PhasePlan("backwards" if backwards else "forwards" if steps else "none", verdicts, steps)
    _split(plan, executor.loader, backwards)
    plan.contractions = pending_contractions(connection)
    if backwards:
        plan.irreversible = [
            f"{m.app_label}.{m.name} operation {i} ({op.describe()})"
            for m, _ in steps
            for i, op in enumerate(m.operations, start=1)
            if not op.reversible
        ]
    return plan


def applied_state(executor: MigrationExecutor) -> ProjectState:
    """The project state of the migrations the database has applied (the executor's own
    helper for this is private)."""
    loader = executor.loader
    state = ProjectState(real_apps=loader.unmigrated_apps)
    applied = loader.applied_migrations or {}
    if applied:
        for migration, _ in executor.migration_plan(loader.graph.leaf_nodes(), clean_start=True):
            if (migration.app_label, migration.name) in applied:
                migration.mutate_state(state, preserve=False)
    return state


def _classify_forwards(
    executor: MigrationExecutor, steps: list[Step], connection: BaseDatabaseWrapper
) -> list[MigrationVerdict]:
    state = applied_state(executor)
    applied = executor.loader.applied_migrations or {}
    migrated_apps = {app_label for app_label, _ in applied}

    # classify_operations advances `state` along the plan; the old code's state stays as applied.
    old = state.clone() if steps else state

    def build_new() -> ProjectState:
        new = old.clone()
        for migration, _ in steps:
            migration.mutate_state(new, preserve=False)
        return new

    verdicts: list[MigrationVerdict] = []
    running = RunningCode(
        old,
        build_new,
        first_install=not applied,
        never_migrated=frozenset(m.app_label for m, _ in steps) - migrated_apps,
    )
    ctx = Judging(connection, running)
    transactional = bool(connection.features.can_rollback_ddl)
    for migration, _ in steps:
        ops = classify_operations(migration.operations, migration.app_label, state, ctx)
        verdicts.append(
            migration_verdict(
                migration, ops, transactional_ddl=transactional, first_install=running.first_install
            )
        )
    return verdicts


def _classify_backwards(
    executor: MigrationExecutor, steps: list[Step], connection: BaseDatabaseWrapper
) -> list[MigrationVerdict]:
    # Undoing is judged as applying, flipped, with every object known: no running-code context.
    ctx = Judging(connection)
    transactional = bool(connection.features.can_rollback_ddl)
    # The state before each migration to unapply, walked as Django's executor walks it.
    wanted = {(m.app_label, m.name) for m, _ in steps}
    loader = executor.loader
    applied = loader.applied_migrations or {}
    before: dict[tuple[str, str], ProjectState] = {}
    state = ProjectState(real_apps=loader.unmigrated_apps)
    for migration, _ in executor.migration_plan(loader.graph.leaf_nodes(), clean_start=True):
        key = (migration.app_label, migration.name)
        if key in wanted:
            before[key] = state.clone()
            if len(before) == len(wanted):
                break
        if key in applied:
            migration.mutate_state(state, preserve=False)
    verdicts = []
    for migration, _ in steps:
        key = (migration.app_label, migration.name)
        forward = classify_operations(migration.operations, migration.app_label, before[key], ctx)
        verdicts.append(
            migration_verdict(
                migration,
                forward,
                backwards=True,
                transactional_ddl=transactional,
                undo_operations=undo_verdicts(forward),
            )
        )
    return verdicts


def _split(plan: PhasePlan, loader: MigrationLoader, backwards: bool) -> None:
    in_plan = {v.key: v for v in plan.migrations}
    included: set[tuple[str, str]] = set()
    for verdict in plan.migrations:
        node = loader.graph.node_map[verdict.key]
        # Applying needs the parents first; unapplying needs the children undone first.
        prerequisites = node.children if backwards else node.parents
        waiting = sorted(p.key for p in prerequisites if p.key in in_plan and p.key not in included)
        if verdict.phase == ADDITIVE:
            if waiting:
                named = ", ".join(
                    f"{a}.{n} ({'held back' if in_plan[(a, n)].phase == ADDITIVE else in_plan[(a, n)].phase})"
                    for a, n in waiting
                )
                plan.held_back[verdict.label] = f"Held back from the additive phase: it needs {named} first."
            else:
                included.add(verdict.key)
    plan.additive = [v for v in plan.migrations if v.key in included]
    plan.destructive = [v for v in plan.migrations if v.key not in included]
