"""Replace a file in one rename, so that a reader sees the old file or the new one, never half of one.

Other processes read these files while a command may be rewriting them: the maintenance state and the
static maintenance page (every worker, the web server), the cache generations (servers starting), the
swap journal (a repair after a crash), a slot's REVISION, the lock holder, a migration's review file.
Each is written to a temporary file in the same folder (so the rename cannot cross filesystems), flushed
to disk, then renamed over the old one; the folder is flushed too, so the rename itself survives a
power cut.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from pathlib import Path

# Readable by the web server's user, which is rarely the one that runs the command; for files that
# hold no secret (docs/security.md lists the modes).
READABLE_BY_SERVERS = 0o644


def write_atomically(path: Path, text: str, *, mode: int | None = None) -> None:
    """Replace ``path`` with ``text``.

    ``mode`` is set on every write; without it an existing file keeps its mode and a new one gets what the
    process's umask gives. On any error the old file is untouched, no temporary file is left, and the
    error is raised.
    """
    if mode is None:
        with contextlib.suppress(FileNotFoundError):
            mode = path.stat().st_mode & 0o777
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    # 0o666 through the umask, as open() would make it (mkstemp's 0o600 would ignore the umask).
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
    try:
        if mode is not None:
            os.fchmod(descriptor, mode)
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_folder(path.parent)


def fsync_folder(folder: Path) -> None:
    """Make a rename or an unlink in ``folder`` durable; a filesystem that cannot open a folder is let be."""
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
