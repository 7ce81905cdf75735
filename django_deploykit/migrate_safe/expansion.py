"""Expand/contract for NOT NULL columns with only a Python default, in code you do not own.

A NOT NULL column added with only a Python ``default`` breaks the old code's INSERTs, which
omit it. When that default has a database equivalent (a constant, or ``timezone.now`` as
``NOW()``), the additive phase *expands*: it creates the column with that value as its DB
default, and records it in the table ``deploykit_migration_expansion``. The destructive phase
*contracts*: it removes every recorded DB default (the live schema decides whether one is
still there) and deletes the records, so the final schema is the one plain ``migrate`` leaves.

- ``expansion_for(field, connection_or_vendor)`` says whether a field can be expanded, and how.
  The AddField rule uses it; an AlterField rule (NOT NULL on a column the old code does not
  have) can use it the same way.
- ``expanding_migration(migration, state, connection)`` is the copy of a migration the additive
  phase applies: its expandable AddFields (and AlterFields to NOT NULL) create their column with
  the DB default and write the record first (in the migration's transaction on PostgreSQL;
  before the DDL elsewhere, so a failure between the two leaves a record the destructive phase
  finds no default for, and just deletes).
- ``pending_contractions`` / ``contract`` / ``forget`` serve the destructive phase, the plan and
  backwards plans.

JSONField defaults are not expanded, although PostgreSQL (jsonb) and MariaDB 10.11 (JSON) both
accept ``DEFAULT '{}'`` on a NOT NULL column (tried): in practice they are callables (``dict``,
``list``, a lambda) whose result we would have to guess, an instance default is what Django's
check fields.E010 warns against, the stored text depends on the field's ``encoder``, and MySQL
before 8.0.13 accepts no default on a JSON column. TEXT and BLOB columns are expanded: MariaDB and
MySQL from 8.0.13 accept their defaults (Django writes MySQL's as an expression); on MySQL 8.0.11
and 8.0.12, which Django 5.2 still supports, adding such a column fails with the server's error
(the rules see only the vendor, so they cannot tell). Binary values are not expanded on
MySQL/MariaDB, where Django's binary DB default is stored wrongly.
"""

from __future__ import annotations

import copy
import datetime
import enum
import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations import Migration
from django.db.migrations import operations as ops
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState
from django.db.models.functions import Now
from django.utils import timezone

from django_deploykit.migrate_safe.bookkeeping import BookkeepingTable
from django_deploykit.migrate_safe.field_changes import (
    column_name,
    field_named,
    field_of,
    has_db_default,
    has_table,
    relaxing_half,
    table_name,
)
from django_deploykit.migrate_safe.safe_text import printable
from django_deploykit.text import shorten

TABLE = "deploykit_migration_expansion"

# Python defaults whose value the database can compute itself, for DateTimeFields.
NOW_CALLABLES: tuple[Callable[..., Any], ...] = (
    timezone.now,
    datetime.datetime.now,
    datetime.datetime.utcnow,
)


@dataclass(frozen=True)
class Expansion:
    """How the additive phase expands a field: ``db_default`` is what the column gets
    (a constant or ``Now()``); ``shown`` is how the plan writes it."""

    db_default: Any
    shown: str
    # What the value is to Django: the field's Python default, or what Django fills rows with.
    source: str = "only a Python default"

    def reason(self) -> str:
        return (
            f"A NOT NULL column with {self.source}: the additive phase creates it with DB "
            f"default {self.shown} so the old code's INSERTs keep working; the destructive phase "
            "removes that default."
        )


def _vendor(connection_or_vendor: BaseDatabaseWrapper | str) -> str:
    if isinstance(connection_or_vendor, str):
        return connection_or_vendor
    return str(connection_or_vendor.vendor)


def _constant(value: Any) -> Any:
    """The plain constant a default stands for, or None when it is not a constant."""
    if isinstance(value, enum.Enum):
        value = value.value
    if isinstance(value, bool):
        return value
    if isinstance(value, Decimal) and not value.is_finite():
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    # A subclass (a TextChoices member, say) becomes the plain type the database sees.
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bytes):
        return bytes(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, (Decimal, datetime.date, datetime.time)):
        return value
    return None


def _shown(value: Any) -> str:
    if isinstance(value, (datetime.date, datetime.time)):
        return f"'{value.isoformat()}'"
    if isinstance(value, Decimal):
        return f"'{value}'"
    return repr(value)


def expansion_for(
    f: models.Field[Any, Any], connection_or_vendor: BaseDatabaseWrapper | str
) -> Expansion | None:
    """The expansion of ``f`` (the field as an AddField, or an AlterField to NOT NULL, makes it),
    or None when the old code's INSERTs cannot be kept working with a DB default.

    Only NOT NULL, non-many-to-many, non-primary-key, non-generated fields without a
    ``db_default`` whose Python ``default`` is a constant (str, int, float, bool, Decimal, bytes,
    date/datetime/time, an enum member's value; bytes for a BinaryField, except on MySQL/MariaDB)
    or, for a DateTimeField, ``timezone.now``, ``datetime.datetime.now`` or ``utcnow`` (as
    ``Now()``). JSONField defaults are never expanded.

    ``connection_or_vendor`` is a connection or its ``vendor`` string (rules get the string). For
    an AlterField that makes a column NOT NULL which the old code does not have, a non-None
    result means the same expansion keeps the old code's INSERTs working, and the additive phase
    applies it (``expanding_migration`` expands such AlterFields as it does AddFields).
    """
    if f.null or f.many_to_many or f.primary_key or has_db_default(f) or isinstance(f, models.GeneratedField):
        return None
    if isinstance(f, models.JSONField):
        return _json_expansion(f, connection_or_vendor)
    if not f.has_default():
        return _effective_expansion(f, connection_or_vendor)
    default = f.default
    if callable(default):
        if isinstance(f, models.DateTimeField) and any(default == known for known in NOW_CALLABLES):
            return Expansion(Now(), "NOW() (the database's current time)")
        return None
    value = _constant(default)
    if value is None:
        return None
    if isinstance(value, bytes) and (
        not isinstance(f, models.BinaryField) or _vendor(connection_or_vendor) == "mysql"
    ):
        # On MySQL/MariaDB Django passes a binary DB default through in a form the server stores
        # wrongly (b"\x00\x01" became b"x00x01" on MariaDB 10.11 with Django 5.2): not expanded.
        return None
    return Expansion(value, _shown(value))


def _json_expansion(
    f: models.JSONField[Any, Any], connection_or_vendor: BaseDatabaseWrapper | str
) -> Expansion | None:
    """A JSONField's ``default=dict`` or ``default=list`` (the types themselves, whose result is
    known: {} or []) as a DB default. Other JSON defaults are functions whose result we would
    have to guess, and the stored text depends on the field's encoder: not expanded. MySQL takes
    a JSON default only as an expression (8.0.13 and later; MariaDB always)."""
    if f.default not in (dict, list):
        return None
    if not isinstance(connection_or_vendor, str) and connection_or_vendor.vendor == "mysql":
        if not getattr(connection_or_vendor.features, "supports_expression_defaults", False):
            return None
    elif connection_or_vendor == "mysql":
        return None
    value: Any = {} if f.default is dict else []
    return Expansion(value, f"'{json.dumps(value)}'", f"only a Python default ({f.default.__name__})")


def _effective_expansion(
    f: models.Field[Any, Any], connection_or_vendor: BaseDatabaseWrapper | str
) -> Expansion | None:
    """Without a default, what Django's schema editor itself fills existing rows with when it adds
    the column (``_effective_default``): '' for a blank string field, the current time for an
    ``auto_now``/``auto_now_add`` DateTimeField. Kept as the DB default, it serves the old code's
    INSERTs the same way."""
    if f.blank and f.empty_strings_allowed and not isinstance(f, models.BinaryField):
        return Expansion("", "''", "no default, which Django fills with '' (blank=True)")
    if type(f) is models.DateTimeField and (
        getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)
    ):
        return Expansion(Now(), "NOW() (the database's current time)", "auto_now or auto_now_add")
    return None


# --- The record of expansions -------------------------------------------------------------


RECORDS = BookkeepingTable(
    TABLE,
    "deploykit_expansion",
    lambda: {
        "app": models.CharField(max_length=255),
        "name": models.CharField(max_length=255),
        "model": models.CharField(max_length=255),
        "field": models.CharField(max_length=255),
        "db_table": models.CharField(max_length=255),
        "db_column": models.CharField(max_length=255),
        "default_sql": models.TextField(),
        "at": models.DateTimeField(default=timezone.now),
    },
    lambda r: f"{r.db_table}.{r.db_column} DEFAULT {r.default_sql} ({r.app}.{r.name})",
)


def expansion_model() -> type[models.Model]:
    return RECORDS.model


def _records(connection: BaseDatabaseWrapper) -> Any:
    return RECORDS.rows(connection)


def _table_exists(connection: BaseDatabaseWrapper) -> bool:
    return RECORDS.exists(connection)


def ensure_table(connection: BaseDatabaseWrapper) -> None:
    RECORDS.ensure(connection)


@dataclass(frozen=True)
class Contraction:
    """A recorded expansion whose DB default the destructive phase removes."""

    app_label: str
    migration: str
    model: str
    field: str
    table: str
    column: str
    default_sql: str

    @property
    def label(self) -> str:
        return f"{self.table}.{self.column}"

    def describe(self) -> str:
        return f"{self.label} (DEFAULT {self.default_sql}, kept by {self.app_label}.{self.migration})"

    def as_dict(self) -> dict[str, str]:
        return {
            "app_label": self.app_label,
            "migration": self.migration,
            "table": self.table,
            "column": self.column,
            "default": self.default_sql,
        }


def pending_contractions(connection: BaseDatabaseWrapper) -> list[Contraction]:
    """The recorded expansions, oldest first: DB defaults the destructive phase removes."""
    if not _table_exists(connection):
        return []
    return [
        Contraction(r.app, r.name, r.model, r.field, r.db_table, r.db_column, r.default_sql)
        for r in _records(connection).order_by("id")
    ]


def forget(connection: BaseDatabaseWrapper, app_label: str, name: str) -> None:
    """Drop the records of a migration that was unapplied: its columns are gone."""
    if _table_exists(connection):
        _records(connection).filter(app=app_label, name=name).delete()


# --- Expanding ------------------------------------------------------------------------------


def _with_db_default(f: models.Field[Any, Any], db_default: Any) -> models.Field[Any, Any]:
    """A copy of a bound field (model, relations and column kept) with ``db_default`` set, as
    the "before" side of the schema editor's alter_field that removes it."""
    expanded = copy.copy(f)
    expanded.db_default = db_default
    expanded.__dict__.pop("_db_default_expression", None)
    expanded.__dict__.pop("_get_default", None)
    return expanded


def _default_sql(editor: BaseDatabaseSchemaEditor, f: models.Field[Any, Any]) -> str:
    sql, params = editor.db_default_sql(f)
    if not params:  # already literal (SQLite), or an expression such as NOW()
        return str(sql)
    return str(sql % tuple(editor.quote_value(p) for p in params))


def _unbound_with_db_default(f: models.Field[Any, Any], db_default: Any) -> models.Field[Any, Any]:
    """A new, unbound field like ``f`` (as an operation holds it) with ``db_default`` set."""
    _, _, args, kwargs = f.deconstruct()
    kwargs["db_default"] = db_default
    return type(f)(*args, **kwargs)


def _record(
    schema_editor: BaseDatabaseSchemaEditor,
    op: ops.AddField | ops.AlterField,
    app_label: str,
    migration_name: str,
    to_state: ProjectState,
) -> bool:
    """Record the expansion ``op`` is about to make; False when ``op`` does not run here (routers).

    Written before the DDL, in the migration's transaction where there is one: a record whose
    default never came is harmless (the destructive phase finds none and drops the record)."""
    to_model = to_state.apps.get_model(app_label, op.model_name)
    if not op.allow_migrate_model(schema_editor.connection.alias, to_model):
        return False
    expanded = to_model._meta.get_field(op.name)
    if schema_editor.collect_sql:
        return True  # only the SQL is wanted (--plan --sql): nothing is written
    _records(schema_editor.connection).create(
        app=app_label,
        name=migration_name,
        model=op.model_name_lower,
        field=op.name,
        db_table=to_model._meta.db_table,
        db_column=expanded.column,
        default_sql=_default_sql(schema_editor, expanded),
    )
    return True


class _KeepsDefault:
    """What an expanding AddField and AlterField share: the field carries the kept DB default, and
    the database step records the expansion first (``_record`` says whether to run it)."""

    expansion: Expansion
    migration_name: str

    def __init__(
        self, original: ops.AddField | ops.AlterField, expansion: Expansion, migration_name: str
    ) -> None:
        field = _unbound_with_db_default(original.field, expansion.db_default)
        super().__init__(original.model_name, original.name, field, original.preserve_default)  # type: ignore[call-arg]
        self.expansion = expansion
        self.migration_name = migration_name

    def database_forwards(
        self,
        app_label: str,
        schema_editor: BaseDatabaseSchemaEditor,
        from_state: ProjectState,
        to_state: ProjectState,
    ) -> None:
        if _record(schema_editor, self, app_label, self.migration_name, to_state):  # type: ignore[arg-type]
            super().database_forwards(app_label, schema_editor, from_state, to_state)  # type: ignore[misc]


class ExpandingAddField(_KeepsDefault, ops.AddField):
    """An AddField whose column keeps a DB default until the destructive phase removes it.

    The project state it leaves has the DB default too, for the rest of the run: it is what the
    database has, and SQLite rebuilds tables from it. The migration's own files, and so every
    later run's state, never see it.
    """


class ExpandingAlterField(_KeepsDefault, ops.AlterField):
    """An AlterField making a nullable column NOT NULL whose column keeps a DB default until the
    destructive phase removes it (for an AlterField that runs in the additive phase: marked, or
    judged additive because the old code does not have the column)."""


def _expanding(
    op: Operation, app_label: str, migration_name: str, state: ProjectState, connection: BaseDatabaseWrapper
) -> tuple[Operation, str]:
    """``op`` as the additive phase runs it, and what it expands ('' when nothing)."""
    # Exactly these classes: a subclass (the concurrent or custom ones) may do more than we know.
    if type(op) is ops.AddField:
        field_op: ops.AddField | ops.AlterField = op
    elif type(op) is ops.AlterField:
        field_op = op
    else:
        return op, ""
    model = state.models.get((app_label, field_op.model_name_lower))
    if model is None or not has_table(model):
        return op, ""
    name, new = field_op.name, field_op.field
    if isinstance(field_op, ops.AlterField):
        old = field_of(model, field_op.name_lower)
        # Only NULL -> NOT NULL of the same column: what breaks INSERTs that omit it.
        if old is None or not old.null or column_name(name, old) != column_name(name, new):
            return op, ""
    expansion = expansion_for(new, connection)
    if expansion is None:
        return op, ""
    what = f"{table_name(app_label, model)}.{column_name(name, new)} DEFAULT {expansion.shown}"
    if isinstance(field_op, ops.AddField):
        return ExpandingAddField(field_op, expansion, migration_name), what
    return ExpandingAlterField(field_op, expansion, migration_name), what


def expanding_migration(
    migration: Migration, state: ProjectState, connection: BaseDatabaseWrapper
) -> tuple[Migration, list[str]]:
    """The migration the additive phase applies in place of ``migration`` (the same object when
    nothing is expanded), and what it expands ('table.column DEFAULT shown'). ``state`` is the
    project state before it; it is not changed.

    Expanded: AddFields, and AlterFields making a nullable column NOT NULL, whose field
    ``expansion_for`` accepts, on tables not created earlier in the same migration (no running
    code knows those). The operation count and order stay, so the MySQL journal's operation
    numbers keep meaning the migration's own operations."""
    replaced: list[Operation] = []
    expanded: list[str] = []
    created: set[str] = set()
    state = state.clone()
    for op in migration.operations:
        new_op = op
        if isinstance(op, ops.CreateModel):
            created.add(op.name_lower)
        elif getattr(op, "model_name_lower", None) not in created:
            new_op, what = _expanding(op, migration.app_label, migration.name, state, connection)
            if what:
                expanded.append(what)
        replaced.append(new_op)
        op.state_forwards(migration.app_label, state)
    if not expanded:
        return migration, []
    copied = copy.copy(migration)
    copied.operations = replaced  # type: ignore[misc]  # as Migration.__init__ sets it
    return copied, expanded


# --- Contracting ----------------------------------------------------------------------------


class ContractionFailed(RuntimeError):
    """Removing a recorded DB default failed; the message says which and how to resume."""


def live_default(connection: BaseDatabaseWrapper, table: str, column: str) -> str | None:
    """The column's default as the live schema shows it; None when it has none (or is gone)."""
    with connection.cursor() as cursor:
        if table not in connection.introspection.table_names(cursor):
            return None
        for info in connection.introspection.get_table_description(cursor, table):
            if info.name == column:
                default = getattr(info, "default", None)
                if default is None or str(default).upper() == "NULL":
                    return None
                return str(default)
    return None


def _state_field(
    state: ProjectState, record: Contraction
) -> tuple[type[models.Model], models.Field[Any, Any]] | None:
    """The model and field the record's column has in ``state`` (the applied state)."""
    for (app_label, model_name), model_state in state.models.items():
        if not has_table(model_state) or table_name(app_label, model_state) != record.table:
            continue
        for name, f in model_state.fields.items():
            if column_name(name, f) == record.column:
                model = state.apps.get_model(app_label, model_name)
                return model, model._meta.get_field(name)
    return None


def contract(
    connection: BaseDatabaseWrapper,
    state: ProjectState,
    say: Callable[[str], None] = lambda _: None,
) -> list[str]:
    """Remove every recorded DB default the live schema still shows, then delete its record.

    One record at a time (in a transaction with the DDL where the database has transactional
    DDL), so a failure leaves the rest recorded and running the destructive phase again resumes.
    A column that is gone, has no default left, or whose field now has a ``db_default`` of its own
    only loses its record. Returns the labels contracted.
    """
    done: list[str] = []
    for record in pending_contractions(connection):
        if record.label in done:
            continue  # a duplicate (a run that stopped, then a new one): deleted with the first
        try:
            removed = _contract_one(connection, state, record)
        except Exception as exc:
            error = shorten(printable(" ".join(str(exc).split()), connection), 500)
            so_far = ", ".join(done) or "nothing"
            raise ContractionFailed(
                f"Removing the DB default of {record.describe()} failed: {error}. It stays recorded "
                f"(removed before it in this run: {so_far}); run migrate_safe --phase=destructive "
                "again to remove it."
            ) from exc
        if removed:
            say(f"  Removed the DB default kept for the old code: {record.describe()}.")
        done.append(record.label)
    return done


def _contract_one(connection: BaseDatabaseWrapper, state: ProjectState, record: Contraction) -> bool:
    found = _state_field(state, record)
    keeps_its_own = found is not None and has_db_default(found[1])
    default = None if keeps_its_own else live_default(connection, record.table, record.column)
    atomic = bool(connection.features.can_rollback_ddl)
    with connection.schema_editor(atomic=atomic) as editor:
        if default is not None and connection.vendor != "sqlite":
            # Only the default goes: a catalog change, with no rewrite and no foreign key rebuilt
            # (which alter_field would do for a ForeignKey).
            editor.execute(
                editor.sql_alter_column
                % {
                    "table": editor.quote_name(record.table),
                    "changes": editor.sql_alter_column_no_default
                    % {"column": editor.quote_name(record.column)},
                }
            )
        elif default is not None and found is not None:
            # SQLite cannot drop a default: alter_field rebuilds the table from the model.
            model, current = found
            editor.alter_field(model, _with_db_default(current, models.Value(default)), current)
        elif default is not None:
            raise ContractionFailed(
                f"{record.label} is no longer a field of any model, and SQLite cannot drop a column "
                "default without rebuilding the table from a model"
            )
        _records(connection).filter(
            app=record.app_label, name=record.migration, db_table=record.table, db_column=record.column
        ).delete()
    return default is not None


# --- Relaxing a NOT NULL column before the destructive phase drops it -----------------------


def prepare_destructive(
    connection: BaseDatabaseWrapper,
    state: ProjectState,
    later: list[Migration],
    say: Callable[[str], None] = lambda _: None,
) -> list[str]:
    """Before the swap, what the new code needs of the destructive phase's migrations (``later``):

    - a NOT NULL column (without a DB default) a RemoveField drops is made nullable, so the new
      code's INSERTs, which leave it out, work until it is dropped;
    - an AlterField that relaxes and tightens through NULL gets its relaxing half
      (``field_changes.relaxing_half``); the destructive phase applies the rest.

    ``state`` is what the database has now (after the additive phase): each change is computed
    from the column as it is, so only the relaxing part changes. Idempotent: running it again
    alters a column to what it already is. Returns the 'table.column's changed."""
    relaxed: list[str] = []
    for migration in later:
        for op in migration.operations:
            # Exactly these classes: a subclass may do more than its base class says.
            if type(op) is not ops.RemoveField and type(op) is not ops.AlterField:
                continue
            model = state.models.get((migration.app_label, op.model_name_lower))
            if model is None or not has_table(model):
                continue
            found = field_named(model, op.name_lower)
            if found is None:
                continue
            name, f = found
            if f.many_to_many or f.primary_key or isinstance(f, models.GeneratedField):
                continue
            column = column_name(name, f)
            if isinstance(op, ops.RemoveField):
                if f.null or has_db_default(f):
                    continue
                relaxed_field: models.Field[Any, Any] | None = f.clone()
                relaxed_field.null = True  # type: ignore[union-attr]
                why = "nullable: the new code's INSERTs leave it out until"
            else:
                if column != column_name(name, op.field):
                    continue
                relaxed_field = relaxing_half(f, op.field, column, connection.vendor, connection)
                why = "its relaxing half applied: the new code works with it until"
            if relaxed_field is None:
                continue
            relax = ops.AlterField(op.model_name, name, relaxed_field)
            after = state.clone()
            relax.state_forwards(migration.app_label, after)
            with connection.schema_editor(atomic=bool(connection.features.can_rollback_ddl)) as editor:
                relax.database_forwards(migration.app_label, editor, state, after)
            state = after
            label = f"{table_name(migration.app_label, model)}.{column}"
            relaxed.append(label)
            say(f"  Made {label} {why} {migration.app_label}.{migration.name} runs after the swap.")
    return relaxed
