"""What --dry-run shows of the target commit without checking it out.

The requirement changes come from the diff of the requirements file; the pending migrations
by phase from the commit itself.

The commit's tree is exported (``git archive``) to a temporary folder outside the deploy root,
and ``migrate_safe --plan`` runs there in the slot's interpreter, pointed at the deploy root
(``DEPLOYKIT_ROOT``) so it reads the shared .env and plans against the real database. It only
reads; the slot's checkout is not touched.
"""

from __future__ import annotations

import json
import tarfile
import tempfile
from pathlib import Path
from typing import Any

from django_deploykit.deploy_root import dependencies, git
from django_deploykit.deploy_root.layout import ROOT_ENV_VARIABLE
from django_deploykit.deploy_root.slot_commands import CommandLog, SlotProject, run_program
from django_deploykit.text import tail


def pending_by_phase(
    project: SlotProject,
    commit: str | None,
    env: dict[str, str],
    timeout: float,
    log: CommandLog | None = None,
) -> dict[str, Any]:
    """Pending migrations by phase of ``commit`` (or of the slot's checkout when ``None``)."""
    with tempfile.TemporaryDirectory(prefix="deploykit-preview-") as scratch:
        directory = project.directory
        extra_env = dict(env)
        if commit is not None:
            archive = Path(scratch) / "tree.tar"
            exported = run_program(
                ("git", "-C", str(project.slot_dir), "archive", "--format=tar", "-o", str(archive), commit),
                cwd=project.slot_dir,
                timeout=timeout,
                log=log,
            )
            if exported.exit_code != 0:
                return {"error": tail(exported.error_output)}
            tree = Path(scratch) / "tree"
            with tarfile.open(archive) as handle:
                handle.extractall(tree, filter="data")
            directory = tree / project.subdir
            extra_env[ROOT_ENV_VARIABLE] = str(project.root.path)
        result = run_program(
            (str(project.python), "manage.py", "migrate_safe", "--plan", "--format", "json"),
            cwd=directory,
            env=extra_env,
            timeout=timeout,
            log=log,
        )
    if result.exit_code != 0:
        return {"error": tail(result.error_output)}
    try:
        data: dict[str, Any] = json.loads(result.stdout)
    except ValueError:
        return {"error": "migrate_safe --plan did not print JSON"}
    phases: dict[str, list[str]] = {}
    for migration in data.get("migrations", []):
        label = f"{migration.get('app_label')}.{migration.get('name')}"
        phases.setdefault(str(migration.get("phase")), []).append(label)
    return phases


def requirement_changes(
    project: SlotProject, relative: str | None, changed: list[str], old: str, new: str
) -> list[str] | str:
    """The lines of the requirements file the range adds or removes, or why pip would (not) run."""
    if relative and relative in changed:
        diff = git.git(project.slot_dir, "diff", "--unified=0", old, new, "--", relative)
        return [
            line for line in diff.stdout.splitlines() if line[:1] in "+-" and line[:3] not in ("+++", "---")
        ]
    requirements = dependencies.requirements_file(project.slot_dir, relative)
    if requirements is None:
        return "no requirements file: the dependencies stage would be skipped"
    if dependencies.is_current(project.slot_dir, requirements):
        return "unchanged and installed: the dependencies stage would be skipped"
    return "unchanged, but not yet installed into this slot's virtualenv: pip would run"


def plan(
    project: SlotProject,
    *,
    requirements: str | None,
    changed: list[str],
    old: str,
    new: str,
    env: dict[str, str],
    timeout: float,
) -> dict[str, Any]:
    return {
        "requirements": requirement_changes(project, requirements, changed, old, new),
        "new_migration_files": [path for path in changed if git.MIGRATION_FILE.search(path)],
        "pending_migrations": pending_by_phase(project, new if new != old else None, env, timeout),
    }
