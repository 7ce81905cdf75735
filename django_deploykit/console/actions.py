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
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import sh

from django_deploykit.atomic_files import READABLE_BY_SERVERS, write_atomically
from django_deploykit.conf import conf
from django_deploykit.console import audit
from django_deploykit.console.forms import RECORDED, ActionForm
from django_deploykit.console.runs import LAUNCH_RECORD_NAME, Launch
from django_deploykit.deploy_root import history, lock
from django_deploykit.deploy_root.layout import LAUNCH_LOG_NAME, LIVE_LINK, DeployRoot
from django_deploykit.deploy_root.slot_commands import SlotProject, child_environment, run_manage
from django_deploykit.exit_codes import ExitCode
from django_deploykit.settings.dispatcher import variables_from_env_file

# DEPLOYKIT_CONSOLE_RUNNER's values.
DETACHED: Final = "detached"
QUEUE: Final = "queue"
RUNNERS: Final = (DETACHED, QUEUE)
# How long the request waits for a maintenance command.
MAINTENANCE_TIMEOUT: Final = 60.0


class ActionRefused(Exception):
    """The action cannot start now; the message says why and what to do."""


class LockHeld(ActionRefused):
    """Another run holds the deploy lock; the message names it."""


def refuse_if_locked(root: DeployRoot) -> None:
    """Refuse while a run holds the deploy lock, naming it. From the lock's side file, without taking the lock
    even for an instant: a deploy starting at that instant must not be refused because of a page, and with the
    queued runner the lock file is the deploy user's, which the web server's user may not open for writing."""
    holder = lock.holder_if_running(root)
    if holder is not None:
        raise LockHeld(
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


def _spawn(project: SlotProject, argv: list[str], username: str, output: Path) -> Any:
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
    return process


def live_project(root: DeployRoot, project_subdir: Path) -> SlotProject:
    project = SlotProject(root, LIVE_LINK, project_subdir)
    if not project.python.exists():
        raise ActionRefused(f"The live slot has no Python at {project.python}; run 'manage.py deploy_check'.")
    return project


def start(
    root: DeployRoot, project_subdir: Path, *, username: str, action: str, form: ActionForm
) -> str | None:
    """Start the command of ``form`` (valid) as DEPLOYKIT_CONSOLE_RUNNER says; the run id of a recorded run."""
    run_id = history.new_run_id() if action in RECORDED else None
    if conf.CONSOLE_RUNNER == QUEUE:
        queue_request(root, Request(run_id, username, action, form.cleaned_fields(), _now()))
        return run_id
    project = live_project(root, project_subdir)
    launch_command(root, project, run_id=run_id, username=username, action=action, args=form.command_args())
    return run_id


def launch_command(
    root: DeployRoot, project: SlotProject, *, run_id: str | None, username: str, action: str, args: list[str]
) -> Any:
    """Start ``manage.py ARGS`` (with ``--run-id`` for a recorded run) and say so in the run's launch files;
    the process, for a caller that waits for it (the runner)."""
    if run_id is None:
        root.logs_dir.mkdir(exist_ok=True)
        link = args[args.index("--slot") + 1] if "--slot" in args else "live"
        return _spawn(project, ["manage.py", *args], username, root.last_check_log(link))
    directory = root.run_log_dir(run_id)
    directory.mkdir(parents=True, exist_ok=True)
    argv = ["manage.py", *args, "--run-id", run_id]
    process = _spawn(project, argv, username, directory / LAUNCH_LOG_NAME)
    write_launch(root, Launch(run_id, username, action, argv, int(process.pid), _now()))
    return process


def write_launch(root: DeployRoot, launch: Launch) -> None:
    directory = root.run_log_dir(launch.run_id)
    directory.mkdir(parents=True, exist_ok=True)
    write_atomically(directory / LAUNCH_RECORD_NAME, json.dumps(asdict(launch)), mode=READABLE_BY_SERVERS)


@dataclass(frozen=True)
class Request:
    """What a queued console asks the runner to do: the action and the form's fields, checked again there."""

    run_id: str | None
    user: str
    action: str
    fields: dict[str, str]
    at: str


def queue_request(root: DeployRoot, request: Request) -> None:
    root.console_queue_dir.mkdir(parents=True, exist_ok=True)
    name = request.run_id or f"{history.new_run_id()}-{request.action}"
    if request.run_id is not None:
        write_launch(root, Launch(request.run_id, request.user, request.action, [], 0, request.at))
    write_atomically(
        root.console_queue_dir / f"{name}.json", json.dumps(asdict(request)), mode=READABLE_BY_SERVERS
    )


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


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
