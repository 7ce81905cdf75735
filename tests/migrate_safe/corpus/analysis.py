"""What a migrate_safe plan (its JSON) says about the corpus: blocked migrations, and why."""

from __future__ import annotations

import json
from typing import Any

from tests.migrate_safe.corpus.environment import Corpus

# Django's own apps and deploykit's: not part of the corpus.
OWN_APPS = frozenset(
    {"admin", "auth", "contenttypes", "sessions", "messages", "staticfiles", "django_deploykit"}
)

DISK_MIGRATIONS = (
    "import json\n"
    "from django.db.migrations.loader import MigrationLoader\n"
    "loader = MigrationLoader(None, ignore_no_migrations=True)\n"
    "print(json.dumps(sorted([app, name, bool(m.replaces)] for (app, name), m in loader.disk_migrations.items())))\n"
)


def label(migration: dict[str, Any]) -> str:
    return f"{migration['app_label']}.{migration['name']}"


def runs_code(migration: dict[str, Any]) -> bool:
    """An operation no rule can judge (RunPython, RunSQL, a custom operation; noops excepted)."""
    return any(operation["phase"] == "unknown" for operation in migration["operations"])


def is_blocked(migration: dict[str, Any]) -> bool:
    return migration["phase"] in ("mixed", "unclassified")


def overrides_needed(plan: dict[str, Any]) -> tuple[list[str], list[str]]:
    """From a plan made without decisions: (blocked by schema operations alone, running code).

    A migration running code needs a user's decision whatever the rules become; one blocked only by
    schema operations needs an override the rules should have made unnecessary.
    """
    migrations = plan["migrations"]
    code = [label(m) for m in migrations if runs_code(m)]
    schema = [label(m) for m in migrations if is_blocked(m) and not runs_code(m)]
    return schema, code


def disk_migrations(corpus: Corpus, database_url: str) -> list[tuple[str, str, bool]]:
    """Every migration file the installed packages ship: (app, name, squashes others)."""
    completed = corpus.manage(
        database_url, "shell", "-v", "0", "-c", DISK_MIGRATIONS, label="list migrations"
    )
    if completed.returncode != 0:
        raise RuntimeError(f"listing the migrations failed:\n{completed.stderr[-3000:]}")
    return [
        (app, name, squashed) for app, name, squashed in json.loads(completed.stdout.strip().splitlines()[-1])
    ]


# Run in the venv by ``manage.py shell``: every migration of the packages' whole history judged as the
# deploy that brought it would judge it, against the state of everything before it in Django's order
# (a fresh plan would be a first install, which judges nothing). Printed as a plan's JSON.
HISTORY = """
import json
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.state import ProjectState
from django_deploykit.migrate_safe.classify import classify_operations
from django_deploykit.migrate_safe.running_code import Judging, RunningCode
from django_deploykit.migrate_safe.verdicts import migration_verdict

executor = MigrationExecutor(connection)
loader = executor.loader
state = ProjectState(real_apps=loader.unmigrated_apps)
migrated = set()
verdicts = []
for migration, _ in executor.migration_plan(loader.graph.leaf_nodes(), clean_start=True):
    old = state.clone()

    def build_new(migration=migration, old=old):
        new = old.clone()
        migration.mutate_state(new, preserve=False)
        return new

    running = RunningCode(old, build_new, never_migrated=frozenset({migration.app_label}) - migrated)
    operations = classify_operations(
        migration.operations, migration.app_label, state.clone(), Judging(connection, running)
    )
    transactional = bool(connection.features.can_rollback_ddl)
    verdicts.append(migration_verdict(migration, operations, transactional_ddl=transactional).as_dict())
    migration.mutate_state(state, preserve=False)
    migrated.add(migration.app_label)
print(json.dumps({"vendor": connection.vendor, "migrations": verdicts}))
"""


def history_plan(corpus: Corpus, database_url: str, *, decisions: bool = True) -> dict[str, Any]:
    """Every installed migration judged as its own deploy would judge it, as a plan's JSON."""
    completed = corpus.manage(
        database_url, "shell", "-v", "0", "-c", HISTORY, label="judge the history", decisions=decisions
    )
    if completed.returncode != 0:
        raise RuntimeError(f"judging the history failed:\n{completed.stderr[-3000:]}")
    return dict(json.loads(completed.stdout.strip().splitlines()[-1]))
