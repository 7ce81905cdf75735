"""One migrate_safe at a time per database: a PostgreSQL advisory lock, or MySQL/MariaDB GET_LOCK.

Both are session locks held on the migrating connection; the server frees them when the
session ends, so a killed run never leaves the lock behind. SQLite (development) has none.

The holder says who it is, so a second run can name it as the deploy lock names its holder
(pid, host, command): on PostgreSQL in the session's ``application_name`` (pg_locks and
pg_stat_activity tie it to the lock), on MySQL/MariaDB in a one-row table keyed by the
connection id that IS_USED_LOCK reports.
"""

from __future__ import annotations

import os
import socket
import sys
import time
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from django.db import DatabaseError
from django.db.backends.base.base import BaseDatabaseWrapper

LOCK_NAME = "django_deploykit.migrate_safe"
# pg_try_advisory_lock takes a bigint; a fixed number derived from the name, the same in every process.
ADVISORY_KEY = zlib.crc32(LOCK_NAME.encode())
HOLDER_TABLE = "deploykit_migration_lock_holder"  # spelled out in the SQL below
POLL_SECONDS = 0.5
# PostgreSQL keeps the first 63 bytes of application_name.
APPLICATION_NAME_BYTES = 63
# A holder that just took the lock writes who it is a moment later.
HOLDER_LOOKUPS = 5


class LockBusy(RuntimeError):
    """Another migrate_safe run holds the lock and the caller asked not to wait."""


def holder_text() -> str:
    """'migrate_safe pid 4242 on web1: --phase=additive': who this process is, for the other runs."""
    argv = sys.argv
    if "migrate_safe" in argv:
        command = " ".join(argv[argv.index("migrate_safe") + 1 :])
    else:
        command = " ".join([Path(argv[0]).name, *argv[1:]]) if argv else ""
    return f"migrate_safe pid {os.getpid()} on {socket.gethostname()}: {command}".rstrip(": ")


def _try(connection: BaseDatabaseWrapper) -> bool | None:
    """True when taken, False when busy, None when the backend has no such lock."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_KEY])
        elif connection.vendor == "mysql":
            cursor.execute("SELECT GET_LOCK(%s, 0)", [mysql_name(connection)])
        else:
            return None
        row = cursor.fetchone()
    return bool(row and row[0])


def _release(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_KEY])
        elif connection.vendor == "mysql":
            cursor.execute("SELECT RELEASE_LOCK(%s)", [mysql_name(connection)])


def mysql_name(connection: BaseDatabaseWrapper) -> str:
    # GET_LOCK names are server-wide, unlike PostgreSQL's per-database advisory locks.
    return f"{LOCK_NAME}.{connection.settings_dict['NAME']}"[:64]


def _introduce(connection: BaseDatabaseWrapper) -> None:
    """Say who holds the lock, where the other runs look for it."""
    me = holder_text()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            name = me.encode()[:APPLICATION_NAME_BYTES].decode(errors="ignore")
            cursor.execute("SELECT set_config('application_name', %s, false)", [name])
        elif connection.vendor == "mysql":
            cursor.execute(
                "CREATE TABLE IF NOT EXISTS deploykit_migration_lock_holder (connection_id BIGINT UNSIGNED PRIMARY KEY, "
                "holder VARCHAR(255) NOT NULL, since DATETIME NOT NULL)"
            )
            # Under the lock, any other row is from a run that died.
            cursor.execute("DELETE FROM deploykit_migration_lock_holder")
            cursor.execute(
                "INSERT INTO deploykit_migration_lock_holder (connection_id, holder, since) "
                "VALUES (CONNECTION_ID(), %s, UTC_TIMESTAMP())",
                [me[:255]],
            )


def _step_down(connection: BaseDatabaseWrapper) -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("RESET application_name")
        elif connection.vendor == "mysql":
            cursor.execute(
                "DELETE FROM deploykit_migration_lock_holder WHERE connection_id = CONNECTION_ID()"
            )


def describe_holder(connection: BaseDatabaseWrapper) -> str:
    """Who holds the migration lock: the holder's own words and its database session."""
    found = ""
    for _ in range(HOLDER_LOOKUPS):
        try:
            found = _look_up_holder(connection)
        except DatabaseError as exc:
            # Naming the holder is a courtesy; the lock must not fail because of it.
            return f"the holder could not be looked up ({' '.join(str(exc).split())})"
        if found and not found.startswith("("):
            break
        time.sleep(0.1)
    return found or "a run that has just finished"


def _look_up_holder(connection: BaseDatabaseWrapper) -> str:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT a.pid, a.application_name, coalesce(host(a.client_addr), 'a local socket'), "
                "to_char(a.backend_start AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS') "
                "FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.granted AND l.classid::bigint = %s "
                "AND l.objid::bigint = %s AND l.objsubid = 1 "
                "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())",
                [ADVISORY_KEY >> 32, ADVISORY_KEY & 0xFFFFFFFF],
            )
            row = cursor.fetchone()
            if row is None:
                return ""
            pid, name, client, since = row
            return f"{name} (PostgreSQL backend {pid} from {client}, connected since {since} UTC)".lstrip()
        cursor.execute("SELECT IS_USED_LOCK(%s)", [mysql_name(connection)])
        row = cursor.fetchone()
        if row is None or row[0] is None:
            return ""
        session = int(row[0])
        cursor.execute("SELECT USER, HOST FROM information_schema.PROCESSLIST WHERE ID = %s", [session])
        process = cursor.fetchone()
        where = f" from {process[0]}@{process[1]}" if process else ""
        holder, since = "", ""
        if HOLDER_TABLE in connection.introspection.table_names(cursor):
            cursor.execute(
                "SELECT holder, since FROM deploykit_migration_lock_holder WHERE connection_id = %s",
                [session],
            )
            mine = cursor.fetchone()
            if mine:
                holder, since = mine[0], f", since {mine[1]:%Y-%m-%d %H:%M:%S} UTC"
        return f"{holder} (MariaDB connection {session}{where}{since})".lstrip()


@contextmanager
def migration_lock(
    connection: BaseDatabaseWrapper, *, wait: bool, say: Callable[[str], None] = lambda _: None
) -> Iterator[None]:
    """Hold the migration lock of ``connection``'s database; wait for it (saying so once, and who
    holds it) or raise ``LockBusy`` naming the holder at once when ``wait`` is false."""
    taken = _try(connection)
    if taken is None:
        yield
        return
    if not taken:
        holder = describe_holder(connection)
        if not wait:
            raise LockBusy(
                f"Another migrate_safe run holds the migration lock of this database: {holder}. It was left "
                "alone. Run again once it has finished, or leave out --no-wait to wait for it."
            )
        say(
            f"Another migrate_safe run holds the migration lock of this database: {holder}; "
            "waiting for it to finish..."
        )
        while not taken:
            time.sleep(POLL_SECONDS)
            taken = bool(_try(connection))
        say("Got the migration lock.")
    try:
        with suppress(DatabaseError):
            _introduce(connection)
        yield
    finally:
        # A lost connection has lost its session lock too; the error that ended the run matters more.
        with suppress(DatabaseError):
            _step_down(connection)
        with suppress(DatabaseError):
            _release(connection)
