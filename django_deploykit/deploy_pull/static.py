"""The collectstatic stage, skipped when neither the static sources nor the installed packages changed.

Both slots collect into the project's STATIC_ROOT. Without ``--clear`` collectstatic only
adds and overwrites; with hashed names (ManifestStaticFilesStorage, or
``django_deploykit.deploy_pull.storage.SlotManifestStaticFilesStorage`` for one manifest per
slot) a file of one slot is never replaced by another slot's, so pages rendered by either
slot find their assets before, during and after a swap.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Final

from django_deploykit.deploy_root import dependencies, git
from django_deploykit.deploy_root.layout import VENV_DIR
from django_deploykit.deploy_root.slot_commands import CommandLog
from django_deploykit.project_code import is_project_path

COLLECTED_MARKER: Final = ".deploykit-static.sha256"
# collectstatic's last line (it has no JSON output, and it is not translated):
# "12 static files copied to '/srv/site/shared/static', 130 unmodified, 12 post-processed."
_COLLECTED: Final = re.compile(
    r"(?P<count>\d+) static files? (?P<action>copied|symlinked)(?: to '[^']*')?"
    r"(?:, (?P<unmodified>\d+) unmodified)?(?:, (?P<post_processed>\d+) post-processed)?"
)


def fingerprint(slot_dir: Path, log: CommandLog | None = None) -> str:
    """A hash of every tracked file under a ``static`` folder, and of the installed requirements."""
    listing = git.git(slot_dir, "ls-files", "-s", log=log)
    static_lines = []
    for line in listing.stdout.splitlines():
        path = line.split("\t", 1)[-1]
        # A vendored virtualenv committed to the repository is installed code, not the project's.
        if "/static/" in f"/{path}" and is_project_path(slot_dir / path, slot_dir, ()):
            static_lines.append(line)
    digest = hashlib.sha256()
    digest.update("\n".join(static_lines).encode())
    digest.update((dependencies.installed_digest(slot_dir) or "").encode())
    return digest.hexdigest()


def marker_path(slot_dir: Path) -> Path:
    return slot_dir / VENV_DIR / COLLECTED_MARKER


def collected_fingerprint(slot_dir: Path) -> str | None:
    try:
        return marker_path(slot_dir).read_text(encoding="utf-8").strip() or None
    except OSError:
        return None


def remember(slot_dir: Path, value: str) -> None:
    marker_path(slot_dir).write_text(value + "\n", encoding="utf-8")


def forget(slot_dir: Path) -> None:
    marker_path(slot_dir).unlink(missing_ok=True)


def collected_summary(output: str) -> str:
    """What collectstatic did, in the words of a stage summary: "collected 12 static files (130 unmodified)"."""
    matches = list(_COLLECTED.finditer(output))
    if not matches:
        return "collectstatic ran but printed no count"
    found = matches[-1]
    count = int(found["count"])
    verb = "collected" if found["action"] == "copied" else "symlinked"
    notes = [
        f"{found[group]} {words}"
        for group, words in (("unmodified", "unmodified"), ("post_processed", "post-processed"))
        if found[group] is not None
    ]
    return f"{verb} {count} static file{'' if count == 1 else 's'}" + (
        f" ({', '.join(notes)})" if notes else ""
    )
