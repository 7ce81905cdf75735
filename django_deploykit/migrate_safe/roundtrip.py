"""--roundtrip: each migration forwards, backwards, forwards on a throwaway test database.

The schema is introspected around every step, so a backwards that fails, or that does not
bring back the schema it started from, is reported by migration. The project's database is
never touched: Django's test-database machinery creates and drops the throwaway one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.migrations import Migration
from django.db.migrations.executor import MigrationExecutor

from django_deploykit.exit_codes import ExitCode
from django_deploykit.migrate_safe.applying import mark_in_loader
from django_deploykit.migrate_safe.planning import executor_for, resolve_targets
from django_deploykit.migrate_safe.progress import ProgressWriter
from django_deploykit.migrate_safe.safe_text import printable
from django_deploykit.migrate_safe.schema import differences, snapshot


class RoundtripError(RuntimeError):
    """The roundtrip could not start (for example, the test database cannot be created)."""


@contextmanager
def throwaway_test_database(connection: BaseDatabaseWrapper) -> Iterator[None]:
    """Point ``connection`` at a new, empty test database (named as Django's test runner names
    it) and drop it afterwards."""
    creation = connection.creation
    old_name = connection.settings_dict["NAME"]
    # create_test_db() would also run every migration; the roundtrip runs them itself.
    test_name = creation._create_test_db(verbosity=0, autoclobber=True, keepdb=False)  # type: ignore[attr-defined]
    connection.close()
    connection.settings_dict["NAME"] = test_name
    try:
        yield
    finally:
        # SQLite ignores close() on an in-memory database, so the name is put back first and the
        # connection closed again; destroy_test_db() would also write to settings.DATABASES.
        connection.close()
        if connection.vendor != "sqlite":
            creation._destroy_test_db(test_name, verbosity=0)  # type: ignore[attr-defined]
        connection.settings_dict["NAME"] = old_name
        connection.close()


def _step(executor: MigrationExecutor, migration: Migration, backwards: bool) -> None:
    executor.migrate([], plan=[(migration, backwards)])
    mark_in_loader(executor.loader, migration, backwards)


def run_roundtrip(database: str, app_label: str | None, say: Callable[[str], None]) -> list[str]:
    """Problems found, one sentence each; an empty list when every migration survived."""
    connection = connections[database]
    problems: list[str] = []
    with throwaway_test_database(connection):
        executor = executor_for(connection)
        executor.recorder.ensure_schema()
        targets = resolve_targets(executor.loader, app_label, None)
        for migration, _ in executor.migration_plan(targets):
            label = f"{migration.app_label}.{migration.name}"
            before = snapshot(connection)
            try:
                _step(executor, migration, backwards=False)
            except Exception as exc:
                problems.append(f"{label}: forwards fails: {printable(str(exc), connection)}")
                break
            after = snapshot(connection)
            irreversible = [str(i) for i, op in enumerate(migration.operations, start=1) if not op.reversible]
            if irreversible:
                problems.append(f"{label}: operations {', '.join(irreversible)} cannot be unapplied.")
                continue
            try:
                _step(executor, migration, backwards=True)
            except Exception as exc:
                # The database is in an unknown state now: later results would mislead.
                problems.append(f"{label}: backwards fails: {printable(str(exc), connection)}")
                break
            undone = snapshot(connection)
            if undone != before:
                problems.append(
                    f"{label}: backwards does not restore the schema: {'; '.join(differences(before, undone))}"
                )
            try:
                _step(executor, migration, backwards=False)
            except Exception as exc:
                problems.append(f"{label}: forwards after backwards fails: {printable(str(exc), connection)}")
                break
            again = snapshot(connection)
            if again != after:
                problems.append(
                    f"{label}: forwards after backwards gives another schema: {'; '.join(differences(after, again))}"
                )
            survived = undone == before and again == after
            say(
                f"  {label}: "
                + ("forwards, backwards, forwards OK" if survived else "see the problems below")
            )
    return problems


def report_roundtrip(
    database: str, app_label: str | None, document: dict[str, Any], output: ProgressWriter
) -> ExitCode:
    """--roundtrip: run it, say what survived, and answer ROUNDTRIP_FAILED when something did not."""
    problems = run_roundtrip(database, app_label, say=output.say)
    document.update(action="roundtrip", database=database, problems=problems)
    for problem in problems:
        output.problem(problem)
    if problems:
        return ExitCode.ROUNDTRIP_FAILED
    output.say("Every migration survived forwards, backwards, forwards.")
    return ExitCode.OK
