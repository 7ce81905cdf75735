"""Per-operation verdicts, judged from the model state before each operation.

The rule behind every verdict: an operation is *additive* only if the old code keeps working
after it (reads and writes), and *destructive* only if the new code works before it. The
caller passes the state before the first operation; it is advanced with ``state_forwards``
past each one, so no state is cloned for the common operations.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.migrations import operations as ops
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

from django_deploykit.migrate_safe.findings import Hazard, Judgement, OperationVerdict
from django_deploykit.migrate_safe.lock_levels import NEW_TABLE, lock_taken
from django_deploykit.migrate_safe.phases import ADDITIVE, ANY, DATA_LOSS, IRREVERSIBLE, UNKNOWN, flip
from django_deploykit.migrate_safe.rules import RULES

__all__ = ["Hazard", "OperationVerdict", "classify_operations", "judge", "undo_verdicts"]


def judge(op: Operation, app_label: str, state: ProjectState, vendor: str) -> Judgement:
    for kind, rule in RULES:
        if isinstance(op, kind):
            return rule(op, app_label, state, vendor)
    return Judgement(
        UNKNOWN,
        f"deploykit has no rule for {type(op).__name__}.",
        fix="Mark the migration with deploy_phase, or list it in DEPLOYKIT_MIGRATION_PHASES.",
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


def _model_of(op: Operation) -> str | None:
    name = getattr(op, "model_name_lower", None) or getattr(op, "name_lower", None)
    return str(name) if name else None


def classify_operations(
    operations: Iterable[Operation], app_label: str, state: ProjectState, vendor: str
) -> list[OperationVerdict]:
    """Judge operations applied forwards, advancing ``state`` (mutated) past each one."""
    verdicts = []
    created: set[str] = set()
    for index, op in enumerate(operations, start=1):
        new_table = isinstance(op, TABLE_SHAPING) and _model_of(op) in created
        if new_table:
            j = Judgement(
                ADDITIVE, "Shapes a table created earlier in this migration: no running code uses it yet."
            )
        else:
            j = judge(op, app_label, state, vendor)
        if isinstance(op, ops.CreateModel):
            created.add(op.name_lower)
        hazards = list(j.hazards)
        if not op.reversible:
            hazards.append(Hazard(IRREVERSIBLE, "It cannot be unapplied."))
        lock = NEW_TABLE if new_table else lock_taken(op, vendor)
        verdicts.append(
            OperationVerdict(index, op.describe(), type(op).__name__, j.phase, j.reason, hazards, j.fix, lock)
        )
        op.state_forwards(app_label, state)
    return verdicts


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
