"""Run a management command in a slot's own interpreter: its code, its migrations, its virtualenv."""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import shlex
import signal
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

import sh

from django_deploykit.deploy_root.layout import DeployRoot, slot_python
from django_deploykit.interrupts import Interrupted, deferred
from django_deploykit.redact import redact_text
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


def production_env(variable: str) -> dict[str, str]:
    """What a command in a slot needs to run with the production settings: the settings dispatcher's
    variable (``DEPLOYKIT_SETTINGS["variable"]``, ``PRODUCTION`` by default), present."""
    # Only the variable's presence counts; an empty value leaves any other meaning aside.
    return {variable: ""}


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
    """Run ``argv`` (no shell) in ``cwd`` and return what happened; never raises on exit codes.

    If this process is interrupted while it waits (``interrupts.Interrupted``), the child and
    everything it started are stopped before the exception goes on: no child outlives its caller.
    """
    argv = tuple(argv)
    if log is not None:
        log.starting(argv, cwd)
    started = time.monotonic()
    process = _start(argv, cwd, child_environment(env, unset), timeout)
    result = _wait(argv, process, started, timeout)
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
    processes = [
        (tuple(argv), _start(tuple(argv), cwd, child_environment(env), timeout)) for argv, cwd in commands
    ]
    results = []
    try:
        for argv, process in processes:
            results.append(_wait(argv, process, started, timeout))
    except BaseException:
        for _, process in processes:
            _stop(process)
        raise
    return results


# How long a stopped child gets to end on SIGTERM before it is killed.
STOP_GRACE: Final = 10.0
_PR_SET_PDEATHSIG: Final = 1


def _start(argv: tuple[str, ...], cwd: Path, env: dict[str, str], timeout: float | None) -> Any:
    """Start ``argv`` in a process group of its own (so it can be stopped with all it started) that
    the kernel sends SIGTERM when this process dies, even by SIGKILL; the process, or ``None`` if
    the program does not exist."""
    process = None
    try:
        with deferred():
            process = sh.Command(argv[0])(
                *argv[1:],
                _cwd=str(cwd),
                _env=env,
                _ok_code=list(range(256)),
                _timeout=timeout,
                _bg=True,
                _bg_exc=False,
                _new_group=True,
                _preexec_fn=_die_with_parent(os.getpid()),
                # A pipe, not a terminal: no pager, no colour codes in the logs.
                _tty_out=False,
            )
    except sh.CommandNotFound:
        return None
    except Interrupted:
        # The signal came while the child was being started: it is stopped before the signal goes on.
        _stop(process)
        raise
    return process


def _wait(argv: tuple[str, ...], process: Any, started: float, timeout: float | None) -> CommandResult:
    if process is None:
        return CommandResult(argv, 127, "", f"{argv[0]} does not exist", 0.0)
    try:
        # No timeout here: sh's wait with one polls and may return before the output is all read;
        # the timeout was given at the start, where sh enforces it by killing the child.
        process.wait()
    except sh.TimeoutException:
        _stop(process)  # what the child started, in its group
        return CommandResult(
            argv, 124, "", f"timed out after {timeout:g} s", round(time.monotonic() - started, 3)
        )
    except BaseException:
        # Interrupted (or any other way out): the child must not outlive this wait.
        _stop(process)
        raise
    return CommandResult(
        argv,
        process.exit_code,
        process.stdout.decode(errors="replace"),
        process.stderr.decode(errors="replace"),
        round(time.monotonic() - started, 3),
    )


def _stop(process: Any) -> None:
    """Stop a child's process group: SIGTERM, then SIGKILL after ``STOP_GRACE``; reap the child."""
    if process is None:
        return
    for signum in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signum)
        try:
            process.wait(timeout=STOP_GRACE)
            return
        except sh.TimeoutException:
            continue
        except BaseException:  # noqa: S112 (a second signal while stopping: go on to SIGKILL)
            continue


def _die_with_parent(parent: int) -> Callable[[], None]:
    """A ``preexec_fn`` asking the kernel for SIGTERM when the parent dies (Linux); elsewhere a no-op.

    The deploy lock is the parent's: a stage child left running after its parent's SIGKILL would
    go on beside the next deploy. The race where the parent died before the call is closed by
    checking the parent afterwards."""
    prctl = _LIBC.prctl if _LIBC is not None and hasattr(_LIBC, "prctl") else None

    def preexec() -> None:
        if prctl is None:
            return
        prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:
            os._exit(143)

    return preexec


def _load_libc() -> Any:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


# Loaded once, before any fork: a forked child should not load libraries.
_LIBC: Final = _load_libc()


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
