"""The two code versions a forward plan is judged against, and what each of them has.

The old code is the project state at the migrations the database has applied: it is what
serves while the additive phase runs. The new code is the state at the plan's end: it serves
while the destructive phase runs. An operation matters to the old code only through tables and
columns the old code has, and to the new code only through those the new code has; a table or
column created earlier in the same pending plan is seen by no running code.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations.state import ModelState, ProjectState

from django_deploykit.migrate_safe.field_changes import column_name, has_table


def _model(state: ProjectState | None, app_label: str, name_lower: str) -> ModelState | None:
    return None if state is None else state.models.get((app_label, name_lower))


def _has_column(model: ModelState | None, column: str) -> bool:
    if model is None:
        return False
    return any(column_name(name, f) == column for name, f in model.fields.items())


@dataclass
class RunningCode:
    """What the old code and the new code have, for a forward plan.

    ``first_install``: the database has no migration applied at all, so no code runs against
    it yet. ``never_migrated``: apps with no applied migration, whose tables no running code has.
    """

    old: ProjectState
    # Built only when a verdict depends on it (a column added and dropped within the plan): walking
    # the whole plan's states a second time would make --plan slower than migrate --plan.
    build_new: Callable[[], ProjectState]
    first_install: bool = False
    never_migrated: frozenset[str] = frozenset()

    @cached_property
    def new(self) -> ProjectState:
        return self.build_new()

    def old_has_table(self, app_label: str, model_lower: str) -> bool:
        model = _model(self.old, app_label, model_lower)
        return model is not None and has_table(model)

    def new_has_table(self, app_label: str, model_lower: str) -> bool:
        model = _model(self.new, app_label, model_lower)
        return model is not None and has_table(model)

    def old_has_column(self, app_label: str, model_lower: str, column: str) -> bool:
        return _has_column(_model(self.old, app_label, model_lower), column)

    def new_has_column(self, app_label: str, model_lower: str, column: str) -> bool:
        return _has_column(_model(self.new, app_label, model_lower), column)


@dataclass
class Judging:
    """What a rule may consult besides the operation and the state before it.

    ``running`` is None for backwards plans, whose verdicts are those of applying, flipped.
    ``uniques_removed`` holds, for the migration being judged, the field sets whose uniqueness
    it removes: a unique constraint it adds over a superset of one of them tightens nothing.
    """

    connection: BaseDatabaseWrapper
    running: RunningCode | None = None
    uniques_removed: set[tuple[str, frozenset[str]]] = field(default_factory=set)

    @property
    def vendor(self) -> str:
        return str(self.connection.vendor)
