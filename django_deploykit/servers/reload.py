"""Reload adapters: make a server run the code and virtualenv its link now points at.

A reload is only useful if the new process resolves the ``live`` (or ``stage``) link again:

* ``gunicorn`` sends USR2, so the master re-executes itself (``sys.executable`` and its
  arguments as started) and the new master inherits the listening socket; once it runs,
  TERM ends the old master gracefully. Start gunicorn as
  ``<root>/live/.venv/bin/python -m gunicorn --chdir <root>/live/<project> ...`` so that
  both the interpreter path and ``--chdir`` go through the link: the re-executed master
  then gets the new slot's virtualenv and code. (A plain HUP keeps the master's
  interpreter and ``sys.path``, so it would serve new code on the old virtualenv.)
* ``touch`` touches a file: uWSGI ``touch-reload`` / ``touch-chain-reload`` or mod_wsgi's
  WSGI script. uWSGI must run with ``lazy-apps`` and ``hook-post-fork = chdir:<link>`` so
  each new worker enters the link again.
* ``uwsgi-fifo`` writes a command letter (``c`` chain reload, ``r`` graceful reload) to the
  uWSGI master FIFO, with the same uWSGI settings as ``touch``.
* ``systemctl`` runs ``systemctl reload|restart UNIT``.
* ``command`` runs an argument list.

Which one serves which link is the ``DEPLOYKIT_RELOAD`` setting; the swap then verifies
through the revision endpoint that the reload really took.
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import sh

from django_deploykit.processes import process_alive


class ReloadError(Exception):
    pass


class Reloader(Protocol):
    def describe(self) -> str: ...

    def reload(self) -> None: ...


@dataclass(frozen=True)
class TouchReloader:
    path: Path

    def describe(self) -> str:
        return f"touch {self.path}"

    def reload(self) -> None:
        try:
            self.path.touch()
            os.utime(self.path)
        except OSError as exc:
            raise ReloadError(f"Could not touch {self.path}: {exc.strerror}.") from exc


@dataclass(frozen=True)
class UwsgiFifoReloader:
    fifo: Path
    command: str = "c"

    def describe(self) -> str:
        return f"write {self.command!r} to the uWSGI master FIFO {self.fifo}"

    def reload(self) -> None:
        try:
            # O_NONBLOCK: fail at once when no uWSGI master reads the FIFO, instead of hanging.
            descriptor = os.open(self.fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as exc:
            raise ReloadError(f"Could not open the uWSGI master FIFO {self.fifo}: {exc.strerror}.") from exc
        try:
            os.write(descriptor, self.command.encode())
        finally:
            os.close(descriptor)


@dataclass(frozen=True)
class GunicornReloader:
    pidfile: Path
    timeout: float = 30.0

    def describe(self) -> str:
        return f"re-execute the gunicorn master of {self.pidfile} (USR2, then TERM to the old master)"

    def reload(self) -> None:
        old_pid = _read_pid(self.pidfile)
        new_pidfile = self.pidfile.with_name(self.pidfile.name + ".2")
        deadline = time.monotonic() + self.timeout
        # A master re-executed by the previous reload ignores USR2 ("Parent exists") until it
        # has noticed that its old master is gone; until then its pid is in the ".2" file.
        _wait_until_promoted(old_pid, new_pidfile, deadline)
        _signal(old_pid, signal.SIGUSR2, self.pidfile)
        new_pid = None
        resend_at = time.monotonic() + _USR2_RESEND_INTERVAL
        while time.monotonic() < deadline:
            new_pid = _try_read_pid(new_pidfile)
            if new_pid == old_pid:
                new_pid = None  # the old master's own, from before its promotion
            if new_pid and _has_children(new_pid):
                break
            if new_pid is None and time.monotonic() >= resend_at:
                # No new master yet: a USR2 that arrived while gunicorn could not act on it is
                # lost, and one more is ignored while a new master is starting.
                _signal(old_pid, signal.SIGUSR2, self.pidfile)
                resend_at = time.monotonic() + _USR2_RESEND_INTERVAL
            time.sleep(0.05)
        else:
            if not process_alive(old_pid):
                raise ReloadError(
                    f"gunicorn did not start a new master within {self.timeout:g} s after USR2 (no workers "
                    f"behind {new_pidfile}), and the old master {old_pid} is not running either: nothing "
                    "serves from this pid file."
                )
            raise ReloadError(
                f"gunicorn did not start a new master within {self.timeout:g} s after USR2 "
                f"(no workers behind {new_pidfile}); the old master {old_pid} keeps serving."
            )
        # The new workers share the listening socket; requests that arrive while they boot
        # wait in its backlog. TERM lets the old workers finish what they are serving.
        _signal(old_pid, signal.SIGTERM, self.pidfile)
        while time.monotonic() < deadline:
            if not process_alive(old_pid):
                break
            time.sleep(0.05)
        else:
            raise ReloadError(f"The old gunicorn master {old_pid} did not stop within {self.timeout:g} s.")
        # The new master renames its pidfile only once it has noticed that the old master is
        # gone; the next reload must find the new pid at once.
        if _try_read_pid(self.pidfile) != new_pid:
            temporary = self.pidfile.with_name(self.pidfile.name + ".deploykit")
            temporary.write_text(f"{new_pid}\n")
            os.replace(temporary, self.pidfile)


_USR2_RESEND_INTERVAL = 2.0


def _wait_until_promoted(pid: int, new_pidfile: Path, deadline: float) -> None:
    while _try_read_pid(new_pidfile) == pid and process_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)


@dataclass(frozen=True)
class GunicornHupReloader:
    pidfile: Path

    def describe(self) -> str:
        return f"HUP the gunicorn master of {self.pidfile} (new code, but the master's virtualenv)"

    def reload(self) -> None:
        _signal(_read_pid(self.pidfile), signal.SIGHUP, self.pidfile)


@dataclass(frozen=True)
class SystemctlReloader:
    unit: str
    action: str = "reload"

    def describe(self) -> str:
        return f"systemctl {self.action} {self.unit}"

    def reload(self) -> None:
        try:
            sh.systemctl(self.action, self.unit)
        except (sh.ErrorReturnCode, sh.CommandNotFound) as exc:
            raise ReloadError(f"systemctl {self.action} {self.unit} failed: {exc}") from exc


@dataclass(frozen=True)
class CommandReloader:
    argv: tuple[str, ...]

    def describe(self) -> str:
        return "run " + " ".join(self.argv)

    def reload(self) -> None:
        try:
            sh.Command(self.argv[0])(*self.argv[1:])
        except (sh.ErrorReturnCode, sh.CommandNotFound) as exc:
            raise ReloadError(f"The reload command {self.argv[0]} failed: {exc}") from exc


ADAPTERS = ("touch", "uwsgi-fifo", "gunicorn", "gunicorn-hup", "systemctl", "command")


def build_reloader(config: Mapping[str, Any], root: Path) -> Reloader:
    """Build the adapter described by one entry of ``DEPLOYKIT_RELOAD``; paths are relative to ``root``."""
    adapter = config.get("adapter")

    def path(key: str) -> Path:
        if not config.get(key):
            raise ReloadError(f"The {adapter} reload adapter needs {key!r}.")
        return root / str(config[key])

    if adapter == "touch":
        return TouchReloader(path("path"))
    if adapter == "uwsgi-fifo":
        return UwsgiFifoReloader(path("fifo"), str(config.get("command", "c")))
    if adapter == "gunicorn":
        return GunicornReloader(path("pidfile"), float(config.get("timeout", 30)))
    if adapter == "gunicorn-hup":
        return GunicornHupReloader(path("pidfile"))
    if adapter == "systemctl":
        if not config.get("unit"):
            raise ReloadError("The systemctl reload adapter needs 'unit'.")
        action = str(config.get("action", "reload"))
        if action not in ("reload", "restart", "reload-or-restart", "try-restart"):
            raise ReloadError(
                f"The systemctl action {action!r} is not one of reload, restart, reload-or-restart."
            )
        return SystemctlReloader(str(config["unit"]), action)
    if adapter == "command":
        argv = config.get("argv")
        if not isinstance(argv, list | tuple) or not argv or not all(isinstance(a, str) for a in argv):
            raise ReloadError("The command reload adapter needs 'argv', a non-empty list of strings.")
        return CommandReloader(tuple(argv))
    raise ReloadError(f"Unknown reload adapter {adapter!r}; use one of {', '.join(ADAPTERS)}.")


def _read_pid(pidfile: Path) -> int:
    pid = _try_read_pid(pidfile)
    if pid is None:
        raise ReloadError(f"No server pid in {pidfile}; is the server running?")
    if not process_alive(pid):
        raise ReloadError(f"The server pid {pid} from {pidfile} is not running.")
    return pid


def _try_read_pid(pidfile: Path) -> int | None:
    try:
        return int(pidfile.read_text().strip())
    except (OSError, ValueError):
        return None


def _has_children(pid: int) -> bool:
    try:
        return any(
            Path(f"/proc/{pid}/task/{task}/children").read_text().strip()
            for task in os.listdir(f"/proc/{pid}/task")
        )
    except OSError:
        return False


def _signal(pid: int, signum: signal.Signals, pidfile: Path) -> None:
    try:
        os.kill(pid, signum)
    except OSError as exc:
        raise ReloadError(f"Could not send {signum.name} to {pid} (from {pidfile}): {exc.strerror}.") from exc
