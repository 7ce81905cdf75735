"""Running a phase: Django's executor on the filtered plan, with the signals ``migrate`` sends,
session timeouts, retries of atomic migrations on lock timeouts, and, on databases whose DDL
cannot be rolled back, the per-operation journal."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib import import_module
from typing import Any

from django.apps import apps as global_apps
from django.core.management.base import OutputWrapper
from django.core.management.sql import emit_post_migrate_signal, emit_pre_migrate_signal
from django.db import DatabaseError
from django.db.migrations import Migration
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.state import ModelState, ProjectState
from django.utils.module_loading import module_has_submodule

from django_deploykit.migrate_safe import expansion, journal
from django_deploykit.migrate_safe.planning import Step, applied_state
from django_deploykit.migrate_safe.safe_text import printable
from django_deploykit.migrate_safe.timeouts import BlockerWatch, is_lock_timeout, session_timeouts


@dataclass
class ApplyOptions:
    fake: bool = False
    lock_timeout: float | None = 5.0
    statement_timeout: float | None = None
    retries: int = 3
    retry_delay: float = 1.0
    # The additive phase only: AddFields of NOT NULL columns with only a Python default keep a DB
    # default (and a record of it) until the destructive phase removes it; see expansion.py.
    expand: bool = False


def load_signal_receivers() -> None:
    """Import every app's management module, as ``migrate`` does: apps register their
    pre_migrate and post_migrate receivers there."""
    for app_config in global_apps.get_app_configs():
        if module_has_submodule(app_config.module, "management"):
            import_module(".management", app_config.name)


class MigrationFailed(RuntimeError):
    """A migration failed; the message says which, why, and what was applied before it."""


def apply_steps(
    executor: MigrationExecutor,
    steps: list[Step],
    options: ApplyOptions,
    *,
    verbosity: int = 1,
    stdout: OutputWrapper | None = None,
    say: Callable[[str], None] = lambda _: None,
    expanded: list[str] | None = None,
) -> list[str]:
    """Run ``steps`` (one direction) in order, between pre_migrate and post_migrate as
    ``migrate`` does. Returns the labels run; raises MigrationFailed on the first failure.
    With ``options.expand`` (never with ``fake``), what was expanded is added to ``expanded``."""
    connection = executor.connection
    if not steps:
        return []
    executor.recorder.ensure_schema()
    pre_state = applied_state(executor)
    emit_pre_migrate_signal(
        verbosity, False, connection.alias, stdout=stdout, apps=pre_state.apps, plan=steps
    )
    done: list[str] = []
    state = pre_state.clone()
    with session_timeouts(connection, options.lock_timeout, options.statement_timeout):
        for migration, backwards in steps:
            label = f"{migration.app_label}.{migration.name}"
            to_run = migration
            expands: list[str] = []
            if options.expand and not options.fake and not backwards:
                to_run, expands = expansion.expanding_migration(migration, state, connection)
                if expands:
                    # Outside the migration: MySQL would commit its transaction at CREATE TABLE.
                    expansion.ensure_table(connection)
            try:
                state = _run_with_retries(executor, state, to_run, backwards, options, say)
            except journal.PartialMigration as exc:
                raise MigrationFailed(f"{exc} Applied before it: {', '.join(done) or 'nothing'}.") from exc
            except MigrationFailed:
                raise
            except Exception as exc:
                rolled_back = ""
                if connection.features.can_rollback_ddl and migration.atomic and not options.fake:
                    rolled_back = f"{label} was rolled back: nothing of it was applied. Run migrate_safe again to apply it. "
                raise MigrationFailed(
                    f"{label} failed: {printable(str(exc), connection).rstrip('. ')}. {rolled_back}"
                    f"Applied before it in this run: {', '.join(done) or 'nothing'}."
                ) from exc
            mark_in_loader(executor.loader, migration, backwards)
            if backwards and not options.fake:
                # Its columns are gone, so are the defaults kept for the old code.
                expansion.forget(connection, migration.app_label, migration.name)
            if expanded is not None:
                expanded.extend(expands)
            done.append(label)
    # As migrate does: a squashed migration whose replaced migrations are all applied is recorded
    # under its own name too, so the database stays migrated once a package drops `replaces`.
    executor.check_replacements()
    _send_post_migrate(executor, steps, verbosity, stdout)
    return done


def _run_with_retries(
    executor: MigrationExecutor,
    state: ProjectState,
    migration: Migration,
    backwards: bool,
    options: ApplyOptions,
    say: Callable[[str], None],
) -> ProjectState:
    connection = executor.connection
    label = f"{migration.app_label}.{migration.name}"
    # Only a migration that rolls back whole can be tried again from the start.
    retryable = bool(migration.atomic) and bool(connection.features.can_rollback_ddl)
    attempt = 0
    while True:
        with BlockerWatch(connection) as watch:
            try:
                return _run_once(executor, state, migration, backwards, options)
            except DatabaseError as exc:
                if not is_lock_timeout(exc):
                    raise
                blocked = watch.describe()
        if not retryable:
            raise MigrationFailed(
                f"{label} hit the lock timeout ({blocked}). It is not atomic, so it was not retried; "
                "check which of its operations ran before running it again."
            )
        if attempt >= options.retries:
            raise MigrationFailed(
                f"{label} could not take its locks within the lock timeout after {options.retries} "
                f"retries; {blocked}. {label} was rolled back; end or wait for that session, then run again."
            )
        delay = options.retry_delay * 2**attempt
        attempt += 1
        say(f"{label}: lock timeout, {blocked}; retry {attempt} of {options.retries} in {delay:g}s.")
        time.sleep(delay)


def _run_once(
    executor: MigrationExecutor,
    state: ProjectState,
    migration: Migration,
    backwards: bool,
    options: ApplyOptions,
) -> ProjectState:
    connection = executor.connection
    if not connection.features.can_rollback_ddl and not options.fake:
        return journal.run_journalled(executor, state, migration, backwards)
    if backwards:
        # The executor computes the state before the migration as it does for migrate.
        executor.migrate([], plan=[(migration, True)], fake=options.fake)
        return state
    # apply_migration mutates the state it gets: a retry must start from the untouched one.
    new_state: ProjectState = executor.apply_migration(state.clone(), migration, fake=options.fake)
    return new_state


def mark_in_loader(loader: MigrationLoader, migration: Migration, backwards: bool) -> None:
    # The recorder has the row; the loader's copy feeds the project states of the next steps.
    applied: dict[tuple[str, str], Any] = loader.applied_migrations
    keys: list[tuple[str, str]] = [(migration.app_label, migration.name)]
    keys += [(app_label, name) for app_label, name in migration.replaces]
    for key in keys:
        if backwards:
            applied.pop(key, None)
        else:
            applied[key] = migration


def _send_post_migrate(
    executor: MigrationExecutor, steps: list[Step], verbosity: int, stdout: OutputWrapper | None
) -> None:
    post_state = applied_state(executor)
    post_apps = post_state.apps
    # As migrate does: receivers get real apps' models rendered with their relations.
    with post_apps.bulk_update():
        model_keys = []
        for model_state in post_apps.real_models:
            key = (model_state.app_label, model_state.name_lower)
            model_keys.append(key)
            post_apps.unregister_model(*key)
    post_apps.render_multiple([ModelState.from_model(global_apps.get_model(*key)) for key in model_keys])
    emit_post_migrate_signal(
        verbosity, False, executor.connection.alias, stdout=stdout, apps=post_apps, plan=steps
    )
