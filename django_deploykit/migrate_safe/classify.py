"""Per-operation verdicts, judged from the model state before each operation.

The rule behind every verdict: an operation is *additive* only if the old code keeps working
after it (reads and writes), and *destructive* only if the new code works before it. The
caller passes the state before the first operation; it is advanced with ``state_forwards``
past each one, so no state is cloned for the common operations.
"""

from __future__ import annotations

import dis
from collections.abc import Iterable

from django.db.migrations import operations as ops
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

from django_deploykit.migrate_safe.expansion import expansion_for
from django_deploykit.migrate_safe.field_changes import (
    column_name,
    field_named,
    has_table,
    needs_value_on_insert,
)
from django_deploykit.migrate_safe.findings import Hazard, Judgement, OperationVerdict
from django_deploykit.migrate_safe.lock_levels import NEW_TABLE, lock_taken
from django_deploykit.migrate_safe.phases import (
    ADDITIVE,
    ANY,
    DATA_LOSS,
    DESTRUCTIVE,
    IRREVERSIBLE,
    REFUSED,
    UNKNOWN,
    flip,
)
from django_deploykit.migrate_safe.rules import REVIEW_FIX, RULES, uniques_removed
from django_deploykit.migrate_safe.running_code import Judging

__all__ = ["Hazard", "Judging", "OperationVerdict", "classify_operations", "judge", "undo_verdicts"]


def _does_nothing(function: object) -> bool:
    """True for a method whose body is empty (``pass``, a docstring, ``return``)."""
    code = getattr(function, "__code__", None)
    if code is None:
        return False
    allowed = {"RESUME", "NOP", "RETURN_CONST", "RETURN_VALUE", "LOAD_CONST", "CACHE"}
    for instruction in dis.get_instructions(code):
        if instruction.opname not in allowed:
            return False
        if instruction.opname in ("LOAD_CONST", "RETURN_CONST") and instruction.argval is not None:
            return False
    return True


def _calls_base_step(function: object) -> bool:
    """True for a method that calls ``super().database_forwards``: a guard around the base step."""
    code = getattr(function, "__code__", None)
    return code is not None and "super" in code.co_names and "database_forwards" in code.co_names


def judge(op: Operation, app_label: str, state: ProjectState, ctx: Judging) -> Judgement:
    """The judgement of one operation: a composite one by what it holds, any other by its rule."""
    if isinstance(op, ops.SeparateDatabaseAndState):
        # A subclass too: whatever its own step, the database operations it holds are what runs.
        return _separate(op, app_label, state, ctx)
    for kind, rule in RULES:
        if isinstance(op, kind):
            own_step = type(op).database_forwards
            if own_step is not kind.database_forwards and kind not in CUSTOM_STEP_KINDS:
                # A package's subclass with its own database step: the base class's rule would judge
                # SQL that never runs.
                if _does_nothing(own_step):
                    return Judgement(
                        ANY,
                        f"{type(op).__name__} subclasses {kind.__name__} with a database step that does "
                        "nothing: only the model state changes.",
                    )
                if _calls_base_step(own_step):
                    # A guard around the base class's own step (skip it if the table is gone, swallow
                    # "no such index"): at most what the base class does.
                    j = rule(op, app_label, state, ctx)
                    return Judgement(
                        j.phase,
                        f"{j.reason} ({type(op).__name__} runs {kind.__name__}'s database step under a guard "
                        "of its own.)",
                        j.hazards,
                        j.fix,
                    )
                return Judgement(
                    UNKNOWN,
                    f"{type(op).__name__} subclasses {kind.__name__} but runs its own database step: "
                    "deploykit cannot tell what it does.",
                    fix=REVIEW_FIX,
                )
            return rule(op, app_label, state, ctx)
    return Judgement(
        UNKNOWN,
        f"deploykit has no rule for {type(op).__name__}.",
        fix=REVIEW_FIX,
    )


def _separate(
    op: ops.SeparateDatabaseAndState, app_label: str, state: ProjectState, ctx: Judging
) -> Judgement:
    """A SeparateDatabaseAndState is judged by its database operations, each judged here in turn."""
    if not op.database_operations:
        return Judgement(ANY, "Changes only the model state, not the database.")
    inner = classify_operations(op.database_operations, app_label, state.clone(), ctx)
    phases = {v.phase for v in inner} - {ANY}
    summary = "; ".join(f"{v.description}: {v.phase}" for v in inner)
    hazards = [h for v in inner for h in v.hazards]
    if not phases:
        return Judgement(ANY, f"Its database operations change nothing the code sees ({summary}).", hazards)
    if len(phases) == 1:
        (phase,) = phases
        fix = next((v.fix for v in inner if v.fix), "")
        return Judgement(phase, f"Judged by its database operations ({summary}).", hazards, fix)
    return Judgement(
        REFUSED,
        f"Its database operations need different phases ({summary}).",
        hazards,
        fix="Split the database operations into separate migrations, one per phase.",
    )


# Operations that only shape one model's table: harmless on a table no running code knows yet.
TABLE_SHAPING = (
    ops.AddField,
    ops.RemoveField,
    ops.AlterField,
    ops.RenameField,
    ops.AddIndex,
    ops.RemoveIndex,
    ops.AddConstraint,
    ops.RemoveConstraint,
    ops.AlterUniqueTogether,
    ops.AlterIndexTogether,
)
# Operations on one column: AddField creates it, the others find it in the state before them.
COLUMN_SHAPING = (ops.RemoveField, ops.AlterField, ops.RenameField)
# Rules written for operations that run code of their own: a subclass is judged by the same rule.
CUSTOM_STEP_KINDS = (ops.RunPython, ops.RunSQL)


def _model_of(op: Operation) -> str | None:
    name = getattr(op, "model_name_lower", None) or getattr(op, "name_lower", None)
    return str(name) if name else None


def _column_of(op: Operation, app_label: str, state: ProjectState) -> str | None:
    """The column a column-shaping operation touches, from the state before it."""
    model = state.models.get((app_label, str(getattr(op, "model_name_lower", ""))))
    name = getattr(op, "old_name_lower", None) or getattr(op, "name_lower", None)
    found = field_named(model, name) if name is not None else None
    return column_name(*found) if found else None


def _unseen(
    op: Operation, app_label: str, state: ProjectState, ctx: Judging, created: set[str]
) -> Judgement | None:
    """The judgement of an operation on a table or column no running code has, or None."""
    model = _model_of(op)
    if model is None:
        return None
    running = ctx.running
    before = state.models.get((app_label, model))
    if before is not None and not has_table(before):
        return None  # a proxy or unmanaged model: its rule says it changes no table
    if isinstance(op, TABLE_SHAPING) and model in created:
        return Judgement(
            ADDITIVE, "Shapes a table created earlier in this migration: no running code uses it yet."
        )
    if running is None:
        return None
    if isinstance(op, (*TABLE_SHAPING, ops.DeleteModel)) and not running.old_has_table(app_label, model):
        return Judgement(
            ADDITIVE,
            "Shapes a table the running code does not have (created earlier in this plan): no running code "
            "uses it yet.",
        )
    if isinstance(op, ops.AddField):
        added = column_name(op.name, op.field)
        # Only a refusal depends on whether the plan keeps the column.
        if needs_value_on_insert(op.field) and not running.new_has_column(app_label, model, added):
            return Judgement(
                ANY, f"Adds column {added}, which this plan drops again: its net effect is none."
            )
        return None
    if not isinstance(op, COLUMN_SHAPING):
        return None
    column = _column_of(op, app_label, state)
    if column is None or running.old_has_column(app_label, model, column):
        return None
    if (
        isinstance(op, ops.AlterField)
        and needs_value_on_insert(op.field)
        and not _needs_value_before(op, app_label, state)
    ):
        if not running.new_has_column(app_label, model, column):
            return Judgement(
                ANY, f"Column {column} is added and dropped within this plan: no running code uses it."
            )
        # The net effect of the plan is a new NOT NULL column the old code's INSERTs leave out.
        expansion = expansion_for(op.field, ctx.connection)
        if expansion is not None:
            return Judgement(
                ADDITIVE,
                f"Makes column {column}, which the old code does not have (added earlier in this plan), "
                f"NOT NULL: the additive phase keeps DB default {expansion.shown} on it so the old code's "
                "INSERTs keep working; the destructive phase removes that default.",
            )
        return Judgement(
            REFUSED,
            f"Makes column {column}, which the old code does not have (added earlier in this plan), NOT NULL "
            "without a DB default: the old code's INSERTs, which leave it out, fail.",
            fix=f"Give '{op.name}' a db_default, or keep it nullable until the new code is live.",
        )
    if isinstance(op, ops.RemoveField):
        return Judgement(ANY, f"Drops column {column}, added earlier in this plan: no running code used it.")
    return Judgement(
        ADDITIVE,
        f"Changes column {column}, which the old code does not have (added earlier in this plan): "
        "the old code keeps working.",
    )


def _needs_value_before(op: Operation, app_label: str, state: ProjectState) -> bool:
    """The column already needed a value on INSERT before ``op``: an earlier operation made it so,
    and was judged for it."""
    model = state.models.get((app_label, str(getattr(op, "model_name_lower", ""))))
    name = str(getattr(op, "name_lower", ""))
    found = field_named(model, name)
    return found is not None and needs_value_on_insert(found[1])


def _never_migrated(op: Operation, app_label: str, ctx: Judging) -> Judgement | None:
    running = ctx.running
    if running is None or app_label not in running.never_migrated:
        return None
    if not isinstance(op, ops.RunPython | ops.RunSQL):
        return None
    return Judgement(
        ADDITIVE,
        f"App {app_label} was never migrated on this database: no running code uses its tables, so its data "
        "step runs before the new code goes live.",
    )


def classify_operations(
    operations: Iterable[Operation], app_label: str, state: ProjectState, ctx: Judging
) -> list[OperationVerdict]:
    """Judge operations applied forwards, advancing ``state`` (mutated) past each one."""
    operations = list(operations)
    verdicts = []
    created: set[str] = set()
    outer_removed = ctx.uniques_removed
    ctx.uniques_removed = outer_removed | uniques_removed(operations, app_label, state)
    try:
        for index, op in enumerate(operations, start=1):
            unseen = _unseen(op, app_label, state, ctx, created)
            j = unseen or _never_migrated(op, app_label, ctx) or judge(op, app_label, state, ctx)
            if isinstance(op, ops.CreateModel):
                created.add(op.name_lower)
            hazards = list(j.hazards)
            if not op.reversible:
                hazards.append(Hazard(IRREVERSIBLE, "It cannot be unapplied."))
            lock = NEW_TABLE if unseen is not None else lock_taken(op, ctx.vendor)
            verdicts.append(
                OperationVerdict(
                    index, op.describe(), type(op).__name__, j.phase, j.reason, hazards, j.fix, lock
                )
            )
            op.state_forwards(app_label, state)
    finally:
        ctx.uniques_removed = outer_removed
    _only_the_old_code_sees(verdicts, operations, app_label, ctx)
    return verdicts


def _only_the_old_code_sees(
    verdicts: list[OperationVerdict], operations: list[Operation], app_label: str, ctx: Judging
) -> None:
    """In a migration that would be mixed, a relaxing change to a table the new code does not have
    (the plan drops it) matters to the old code only: it fits either phase. Checked only then, as
    it needs the new code's state."""
    running = ctx.running
    phases = {v.phase for v in verdicts}
    if running is None or ADDITIVE not in phases or DESTRUCTIVE not in phases:
        return
    for verdict, op in zip(verdicts, operations, strict=True):
        model = _model_of(op)
        if verdict.phase != ADDITIVE or not isinstance(op, TABLE_SHAPING) or model is None:
            continue
        if not running.new_has_table(app_label, model):
            verdict.phase = ANY
            verdict.reason += (
                " The new code does not have this table (the plan drops it): only the old code sees this "
                "change, and it fits either phase."
            )


def _undo_losses(v: OperationVerdict) -> list[Hazard]:
    """What unapplying loses, which the forward verdict cannot say."""
    if v.phase != ADDITIVE and v.operation not in ("RemoveField", "DeleteModel"):
        return []
    if v.operation in ("AddField", "CreateModel"):
        return [Hazard(DATA_LOSS, f"Unapplying '{v.description}' deletes its data.")]
    if v.operation == "AlterField":
        return [
            Hazard(
                DATA_LOSS,
                "Unapplying it tightens the column again: values only the relaxed column allows "
                "(NULLs, longer or wider values) make it fail or are cut.",
            )
        ]
    if v.operation in ("RemoveField", "DeleteModel"):
        return [
            Hazard(
                DATA_LOSS, f"Unapplying '{v.description}' brings back the structure, not the data it held."
            )
        ]
    return []


def undo_verdicts(forward: list[OperationVerdict]) -> list[OperationVerdict]:
    """Verdicts for unapplying, from the forward verdicts: the phase flips, in reverse order."""
    undone = []
    for v in reversed(forward):
        hazards = [h for h in v.hazards if h.kind != DATA_LOSS]
        hazards += _undo_losses(v)
        undone.append(
            OperationVerdict(
                v.index,
                f"Undo: {v.description}",
                v.operation,
                flip(v.phase),
                f"Undoes a{'n' if v.phase in (ADDITIVE, ANY, UNKNOWN) else ''} {v.phase} change ({v.reason})",
                hazards,
                v.fix,
                # Undoing a creation drops the table: that lock is the one of any other DDL.
                "as for dropping the table" if v.lock == NEW_TABLE else v.lock,
            )
        )
    return undone
