"""What --dry-run shows of the target commit without checking it out: its pending migrations by phase.

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

from django_deploykit.redact import redact_text
from django_deploykit.slot_commands import CommandLog, SlotProject, run_program
from django_deploykit.slots import ROOT_ENV_VARIABLE


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
                return {"error": redact_text(exported.stderr.strip()[-500:])}
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
        return {"error": redact_text(result.stderr.strip()[-500:])}
    try:
        data: dict[str, Any] = json.loads(result.stdout)
    except ValueError:
        return {"error": "migrate_safe --plan did not print JSON"}
    phases: dict[str, list[str]] = {}
    for migration in data.get("migrations", []):
        label = f"{migration.get('app_label')}.{migration.get('name')}"
        phases.setdefault(str(migration.get("phase")), []).append(label)
    return phases
