"""Which lock an operation takes on the connected backend, in the backend's own words.

The lock decides what waits: on PostgreSQL an ACCESS EXCLUSIVE request queues behind every open
transaction on the table and every query after it queues behind the request, which is why
``lock_timeout`` matters even for "instant" changes.
"""

from __future__ import annotations

from django.db.migrations import operations as ops
from django.db.migrations.operations.base import Operation

try:  # django.contrib.postgres imports psycopg at import time; projects without it still work.
    from django.contrib.postgres import operations as pg_ops
except ImportError:  # pragma: no cover - psycopg is a test dependency
    pg_ops = None  # type: ignore[assignment]

ACCESS_EXCLUSIVE = "ACCESS EXCLUSIVE (reads and writes wait)"
SHARE = "SHARE (writes wait)"
SHARE_UPDATE_EXCLUSIVE = "SHARE UPDATE EXCLUSIVE (reads and writes go on)"
NEW_TABLE = "none on existing tables"

_POSTGRES: list[tuple[type[Operation], str]] = [
    (ops.CreateModel, NEW_TABLE),
    (ops.AddIndex, SHARE),
    (ops.RunSQL, "unknown"),
    (ops.RunPython, "unknown"),
    (ops.AlterModelOptions, "none"),
    (ops.AlterModelManagers, "none"),
    (ops.SeparateDatabaseAndState, "that of its database operations"),
]
if pg_ops is not None:
    _POSTGRES[:0] = [
        (pg_ops.AddIndexConcurrently, SHARE_UPDATE_EXCLUSIVE),
        (pg_ops.RemoveIndexConcurrently, SHARE_UPDATE_EXCLUSIVE),
        (pg_ops.ValidateConstraint, SHARE_UPDATE_EXCLUSIVE),
        (pg_ops.CreateExtension, "none on tables"),
    ]


def lock_taken(op: Operation, vendor: str) -> str:
    """The lock ``op`` takes on the tables it changes; '' when the backend is not described."""
    if isinstance(op, ops.RunSQL | ops.RunPython):
        return "unknown"
    if isinstance(op, ops.AlterModelOptions | ops.AlterModelManagers):
        return "none"
    if vendor == "postgresql":
        for kind, lock in _POSTGRES:
            if isinstance(op, kind):
                return lock
        return ACCESS_EXCLUSIVE
    if vendor == "mysql":
        if isinstance(op, ops.CreateModel):
            return NEW_TABLE
        return "exclusive metadata lock (waits for open transactions on the table; queries queue behind it)"
    if vendor == "sqlite":
        return "the whole database is locked for writing"
    return ""
