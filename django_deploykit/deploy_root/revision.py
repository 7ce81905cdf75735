"""The revision of the running code, as it was when the code was imported.

A slot's ``REVISION`` file holds the commit its checkout is at. A server process reads it
once, at start-up (``AppConfig.ready``), together with its slot, ``sys.prefix`` and settings
mode, and the revision endpoint reports exactly that: what this process really runs, not
what the ``live`` link says now.
"""

from __future__ import annotations

import os
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import sh

from django_deploykit.atomic_files import write_atomically
from django_deploykit.conf import conf
from django_deploykit.deploy_root.layout import REVISION_NAME


@dataclass(frozen=True)
class RunningCode:
    revision: str | None
    slot: str | None
    code_dir: str | None
    sys_prefix: str
    settings_mode: str | None
    settings_module: str | None
    pid: int
    started_at: str
    packages: dict[str, str | None]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


_running: RunningCode | None = None


def git_head(checkout: Path) -> str:
    return str(sh.git("-C", str(checkout), "rev-parse", "HEAD")).strip()


def write_revision(checkout: Path) -> str:
    """Write the checkout's HEAD commit to its ``REVISION`` file and return it."""
    revision = git_head(checkout)
    write_atomically(checkout / REVISION_NAME, revision + "\n")
    return revision


def read_revision(directory: Path) -> str | None:
    try:
        return (directory / REVISION_NAME).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def find_revision_dir(start: Path) -> Path | None:
    """The nearest folder at or above the real path of ``start`` that holds a ``REVISION`` file."""
    real = start.resolve()
    for candidate in (real, *real.parents):
        if (candidate / REVISION_NAME).is_file():
            return candidate
    return None


def capture_running() -> RunningCode:
    """Record what this process runs; called once when Django starts."""
    global _running
    from django.conf import settings

    choice: dict[str, Any] = getattr(settings, "DEPLOYKIT_SETTINGS_CHOICE", None) or {}
    base_dir = choice.get("base_dir") or getattr(settings, "BASE_DIR", None)
    code_dir = find_revision_dir(Path(base_dir)) if base_dir else None
    _running = RunningCode(
        revision=read_revision(code_dir) if code_dir else None,
        slot=choice.get("slot"),
        code_dir=str(code_dir) if code_dir else None,
        sys_prefix=os.path.realpath(sys.prefix),
        settings_mode=choice.get("mode"),
        settings_module=choice.get("module"),
        pid=os.getpid(),
        started_at=datetime.now(UTC).isoformat(timespec="seconds"),
        packages={name: _version(name) for name in conf.REPORT_PACKAGES},
    )
    return _running


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def running() -> RunningCode:
    return _running if _running is not None else capture_running()
