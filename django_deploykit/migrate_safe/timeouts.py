"""Bounded waits for every migration: PostgreSQL lock_timeout / statement_timeout, MySQL and
MariaDB lock_wait_timeout, and, on PostgreSQL, the name of the query that blocked us."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from django.db import DatabaseError, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from django_deploykit.migrate_safe.safe_text import printable

LOCK_NOT_AVAILABLE = "55P03"
# Terminated by an administrator, a crash or a shutdown.
POSTGRES_TERMINATED = frozenset({"57P01", "57P02", "57P03"})
# Server gone away, lost during a query, killed, lost while reading the packet.
MYSQL_CONNECTION_LOST = frozenset({2006, 2013, 1927, 2055})
QUERY_CANCELED = "57014"
WATCH_INTERVAL = 0.1


def as_postgres(seconds: float) -> str:
    """A value for SET lock_timeout / statement_timeout (milliseconds; 0 disables)."""
    return f"{round(seconds * 1000)}ms"


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a database error from psycopg2 or psycopg 3, if any."""
    for candidate in (exc, exc.__cause__):
        if candidate is None:
            continue
        code = getattr(candidate, "pgcode", None) or getattr(candidate, "sqlstate", None)
        if code:
            return str(code)
    return None


def is_lock_timeout(exc: BaseException) -> bool:
    return sqlstate(exc) == LOCK_NOT_AVAILABLE


@contextmanager
def session_timeouts(
    connection: BaseDatabaseWrapper, lock_timeout: float | None, statement_timeout: float | None
) -> Iterator[None]:
    """Set the session's timeouts for the migrations run inside, and reset them afterwards.

    When the migrations raise, resetting is only tidying up: a connection that died takes its
    session settings with it, and the error that ended the run is the one to report.
    """
    if connection.vendor == "postgresql":
        setting = []
        if lock_timeout is not None:
            setting.append(f"SET lock_timeout = '{as_postgres(lock_timeout)}'")
        if statement_timeout is not None:
            setting.append(f"SET statement_timeout = '{as_postgres(statement_timeout)}'")
        resetting = ["RESET lock_timeout", "RESET statement_timeout"]
    elif connection.vendor == "mysql" and lock_timeout:
        setting = [f"SET SESSION lock_wait_timeout = {max(1, math.ceil(lock_timeout))}"]
        resetting = ["SET SESSION lock_wait_timeout = DEFAULT"]
    else:
        yield
        return
    _execute(connection, setting)
    try:
        yield
    except BaseException:
        with suppress(DatabaseError):
            _execute(connection, resetting)
        raise
    _execute(connection, resetting)


def _execute(connection: BaseDatabaseWrapper, statements: list[str]) -> None:
    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


def connection_lost(connection: BaseDatabaseWrapper, exc: BaseException | None = None) -> bool:
    """Whether ``exc`` (or the state of ``connection``) says the session to the server is gone:
    killed, terminated, or the network lost. What the session was doing may have finished on the
    server before the client heard of it."""
    seen: set[int] = set()
    candidate: BaseException | None = exc
    while candidate is not None and id(candidate) not in seen:
        seen.add(id(candidate))
        args = getattr(candidate, "args", ())
        if args and isinstance(args[0], int) and args[0] in MYSQL_CONNECTION_LOST:
            return True
        code = sqlstate(candidate)
        if code and (code.startswith("08") or code in POSTGRES_TERMINATED):
            return True
        if type(candidate).__name__ == "InterfaceError":
            return True
        candidate = candidate.__cause__ or candidate.__context__
    if connection.connection is None:
        return True
    try:
        return not connection.is_usable()
    except Exception:  # a connection that cannot even be asked is gone
        return True


@dataclass(frozen=True)
class Blocker:
    pid: int
    state: str
    query: str

    def describe(self) -> str:
        return f"pid {self.pid} ({self.state}): {self.query}"


class BlockerWatch:
    """Watches, from a second session, which sessions block ours while a migration waits.

    After a lock timeout the wait is over and pg_blocking_pids() of our session is empty, so
    the blockers are remembered while the wait lasts.
    """

    def __init__(self, connection: BaseDatabaseWrapper) -> None:
        self.connection = connection
        self.blockers: list[Blocker] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pid: int | None = None
        self.watch_error = ""

    def __enter__(self) -> BlockerWatch:
        if self.connection.vendor != "postgresql":
            return self
        with self.connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            row = cursor.fetchone()
        self._pid = int(row[0]) if row else None
        self._thread = threading.Thread(target=self._watch, name="migrate_safe-blockers", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _watch(self) -> None:
        watcher = connections.create_connection(self.connection.alias)
        try:
            while not self._stop.wait(WATCH_INTERVAL):
                with watcher.cursor() as cursor:
                    cursor.execute(
                        "SELECT pid, coalesce(state, ''), left(coalesce(query, ''), 200) "
                        "FROM pg_stat_activity WHERE pid = ANY(pg_blocking_pids(%s)) ORDER BY pid",
                        [self._pid],
                    )
                    found = [
                        Blocker(int(pid), state, printable(query, self.connection))
                        for pid, state, query in cursor
                    ]
                if found:
                    self.blockers = found
        except DatabaseError as exc:
            # Naming the blocker is a courtesy; the migration must not fail because of it.
            self.watch_error = printable(str(exc), self.connection)
        finally:
            watcher.close()

    def describe(self) -> str:
        if not self.blockers:
            if self.watch_error:
                return f"the blocking session could not be looked up ({self.watch_error})"
            return "no blocking session was seen"
        return "blocked by " + "; ".join(b.describe() for b in self.blockers)
