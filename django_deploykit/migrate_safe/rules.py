"""One rule per operation family: is it additive, destructive, refused or unknown, and why.

A rule sees the operation and the model state just before it; the state after it comes from
the operation itself (``AddField.field``, ``AlterField.field``...). A rule judges one operation
on its own: operations that hold others (``SeparateDatabaseAndState``) are judged by
``classify``, which judges what they hold, so this module never imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import models
from django.db.migrations import operations as ops
from django.db.migrations.operations.base import Operation
from django.db.migrations.operations.models import AlterTogetherOptionOperation
from django.db.migrations.state import ModelState, ProjectState

from django_deploykit.migrate_safe.expansion import expansion_for
from django_deploykit.migrate_safe.field_changes import (
    column_name,
    compare_fields,
    field_of,
    has_db_default,
    has_table,
    index_build_hazard,
    needs_value_on_insert,
    relaxing_half,
    table_name,
)
from django_deploykit.migrate_safe.findings import Hazard, Judgement
from django_deploykit.migrate_safe.phases import ADDITIVE, ANY, DATA_LOSS, DESTRUCTIVE, LOCK, REFUSED, UNKNOWN
from django_deploykit.migrate_safe.running_code import Judging

try:  # django.contrib.postgres imports psycopg at import time; projects without it still work.
    from django.contrib.postgres import operations as pg_ops
except ImportError:  # pragma: no cover - psycopg is a test dependency
    pg_ops = None  # type: ignore[assignment]


def _model(state: ProjectState, app_label: str, name_lower: str) -> ModelState | None:
    return state.models.get((app_label, name_lower))


def _create_model(op: ops.CreateModel, app_label: str, state: ProjectState, ctx: Judging) -> Judgement:
    if op.options.get("proxy") or not op.options.get("managed", True):
        return Judgement(ANY, "A proxy or unmanaged model changes no table.")
    return Judgement(ADDITIVE, "A new table: the old code never reads or writes it.")


def _delete_model(op: ops.DeleteModel, app_label: str, state: ProjectState, ctx: Judging) -> Judgement:
    model = _model(state, app_label, op.name_lower)
    if not has_table(model):
        return Judgement(ANY, "A proxy or unmanaged model changes no table.")
    table = table_name(app_label, model) if model else op.name
    return Judgement(
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


def _add_field(op: ops.AddField, app_label: str, state: ProjectState, ctx: Judging) -> Judgement:
    model = _model(state, app_label, op.model_name_lower)
    if not has_table(model):
        return Judgement(ANY, "The model has no table of its own.")
    f = op.field
    if f.many_to_many:
        return Judgement(ADDITIVE, "A many-to-many field adds a new table the old code never touches.")
    hazards = _field_lock_hazards(f, ctx.vendor)
    if f.null:
        return Judgement(ADDITIVE, "A nullable column: the old code's INSERTs leave it NULL.", hazards)
    if has_db_default(f):
        return Judgement(
            ADDITIVE, "A NOT NULL column with a DB default: the old code's INSERTs get it.", hazards
        )
    if isinstance(f, models.GeneratedField):
        return Judgement(ADDITIVE, "A generated column: the database fills it.", hazards)
    expansion = expansion_for(f, ctx.connection)
    if expansion is not None:
        return Judgement(ADDITIVE, expansion.reason(), hazards)
    python_default = " with only a Python default" if f.has_default() else ""
    return Judgement(
        REFUSED,
        f"A NOT NULL column{python_default} and no DB default: the old code's INSERTs fail once it exists.",
        hazards,
        fix=f"Give '{op.name}' a db_default (db_default=...) or make it null=True, so the old code can "
        "still insert rows; tighten it later in a destructive migration.",
    )


def _remove_field(op: ops.RemoveField, app_label: str, state: ProjectState, ctx: Judging) -> Judgement:
    model = _model(state, app_label, op.model_name_lower)
    if not has_table(model):
        return Judgement(ANY, "The model has no table of its own.")
    old = field_of(model, op.name_lower)
    loss = [Hazard(DATA_LOSS, f"The values of {op.model_name}.{op.name} are deleted.")]
    if old is not None and needs_value_on_insert(old) and not isinstance(old, models.GeneratedField):
        # The contract half of expand/contract: the new code's INSERTs leave the column out, so the
        # additive phase makes it nullable (runner.run_phase, expansion.prepare_destructive).
        return Judgement(
            DESTRUCTIVE,
            "Drops a NOT NULL column the new code no longer sets: the additive phase first makes it "
            "nullable, so the new code's INSERTs work until it is dropped; the old code still reads it.",
            loss,
        )
    return Judgement(
        DESTRUCTIVE, "Drops a column the old code still reads; the new code no longer uses it.", loss
    )


def _alter_field(op: ops.AlterField, app_label: str, state: ProjectState, ctx: Judging) -> Judgement:
    model = _model(state, app_label, op.model_name_lower)
    if not has_table(model):
        return Judgement(ANY, "The model has no table of its own.")
    old = field_of(model, op.name_lower)
    if old is None:
        return Judgement(UNKNOWN, "The field is not in the model state before this operation.")
    if column_name(op.name, old) != column_name(op.name, op.field):
        return _rename_column(op.model_name, column_name(op.name, old), column_name(op.name, op.field))
    try:
        change = compare_fields(old, op.field, column_name(op.name, op.field), ctx.vendor, ctx.connection)
    except Exception as exc:  # a third-party field whose db_parameters need a rendered model
        return Judgement(
            UNKNOWN,
            f"The column's database parameters could not be computed ({type(exc).__name__}): deploykit "
            "cannot tell what this AlterField changes.",
            fix=REVIEW_FIX,
        )
    relax, tighten, hazards = change.relax, change.tighten, change.hazards
    if (
        relax
        and tighten
        and relaxing_half(old, op.field, column_name(op.name, op.field), ctx.vendor, ctx.connection)
    ):
        # The additive phase applies the relaxing half first (expansion.prepare_destructive).
        return Judgement(
            DESTRUCTIVE,
            f"Relaxes ({', '.join(relax)}) and tightens ({', '.join(tighten)}) the column: the additive phase "
            "applies the relaxing half first, so the new code works from the swap; the destructive phase the "
            "rest (the old code may write values it rejects).",
            hazards,
        )
    if relax and tighten:
        return Judgement(
            REFUSED,
            f"Both relaxes ({', '.join(relax)}) and tightens ({', '.join(tighten)}) the column.",
            hazards,
            fix="Split it into two AlterField migrations: the relaxing change (additive) and the "
            "tightening change (destructive).",
        )
    if tighten:
        return Judgement(
            DESTRUCTIVE,
            f"Tightens the column ({', '.join(tighten)}): the old code may write values it rejects.",
            hazards,
        )
    if relax:
        return Judgement(
            ADDITIVE, f"Relaxes the column ({', '.join(relax)}): the old code keeps working.", hazards
        )
    if change.index:
        return Judgement(
            ANY,
            f"Changes only the column's index ({', '.join(change.index)}): no result either code sees "
            "depends on it.",
            hazards,
        )
    what = f" ({', '.join(change.unchanged)})" if change.unchanged else ""
    return Judgement(
        ANY, f"The column's database definition is unchanged{what}: the schema editor emits no SQL for it."
    )


def _rename_column(model: str, old: str, new: str) -> Judgement:
    return Judgement(
        REFUSED,
        f"Renames column {old} to {new}: the old code breaks after it, the new code before it.",
        fix=f"Expand/contract instead: (1) additive: add '{new}' as a nullable copy and write both; "
        f"(2) backfill '{new}' from '{old}'; (3) deploy code that reads '{new}'; "
        f"(4) destructive: remove '{old}'. Or keep the column with db_column='{old}'.",
    )


def _rename_field(op: ops.RenameField, app_label: str, state: ProjectState, ctx: Judging) -> Judgement:
    model = _model(state, app_label, op.model_name_lower)
    if not has_table(model):
        return Judgement(ANY, "The model has no table of its own.")
    old = field_of(model, op.old_name_lower)
    if old is not None and column_name(op.old_name, old) == column_name(op.new_name, old):
        return Judgement(ANY, "The column keeps its name (db_column): only Python names change.")
    return _rename_column(op.model_name, op.old_name, op.new_name)


def _rename_model(op: ops.RenameModel, app_label: str, state: ProjectState, ctx: Judging) -> Judgement:
    model = _model(state, app_label, op.old_name_lower)
    if model is not None and (not has_table(model) or model.options.get("db_table")):
        return Judgement(ANY, "The table keeps its name (db_table) or the model has none.")
    return Judgement(
        REFUSED,
        f"Renames the table of {op.old_name} to that of {op.new_name}: the old code breaks after it, "
        "the new code before it.",
        fix=f"Keep the table: set db_table to the old table name on {op.new_name} in the same "
        "migration; or expand/contract: create the new model (additive), copy and dual-write, "
        "deploy, delete the old one (destructive).",
    )


def _alter_model_table(
    op: ops.AlterModelTable, app_label: str, state: ProjectState, ctx: Judging
) -> Judgement:
    model = _model(state, app_label, op.name_lower)
    if model is None or not has_table(model):
        return Judgement(ANY, "The model has no table of its own.")
    old = table_name(app_label, model)
    new = op.table or f"{app_label}_{model.name_lower}"
    if old == new:
        return Judgement(ANY, "The table name does not change.")
    return Judgement(
        REFUSED,
        f"Renames table {old} to {new}: the old code breaks after it, the new code before it.",
        fix=f"Keep db_table='{old}' until every running version uses the new name through a view, or "
        "copy the data into a new model (additive) and delete the old one (destructive).",
    )


def _add_index(op: ops.AddIndex, app_label: str, state: ProjectState, ctx: Judging) -> Judgement:
    concurrent = pg_ops is not None and isinstance(op, pg_ops.AddIndexConcurrently)
    hazards = [] if concurrent else [index_build_hazard(ctx.vendor)]
    return Judgement(ANY, "An index changes no result either code sees: it fits either phase.", hazards)


def _remove_index(op: ops.RemoveIndex, app_label: str, state: ProjectState, ctx: Judging) -> Judgement:
    return Judgement(
        ANY,
        "Dropping an index changes no result either code sees (queries that used it may be slower): "
        "it fits either phase.",
    )


def _unique_fields(constraint: models.BaseConstraint) -> frozenset[str] | None:
    """The fields a plain UniqueConstraint makes unique; None for expressions or other constraints."""
    if not isinstance(constraint, models.UniqueConstraint) or constraint.expressions:
        return None
    if getattr(constraint, "nulls_distinct", None) is False:
        return None
    return frozenset(f.lower() for f in constraint.fields)


def _implied_by_removed(
    model_lower: str, fields: frozenset[str] | None, ctx: Judging
) -> frozenset[str] | None:
    """A uniqueness this migration removes that implies one over ``fields`` (a superset of it)."""
    if fields is None:
        return None
    for model, removed in sorted(ctx.uniques_removed, key=lambda item: sorted(item[1])):
        if model == model_lower and removed <= fields:
            return removed
    return None


def _left_null_by_old_code(
    app_label: str, model_lower: str, fields: frozenset[str] | None, state: ProjectState, ctx: Judging
) -> str | None:
    """A field of ``fields`` the old code does not have and its INSERTs leave NULL (nullable, no DB
    default): a uniqueness over it never catches the old code's rows, NULLs being distinct."""
    model = _model(state, app_label, model_lower)
    if fields is None or model is None or ctx.running is None:
        return None
    for name, f in model.fields.items():
        if name.lower() not in fields or not f.null or has_db_default(f):
            continue
        if not ctx.running.old_has_column(app_label, model_lower, column_name(name, f)):
            return name
    return None


def _add_constraint(op: ops.AddConstraint, app_label: str, state: ProjectState, ctx: Judging) -> Judgement:
    unique = _unique_fields(op.constraint)
    null_field = _left_null_by_old_code(app_label, op.model_name_lower, unique, state, ctx)
    if null_field is not None:
        return Judgement(
            ANY,
            f"Constraint {op.constraint.name} covers {null_field}, which the old code does not have: its rows "
            "leave it NULL, and NULLs never conflict.",
            [index_build_hazard(ctx.vendor)],
        )
    implied = _implied_by_removed(op.model_name_lower, unique, ctx)
    if implied is not None:
        return Judgement(
            ANY,
            f"Constraint {op.constraint.name} is implied by the uniqueness of ({', '.join(sorted(implied))}) "
            "this migration removes: no row either code writes can break it.",
        )
    not_valid = pg_ops is not None and isinstance(op, pg_ops.AddConstraintNotValid)
    hazards = (
        []
        if not_valid
        else [Hazard(LOCK, "Checking existing rows holds a lock on the table while it scans them.")]
    )
    return Judgement(
        DESTRUCTIVE,
        f"Constraint {op.constraint.name} tightens what may be written: the old code may violate it.",
        hazards,
    )


def _remove_constraint(
    op: ops.RemoveConstraint, app_label: str, state: ProjectState, ctx: Judging
) -> Judgement:
    return Judgement(
        ADDITIVE, "Removing a constraint relaxes what may be written: the old code keeps working."
    )


def uniques_removed(
    operations: list[Operation], app_label: str, state: ProjectState
) -> set[tuple[str, frozenset[str]]]:
    """The field sets whose uniqueness ``operations`` remove, judged from the state before them."""
    removed: set[tuple[str, frozenset[str]]] = set()
    for op in operations:
        if isinstance(op, ops.AlterUniqueTogether):
            model = _model(state, app_label, op.name_lower)
            before = (
                {frozenset(f.lower() for f in x) for x in (model.options.get("unique_together") or ())}
                if model
                else set()
            )
            after = {frozenset(f.lower() for f in x) for x in (op.option_value or ())}
            removed |= {(op.name_lower, fields) for fields in before - after}
        elif isinstance(op, ops.RemoveConstraint):
            model = _model(state, app_label, op.model_name_lower)
            constraint = (
                next((c for c in (model.options.get("constraints") or ()) if c.name == op.name), None)
                if model
                else None
            )
            fields = _unique_fields(constraint) if constraint is not None else None
            if fields is not None and constraint is not None and constraint.condition is None:
                removed.add((op.model_name_lower, fields))
        elif isinstance(op, ops.AlterField):
            model = _model(state, app_label, op.model_name_lower)
            old = field_of(model, op.name_lower)
            if old is not None and old.unique and not op.field.unique:
                removed.add((op.model_name_lower, frozenset({op.name_lower})))
    return removed


def _alter_together(
    op: AlterTogetherOptionOperation, app_label: str, state: ProjectState, ctx: Judging
) -> Judgement:
    model = _model(state, app_label, op.name_lower)
    option = op.option_name
    before = {tuple(x) for x in (model.options.get(option) or ())} if model else set()
    after = {tuple(x) for x in (op.option_value or ())}
    added, removed = after - before, before - after
    if option != "unique_together":
        if not (added or removed):
            return Judgement(ANY, f"{option} does not change.")
        return Judgement(
            ANY,
            f"{option} only adds {sorted(added)} or drops {sorted(removed)} indexes: no result either code "
            "sees depends on them.",
            [index_build_hazard(ctx.vendor)] if added else [],
        )
    # An added set is implied when a removed one (here or elsewhere in the migration) is a subset of it.
    removed_sets = [frozenset(f.lower() for f in r) for r in removed]
    removed_sets += [fields for m, fields in ctx.uniques_removed if m == op.name_lower]
    tightening = {
        a
        for a in added
        if not any(r <= frozenset(f.lower() for f in a) for r in removed_sets)
        and _left_null_by_old_code(app_label, op.name_lower, frozenset(f.lower() for f in a), state, ctx)
        is None
    }
    if tightening:
        if removed:
            return Judgement(
                REFUSED,
                f"Both adds {sorted(tightening)} and removes {sorted(removed)} in {option}.",
                fix=f"Split the {option} change in two migrations: additions and removals.",
            )
        return Judgement(
            DESTRUCTIVE,
            f"{option} adds {sorted(tightening)}: the old code may write duplicates.",
            [index_build_hazard(ctx.vendor)],
        )
    if removed:
        implied = f"; what it adds ({sorted(added)}) is implied by what it removes" if added else ""
        return Judgement(
            ADDITIVE, f"{option} removes {sorted(removed)}{implied}: the old code keeps working."
        )
    if added:
        return Judgement(
            ANY,
            f"{option} adds {sorted(added)}, implied by a uniqueness this migration removes or over a column "
            "the old code leaves NULL: no row the old code writes can break it.",
            [index_build_hazard(ctx.vendor)],
        )
    return Judgement(ANY, f"{option} does not change.")


def _run_sql(op: ops.RunSQL, app_label: str, state: ProjectState, ctx: Judging) -> Judgement:
    if op.sql in ("", [], ()):
        return Judgement(ANY, "RunSQL.noop runs nothing.")
    return Judgement(
        UNKNOWN,
        "Raw SQL: deploykit cannot tell what it does.",
        fix=REVIEW_FIX,
    )


def _run_python(op: ops.RunPython, app_label: str, state: ProjectState, ctx: Judging) -> Judgement:
    if op.code is ops.RunPython.noop:
        return Judgement(ANY, "RunPython.noop runs nothing.")
    return Judgement(
        UNKNOWN,
        "Python code: deploykit cannot tell what it does to the data.",
        fix=REVIEW_FIX,
    )


def _state_only(op: Operation, app_label: str, state: ProjectState, ctx: Judging) -> Judgement:
    return Judgement(ANY, "Changes only the model state (options, managers, comments, index names).")


def _create_extension(op: Operation, app_label: str, state: ProjectState, ctx: Judging) -> Judgement:
    return Judgement(ADDITIVE, "A new database extension: the old code does not use it.")


# What a user does about a migration no rule can judge; one sentence for every such verdict.
REVIEW_FIX = (
    "Record its phase and reason with 'migrate_safe --review' (the reviewed-phases file), or mark the "
    "migration with deploy_phase = 'additive' or 'destructive' if it is your own."
)

# Each rule takes the operation class it is listed with (or a subclass); a Callable over Operation
# would not accept them, Callable parameters being contravariant.
Rule = Callable[[Any, str, ProjectState, Judging], Judgement]

# Subclasses first: the first isinstance match wins.
RULES: list[tuple[type[Operation], Rule]] = [
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
