"""The queued console's runner: ``manage.py console_runner`` runs what the console asked for, as the deploy user.

With ``DEPLOYKIT_CONSOLE_RUNNER = "queue"`` the console starts nothing itself: it leaves a request in
``shared/console/queue/``. Under systemd the app servers restart through ``systemctl``, which the web user
may not run and which would stop every process the web worker started; the runner is a service of its own
(server_config renders a path unit that starts it whenever a request is waiting), run as the user deploys
run as. A request is written by the web user, so nothing in it is taken on trust: its fields are checked
again by the console's own forms, the user must still hold the push right, and only the commands those
forms make can run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db import DatabaseError

from django_deploykit.console import access, audit
from django_deploykit.console.actions import ActionRefused, Request, launch_command, live_project
from django_deploykit.console.forms import COMMAND_FORMS, RECORDED
from django_deploykit.deploy_root import progress
from django_deploykit.deploy_root.layout import LAUNCH_LOG_NAME, DeployRoot

Report = Callable[[str], None]
TAKEN_SUFFIX = ".taken"


@dataclass
class Handled:
    name: str
    action: str
    user: str
    # "ran" (the command ran; its own record says how it went) or "refused".
    result: str
    message: str = ""
    exit_code: int | None = None


def waiting(root: DeployRoot) -> list[Path]:
    """The requests in the queue, oldest first (their names start with their UTC time)."""
    folder = root.console_queue_dir
    return sorted(folder.glob("*.json")) if folder.is_dir() else []


def _take(path: Path) -> Path | None:
    """Claim a request: the rename succeeds for one runner only."""
    taken = path.with_name(path.name + TAKEN_SUFFIX)
    try:
        path.rename(taken)
    except FileNotFoundError:
        return None
    return taken


def _read(path: Path) -> Request:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    request = Request(**data)
    if not isinstance(request.fields, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in request.fields.items()
    ):
        raise ValueError("its fields are not text")
    if request.run_id is not None and not progress.is_run_id(request.run_id):
        raise ValueError("its run id is not one")
    return request


def _may_push(username: str) -> bool:
    try:
        user = access.user_named(username)
        return user is not None and access.has_right(user, "push")
    except DatabaseError:
        return False


def run_queue(root: DeployRoot, project_subdir: Path, report: Report) -> list[Handled]:
    """Run every waiting request, one after the other, each to its end."""
    handled: list[Handled] = []
    while True:
        paths = waiting(root)
        if not paths:
            return handled
        taken = _take(paths[0])
        if taken is not None:
            handled.append(_handle(root, project_subdir, taken, report))
            taken.unlink(missing_ok=True)


def _handle(root: DeployRoot, project_subdir: Path, taken: Path, report: Report) -> Handled:
    name = taken.name.removesuffix(TAKEN_SUFFIX).removesuffix(".json")
    try:
        request = _read(taken)
    except (OSError, ValueError, TypeError) as exc:
        report(f"{name}: refused, not a request the console writes ({exc})")
        return Handled(name, "?", "?", "refused", f"not a request the console writes ({exc})")
    form_class = COMMAND_FORMS.get(request.action)
    form = form_class(request.fields) if form_class is not None else None
    problem = ""
    if form is None:
        problem = f"{request.action!r} is not an action the console queues"
    elif (request.run_id is None) == (request.action in RECORDED):
        problem = "its run id does not fit its action"
    elif not form.is_valid():
        problem = "; ".join(form.error_sentences())
    elif not _may_push(request.user):
        problem = f"{request.user} does not hold the console's push right (any more)"
    entry = audit.AuditEntry(
        user=request.user,
        action=request.action,
        result="started",
        client="runner",
        run_id=request.run_id,
        details=dict(request.fields),
    )
    if problem or form is None:
        _say_in_launch_log(root, request, f"The runner refused this request: {problem}.")
        entry.result, entry.message = "refused", f"runner: {problem}"
        audit.record(root, entry)
        report(f"{name}: refused: {problem}")
        return Handled(name, request.action, request.user, "refused", problem)
    report(f"{name}: {request.action} for {request.user}: manage.py {' '.join(form.command_args())}")
    try:
        process = launch_command(
            root,
            live_project(root, project_subdir),
            run_id=request.run_id,
            username=request.user,
            action=request.action,
            args=form.command_args(),
        )
    except (ActionRefused, OSError) as exc:
        problem = f"the command could not be started: {exc}"
        _say_in_launch_log(root, request, f"The runner could not start the command: {exc}.")
        entry.result, entry.message = "failed", f"runner: {problem}"
        audit.record(root, entry)
        report(f"{name}: {problem}")
        return Handled(name, request.action, request.user, "refused", problem)
    # The command runs to its end inside this service: a oneshot service's leftovers are stopped with it.
    process.wait()
    exit_code = int(process.exit_code)
    entry.result = "done"
    entry.message = f"runner: exit {exit_code}"
    audit.record(root, entry)
    report(f"{name}: exit {exit_code}")
    return Handled(name, request.action, request.user, "ran", exit_code=exit_code)


def _say_in_launch_log(root: DeployRoot, request: Request, text: str) -> None:
    if request.run_id is None:
        return
    directory = root.run_log_dir(request.run_id)
    directory.mkdir(parents=True, exist_ok=True)
    # Its page shows the run stopped before it began (the request is no longer queued), with this line.
    with open(directory / LAUNCH_LOG_NAME, "a", encoding="utf-8") as handle:
        handle.write(text + "\n")
