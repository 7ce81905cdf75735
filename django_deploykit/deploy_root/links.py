"""The ``live`` and ``stage`` links of a deploy root: inspect, exchange atomically, repair.

The exchange uses Linux ``renameat2(RENAME_EXCHANGE)``, which swaps the two links in one
step. Where the filesystem or kernel refuses it, a journalled pair of ``os.replace`` calls
is used instead: each replace is atomic, so ``live`` always points at a valid slot, and the
journal lets ``repair`` finish a pair that a crash left half done.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import errno
import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from django_deploykit.atomic_files import fsync_folder, write_atomically
from django_deploykit.deploy_root.layout import DeployRoot

TEMP_LINK_PREFIX: Final = ".tmp-link-"
_AT_FDCWD: Final = -100
_RENAME_EXCHANGE: Final = 2
# The kernel said "not here" rather than "failed": fall back to the journal.
_UNSUPPORTED_ERRNOS: Final = frozenset({errno.EINVAL, errno.ENOSYS, errno.EOPNOTSUPP, errno.ENOTSUP})

Method = Literal["exchange", "journal"]


class LinkError(Exception):
    """The links are not in a state a swap can start from; the message says why."""


@dataclass(frozen=True)
class LinkState:
    live: str
    stage: str


def read_link_slot(root: DeployRoot, link: Path) -> str:
    """Return the slot ``link`` points at, or raise ``LinkError`` saying what is wrong."""
    if not link.is_symlink():
        if link.exists():
            raise LinkError(_not_a_link(link))
        raise LinkError(f"The {link.name} link is missing from {root.path}; run 'swap_live --repair'.")
    target = Path(os.readlink(link))
    resolved = (link.parent / target).resolve()
    if resolved.parent != root.path.resolve():
        raise LinkError(f"{link.name} points at {target}, outside the deploy root {root.path}.")
    if resolved.name not in root.slot_names:
        raise LinkError(
            f"{link.name} points at {target}, which is not one of the slots {', '.join(root.slot_names)}."
        )
    if not (resolved / ".git").exists():
        raise LinkError(f"{link.name} points at the slot {resolved.name}, which is not a git checkout.")
    return resolved.name


def read_links(root: DeployRoot) -> LinkState:
    """Return the current slots of ``live`` and ``stage``; they must differ."""
    state = LinkState(read_link_slot(root, root.live_link), read_link_slot(root, root.stage_link))
    if state.live == state.stage:
        raise LinkError(
            f"Both live and stage point at {state.live}; run 'swap_live --repair' to point stage at the other slot."
        )
    return state


def exchange(
    root: DeployRoot, *, force_journal: bool = False, step_hook: Callable[[str], None] | None = None
) -> Method:
    """Exchange the targets of ``live`` and ``stage``; return the method used.

    ``step_hook`` is called with the name of each journal step before it runs, so tests can
    kill the process at every point of the journalled path.
    """
    state = read_links(root)
    if not force_journal:
        try:
            _renameat2_exchange(root.live_link, root.stage_link)
        except OSError as exc:
            if exc.errno not in _UNSUPPORTED_ERRNOS:
                raise
        else:
            fsync_folder(root.path)
            return "exchange"
    _journalled_swap(root, LinkState(live=state.stage, stage=state.live), step_hook or (lambda step: None))
    return "journal"


def point_links(root: DeployRoot, wanted: LinkState, step_hook: Callable[[str], None] | None = None) -> None:
    """Make ``live`` and ``stage`` point at ``wanted``, through the journal."""
    _journalled_swap(root, wanted, step_hook or (lambda step: None))


def pending_journal(root: DeployRoot) -> LinkState | None:
    """Return the link state a half-done journalled swap was heading for, if there is one.

    A journal that is not what ``_journalled_swap`` writes (two different slots of the root)
    raises ``LinkError``: following it could point both links at one slot.
    """
    journal = root.swap_journal
    try:
        text = journal.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise LinkError(_bad_journal(journal, f"cannot be read ({exc})")) from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise LinkError(_bad_journal(journal, "is not JSON")) from exc
    if (
        not isinstance(data, dict)
        or not isinstance(data.get("live"), str)
        or not isinstance(data.get("stage"), str)
    ):
        raise LinkError(_bad_journal(journal, "does not name a live and a stage slot"))
    for link in ("live", "stage"):
        if data[link] not in root.slot_names:
            raise LinkError(
                _bad_journal(
                    journal,
                    f"names {data[link]} for {link}, which is not one of the slots {', '.join(root.slot_names)}",
                )
            )
    if data["live"] == data["stage"]:
        raise LinkError(_bad_journal(journal, f"names {data['live']} for both live and stage"))
    return LinkState(data["live"], data["stage"])


def _bad_journal(journal: Path, problem: str) -> str:
    # The journal is written whole (renamed into place), so a bad one is not swap_live's.
    return (
        f"The swap journal {journal} {problem}; swap_live writes two different slots there, so it will not follow "
        "it, and nothing was changed. Check which slot the live server serves ('manage.py swap_live --status' "
        f"shows each slot's revision; the live server's revision endpoint shows which it runs), remove the "
        f"journal by hand (rm {journal}), then run 'manage.py swap_live --repair'."
    )


def _not_a_link(link: Path) -> str:
    kind = "folder" if link.is_dir() else "file"
    return (
        f"{link} is a {kind}, not a symbolic link, so swap_live will not replace it (it may hold something "
        f"that would be lost); nothing was changed. Look at what it holds, move it aside by hand "
        f"(mv {link} {link}.moved-aside), then run 'manage.py swap_live --repair'."
    )


def refuse_what_is_not_a_link(root: DeployRoot) -> None:
    """Raise ``LinkError`` when ``live`` or ``stage`` is a real file or folder: replacing it could lose data."""
    for link in (root.live_link, root.stage_link):
        if os.path.lexists(link) and not link.is_symlink():
            raise LinkError(_not_a_link(link))


def needs_repair(root: DeployRoot) -> str | None:
    """Say why the links need ``repair``, or return ``None`` when they are consistent."""
    if (root.swap_journal).exists():
        try:
            pending_journal(root)
        except LinkError as exc:
            return str(exc)
        return "a swap was interrupted (its journal is still there)"
    try:
        read_links(root)
    except LinkError as exc:
        return str(exc)
    return None


def repair(root: DeployRoot) -> tuple[LinkState, str]:
    """Bring the links back to a consistent pair; return it and what was done.

    An interrupted journalled swap is finished. Otherwise ``live`` is trusted, because it is
    what the public site serves, and ``stage`` is pointed at the other slot. With ``live``
    itself missing or broken, it is pointed at the slot ``stage`` does not use (the first
    slot when neither link is usable). A real file or folder in place of a link, or a journal
    that is not a valid pair, raises ``LinkError`` before anything is changed.
    """
    refuse_what_is_not_a_link(root)
    wanted = pending_journal(root)
    for leftover in root.path.glob(TEMP_LINK_PREFIX + "*"):
        leftover.unlink(missing_ok=True)
    if wanted is not None:
        _journalled_swap(root, wanted, lambda step: None)
        return wanted, f"finished the interrupted swap: live -> {wanted.live}, stage -> {wanted.stage}"
    (root.swap_journal).unlink(missing_ok=True)
    live = _usable_slot(root, root.live_link)
    stage = _usable_slot(root, root.stage_link)
    if live is None:
        live = root.other_slot(stage) if stage is not None else root.slot_names[0]
    wanted = LinkState(live=live, stage=root.other_slot(live))
    if (live, stage) == (wanted.live, wanted.stage):
        return wanted, "nothing to repair"
    _journalled_swap(root, wanted, lambda step: None)
    return wanted, f"pointed live -> {wanted.live} and stage -> {wanted.stage}"


def _usable_slot(root: DeployRoot, link: Path) -> str | None:
    try:
        return read_link_slot(root, link)
    except LinkError:
        return None


def _journalled_swap(root: DeployRoot, wanted: LinkState, step_hook: Callable[[str], None]) -> None:
    journal = root.swap_journal
    step_hook("write-journal")
    write_atomically(journal, json.dumps({"live": wanted.live, "stage": wanted.stage}))
    step_hook("replace-live")
    _replace_link(root, root.live_link, wanted.live)
    step_hook("replace-stage")
    _replace_link(root, root.stage_link, wanted.stage)
    step_hook("remove-journal")
    journal.unlink()
    fsync_folder(root.path)


def _replace_link(root: DeployRoot, link: Path, slot: str) -> None:
    # The new link is made beside the old one and renamed over it: rename() replaces the
    # name atomically, where "ln -sfn" may unlink first and leave a moment with no link.
    temporary = root.path / f"{TEMP_LINK_PREFIX}{secrets.token_hex(6)}"
    os.symlink(slot, temporary)
    os.replace(temporary, link)
    fsync_folder(root.path)


_libc: ctypes.CDLL | None = None


def _renameat2_exchange(first: Path, second: Path) -> None:
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    renameat2 = getattr(_libc, "renameat2", None)
    if renameat2 is None:  # a C library older than glibc 2.28
        raise OSError(errno.ENOSYS, "renameat2 is not available")
    result = renameat2(_AT_FDCWD, os.fsencode(first), _AT_FDCWD, os.fsencode(second), _RENAME_EXCHANGE)
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(first), None, str(second))
