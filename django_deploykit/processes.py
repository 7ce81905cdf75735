"""Whether a process is alive, asked the one way every part of the package asks it."""

from __future__ import annotations

import os
from pathlib import Path


def process_alive(pid: int) -> bool:
    """Whether ``pid`` runs: signal 0 sends nothing; another user's process (EPERM) counts. A zombie (exited,
    not yet reaped by its parent) does not: it will never do anything again."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0] != "Z"
    except (OSError, IndexError):
        return True
