"""The dependencies stage: pip into the slot's own virtualenv, online or from the wheelhouse only.

What was last installed into a virtualenv is remembered inside that virtualenv (a hash of
the requirements file), so each slot knows its own state and a virtualenv rebuilt from
scratch installs again. The hash is removed before pip starts and written only after it
succeeds: a half-finished install is never taken for a finished one.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from django_deploykit.deploy_root.layout import VENV_DIR
from django_deploykit.deploy_root.slot_commands import (
    CommandLog,
    CommandResult,
    run_program,
    run_programs_side_by_side,
)

INSTALLED_MARKER: Final = ".deploykit-requirements.sha256"
HASH_OPTION = re.compile(r"--hash[= ]")
PIN = re.compile(r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*==\s*(?P<version>[^\s;\\#]+)")


@dataclass(frozen=True)
class Requirements:
    path: Path
    digest: str

    @property
    def has_hashes(self) -> bool:
        return bool(HASH_OPTION.search(self.path.read_text(encoding="utf-8")))


def requirements_file(slot_dir: Path, relative: str | None) -> Requirements | None:
    if not relative:
        return None
    path = slot_dir / relative
    if not path.is_file():
        return None
    return Requirements(path, hashlib.sha256(path.read_bytes()).hexdigest())


def marker_path(slot_dir: Path) -> Path:
    return slot_dir / VENV_DIR / INSTALLED_MARKER


def installed_digest(slot_dir: Path) -> str | None:
    try:
        return marker_path(slot_dir).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def is_current(slot_dir: Path, requirements: Requirements) -> bool:
    return installed_digest(slot_dir) == requirements.digest


def pip_argv(python: Path, requirements: Requirements, *, offline: bool, wheelhouse: Path) -> list[str]:
    argv = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--no-input"]
    if offline:
        argv += ["--no-index", "--find-links", str(wheelhouse)]
    if requirements.has_hashes:
        argv.append("--require-hashes")
    return [*argv, "-r", str(requirements.path)]


def install(
    python: Path,
    slot_dir: Path,
    requirements: Requirements,
    *,
    offline: bool,
    wheelhouse: Path,
    timeout: float,
    log: CommandLog | None = None,
) -> CommandResult:
    marker_path(slot_dir).unlink(missing_ok=True)
    result = run_program(
        pip_argv(python, requirements, offline=offline, wheelhouse=wheelhouse),
        cwd=slot_dir,
        timeout=timeout,
        log=log,
    )
    if result.exit_code == 0:
        marker_path(slot_dir).write_text(requirements.digest + "\n", encoding="utf-8")
    return result


def newly_installed(pip_output: str) -> list[str]:
    """The ``name-version`` of each package pip installed, from its "Successfully installed ..." line."""
    found = re.search(r"^Successfully installed (?P<packages>.+)$", pip_output, re.MULTILINE)
    return found["packages"].split() if found else []


def pinned(requirements: Requirements) -> dict[str, str]:
    """``name==version`` lines of the file, by normalised name (what deploy_check compares)."""
    pins = {}
    for line in requirements.path.read_text(encoding="utf-8").splitlines():
        match = PIN.match(line)
        if match:
            pins[re.sub(r"[-_.]+", "-", match["name"]).lower()] = match["version"]
    return pins


def install_side_by_side(
    installs: list[tuple[Path, Path, Requirements]], *, timeout: float
) -> list[CommandResult]:
    """``install`` into several slots at once (deploykit_init's two), each recorded on success."""
    for _, slot_dir, _ in installs:
        marker_path(slot_dir).unlink(missing_ok=True)
    results = run_programs_side_by_side(
        [
            (pip_argv(python, requirements, offline=False, wheelhouse=slot_dir), slot_dir)
            for python, slot_dir, requirements in installs
        ],
        timeout=timeout,
    )
    for (_, slot_dir, requirements), result in zip(installs, results, strict=True):
        if result.exit_code == 0:
            marker_path(slot_dir).write_text(requirements.digest + "\n", encoding="utf-8")
    return results
