"""Stage logs: one folder per run under the deploy root, one redacted file per stage.

``ROOT/logs/<record id>/03-dependencies.log`` holds every command the stage ran, with its
stdout, stderr, exit code and duration. The header is written before a command starts, so
a run killed in the middle still leaves a log that says what was running.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from django_deploykit.deploy_root.layout import DeployRoot
from django_deploykit.redact import redact_text


def logs_dir(root: DeployRoot) -> Path:
    return root.logs_dir


class StageLog:
    """The log file of one stage; every write is redacted and flushed at once."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.touch()

    def write(self, text: str) -> None:
        with open(self.path, "a", encoding="utf-8") as handle:
            handle.write(redact_text(text))
            if not text.endswith("\n"):
                handle.write("\n")

    def starting(self, argv: Sequence[str], cwd: Path | None = None) -> None:
        now = datetime.now(UTC).isoformat(timespec="seconds")
        where = f"\n$ cd {cwd}" if cwd else ""
        self.write(f"--- {now}{where}\n$ {' '.join(argv)}")

    def finished(self, exit_code: int, duration: float, stdout: str, stderr: str) -> None:
        self.write(
            f"[stdout]\n{stdout.rstrip()}\n[stderr]\n{stderr.rstrip()}\n[exit {exit_code} after {duration:.2f} s]"
        )

    def read(self) -> str:
        return self.path.read_text(encoding="utf-8", errors="replace")


class RunLogs:
    """The log folder of one run of deploy_pull or deploy."""

    def __init__(self, root: DeployRoot | None, run_id: str) -> None:
        if root is None:
            # A dry run leaves nothing behind in the deploy root.
            self.directory = Path(tempfile.mkdtemp(prefix="deploykit-dry-run-"))
            self.is_temporary = True
        else:
            self.directory = logs_dir(root) / run_id
            self.directory.mkdir(parents=True, exist_ok=True)
            self.is_temporary = False

    def discard(self) -> None:
        if self.is_temporary:
            shutil.rmtree(self.directory, ignore_errors=True)

    def stage(self, number: int, name: str) -> StageLog:
        return StageLog(self.directory / f"{number:02d}-{name}.log")


def prune(root: DeployRoot, keep: int) -> list[Path]:
    """Remove the oldest run folders beyond ``keep``; run ids start with their UTC time, so names sort."""
    base = logs_dir(root)
    if keep <= 0 or not base.is_dir():
        return []
    runs = sorted(path for path in base.iterdir() if path.is_dir())
    removed = runs[: max(0, len(runs) - keep)]
    for path in removed:
        shutil.rmtree(path, ignore_errors=True)
    return removed
