"""Per-operation verdicts, judged from the model state before each operation.

The rule behind every verdict: an operation is *additive* only if the old code keeps working
after it (reads and writes), and *destructive* only if the new code works before it. The
state after an operation comes from the operation itself (``AddField.field``,
``AlterField.field``...), so the caller only needs the state before it, which it advances
with ``state_forwards``: no state is cloned for the common operations.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import models
from django.db.migrations import operations as ops
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ModelState, ProjectState

from django_deploykit.migrate_safe.phases import (
    ADDITIVE,
    ANY,
    DATA_LOSS,
    DESTRUCTIVE,
    IRREVERSIBLE,
    LOCK,
    REFUSED,
    REWRITE,
    UNKNOWN,
    flip,
)

try:  # django.contrib.postgres imports psycopg at import time; projects without it still work.
    from django.contrib.postgres import operations as pg_ops
except ImportError:  # pragma: no cover - psycopg is a test dependency
    pg_ops = None  # type: ignore[assignment]


@dataclass(frozen=True)
class Hazard:
    kind: str
    reason: str

    def as_dict(self) -> dict[str, str]:
        return {"kind": self.kind, "reason": self.reason}


@dataclass
class OperationVerdict:
    """What one operation needs: its phase, a one-line reason, a fix when refused, its hazards."""

    index: int
    description: str
    operation: str
    phase: str
    reason: str
    hazards: list[Hazard] = field(default_factory=list)
    fix: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "operation": self.operation,
            "description": self.description,
            "phase": self.phase,
            "reason": self.reason,
            "fix": self.fix,
            "hazards": [h.as_dict() for h in self.hazards],
        }


@dataclass
class _Judgement:
    phase: str
    reason: str
    hazards: list[Hazard] = field(default_factory=list)
    fix: str = ""


# Attributes that change only what Python does, never the column the other code version sees.
PYTHON_ONLY_ATTRIBUTES = frozenset(
    {
        "default",
        "choices",
        "help_text",
        "verbose_name",
        "validators",
        "blank",
        "editable",
        "error_messages",
        "on_delete",
        "related_name",
        "related_query_name",
        "limit_choices_to",
        "auto_now",
        "auto_now_add",
        "upload_to",
        "storage",
        "db_comment",
        "serialize",
        "unique_for_date",
        "unique_for_month",
        "unique_for_year",
        "path",
        "match",
        "recursive",
        "allow_files",
        "allow_folders",
        "protocol",
        "unpack_ipv4",
        "width_field",
        "height_field",
        "swappable",
        "symmetrical",
    }
)

# Column types that hold every value of the type on the left: old code keeps working.
WIDENINGS = frozenset(
    {
        ("SmallIntegerField", "IntegerField"),
        ("SmallIntegerField", "BigIntegerField"),
        ("IntegerField", "BigIntegerField"),
        ("PositiveSmallIntegerField", "PositiveIntegerField"),
        ("PositiveSmallIntegerField", "PositiveBigIntegerField"),
        ("PositiveIntegerField", "PositiveBigIntegerField"),
        ("SmallAutoField", "AutoField"),
        ("SmallAutoField", "BigAutoField"),
        ("AutoField", "BigAutoField"),
        ("CharField", "TextField"),
        ("SlugField", "CharField"),
        ("SlugField", "TextField"),
        ("EmailField", "CharField"),
        ("URLField", "CharField"),
    }
)


def has_db_default(f: models.Field[Any, Any]) -> bool:
    return f.db_default is not models.NOT_PROVIDED


def needs_value_on_insert(f: models.Field[Any, Any]) -> bool:
    """True when an INSERT that omits this column fails: NOT NULL, no DB default, not generated."""
    if f.many_to_many or f.null or has_db_default(f) or f.primary_key:
        return False
    return not isinstance(f, models.GeneratedField)


def column_name(name: str, f: models.Field[Any, Any]) -> str:
    bound = f.clone()
    bound.set_attributes_from_name(name)
    return str(bound.column)


def table_name(app_label: str, model: ModelState) -> str:
    return str(model.options.get("db_table") or f"{app_label}_{model.name_lower}")


def has_table(model: ModelState | None) -> bool:
    if model is None:
        return True
    return bool(model.options.get("managed", True)) and not model.options.get("proxy", False)


def _model(state: ProjectState, app_label: str, name_lower: str) -> ModelState | None:
    return state.models.get((app_label, name_lower))


def _type(f: models.Field[Any, Any]) -> str:
    return str(f.get_internal_type())


# --- the rules, one per operation family ---------------------------------------------------


def _create_model(op: Any, app_label: str, state: ProjectState, vendor: str) -> _Judgement:
    if op.options.get("proxy") or not op.options.get("managed", True):
        return _Judgement(ANY, "A proxy or unmanaged model changes no table.")
    return _Judgement(ADDITIVE, "A new table: the old code never reads or writes it.")


def _delete_model(op: Any, app_label: str, state: ProjectState, vendor: str) -> _Judgement:
    model = _model(state, app_label, op.name_lower)
    if not has_table(model):
        return _Judgement(ANY, "A proxy or unmanaged model changes no table.")
    table = table_name(app_label, model) if model else op.name
    return _Judgement(
        DESTRUCTIVE,
        "Drops a table the old code still uses; the new code no longer needs it.",
        [Hazard(DATA_LOSS, f"Every row of {table} is deleted.")],
    )


def _field_lock_hazards(f: models.Field[Any, Any], vendor: str) -> list[Hazard]:
    hazards = []
    if f.is_relation and not f.many_to_many and getattr(f, "db_constraint", True):
        hazards.append(
            Hazard(
                LOCK, "Adds a foreign key: the referenced table is locked against writes while it is checked."
            )
        )
    if f.unique or getattr(f, "db_index", False):
        where = " (PostgreSQL: CREATE INDEX without CONCURRENTLY)" if vendor == "postgresql" else ""
        hazards.append(
            Hazard(LOCK, f"Builds an index that blocks writes to the table until it is done{where}.")
        )
    return hazards


def _add_field(op: Any, app_label: str, state: ProjectState, vendor: str) -> _Judgement:
    model = _model(state, app_label, op.model_name_lower)
    if not has_table(model):
        return _Judgement(ANY, "The model has no table of its own.")
    f = op.field
    if f.many_to_many:
        return _Judgement(ADDITIVE, "A many-to-many field adds a new table the old code never touches.")
    hazards = _field_lock_hazards(f, vendor)
    if f.null:
        return _Judgement(ADDITIVE, "A nullable column: the old code's INSERTs leave it NULL.", hazards)
    if has_db_default(f):
        return _Judgement(
            ADDITIVE, "A NOT NULL column with a DB default: the old code's INSERTs get it.", hazards
        )
    if isinstance(f, models.GeneratedField):
        return _Judgement(ADDITIVE, "A generated column: the database fills it.", hazards)
    python_default = " with only a Python default" if f.has_default() else ""
    return _Judgement(
        REFUSED,
        f"A NOT NULL column{python_default} and no DB default: the old code's INSERTs fail once it exists.",
        hazards,
        fix=f"Give '{op.name}' a db_default (db_default=...) or make it null=True, so the old code can "
        "still insert rows; tighten it later in a destructive migration.",
    )


def _remove_field(op: Any, app_label: str, state: ProjectState, vendor: str) -> _Judgement:
    model = _model(state, app_label, op.model_name_lower)
    if not has_table(model):
        return _Judgement(ANY, "The model has no table of its own.")
    old = model.fields.get(op.name_lower) if model else None
    if old is None and model is not None:
        old = next((f for n, f in model.fields.items() if n.lower() == op.name_lower), None)
    loss = [Hazard(DATA_LOSS, f"The values of {op.model_name}.{op.name} are deleted.")]
    if old is not None and needs_value_on_insert(old):
        return _Judgement(
            REFUSED,
            "Drops a NOT NULL column without a DB default: until it is dropped, the new code's INSERTs "
            "(which no longer set it) fail.",
            loss,
            fix=f"First make '{op.name}' nullable (null=True) or give it a db_default in an additive "
            "migration; then remove it in a destructive one.",
        )
    return _Judgement(
        DESTRUCTIVE, "Drops a column the old code still reads; the new code no longer uses it.", loss
    )


def _compare_fields(
    old: models.Field[Any, Any], new: models.Field[Any, Any], vendor: str
) -> tuple[list[str], list[str], list[Hazard], list[str]]:
    """(relaxing changes, tightening changes, hazards, Python-only attributes) of an AlterField."""
    relax: list[str] = []
    tighten: list[str] = []
    hazards: list[Hazard] = []
    _, _, _, old_kw = old.deconstruct()
    _, _, _, new_kw = new.deconstruct()
    old_type, new_type = _type(old), _type(new)
    if old_type != new_type:
        if (old_type, new_type) in WIDENINGS:
            relax.append(f"widens {old_type} to {new_type}")
        else:
            tighten.append(f"changes the column type from {old_type} to {new_type}")
        hazards.append(
            Hazard(REWRITE, "Changing the column type rewrites the table under an exclusive lock.")
        )
    python_only = []
    for attr in sorted(set(old_kw) | set(new_kw)):
        before, after = old_kw.get(attr), new_kw.get(attr)
        if attr == "db_column":
            continue  # the caller compared the column names already
        if before == after or attr in PYTHON_ONLY_ATTRIBUTES:
            if before != after:
                python_only.append(attr)
            continue
        if attr == "null":
            (relax if after else tighten).append("NULL allowed" if after else "NULL forbidden (NOT NULL)")
            if not after:
                hazards.append(Hazard(LOCK, "SET NOT NULL scans the whole table under an exclusive lock."))
        elif attr in ("max_length", "max_digits", "decimal_places"):
            if before is None or (after is not None and after > before):
                if attr == "decimal_places":
                    tighten.append(f"{attr} {before} -> {after} changes stored values")
                else:
                    relax.append(f"{attr} {before} -> {after}")
            else:
                tighten.append(f"{attr} {before} -> {after}")
                hazards.append(Hazard(DATA_LOSS, f"Narrowing {attr} fails or truncates on longer values."))
        elif attr == "unique" or attr == "db_index":
            added = bool(after)
            label = "unique" if attr == "unique" else "index"
            if attr == "unique":
                (tighten if added else relax).append(f"{label} {'added' if added else 'removed'}")
            else:
                # An index changes no result; dropping one can still stall the old code's queries.
                (relax if added else tighten).append(f"{label} {'added' if added else 'removed'}")
            if added:
                hazards.append(
                    Hazard(LOCK, "Building the index blocks writes to the table until it is done.")
                )
        elif attr == "db_default":
            (relax if after is not None else tighten).append(
                "DB default added"
                if after is not None
                else "DB default removed (the old code's INSERTs may rely on it)"
            )
        elif attr == "db_constraint":
            added = after in (None, True)
            (tighten if added else relax).append(f"foreign key constraint {'added' if added else 'removed'}")
        else:
            tighten.append(f"changes {attr} ({before!r} -> {after!r})")
    return relax, tighten, hazards, python_only


def _alter_field(op: Any, app_label: str, state: ProjectState, vendor: str) -> _Judgement:
    model = _model(state, app_label, op.model_name_lower)
    if not has_table(model):
        return _Judgement(ANY, "The model has no table of its own.")
    old = None
    if model is not None:
        old = next((f for n, f in model.fields.items() if n.lower() == op.name_lower), None)
    if old is None:
        return _Judgement(UNKNOWN, "The field is not in the model state before this operation.")
    if column_name(op.name, old) != column_name(op.name, op.field):
        return _rename_column(op.model_name, column_name(op.name, old), column_name(op.name, op.field))
    relax, tighten, hazards, python_only = _compare_fields(old, op.field, vendor)
    if relax and tighten:
        return _Judgement(
            REFUSED,
            f"Both relaxes ({', '.join(relax)}) and tightens ({', '.join(tighten)}) the column.",
            hazards,
            fix="Split it into two AlterField migrations: the relaxing change (additive) and the "
            "tightening change (destructive).",
        )
    if tighten:
        return _Judgement(
            DESTRUCTIVE,
            f"Tightens the column ({', '.join(tighten)}): the old code may write values it rejects.",
            hazards,
        )
    if relax:
        return _Judgement(
            ADDITIVE, f"Relaxes the column ({', '.join(relax)}): the old code keeps working.", hazards
        )
    what = f" ({', '.join(python_only)})" if python_only else ""
    return _Judgement(ANY, f"Changes only Python-side attributes{what}; the column is unchanged.")


def _rename_column(model: str, old: str, new: str) -> _Judgement:
    return _Judgement(
        REFUSED,
        f"Renames column {old} to {new}: the old code breaks after it, the new code before it.",
        fix=f"Expand/contract instead: (1) additive: add '{new}' as a nullable copy and write both; "
        f"(2) backfill '{new}' from '{old}'; (3) deploy code that reads '{new}'; "
        f"(4) destructive: remove '{old}'. Or keep the column with db_column='{old}'.",
    )


def _rename_field(op: Any, app_label: str, state: ProjectState, vendor: str) -> _Judgement:
    model = _model(state, app_label, op.model_name_lower)
    if not has_table(model):
        return _Judgement(ANY, "The model has no table of its own.")
    old = None
    if model is not None:
        old = next((f for n, f in model.fields.items() if n.lower() == op.old_name_lower), None)
    if old is not None and column_name(op.old_name, old) == column_name(op.new_name, old):
        return _Judgement(ANY, "The column keeps its name (db_column): only Python names change.")
    return _rename_column(op.model_name, op.old_name, op.new_name)


def _rename_model(op: Any, app_label: str, state: ProjectState, vendor: str) -> _Judgement:
    model = _model(state, app_label, op.old_name_lower)
    if model is not None and (not has_table(model) or model.options.get("db_table")):
        return _Judgement(ANY, "The table keeps its name (db_table) or the model has none.")
    return _Judgement(
        REFUSED,
        f"Renames the table of {op.old_name} to that of {op.new_name}: the old code breaks after it, "
        "the new code before it.",
        fix=f"Keep the table: set db_table to the old table name on {op.new_name} in the same "
        "migration; or expand/contract: create the new model (additive), copy and dual-write, "
        "deploy, delete the old one (destructive).",
    )


def _alter_model_table(op: Any, app_label: str, state: ProjectState, vendor: str) -> _Judgement:
    model = _model(state, app_label, op.name_lower)
    if model is None or not has_table(model):
        return _Judgement(ANY, "The model has no table of its own.")
    old = table_name(app_label, model)
    new = op.table or f"{app_label}_{model.name_lower}"
    if old == new:
        return _Judgement(ANY, "The table name does not change.")
    return _Judgement(
        REFUSED,
        f"Renames table {old} to {new}: the old code breaks after it, the new code before it.",
        fix=f"Keep db_table='{old}' until every running version uses the new name through a view, or "
        "copy the data into a new model (additive) and delete the old one (destructive).",
    )


def _add_index(op: Any, app_label: str, state: ProjectState, vendor: str) -> _Judgement:
    concurrent = pg_ops is not None and isinstance(op, pg_ops.AddIndexConcurrently)
    hazards = []
    if vendor == "postgresql" and not concurrent:
        hazards.append(
            Hazard(
                LOCK, "CREATE INDEX blocks writes to the table until it is built; use AddIndexConcurrently."
            )
        )
    elif vendor != "postgresql":
        hazards.append(Hazard(LOCK, "Building the index may block writes to the table until it is done."))
    return _Judgement(ADDITIVE, "A new index changes no result the old code sees.", hazards)


def _remove_index(op: Any, app_label: str, state: ProjectState, vendor: str) -> _Judgement:
    return _Judgement(
        DESTRUCTIVE, "The old code's queries may depend on the index; the new code no longer needs it."
    )


def _add_constraint(op: Any, app_label: str, state: ProjectState, vendor: str) -> _Judgement:
    not_valid = pg_ops is not None and isinstance(op, pg_ops.AddConstraintNotValid)
    hazards = (
        []
        if not_valid
        else [Hazard(LOCK, "Checking existing rows holds a lock on the table while it scans them.")]
    )
    return _Judgement(
        DESTRUCTIVE,
        f"Constraint {op.constraint.name} tightens what may be written: the old code may violate it.",
        hazards,
    )


def _remove_constraint(op: Any, app_label: str, state: ProjectState, vendor: str) -> _Judgement:
    return _Judgement(
        ADDITIVE, "Removing a constraint relaxes what may be written: the old code keeps working."
    )


def _alter_together(op: Any, app_label: str, state: ProjectState, vendor: str) -> _Judgement:
    model = _model(state, app_label, op.name_lower)
    option = op.option_name
    before = {tuple(x) for x in (model.options.get(option) or ())} if model else set()
    after = {tuple(x) for x in (op.option_value or ())}
    added, removed = after - before, before - after
    unique = option == "unique_together"
    tightening, relaxing = (added, removed) if unique else (removed, added)
    if tightening and relaxing:
        return _Judgement(
            REFUSED,
            f"Both adds {sorted(added)} and removes {sorted(removed)} in {option}.",
            fix=f"Split the {option} change in two migrations: additions and removals.",
        )
    if tightening:
        return _Judgement(
            DESTRUCTIVE,
            f"{option} {'adds' if unique else 'removes'} {sorted(tightening)}: the old code "
            + ("may write duplicates." if unique else "may rely on the index."),
            [Hazard(LOCK, "Building the index blocks writes to the table.")] if unique else [],
        )
    if relaxing:
        return _Judgement(
            ADDITIVE,
            f"{option} {'removes' if unique else 'adds'} {sorted(relaxing)}: the old code keeps working.",
            [] if unique else [Hazard(LOCK, "Building the index blocks writes to the table.")],
        )
    return _Judgement(ANY, f"{option} does not change.")


def _run_sql(op: Any, app_label: str, state: ProjectState, vendor: str) -> _Judgement:
    if op.sql in ("", [], ()):
        return _Judgement(ANY, "RunSQL.noop runs nothing.")
    return _Judgement(
        UNKNOWN,
        "Raw SQL: deploykit cannot tell what it does.",
        fix="Mark the migration with deploy_phase = 'additive' or 'destructive', or list it in "
        "DEPLOYKIT_MIGRATION_PHASES.",
    )


def _run_python(op: Any, app_label: str, state: ProjectState, vendor: str) -> _Judgement:
    if op.code is ops.RunPython.noop:
        return _Judgement(ANY, "RunPython.noop runs nothing.")
    return _Judgement(
        UNKNOWN,
        "Python code: deploykit cannot tell what it does to the data.",
        fix="Mark the migration with deploy_phase = 'additive' or 'destructive', or list it in "
        "DEPLOYKIT_MIGRATION_PHASES.",
    )


def _separate(op: Any, app_label: str, state: ProjectState, vendor: str) -> _Judgement:
    if not op.database_operations:
        return _Judgement(ANY, "Changes only the model state, not the database.")
    inner = classify_operations(op.database_operations, app_label, state.clone(), vendor)
    phases = {v.phase for v in inner} - {ANY}
    summary = "; ".join(f"{v.description}: {v.phase}" for v in inner)
    hazards = [h for v in inner for h in v.hazards]
    if not phases:
        return _Judgement(ANY, f"Its database operations change nothing the code sees ({summary}).", hazards)
    if len(phases) == 1:
        (phase,) = phases
        fix = next((v.fix for v in inner if v.fix), "")
        return _Judgement(phase, f"Judged by its database operations ({summary}).", hazards, fix)
    return _Judgement(
        REFUSED,
        f"Its database operations need different phases ({summary}).",
        hazards,
        fix="Split the database operations into separate migrations, one per phase.",
    )


def _state_only(op: Any, app_label: str, state: ProjectState, vendor: str) -> _Judgement:
    return _Judgement(ANY, "Changes only the model state (options, managers, comments, index names).")


def _create_extension(op: Any, app_label: str, state: ProjectState, vendor: str) -> _Judgement:
    return _Judgement(ADDITIVE, "A new database extension: the old code does not use it.")


Rule = Callable[[Any, str, ProjectState, str], _Judgement]

# Subclasses first: the first isinstance match wins.
RULES: list[tuple[type[Operation], Rule]] = [
    (ops.SeparateDatabaseAndState, _separate),
    (ops.CreateModel, _create_model),
    (ops.DeleteModel, _delete_model),
    (ops.RenameModel, _rename_model),
    (ops.AlterModelTable, _alter_model_table),
    (ops.AlterModelTableComment, _state_only),
    (ops.AlterUniqueTogether, _alter_together),
    (ops.AlterIndexTogether, _alter_together),
    (ops.AlterModelOptions, _state_only),
    (ops.AlterModelManagers, _state_only),
    (ops.AddField, _add_field),
    (ops.RemoveField, _remove_field),
    (ops.AlterField, _alter_field),
    (ops.RenameField, _rename_field),
    (ops.AddIndex, _add_index),
    (ops.RemoveIndex, _remove_index),
    (ops.RenameIndex, _state_only),
    (ops.AddConstraint, _add_constraint),
    (ops.RemoveConstraint, _remove_constraint),
    (ops.RunSQL, _run_sql),
    (ops.RunPython, _run_python),
]
if pg_ops is not None:
    RULES[:0] = [
        (pg_ops.AddIndexConcurrently, _add_index),
        (pg_ops.RemoveIndexConcurrently, _remove_index),
        (pg_ops.AddConstraintNotValid, _add_constraint),
        (pg_ops.ValidateConstraint, _state_only),
        (pg_ops.CreateExtension, _create_extension),
    ]


def judge(op: Operation, app_label: str, state: ProjectState, vendor: str) -> _Judgement:
    for kind, rule in RULES:
        if isinstance(op, kind):
            return rule(op, app_label, state, vendor)
    return _Judgement(
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
        if isinstance(op, TABLE_SHAPING) and _model_of(op) in created:
            j = _Judgement(
                ADDITIVE, "Shapes a table created earlier in this migration: no running code uses it yet."
            )
        else:
            j = judge(op, app_label, state, vendor)
        if isinstance(op, ops.CreateModel):
            created.add(op.name_lower)
        hazards = list(j.hazards)
        if not op.reversible:
            hazards.append(Hazard(IRREVERSIBLE, "It cannot be unapplied."))
        verdicts.append(
            OperationVerdict(index, op.describe(), type(op).__name__, j.phase, j.reason, hazards, j.fix)
        )
        op.state_forwards(app_label, state)
    return verdicts


def undo_verdicts(forward: list[OperationVerdict]) -> list[OperationVerdict]:
    """Verdicts for unapplying, from the forward verdicts: the phase flips, in reverse order."""
    undone = []
    for v in reversed(forward):
        hazards = [h for h in v.hazards if h.kind != DATA_LOSS]
        if v.operation in ("AddField", "CreateModel") and v.phase == ADDITIVE:
            hazards.append(Hazard(DATA_LOSS, f"Unapplying '{v.description}' deletes its data."))
        undone.append(
            OperationVerdict(
                v.index,
                f"Undo: {v.description}",
                v.operation,
                flip(v.phase),
                f"Undoes a{'n' if v.phase in (ADDITIVE, ANY, UNKNOWN) else ''} {v.phase} change ({v.reason})",
                hazards,
                v.fix,
            )
        )
    return undone
