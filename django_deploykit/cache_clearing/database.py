"""Clear one namespace from a DatabaseCache table: delete only the rows of its keys."""

from __future__ import annotations

from collections.abc import Callable

from django.core.cache.backends.db import DatabaseCache
from django.db import DatabaseError, connections, router, transaction

from django_deploykit.cache_clearing.namespace import LIKE_ESCAPE_CLAUSE, Namespace

Progress = Callable[[int], None]


class DatabaseClearError(Exception):
    """The cache table could not be read or cleaned."""


def clear_namespace(
    cache: DatabaseCache, namespace: Namespace, *, batch: int, dry_run: bool, progress: Progress | None = None
) -> int:
    """Delete (or with ``dry_run`` only count) the rows of ``namespace``; return how many."""
    using = router.db_for_write(cache.cache_model_class)
    connection = connections[using]
    table = connection.ops.quote_name(_table_name(cache))
    regex = namespace.key_regex()
    try:
        with connection.cursor() as cursor:
            # LIKE narrows on the server; the regex keeps only versions made of digits.
            cursor.execute(
                f"SELECT cache_key FROM {table} WHERE cache_key LIKE %s {LIKE_ESCAPE_CLAUSE}",  # noqa: S608 (quoted name)
                [namespace.sql_like()],
            )
            keys = [key for (key,) in cursor.fetchall() if regex.match(key)]
        if dry_run:
            return len(keys)
        deleted = 0
        for start in range(0, len(keys), batch):
            chunk = keys[start : start + batch]
            placeholders = ", ".join(["%s"] * len(chunk))
            with transaction.atomic(using=using), connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {table} WHERE cache_key IN ({placeholders})", chunk)  # noqa: S608
                deleted += max(cursor.rowcount, 0)
            if progress is not None:
                progress(deleted)
        return deleted
    except DatabaseError as exc:
        raise DatabaseClearError(
            f"The cache table {_table_name(cache)} in the database {using!r} could not be cleared: {exc}"
        ) from exc


def count_rows(cache: DatabaseCache) -> int:
    using = router.db_for_read(cache.cache_model_class)
    connection = connections[using]
    table = connection.ops.quote_name(_table_name(cache))
    try:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 (quoted name)
            row = cursor.fetchone()
    except DatabaseError as exc:
        raise DatabaseClearError(
            f"The cache table {_table_name(cache)} in the database {using!r} could not be read: {exc}"
        ) from exc
    return int(row[0]) if row else 0


def _table_name(cache: DatabaseCache) -> str:
    # Set by DatabaseCache.__init__ from LOCATION; django-stubs does not declare it.
    name: str = cache._table  # type: ignore[attr-defined]
    return name
