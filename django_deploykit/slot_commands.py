"""Run a management command in a slot's own interpreter: its code, its migrations, its virtualenv."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import sh

from django_deploykit.deploykit_init import slot_python
from django_deploykit.slots import DeployRoot

# Variables that would make the child use this process's code or virtualenv instead of its own.
_LEAKING_VARIABLES = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PWD")


@dataclass(frozen=True)
class SlotProject:
    root: DeployRoot
    slot: str
    subdir: Path

    @property
    def slot_dir(self) -> Path:
        return self.root.path / self.slot

    @property
    def directory(self) -> Path:
        return self.slot_dir / self.subdir

    @property
    def python(self) -> Path:
        return slot_python(self.slot_dir)


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str
    duration: float


def run_manage(
    project: SlotProject,
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> CommandResult:
    """Run ``manage.py ARGS`` in ``project``'s slot and return what happened; never raises on exit codes."""
    argv = (str(project.python), "manage.py", *args)
    child_env = {key: value for key, value in os.environ.items() if key not in _LEAKING_VARIABLES}
    child_env.update(env or {})
    started = time.monotonic()
    try:
        completed = sh.Command(argv[0])(
            *argv[1:],
            _cwd=str(project.directory),
            _env=child_env,
            _ok_code=list(range(256)),
            _timeout=timeout,
            _return_cmd=True,
        )
    except sh.TimeoutException:
        return CommandResult(argv, 124, "", f"timed out after {timeout:g} s", time.monotonic() - started)
    except sh.CommandNotFound:
        return CommandResult(argv, 127, "", f"{argv[0]} does not exist", time.monotonic() - started)
    return CommandResult(
        argv,
        completed.exit_code,
        completed.stdout.decode(errors="replace"),
        completed.stderr.decode(errors="replace"),
        round(time.monotonic() - started, 3),
    )
