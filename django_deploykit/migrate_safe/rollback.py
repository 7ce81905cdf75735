"""What a rollback means for the database, worked out in each slot's own code.

The previous code (the stage slot during a rollback) knows which migrations it was written
for; the newer code (live) knows the migrations it applied since, and can classify and
unapply them. ``swap_live --rollback`` asks each slot through the ``swap_live_migrations``
command and decides from the answers.
"""

from __future__ import annotations

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

from django_deploykit.migrate_safe.phases import flip
from django_deploykit.migrate_safe.planning import PlanError, executor_for, plan_to
from django_deploykit.migrate_safe.runner import run_phase

Node = tuple[str, str]


def known_migrations(connection: BaseDatabaseWrapper) -> dict[str, Any]:
    """This code's leaf nodes and every migration it has, as JSON-ready lists."""
    graph = executor_for(connection).loader.graph
    return {"leaves": sorted(graph.leaf_nodes()), "nodes": sorted(graph.nodes)}


def rollback_targets(
    connection: BaseDatabaseWrapper, previous_leaves: list[Node]
) -> list[tuple[str, str | None]]:
    """The previous code's leaves, plus zero for apps only this (newer) code has migrations for.

    A leaf of an app this code knows must be one of its migrations, or one a squashed migration of it
    replaces (that app is then left as it is). Anything else is refused: dropping it would leave the app
    out of the targets, and an app left out is taken back to zero.
    """
    loader = executor_for(connection).loader
    graph = loader.graph
    replaced = {node for squashed in loader.replacements.values() for node in squashed.replaces}
    known_apps = {app for app, _ in graph.nodes}
    unknown = sorted(
        f"{app}.{name}"
        for app, name in previous_leaves
        if app in known_apps and (app, name) not in graph.nodes and (app, name) not in replaced
    )
    if unknown:
        raise PlanError(
            f"The previous code's migration{'s' if len(unknown) > 1 else ''} {', '.join(unknown)} "
            f"{'are' if len(unknown) > 1 else 'is'} unknown to this code, so what to unapply cannot be worked "
            "out; nothing was unapplied."
        )
    previous_apps = {app for app, _ in previous_leaves}
    targets: list[tuple[str, str | None]] = [
        (app, name) for app, name in previous_leaves if (app, name) in graph.nodes
    ]
    targets += [(app, None) for app in sorted({app for app, _ in graph.leaf_nodes()} - previous_apps)]
    return targets


def rollback_plan(connection: BaseDatabaseWrapper, previous_leaves: list[Node]) -> dict[str, Any]:
    """The migrations this code applied that the previous code lacks, each with its forward phase."""
    plan = plan_to(rollback_targets(connection, previous_leaves), connection)
    return {
        "migrations": [
            {"label": verdict.label, "forward_phase": flip(verdict.phase), "reason": verdict.reason}
            for verdict in plan.migrations
        ],
        "irreversible": list(plan.irreversible),
    }


def reverse_to(connection: BaseDatabaseWrapper, previous_leaves: list[Node]) -> list[str]:
    """Unapply what the previous code lacks, under migrate_safe's lock; return what was unapplied."""
    return run_phase(connection, "all", rollback_targets(connection, previous_leaves)).applied
