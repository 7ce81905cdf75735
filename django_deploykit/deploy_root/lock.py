"""The deploy lock: one deploy, pull or swap at a time in a deploy root.

It is a ``flock`` on a file in the deploy root (through filelock), so the kernel releases it
when the holder dies, even by ``kill -9``: there is no stale lock to clean up by hand. Who
holds it (pid, user, command, start time) is written to a side file for ``swap_live
--status`` and for the refusal message of a second caller.

A process that holds the lock passes it to the commands it starts by setting
``DEPLOYKIT_LOCK_TOKEN`` in their environment; a child whose token matches the side file
runs under its parent's lock instead of waiting for it.
"""

from __future__ import annotations

import getpass
import json
import os
import secrets
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from filelock import FileLock, Timeout

from django_deploykit.atomic_files import write_atomically
from django_deploykit.deploy_root.layout import DeployRoot
from django_deploykit.processes import process_alive

TOKEN_VARIABLE: Final = "DEPLOYKIT_LOCK_TOKEN"  # noqa: S105 (a variable name)
# Set by the deploy console for the commands it starts: the signed-in user who asked, recorded as "who"
# (the process runs as the app servers' user), the way sudo's SUDO_USER is.
REQUESTED_BY_VARIABLE: Final = "DEPLOYKIT_REQUESTED_BY"


@dataclass(frozen=True)
class LockHolder:
    pid: int
    user: str
    command: str
    started_at: str
    token: str

    def describe(self) -> str:
        return f"pid {self.pid} ({self.user}, since {self.started_at}): {self.command}"


class DeployLockBusy(Exception):
    def __init__(self, root: DeployRoot, holder: LockHolder | None, waited: float) -> None:
        self.holder = holder
        who = holder.describe() if holder else "another process"
        waited_text = f" after waiting {waited:g} s" if waited else ""
        super().__init__(f"Another deploy holds the lock on {root.path}{waited_text}: {who}.")


def current_user() -> str:
    sudo_user = os.environ.get("SUDO_USER")
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = str(os.getuid())
    requested_by = os.environ.get(REQUESTED_BY_VARIABLE)
    if requested_by:
        return f"{requested_by} (console, as {user})"
    return f"{sudo_user} (as {user})" if sudo_user and sudo_user != user else user


def read_holder(root: DeployRoot) -> LockHolder | None:
    """Return who holds the lock, or ``None`` when nobody does."""
    lock = FileLock(str(root.lock_file))
    try:
        lock.acquire(timeout=0)
    except Timeout:
        return _read_side_file(root)
    lock.release()
    return None


def _read_side_file(root: DeployRoot) -> LockHolder | None:
    try:
        data: dict[str, Any] = json.loads(root.lock_holder_file.read_text(encoding="utf-8"))
        return LockHolder(**data)
    except (OSError, ValueError, TypeError):
        return None


def held_by_parent(root: DeployRoot) -> bool:
    """Whether this process runs under a lock that one of its ancestors holds and passed on.

    The token alone is not enough: a child left running after its parent died must not go on
    "under" a lock that is free, or was since taken by another deploy.
    """
    token = os.environ.get(TOKEN_VARIABLE)
    if not token:
        return False
    holder = read_holder(root)
    return holder is not None and secrets.compare_digest(holder.token, token) and _is_ancestor(holder.pid)


def _is_ancestor(pid: int) -> bool:
    """Whether ``pid`` is this process's parent, grandparent, … (Linux's /proc; elsewhere the parent only)."""
    current = os.getpid()
    for _ in range(64):
        parent = _parent_of(current)
        if parent is None:
            return os.getppid() == pid
        if parent == pid:
            return True
        if parent <= 1:
            return False
        current = parent
    return False


def _parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    # The command name in parentheses may hold spaces and parentheses: the fields follow the last ")".
    return int(stat.rsplit(")", 1)[1].split()[1])


@contextmanager
def deploy_lock(
    root: DeployRoot, *, wait: float = 0, command: str | None = None
) -> Iterator[LockHolder | None]:
    """Hold the deploy lock for the ``with`` block, waiting up to ``wait`` seconds for it.

    Yields the holder record written for this process, or ``None`` when running under the
    parent's lock. Raises ``DeployLockBusy`` naming the holder when it cannot be had.
    """
    if held_by_parent(root):
        yield None
        return
    lock = FileLock(str(root.lock_file))
    started = time.monotonic()
    try:
        lock.acquire(timeout=wait)
    except Timeout:
        raise DeployLockBusy(root, _read_side_file(root), round(time.monotonic() - started, 1)) from None
    try:
        holder = LockHolder(
            pid=os.getpid(),
            user=current_user(),
            command=command or " ".join(sys.argv),
            started_at=datetime.now(UTC).isoformat(timespec="seconds"),
            token=secrets.token_hex(16),
        )
        write_atomically(root.lock_holder_file, json.dumps(asdict(holder)))
        yield holder
    finally:
        root.lock_holder_file.unlink(missing_ok=True)
        lock.release()


def child_environment(holder: LockHolder | None) -> dict[str, str]:
    """The environment additions that let a child process run under this lock."""
    if holder is None:
        token = os.environ.get(TOKEN_VARIABLE)
        return {TOKEN_VARIABLE: token} if token else {}
    return {TOKEN_VARIABLE: holder.token}


def holder_if_running(root: DeployRoot) -> LockHolder | None:
    """Who holds the lock, from its side file alone: for pages that look often, which must never take the
    lock even for an instant (``read_holder`` does, and a deploy starting at that instant would be refused).
    A side file left by a killed holder names a process that is gone: nobody holds the lock then."""
    holder = _read_side_file(root)
    return holder if holder is not None and process_alive(holder.pid) else None
