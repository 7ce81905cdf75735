"""The schema of a database as introspection sees it, for comparing two moments."""

from __future__ import annotations

from typing import Any

from django.db.backends.base.base import BaseDatabaseWrapper

from django_deploykit.migrate_safe.expansion import TABLE as EXPANSION_TABLE
from django_deploykit.migrate_safe.journal import TABLE as JOURNAL_TABLE
from django_deploykit.migrate_safe.locks import HOLDER_TABLE

BOOKKEEPING_TABLES = frozenset({"django_migrations", JOURNAL_TABLE, HOLDER_TABLE, EXPANSION_TABLE})

Schema = dict[str, dict[str, list[Any]]]


def snapshot(connection: BaseDatabaseWrapper, *, in_detail: bool = False) -> Schema:
    """Per table: its columns (name, type, nullability) and its constraints and indexes.

    ``in_detail`` adds what a round trip need not restore but an upgrade must leave as ``migrate`` does:
    each column's size, precision, scale and database default, and each index's type and column orders.
    """
    introspection = connection.introspection
    found: Schema = {}
    with connection.cursor() as cursor:
        for table in sorted(set(introspection.table_names(cursor)) - BOOKKEEPING_TABLES):
            columns = sorted(
                (c.name, str(c.type_code), bool(c.null_ok))
                + (
                    (c.internal_size, c.precision, c.scale, str(getattr(c, "default", None)))
                    if in_detail
                    else ()
                )
                for c in introspection.get_table_description(cursor, table)
            )
            constraints = sorted(
                (
                    # MariaDB's CHECK constraints of JSON columns have no name: introspection numbers them
                    # in the order it finds them, which says nothing about the schema.
                    "__unnamed_constraint__" if name.startswith("__unnamed_constraint_") else name,
                    tuple(c["columns"] or ()),
                    bool(c["primary_key"]),
                    bool(c["unique"]),
                    bool(c["index"]),
                    bool(c["check"]),
                    tuple(c["foreign_key"] or ()),
                )
                + ((str(c.get("type") or ""), tuple(c.get("orders") or ())) if in_detail else ())
                for name, c in introspection.get_constraints(cursor, table).items()
            )
            found[table] = {"columns": columns, "constraints": constraints}
    return found


def differences(before: Schema, after: Schema) -> list[str]:
    """Short sentences naming what ``after`` has that ``before`` lacks, and the reverse."""
    found = []
    for table in sorted(set(before) | set(after)):
        if table not in after:
            found.append(f"table {table} is missing")
            continue
        if table not in before:
            found.append(f"table {table} is left over")
            continue
        for part in ("columns", "constraints"):
            missing = [item[0] for item in before[table][part] if item not in after[table][part]]
            extra = [item[0] for item in after[table][part] if item not in before[table][part]]
            if missing:
                found.append(f"{table} lacks {part} {', '.join(missing)}")
            if extra:
                found.append(f"{table} keeps {part} {', '.join(extra)}")
    return found
