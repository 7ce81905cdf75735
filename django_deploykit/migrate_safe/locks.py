"""One migrate_safe at a time per database: a PostgreSQL advisory lock, or MySQL/MariaDB GET_LOCK.

Both are session locks held on the migrating connection; the server frees them when the
session ends, so a killed run never leaves the lock behind. SQLite (development) has none.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress

from django.db import DatabaseError
from django.db.backends.base.base import BaseDatabaseWrapper

LOCK_NAME = "django_deploykit.migrate_safe"
# pg_try_advisory_lock takes a bigint; a fixed number derived from the name, the same in every process.
ADVISORY_KEY = zlib.crc32(LOCK_NAME.encode())
POLL_SECONDS = 0.5


class LockBusy(RuntimeError):
    """Another migrate_safe run holds the lock and the caller asked not to wait."""


def _try(connection: BaseDatabaseWrapper) -> bool | None:
    """True when taken, False when busy, None when the backend has no such lock."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_KEY])
        elif connection.vendor == "mysql":
            cursor.execute("SELECT GET_LOCK(%s, 0)", [_mysql_name(connection)])
        else:
            return None
        row = cursor.fetchone()
    return bool(row and row[0])


def _release(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_KEY])
        elif connection.vendor == "mysql":
            cursor.execute("SELECT RELEASE_LOCK(%s)", [_mysql_name(connection)])


def _mysql_name(connection: BaseDatabaseWrapper) -> str:
    # GET_LOCK names are server-wide, unlike PostgreSQL's per-database advisory locks.
    return f"{LOCK_NAME}.{connection.settings_dict['NAME']}"[:64]


@contextmanager
def migration_lock(
    connection: BaseDatabaseWrapper, *, wait: bool, say: Callable[[str], None] = lambda _: None
) -> Iterator[None]:
    """Hold the migration lock of ``connection``'s database; wait for it (saying so once) or
    raise ``LockBusy`` at once when ``wait`` is false."""
    taken = _try(connection)
    if taken is None:
        yield
        return
    if not taken:
        if not wait:
            raise LockBusy(
                "Another migrate_safe run holds the migration lock of this database; it was left "
                "alone. Run again once it has finished, or leave out --no-wait to wait for it."
            )
        say("Another migrate_safe run holds the migration lock of this database; waiting for it to finish...")
        while not taken:
            time.sleep(POLL_SECONDS)
            taken = bool(_try(connection))
        say("Got the migration lock.")
    try:
        yield
    finally:
        # A lost connection has lost its session lock too; the error that ended the run matters more.
        with suppress(DatabaseError):
            _release(connection)
