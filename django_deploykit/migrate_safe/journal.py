"""A per-operation journal for databases whose DDL cannot be rolled back (MySQL, MariaDB).

Django records a migration only once all of it ran, so a failure in its third operation
leaves the first two applied with no trace. Here each operation runs in its own schema editor
(so its deferred SQL, such as foreign keys and indexes, runs before the next one starts) and
gets a journal row; a failed migration can then be reported exactly, resumed from the failed
operation, or undone.
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any

from django.db import DatabaseError, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations import Migration
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState
from django.utils import timezone

from django_deploykit.migrate_safe import started
from django_deploykit.migrate_safe.bookkeeping import BookkeepingTable
from django_deploykit.migrate_safe.safe_text import printable
from django_deploykit.migrate_safe.timeouts import connection_lost
from django_deploykit.text import shorten

TABLE = "deploykit_migration_journal"
DONE = "done"
FAILED = "failed"
STARTED = "started"


RESUME_OR_UNDO = "Run migrate_safe --resume to finish it, or --undo to revert the operations that ran."


class PartialMigration(RuntimeError):
    """A migration stopped between operations; the message says which ran and which failed."""


class StartedUndecided(RuntimeError):
    """An operation left "started" may or may not have taken effect, and the schema cannot tell;
    the message says what to check and which command records the answer. The journal is untouched."""


JOURNAL = BookkeepingTable(
    TABLE,
    "deploykit_journal",
    lambda: {
        "app": models.CharField(max_length=255),
        "name": models.CharField(max_length=255),
        "backwards": models.BooleanField(default=False),
        "operation": models.PositiveIntegerField(),
        "status": models.CharField(max_length=10),
        "error": models.TextField(blank=True, default=""),
        "at": models.DateTimeField(default=timezone.now),
    },
    lambda entry: f"{entry.app}.{entry.name} operation {entry.operation}: {entry.status}",
)


def journal_model() -> type[models.Model]:
    return JOURNAL.model


def ensure_table(connection: BaseDatabaseWrapper) -> None:
    JOURNAL.ensure(connection)


def _entries(connection: BaseDatabaseWrapper) -> Any:
    return JOURNAL.rows(connection)


def _why_the_journal_failed(connection: BaseDatabaseWrapper, exc: DatabaseError) -> str:
    return (
        "the connection to the database was lost"
        if connection_lost(connection, exc)
        else "the journal failed"
    )


@dataclass
class Partial:
    app_label: str
    name: str
    backwards: bool
    done: list[int]
    failed: int | None
    error: str
    # The operation a run stopped during (a kill, a lost connection): its effect is not known yet.
    started: int | None = None

    @property
    def label(self) -> str:
        return f"{self.app_label}.{self.name}"

    def describe(self) -> str:
        verb = "undone" if self.backwards else "applied"
        done = _ranges(self.done) if self.done else "none"
        failed = f", {self.failed} failed ({self.error})" if self.failed else ""
        return f"{self.label}: operations {done} {verb}{failed}"


def _ranges(numbers: list[int]) -> str:
    """'1\u20132, 4' for [1, 2, 4]: the way people write runs of operation numbers."""
    runs: list[list[int]] = []
    for n in sorted(numbers):
        if runs and runs[-1][-1] == n - 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}\u2013{r[-1]}" for r in runs)


def partial_migrations(connection: BaseDatabaseWrapper) -> list[Partial]:
    """Migrations the journal shows as started and not finished, oldest first."""
    if not JOURNAL.exists(connection):
        return []
    found: dict[tuple[str, str, bool], Partial] = {}
    for entry in _entries(connection).order_by("id"):
        key = (entry.app, entry.name, entry.backwards)
        partial = found.setdefault(key, Partial(entry.app, entry.name, entry.backwards, [], None, ""))
        if entry.status == DONE:
            partial.done.append(entry.operation)
        elif entry.status == FAILED:
            partial.failed, partial.error = entry.operation, entry.error
        else:
            # Started and never finished: the process died during it, so its effect is unknown.
            partial.failed, partial.error = entry.operation, "the run stopped during it"
            partial.started = entry.operation
    return list(found.values())


def run_journalled(
    executor: MigrationExecutor, state: ProjectState, migration: Migration, backwards: bool
) -> ProjectState:
    """Apply (or unapply) ``migration`` one journalled operation at a time, skipping the
    operations the journal already shows as done; record it in django_migrations at the end."""
    connection = executor.connection
    ensure_table(connection)
    label = f"{migration.app_label}.{migration.name}"
    callback = executor.progress_callback or (lambda *a, **k: None)
    callback("unapply_start" if backwards else "apply_start", migration, False)
    entries = _entries(connection).filter(app=migration.app_label, name=migration.name, backwards=backwards)
    if entries.filter(status=STARTED).exists():
        # Running it again blindly may repeat what took effect; settle_started decides first.
        raise StartedUndecided(f"{label} has an operation left started; run migrate_safe --resume or --undo.")
    done = set(entries.filter(status=DONE).values_list("operation", flat=True))
    entries.exclude(status=DONE).delete()
    if backwards:
        before = executor.loader.project_state((migration.app_label, migration.name), at_end=False)
        steps = _undo_steps(migration, before, list(range(1, len(migration.operations) + 1)))
    else:
        steps = _forward_steps(migration, state.clone())
    verb = "undone" if backwards else "applied"
    for index, op, from_state, to_state in steps:
        if index in done:
            continue
        so_far = f"{label}: operations {_ranges(sorted(done)) if done else 'none'} {verb}"
        what = f"operation {index} ({op.describe()})"
        try:
            entry = _entries(connection).create(
                app=migration.app_label,
                name=migration.name,
                backwards=backwards,
                operation=index,
                status=STARTED,
            )
        except DatabaseError as exc:
            why = _why_the_journal_failed(connection, exc)
            raise PartialMigration(
                f"{so_far}; {why} before {what} started ({_error(exc, connection)}), so nothing of it ran. "
                f"{RESUME_OR_UNDO}"
            ) from exc
        in_transaction = started.runs_in_transaction(migration, op)
        try:
            with connection.schema_editor(atomic=False) as editor, _maybe_atomic(connection, in_transaction):
                if backwards:
                    op.database_backwards(migration.app_label, editor, from_state, to_state)
                else:
                    op.database_forwards(migration.app_label, editor, from_state, to_state)
                if in_transaction:
                    # Committed with the operation's own changes, or not at all.
                    _record(entry, DONE)
        except Exception as exc:
            raise _failure(connection, entry, so_far, index, what, exc) from exc
        if not in_transaction:
            try:
                _record(entry, DONE)
            except DatabaseError as exc:
                why = _why_the_journal_failed(connection, exc)
                raise PartialMigration(
                    f"{so_far}; {what} ran, but {why} before the journal recorded it ({_error(exc, connection)}), "
                    f"so the journal shows it as started: --resume and --undo check the schema for it first. "
                    f"{RESUME_OR_UNDO}"
                ) from exc
        done.add(index)
    try:
        if backwards:
            for app_label, name in migration.replaces:
                executor.recorder.record_unapplied(app_label, name)
            executor.recorder.record_unapplied(migration.app_label, migration.name)
        else:
            for app_label, name in migration.replaces or [(migration.app_label, migration.name)]:
                executor.recorder.record_applied(app_label, name)
        _entries(connection).filter(app=migration.app_label, name=migration.name).delete()
    except DatabaseError as exc:
        raise PartialMigration(
            f"{label}: all its operations were {verb}, but the connection to the database was lost before "
            f"django_migrations recorded it ({_error(exc, connection)}). Run migrate_safe --resume to record it."
        ) from exc
    callback("unapply_success" if backwards else "apply_success", migration, False)
    if backwards or not steps:
        return state
    return steps[-1][3]


def _record(entry: Any, status: str, error: str = "") -> None:
    entry.status, entry.error = status, error
    entry.save()


def _error(exc: BaseException, connection: BaseDatabaseWrapper) -> str:
    return shorten(printable(str(exc), connection), 500)


def _failure(
    connection: BaseDatabaseWrapper, entry: Any, so_far: str, index: int, what: str, exc: BaseException
) -> PartialMigration:
    """The report of an operation that raised: recorded as failed when the connection survived
    (the statement failed, so it did not take effect); left started when the connection was lost,
    since the server may have finished the statement before the client heard of it."""
    error = _error(exc, connection)
    if connection_lost(connection, exc):
        why = f"was running when the connection to the database was lost ({error})"
    else:
        try:
            # The journal keeps the start of the error; all of it is the cause of the error raised.
            _record(entry, FAILED, error)
        except DatabaseError as journal_error:
            why = (
                f"failed ({error}) and the journal could not record it ({_error(journal_error, connection)})"
            )
        else:
            return PartialMigration(f"{so_far}, {index} failed ({error}). {RESUME_OR_UNDO}")
    return PartialMigration(
        f"{so_far}; {what} {why}. The journal shows it as started: --resume and --undo check the schema "
        f"first to tell whether it took effect. {RESUME_OR_UNDO}"
    )


def _maybe_atomic(connection: BaseDatabaseWrapper, wanted: bool) -> AbstractContextManager[object]:
    return transaction.atomic(using=connection.alias) if wanted else nullcontext()


def _forward_steps(
    migration: Migration, state: ProjectState
) -> list[tuple[int, Operation, ProjectState, ProjectState]]:
    steps = []
    for index, op in enumerate(migration.operations, start=1):
        before = state.clone()
        op.state_forwards(migration.app_label, state)
        steps.append((index, op, before, state.clone()))
    return steps


def _undo_steps(
    migration: Migration, before: ProjectState, indexes: list[int]
) -> list[tuple[int, Operation, ProjectState, ProjectState]]:
    """(index, operation, state after it, state before it) in the order to undo them."""
    forward = _forward_steps(migration, before)
    return [(i, op, after, prior) for i, op, prior, after in reversed(forward) if i in indexes]


def undo_partial(executor: MigrationExecutor, partial: Partial) -> None:
    """Put the database back where the failed run found it, and clear the journal.

    A failed forward run has its applied operations reverted, newest first; a failed backwards
    run has the operations it undid applied again, oldest first.
    """
    connection = executor.connection
    loader: MigrationLoader = executor.loader
    if partial.started is not None:
        # Never clear a journal whose started operation nobody has decided.
        raise StartedUndecided(f"{partial.label} has an operation left started; settle it before undoing.")
    migration = loader.get_migration(partial.app_label, partial.name)
    before = loader.project_state((partial.app_label, partial.name), at_end=False)
    if partial.backwards:
        for index, op, from_state, to_state in _forward_steps(migration, before):
            if index in partial.done:
                with connection.schema_editor(atomic=False) as editor:
                    op.database_forwards(migration.app_label, editor, from_state, to_state)
                _forget(connection, partial, index)
    else:
        for index, op, after_state, before_state in _undo_steps(migration, before, partial.done):
            with connection.schema_editor(atomic=False) as editor:
                op.database_backwards(migration.app_label, editor, after_state, before_state)
            _forget(connection, partial, index)
    _entries(connection).filter(app=partial.app_label, name=partial.name).delete()


def _forget(connection: BaseDatabaseWrapper, partial: Partial, index: int) -> None:
    # One entry at a time, so an undo that fails half-way leaves an exact journal behind.
    _entries(connection).filter(
        app=partial.app_label, name=partial.name, backwards=partial.backwards, operation=index
    ).delete()


def settle_started(
    executor: MigrationExecutor, partial: Partial, verdict: str | None, database_option: str = ""
) -> str:
    """Decide the operation ``partial`` shows as started, from the schema (or from ``verdict``,
    what the operator found by hand): record it done when it took effect, failed when it did not.

    Returns a sentence saying what was found. Raises StartedUndecided, leaving the journal as it
    was, when the schema cannot tell; its message names what to check and the command to run
    (``database_option`` is added to it, such as ' --database replica').
    """
    connection = executor.connection
    loader: MigrationLoader = executor.loader
    index = partial.started
    assert index is not None
    migration = loader.get_migration(partial.app_label, partial.name)
    before = loader.project_state((partial.app_label, partial.name), at_end=False)
    if partial.backwards:
        _, op, start, end = _undo_steps(migration, before, [index])[0]
    else:
        _, op, start, end = _forward_steps(migration, before)[index - 1]
    what = f"{partial.label} operation {index} ({op.describe()})"
    if partial.backwards:
        what += ", being undone,"
    if verdict is None:
        finding = started.decide(connection, migration, op, start, end)
    else:
        took = "took" if verdict == started.APPLIED else "did not take"
        finding = started.Finding(verdict, f"as --started={verdict} says, it {took} effect")
    if finding.verdict is None:
        check = started.sql_to_check(connection, migration.app_label, op, start, end, partial.backwards)
        raise StartedUndecided(
            f"{what} was left started by a run that stopped, and the schema cannot tell whether it took "
            f"effect: {finding.reason}. To settle it, {check}. Then run "
            f"'migrate_safe --resume --started=applied{database_option}' if it took effect, or "
            f"'migrate_safe --resume --started=not-applied{database_option}' if it did not (with --undo instead of --resume "
            "to revert the migration). "
            + (
                "When the reverse of the operation works on the part that exists (dropping a table or a "
                f"column does), 'migrate_safe --undo --started=applied{database_option}' reverts it. "
                if finding.in_part
                else ""
            )
            + "The journal was left as it was."
        )
    entry = _entries(connection).filter(
        app=partial.app_label, name=partial.name, backwards=partial.backwards, operation=index, status=STARTED
    )
    if finding.verdict == started.APPLIED:
        entry.update(status=DONE, error="")
    else:
        entry.update(status=FAILED, error="the run stopped before it took effect")
    return f"{what} was left started by a run that stopped; {finding.reason}."
