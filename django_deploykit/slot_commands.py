"""Run a management command in a slot's own interpreter: its code, its migrations, its virtualenv."""

from __future__ import annotations

import json
import os
import shlex
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import sh

from django_deploykit.redact import redact_text
from django_deploykit.slots import DeployRoot, slot_python
from django_deploykit.text import tail

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

    def command_line(self, args: Sequence[str], env: Mapping[str, str] | None = None) -> str:
        """How to run ``manage.py ARGS`` in this slot by hand, for a message that shows only part of its
        output."""
        variables = "".join(f"{name}={shlex.quote(value)} " for name, value in (env or {}).items())
        return f"cd {self.directory} && {variables}{self.python} manage.py {shlex.join(args)}"


@dataclass(frozen=True)
class CommandResult:
    argv: tuple[str, ...]
    exit_code: int
    stdout: str
    stderr: str
    duration: float

    @property
    def error_output(self) -> str:
        """What a failure message quotes: stderr, or stdout when the command wrote nothing to stderr."""
        return self.stderr.strip() or self.stdout.strip()

    def document(self) -> dict[str, Any]:
        """The JSON object a command run with ``--format json`` printed; empty when it printed none.

        It is the end of stdout, from a line that is just "{": a project's settings may print first."""
        start = self.stdout.find("\n{\n") + 1
        try:
            data = json.loads(self.stdout[start:])
        except ValueError:
            return {}
        return data if isinstance(data, dict) else {}


class CommandLog(Protocol):
    """Where a command's run is written as it happens (a stage log)."""

    # Where a message that quotes part of the output points for the whole of it.
    path: Path

    def starting(self, argv: Sequence[str], cwd: Path | None = None) -> None: ...
    def finished(self, exit_code: int, duration: float, stdout: str, stderr: str) -> None: ...


def failure_text(result: CommandResult, log: CommandLog | None = None) -> str:
    """What a failure message quotes of a command: the ``error`` of its JSON document (the whole sentence
    the command raised), else the end of its output, pointing at the log for the rest."""
    error = result.document().get("error")
    if isinstance(error, str) and error:
        return redact_text(error)
    return tail(result.error_output, full=str(log.path) if log is not None else None)


def child_environment(env: Mapping[str, str] | None = None, unset: Sequence[str] = ()) -> dict[str, str]:
    """This process's environment without what would leak its code or virtualenv, plus ``env``."""
    dropped = {*_LEAKING_VARIABLES, *unset}
    child_env = {key: value for key, value in os.environ.items() if key not in dropped}
    child_env.update(env or {})
    return child_env


def run_program(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    log: CommandLog | None = None,
    unset: Sequence[str] = (),
) -> CommandResult:
    """Run ``argv`` (no shell) in ``cwd`` and return what happened; never raises on exit codes."""
    argv = tuple(argv)
    if log is not None:
        log.starting(argv, cwd)
    started = time.monotonic()
    try:
        completed = sh.Command(argv[0])(
            *argv[1:],
            _cwd=str(cwd),
            _env=child_environment(env, unset),
            _ok_code=list(range(256)),
            _timeout=timeout,
            _return_cmd=True,
            # A pipe, not a terminal: no pager, no colour codes in the logs.
            _tty_out=False,
        )
        result = CommandResult(
            argv,
            completed.exit_code,
            completed.stdout.decode(errors="replace"),
            completed.stderr.decode(errors="replace"),
            round(time.monotonic() - started, 3),
        )
    except sh.TimeoutException:
        result = CommandResult(argv, 124, "", f"timed out after {timeout:g} s", time.monotonic() - started)
    except sh.CommandNotFound:
        result = CommandResult(argv, 127, "", f"{argv[0]} does not exist", time.monotonic() - started)
    if log is not None:
        log.finished(result.exit_code, result.duration, result.stdout, result.stderr)
    return result


def run_programs_side_by_side(
    commands: Sequence[tuple[Sequence[str], Path]],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
) -> list[CommandResult]:
    """Run each ``(argv, cwd)`` at the same time and return what happened to each, in order.

    Every child is started from the calling thread, then waited for: forking from several
    threads at once is what filelock 4 (the deploy lock's) refuses, and what CPython warns about.
    """
    started = time.monotonic()
    running: list[tuple[tuple[str, ...], Any]] = []
    results: dict[int, CommandResult] = {}
    for index, (argv, cwd) in enumerate(commands):
        argv = tuple(argv)
        try:
            process = sh.Command(argv[0])(
                *argv[1:],
                _cwd=str(cwd),
                _env=child_environment(env),
                _ok_code=list(range(256)),
                _bg=True,
                _bg_exc=False,
                _tty_out=False,
            )
        except sh.CommandNotFound:
            results[index] = CommandResult(argv, 127, "", f"{argv[0]} does not exist", 0.0)
            continue
        running.append((argv, process))
        results[index] = CommandResult(argv, -1, "", "", 0.0)
    for index, (argv, process) in zip(
        [i for i in range(len(commands)) if results[i].exit_code == -1], running, strict=True
    ):
        remaining = None if timeout is None else max(timeout - (time.monotonic() - started), 1.0)
        try:
            process.wait(timeout=remaining)
            results[index] = CommandResult(
                argv,
                process.exit_code,
                process.stdout.decode(errors="replace"),
                process.stderr.decode(errors="replace"),
                round(time.monotonic() - started, 3),
            )
        except sh.TimeoutException:
            process.kill()
            results[index] = CommandResult(
                argv, 124, "", f"timed out after {timeout:g} s", time.monotonic() - started
            )
    return [results[index] for index in range(len(commands))]


def run_manage(
    project: SlotProject,
    args: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    timeout: float | None = None,
    log: CommandLog | None = None,
    unset: Sequence[str] = (),
) -> CommandResult:
    """Run ``manage.py ARGS`` in ``project``'s slot and return what happened; never raises on exit codes."""
    return run_program(
        (str(project.python), "manage.py", *args),
        cwd=project.directory,
        env=env,
        timeout=timeout,
        log=log,
        unset=unset,
    )
