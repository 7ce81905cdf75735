"""Fixtures of the migrate_safe tests: test apps with migration graphs chosen per test, and
throwaway databases (SQLite files, PostgreSQL and MariaDB databases with random names)."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import environ
import pytest
from django.core.management import call_command
from django.db import connections
from django.test.utils import override_settings

from tests.migrate_safe.graph_settings import graph_settings


@contextmanager
def use_graph(name: str, **extra: Any) -> Iterator[None]:
    with override_settings(**graph_settings(name), **extra):
        yield


def register_alias(alias: str, settings_dict: dict[str, Any]) -> None:
    configured = connections.configure_settings({"default": settings_dict})["default"]
    connections.settings[alias] = configured


def drop_alias(alias: str) -> None:
    with suppress(Exception):
        connections[alias].close()
    with suppress(AttributeError, KeyError):
        del connections[alias]
    connections.settings.pop(alias, None)


@pytest.fixture
def sqlite_db(tmp_path: Path, django_db_blocker: Any) -> Iterator[str]:
    alias = "migrate_safe_sqlite"
    register_alias(alias, {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "db.sqlite3")})
    with django_db_blocker.unblock():
        yield alias
        drop_alias(alias)


def _server_database(url: str, alias: str, django_db_blocker: Any) -> Iterator[str]:
    config = environ.Env.db_url_config(url)
    name = f"deploykit_ms_{secrets.token_hex(4)}"
    admin_alias = f"{alias}_admin"
    register_alias(admin_alias, dict(config))
    with django_db_blocker.unblock():
        admin = connections[admin_alias]
        with admin.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE {name}")
        register_alias(alias, {**config, "NAME": name})
        try:
            yield alias
        finally:
            drop_alias(alias)
            with admin.cursor() as cursor:
                if admin.vendor == "postgresql":
                    cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
                else:
                    cursor.execute(f"DROP DATABASE IF EXISTS {name}")
            drop_alias(admin_alias)


@pytest.fixture
def sqlite_db_b(tmp_path: Path, django_db_blocker: Any) -> Iterator[str]:
    """A second SQLite database, for comparing two ways of migrating."""
    alias = "migrate_safe_sqlite_b"
    register_alias(alias, {"ENGINE": "django.db.backends.sqlite3", "NAME": str(tmp_path / "db_b.sqlite3")})
    with django_db_blocker.unblock():
        yield alias
        drop_alias(alias)


@pytest.fixture
def postgres_db_b(postgres_url: str, django_db_blocker: Any) -> Iterator[str]:
    """A second throwaway PostgreSQL database."""
    yield from _server_database(postgres_url, "migrate_safe_pg_b", django_db_blocker)


@pytest.fixture
def mysql_db_b(mysql_url: str, django_db_blocker: Any) -> Iterator[str]:
    """A second throwaway MariaDB/MySQL database."""
    yield from _server_database(mysql_url, "migrate_safe_mysql_b", django_db_blocker)


@pytest.fixture
def postgres_db(postgres_url: str, django_db_blocker: Any) -> Iterator[str]:
    """A throwaway PostgreSQL database with a random name, as a connection alias."""
    yield from _server_database(postgres_url, "migrate_safe_pg", django_db_blocker)


@pytest.fixture
def mysql_db(mysql_url: str, django_db_blocker: Any) -> Iterator[str]:
    """A throwaway MariaDB/MySQL database with a random name, as a connection alias."""
    yield from _server_database(mysql_url, "migrate_safe_mysql", django_db_blocker)


# The backends a scenario runs on, each with the fixtures of its two databases. The marks are the
# ones the fixtures' servers need; the fixtures themselves skip (or fail under CI) without them.
_BACKEND_FIXTURES = {
    "sqlite": ("sqlite_db", "sqlite_db_b"),
    "postgresql": ("postgres_db", "postgres_db_b"),
    "mariadb": ("mysql_db", "mysql_db_b"),
}
SERVER_BACKENDS = [
    pytest.param("postgresql", marks=pytest.mark.postgresql, id="postgresql"),
    pytest.param("mariadb", marks=pytest.mark.mysql, id="mariadb"),
]
BACKENDS = [pytest.param("sqlite", id="sqlite"), *SERVER_BACKENDS]


@pytest.fixture(params=BACKENDS)
def database(request: pytest.FixtureRequest) -> str:
    """A throwaway database of each backend, as a connection alias.

    Parametrize it indirectly with ``SERVER_BACKENDS`` for a test of the database servers only."""
    first, _ = _BACKEND_FIXTURES[request.param]
    alias: str = request.getfixturevalue(first)
    return alias


@pytest.fixture(params=BACKENDS)
def database_pair(request: pytest.FixtureRequest) -> tuple[str, str]:
    """Two throwaway databases of each backend, for comparing two ways of migrating."""
    first, second = _BACKEND_FIXTURES[request.param]
    return request.getfixturevalue(first), request.getfixturevalue(second)


def url_for(alias: str) -> str:
    """A database URL for ``alias``, for migrate_safe processes started by a test."""
    s = connections.settings[alias]
    scheme = "postgres" if "postgresql" in s["ENGINE"] else "mysql"
    password = f":{s['PASSWORD']}" if s["PASSWORD"] else ""
    return f"{scheme}://{s['USER']}{password}@{s['HOST']}:{s['PORT']}/{s['NAME']}"


@dataclass
class Judged:
    """Verdicts of one app's migrations, each judged as the next deploy would judge it."""

    migrations: list[Any]


def judged_one_by_one(alias: str, app_label: str = "ms_shop") -> Judged:
    """Each migration of ``app_label`` judged with the database at the migration before it.

    A rule is about the code that runs: a migration is judged against the tables and columns the
    previous migrations gave the old code. What precedes it is only recorded (as --fake would):
    verdicts read the model state, not the tables.
    """
    from django.db.migrations.recorder import MigrationRecorder

    from django_deploykit.migrate_safe.planning import executor_for, plan_to

    connection = connections[alias]
    recorder = MigrationRecorder(connection)
    recorder.ensure_schema()
    executor = executor_for(connection)
    names = sorted(name for app, name in executor.loader.graph.nodes if app == app_label)
    verdicts = []
    for previous, name in zip([None, *names], names, strict=False):
        recorder.flush()
        # Django's own apps are always applied, so no migration of the app is a first install.
        targets = [("contenttypes", "0002_remove_content_type_name")]
        targets += [(app_label, previous)] if previous else []
        for migration, _ in executor.migration_plan(targets, clean_start=True):
            recorder.record_applied(migration.app_label, migration.name)
        plan = plan_to([(app_label, name)], connection)
        verdicts += [v for v in plan.migrations if v.key == (app_label, name)]
    recorder.flush()
    return Judged(verdicts)


def previous_release(alias: str, *targets: tuple[str, str]) -> None:
    """Migrate ``alias`` for real to what the running code has: by default ms_shop.0001_initial.

    Verdicts judge an upgrade against the code that runs: on a database with nothing applied
    (a first install) every migration runs in one phase, so tests of the phases start here.
    """
    for app_label, name in targets or (("ms_shop", "0001_initial"),):
        call_command("migrate", app_label, name, database=alias, verbosity=0)
