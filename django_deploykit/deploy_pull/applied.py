"""Which migrations the database has applied, asked in a slot's own interpreter."""

from __future__ import annotations

import json
from pathlib import Path

from django_deploykit.deploy_root.slot_commands import CommandLog, SlotProject, run_manage
from django_deploykit.project_code import INSTALLED_LOCATIONS_SNIPPET, is_project_path
from django_deploykit.text import tail

# Run by 'manage.py shell -c' in the slot: the applied migrations, each app's folder, and the
# interpreter's installation locations (so Django's own apps in the slot's .venv are not the project's).
_SNIPPET = (
    INSTALLED_LOCATIONS_SNIPPET
    + """
from django.apps import apps
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
recorder = MigrationRecorder(connection)
applied = {}
if recorder.has_table():
    for app_label, name in recorder.applied_migrations():
        applied.setdefault(app_label, []).append(name)
paths = {c.label: c.path for c in apps.get_app_configs()}
print(json.dumps({"applied": applied, "paths": paths, "installed": _installed_locations}))
"""
)


class AppliedUnknown(Exception):
    pass


def applied_in_checkout(
    project: SlotProject, env: dict[str, str], timeout: float, log: CommandLog | None = None
) -> dict[str, set[str]]:
    """Applied migration names by the app folder (relative to the slot) of the project's own apps."""
    result = run_manage(
        project, ["shell", "--no-color", "-v", "0", "-c", _SNIPPET], env=env, timeout=timeout, log=log
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("{")]
    if result.exit_code != 0 or not lines:
        raise AppliedUnknown(
            f"exit {result.exit_code}: {tail(result.error_output, full=str(log.path) if log else None)}"
        )
    data = json.loads(lines[-1])
    slot_dir = project.slot_dir.resolve()
    found: dict[str, set[str]] = {}
    for label, path in data["paths"].items():
        if not is_project_path(path, slot_dir, data["installed"]):
            continue  # an installed package (Django's own apps too, in the slot's .venv)
        folder = Path(path).resolve().relative_to(slot_dir)
        found[folder.as_posix()] = set(data["applied"].get(label, []))
    return found


def missing_from(applied: dict[str, set[str]], files: set[tuple[str, str]]) -> list[str]:
    """Applied migrations of the project's apps that the target tree does not have."""
    present = {(app_dir, name) for app_dir, name in files}
    missing = []
    for folder, names in sorted(applied.items()):
        for name in sorted(names):
            if (folder, name) not in present:
                missing.append(f"{folder}/migrations/{name}.py")
    return missing
