"""Whether an operation the journal shows as "started" took effect, decided from the schema.

A run killed between a statement and its journal entry (MySQL and MariaDB cannot roll DDL back)
leaves an operation "started" that may have run in full, in part or not at all. What the
operation creates and removes is read off the project states before and after it (tables,
columns with their nullability, primary keys, unique constraints, indexes, foreign keys, named
indexes and constraints) and looked for in the live schema. An operation whose effect the
schema cannot show (raw SQL, a type change, Python code outside a transaction) stays undecided:
the caller refuses and says what to check.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations import Migration
from django.db.migrations.operations import RunPython, RunSQL
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState

APPLIED = "applied"
NOT_APPLIED = "not-applied"
VERDICTS = (APPLIED, NOT_APPLIED)

Atom = tuple[Any, ...]
# Statements that change data only: they commit with the journal entry written in their transaction.
_DATA_ONLY = re.compile(r"^\s*(SELECT|INSERT|UPDATE|DELETE|REPLACE|WITH)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Finding:
    verdict: str | None  # APPLIED, NOT_APPLIED, or None when the schema cannot tell
    reason: str
    in_part: bool = False


def runs_in_transaction(migration: Migration, op: Operation) -> bool:
    """As Migration.apply decides: data operations of an atomic migration keep their transaction."""
    return bool(op.atomic or (migration.atomic and op.atomic is not False))


def decide(
    connection: BaseDatabaseWrapper,
    migration: Migration,
    op: Operation,
    start: ProjectState,
    end: ProjectState,
) -> Finding:
    """Did ``op``, taking the schema from ``start`` to ``end``, take effect?"""
    before, after = expected(start), expected(end)
    added, removed = after - before, before - after
    if not added and not removed:
        if _commits_with_its_entry(migration, op):
            return Finding(
                NOT_APPLIED,
                "it changes data only and ran in a transaction with its journal entry, which never committed",
            )
        return Finding(None, "it changes nothing the schema can show (tables, columns, indexes, constraints)")
    tables = {atom[1] for atom in added | removed}
    found = present(connection, tables)
    made, left = added & found, removed & found
    if made == added and not left:
        return Finding(APPLIED, "the schema shows it took effect")
    if not made and left == removed:
        return Finding(NOT_APPLIED, "the schema shows it did not take effect")
    parts = []
    if made:
        parts.append("has " + _describe(made))
    if added - made:
        parts.append("lacks " + _describe(added - made))
    if left:
        parts.append("still has " + _describe(left))
    if removed - left:
        parts.append("no longer has " + _describe(removed - left))
    return Finding(None, "it took effect only in part: the schema " + "; ".join(parts), in_part=True)


def _commits_with_its_entry(migration: Migration, op: Operation) -> bool:
    if not runs_in_transaction(migration, op):
        return False
    if isinstance(op, RunPython):
        return True
    if isinstance(op, RunSQL):
        statements = op.sql if isinstance(op.sql, list | tuple) else [op.sql]
        texts = [s[0] if isinstance(s, list | tuple) else s for s in statements]
        return all(isinstance(t, str) and _DATA_ONLY.match(t) for t in texts)
    return False


def expected(state: ProjectState) -> set[Atom]:
    """What the models of ``state`` have in the database."""
    atoms: set[Atom] = set()
    for model in state.apps.get_models(include_auto_created=True):
        meta = model._meta
        if not meta.managed or meta.proxy or meta.swapped:
            continue
        table = meta.db_table
        atoms.add(("table", table))
        for field in meta.local_concrete_fields:
            column = field.column
            atoms.add(("column", table, column, bool(field.null)))
            if field.primary_key:
                atoms.add(("primary key", table, (column,)))
            elif field.unique:
                atoms.add(("unique", table, (column,)))
            elif getattr(field, "db_index", False):
                atoms.add(("index", table, (column,)))
            if field.remote_field is not None and getattr(field, "db_constraint", False):
                atoms.add(("foreign key", table, column, field.remote_field.model._meta.db_table))
        for fields in meta.unique_together:
            columns = tuple(getattr(meta.get_field(name), "column", name) for name in fields)
            atoms.add(("unique", table, columns))
        for named in [*meta.indexes, *meta.constraints]:
            atoms.add(("named", table, named.name))
    return atoms


def present(connection: BaseDatabaseWrapper, tables: set[str]) -> set[Atom]:
    """The same kinds of facts, introspected from ``tables`` of the live database."""
    introspection = connection.introspection
    atoms: set[Atom] = set()
    with connection.cursor() as cursor:
        for table in sorted(tables & set(introspection.table_names(cursor))):
            atoms.add(("table", table))
            for column in introspection.get_table_description(cursor, table):
                atoms.add(("column", table, column.name, bool(column.null_ok)))
            for name, c in introspection.get_constraints(cursor, table).items():
                columns = tuple(c["columns"] or ())
                atoms.add(("named", table, name))
                if c["primary_key"]:
                    atoms.add(("primary key", table, columns))
                elif c["unique"]:
                    atoms.add(("unique", table, columns))
                if c["index"] or c["unique"] or c["primary_key"]:
                    # An index serves its leading columns too: InnoDB makes no index of its own for a
                    # foreign key that leads another index (auth_permission.content_type_id).
                    for length in range(1, len(columns) + 1):
                        atoms.add(("index", table, columns[:length]))
                if c["foreign_key"] and columns:
                    atoms.add(("foreign key", table, columns[0], c["foreign_key"][0]))
    return atoms


def _describe(atoms: set[Atom]) -> str:
    words = []
    for atom in sorted(atoms, key=repr):
        kind, table = atom[0], atom[1]
        if kind == "table":
            words.append(f"table {table}")
        elif kind == "column":
            words.append(f"column {table}.{atom[2]} ({'NULL' if atom[3] else 'NOT NULL'})")
        elif kind == "foreign key":
            words.append(f"foreign key {table}.{atom[2]} -> {atom[3]}")
        elif kind == "named":
            words.append(f"index or constraint {atom[2]} on {table}")
        else:
            words.append(f"{kind} on {table} ({', '.join(atom[2])})")
    return ", ".join(words)


def sql_to_check(
    connection: BaseDatabaseWrapper,
    app_label: str,
    op: Operation,
    start: ProjectState,
    end: ProjectState,
    backwards: bool,
) -> str:
    """What the operation runs, for a person to check by hand."""
    if not op.reduces_to_sql:
        code = getattr(op, "reverse_code" if backwards else "code", None)
        name = getattr(code, "__qualname__", None) or "its Python code"
        return f"it runs Python code ({name}) that cannot be shown as SQL; check its effect on the data"
    try:
        with connection.schema_editor(collect_sql=True, atomic=False) as editor:
            if backwards:
                op.database_backwards(app_label, editor, start, end)
            else:
                op.database_forwards(app_label, editor, start, end)
    except Exception as exc:  # some operations introspect; the refusal still stands
        return f"its SQL could not be collected ({' '.join(str(exc).split())}); compare with sqlmigrate"
    return "check whether this SQL took effect: " + " ".join(editor.collected_sql).rstrip(";")
