"""The rendered files on disk: write them into the deploy root's servers/ folder, compare what is installed.

Writing is all or nothing: every file is written to a temporary name first and renamed into place only
when all of them were written, and a file whose content is already right is left alone (its mtime too:
touching a mod_wsgi script would restart Apache's daemon processes).
"""

from __future__ import annotations

import difflib
import errno
import grp
import os
import pwd
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from django_deploykit.server_config.plan import ServerPlan
from django_deploykit.server_config.render import RenderedFile

Change = Literal["created", "updated", "unchanged"]
DriftKind = Literal["missing", "differs", "not-a-file", "unreadable"]


@dataclass(frozen=True)
class Access:
    """Who owns a path and its mode: enough to tell whether the servers' user can read or write it."""

    path: Path
    owner: str
    group: str
    mode: int


def access_of(path: Path) -> Access | None:
    try:
        info = path.stat()
    except OSError:
        return None
    return Access(path, _user_name(info.st_uid), _group_name(info.st_gid), info.st_mode & 0o777)


def servers_access(plan: ServerPlan) -> tuple[Access | None, Access | None, frozenset[str] | None]:
    """What ``advice.access_warnings`` judges: the shared .env file, the shared folder, the user's groups."""
    return access_of(plan.root.env_file), access_of(plan.root.shared_dir), groups_of(plan.user)


def groups_of(user: str) -> frozenset[str] | None:
    """The groups ``user`` is in (its primary group too); ``None`` when no such user exists here."""
    try:
        primary = pwd.getpwnam(user).pw_gid
    except KeyError:
        return None
    return frozenset(
        {_group_name(primary), *(group.gr_name for group in grp.getgrall() if user in group.gr_mem)}
    )


def _user_name(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _group_name(gid: int) -> str:
    try:
        return grp.getgrgid(gid).gr_name
    except KeyError:
        return str(gid)


@dataclass(frozen=True)
class Written:
    file: RenderedFile
    path: Path
    change: Change


@dataclass(frozen=True)
class Drift:
    name: str
    path: Path
    kind: DriftKind
    diff: str = ""

    def sentence(self) -> str:
        if self.kind == "missing":
            return f"{self.path} is missing"
        if self.kind == "not-a-file":
            return f"{self.path} is not a file"
        if self.kind == "unreadable":
            return f"{self.path} cannot be read"
        return f"{self.path} differs from what the settings render"


def planned_changes(files: Iterable[RenderedFile], directory: Path) -> list[Written]:
    """What writing ``files`` into ``directory`` would change, without writing anything."""
    return [
        Written(file, directory / file.name, _change(directory / file.name, file.content)) for file in files
    ]


def write(files: Iterable[RenderedFile], directory: Path) -> list[Written]:
    changes = planned_changes(files, directory)
    for written in changes:
        if written.change != "unchanged" and (written.path.is_dir() or written.path.is_symlink()):
            # os.replace could not put a file there (or would replace a link someone made): refuse it all.
            raise IsADirectoryError(errno.EISDIR, "not a regular file", str(written.path))
    directory.mkdir(mode=0o755, parents=True, exist_ok=True)
    temporaries: list[tuple[Path, Path]] = []
    try:
        for written in changes:
            if written.change == "unchanged":
                continue
            temporary = written.path.with_name(f".{written.path.name}.deploykit-new")
            temporary.write_text(written.file.content, encoding="utf-8")
            # Readable by the web server and the service manager; the files hold no secret.
            temporary.chmod(0o644)
            temporaries.append((temporary, written.path))
    except OSError:
        for temporary, _ in temporaries:
            temporary.unlink(missing_ok=True)
        raise
    for temporary, target in temporaries:
        os.replace(temporary, target)
    return changes


def drift(files: Iterable[RenderedFile], directory: Path, installed: Mapping[str, Path]) -> list[Drift]:
    """Each rendered file that the servers/ folder, or its installed copy, does not hold as rendered."""
    found: list[Drift] = []
    for file in files:
        paths = [directory / file.name]
        if file.name in installed:
            paths.append(installed[file.name])
        for path in paths:
            problem = _compare(file, path)
            if problem:
                found.append(problem)
    return found


def _change(path: Path, content: str) -> Change:
    try:
        current = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return "created"
    except (OSError, UnicodeDecodeError):
        return "updated"
    return "unchanged" if current == content else "updated"


def _compare(file: RenderedFile, path: Path) -> Drift | None:
    # An installed file is usually a symbolic link to the rendered one: its target's content counts.
    if not path.exists():
        return Drift(file.name, path, "missing")
    if not path.is_file():
        return Drift(file.name, path, "not-a-file")
    try:
        current = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return Drift(file.name, path, "unreadable")
    if current == file.content:
        return None
    diff = "".join(
        difflib.unified_diff(
            current.splitlines(keepends=True),
            file.content.splitlines(keepends=True),
            fromfile=str(path),
            tofile=f"rendered {file.name}",
        )
    )
    return Drift(file.name, path, "differs", diff)
