"""What the console's buttons do: the same management commands a user runs by hand, started from the web
worker but not inside it.

A deploy or a rollback reloads the servers, the web worker that asked included, and runs longer than any
request. So the command is started detached: a session of its own (a worker's reload or stop does not reach
it), stdin from /dev/null, stdout and stderr straight into ``logs/<run id>/launch.log`` (no pipe back to a
worker that may be gone), run by the live slot's own interpreter through the ``live`` link like a user's
``manage.py``. It takes the deploy lock itself, as from the command line; the console refuses up front when
the lock is held, naming the holder, and a command that loses a race to the lock records its refusal in the
history, which the run's page shows. The signed-in user reaches the record as "who" through
``DEPLOYKIT_REQUESTED_BY`` (``deploy_root.lock.current_user``).

Maintenance is quick and changes no server: it runs as a command too, and the request waits for it.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import sh

from django_deploykit.console import audit
from django_deploykit.console.runs import LAUNCH_RECORD_NAME, Launch
from django_deploykit.deploy_root import history, lock
from django_deploykit.deploy_root.layout import LAUNCH_LOG_NAME, LIVE_LINK, DeployRoot
from django_deploykit.deploy_root.slot_commands import SlotProject, child_environment, run_manage
from django_deploykit.exit_codes import ExitCode
from django_deploykit.settings.dispatcher import variables_from_env_file

# How long the request waits for a maintenance command.
MAINTENANCE_TIMEOUT: Final = 60.0


class ActionRefused(Exception):
    """The action cannot start now; the message says why and what to do."""


def refuse_if_locked(root: DeployRoot) -> None:
    holder = lock.read_holder(root)
    if holder is not None:
        raise ActionRefused(
            f"Another run holds the deploy lock: {holder.describe()}. Wait for it to finish, then try again."
        )


def _environment(username: str) -> dict[str, str]:
    """The worker's real environment for the command: not what the worker's settings took from the .env file
    when it started (the command reads the file as it is now; an edited .env must not lose to a stale copy),
    not a lock token; and output unbuffered, so the launch log grows as it happens."""
    env = child_environment(
        {lock.REQUESTED_BY_VARIABLE: username, "PYTHONUNBUFFERED": "1"},
        unset=[lock.TOKEN_VARIABLE, *variables_from_env_file()],
    )
    return env


def _spawn(project: SlotProject, argv: list[str], username: str, output: Path) -> int:
    """Start ``python manage.py ARGV`` in ``project`` in a session of its own, its output into ``output``."""
    with open(os.devnull, "rb") as stdin, open(output, "ab") as out:
        process = sh.Command(str(project.python))(
            *argv,
            _cwd=str(project.directory),
            _env=_environment(username),
            _in=stdin,
            _out=out,
            _err_to_out=True,
            _bg=True,
            _bg_exc=False,
            _new_session=True,
            _ok_code=list(range(256)),
        )
    return int(process.pid)


def _live_project(root: DeployRoot, project_subdir: Path) -> SlotProject:
    project = SlotProject(root, LIVE_LINK, project_subdir)
    if not project.python.exists():
        raise ActionRefused(f"The live slot has no Python at {project.python}; run 'manage.py deploy_check'.")
    return project


def start_detached(
    root: DeployRoot, project_subdir: Path, *, username: str, action: str, args: list[str]
) -> str:
    """Start ``manage.py ARGS --run-id ID`` in the live slot, detached; return the run id."""
    project = _live_project(root, project_subdir)
    run_id = history.new_run_id()
    directory = root.run_log_dir(run_id)
    directory.mkdir(parents=True, exist_ok=True)
    argv = ["manage.py", *args, "--run-id", run_id]
    pid = _spawn(project, argv, username, directory / LAUNCH_LOG_NAME)
    launch = Launch(
        run_id=run_id,
        user=username,
        action=action,
        argv=argv,
        pid=pid,
        at=datetime.now(UTC).isoformat(timespec="seconds"),
    )
    (directory / LAUNCH_RECORD_NAME).write_text(json.dumps(asdict(launch)), encoding="utf-8")
    return run_id


def start_check(root: DeployRoot, project_subdir: Path, *, username: str, link: str) -> None:
    """Start ``manage.py deploy_check --slot LINK`` detached; it keeps its findings for the state page."""
    project = _live_project(root, project_subdir)
    root.logs_dir.mkdir(exist_ok=True)
    _spawn(project, ["manage.py", "deploy_check", "--slot", link], username, root.last_check_log(link))


def run_maintenance(
    root: DeployRoot, project_subdir: Path, *, username: str, args: list[str]
) -> dict[str, Any]:
    """Run ``manage.py maintenance ARGS --format json`` in the live slot and return its document; raise
    ``ActionRefused`` with the command's own error when it fails."""
    project = SlotProject(root, LIVE_LINK, project_subdir)
    result = run_manage(
        project,
        ["maintenance", *args, "--format", "json"],
        env=_environment(username),
        timeout=MAINTENANCE_TIMEOUT,
    )
    try:
        document: dict[str, Any] = json.loads(result.stdout)
    except ValueError:
        raise ActionRefused(
            f"maintenance {' '.join(args[:1])} failed (exit {result.exit_code}): {result.error_output[-500:]}"
        ) from None
    if result.exit_code != ExitCode.OK or document.get("error"):
        raise ActionRefused(str(document.get("error") or f"maintenance exited {result.exit_code}."))
    return document


# What a refused form's audit entry leaves out: the CSRF token and the confirmation flag are not what was asked.
_NOT_AUDITED: Final = frozenset({"csrfmiddlewaretoken", "confirmed", "url"})
AUDITED_VALUE_LIMIT: Final = 200


def posted_fields(data: Any) -> dict[str, str]:
    """What a user posted, for the audit: short strings, without the token and the confirmation."""
    return {
        str(key): str(value)[:AUDITED_VALUE_LIMIT] for key, value in data.items() if key not in _NOT_AUDITED
    }


def audited(
    root: DeployRoot, user: str, action: str, client: str, details: dict[str, str] | None = None
) -> audit.AuditEntry:
    """An audit entry for ``action``, to be completed with its result and recorded."""
    return audit.AuditEntry(
        user=user, action=action, result="started", client=client, details=dict(details or {})
    )
