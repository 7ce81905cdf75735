"""A run's progress as it goes: ``logs/<run id>/run.json``, rewritten at each stage's start and end.

The history gets a run's record when the run ends (a deploy's "started" record has no stages yet); the
console's live view needs the stages while they run, and must not read the whole history or a whole log
on every poll. So a run keeps this small file beside its stage logs, and a poll reads it only when it
changed (its version is its modification time and size) plus the new bytes of one stage log.

Writing it never fails a run: it is a view of the run, not part of it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from django_deploykit.atomic_files import READABLE_BY_SERVERS, write_atomically
from django_deploykit.deploy_root.layout import PROGRESS_NAME, DeployRoot

# What one poll reads of a stage log at most; the page asks again from where it stopped.
LOG_CHUNK: Final = 64 * 1024
# A run id as history.HistoryRecord makes them: its UTC start, then six hex digits.
RUN_ID_RE: Final = re.compile(r"^\d{8}T\d{6}Z-[0-9a-f]{6}$")


def is_run_id(value: str) -> bool:
    return bool(RUN_ID_RE.match(value))


@dataclass
class StageProgress:
    number: int
    name: str
    # "running" until the stage ends; then the stage runner's status.
    status: str
    log: str
    duration: float | None = None
    summary: str = ""
    # The run this stage's command records under (a deploy's pull), which has progress of its own.
    child: str | None = None


@dataclass
class RunProgress:
    id: str
    kind: str
    user: str
    started_at: str
    pid: int
    planned: list[str] = field(default_factory=list)
    stages: list[StageProgress] = field(default_factory=list)
    # None while the run goes on; the history record's result when it ended.
    result: str | None = None
    finished_at: str | None = None
    message: str = ""

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RunProgress:
        stages = [StageProgress(**stage) for stage in data.get("stages", [])]
        return cls(**{**data, "stages": stages})

    @property
    def running_stage(self) -> StageProgress | None:
        if self.stages and self.stages[-1].status == "running":
            return self.stages[-1]
        return None


class ProgressFile:
    """The writer a run holds: every change rewrites the file in one rename."""

    def __init__(self, directory: Path, progress: RunProgress) -> None:
        self.path = directory / PROGRESS_NAME
        self.progress = progress
        self._write()

    def stage_started(self, number: int, name: str, log: Path) -> None:
        self.progress.stages.append(StageProgress(number, name, "running", log.name))
        self._write()

    def stage_child(self, run_id: str) -> None:
        """The running stage's command records a run of its own, ``run_id``: its page can follow that too."""
        if self.progress.stages:
            self.progress.stages[-1].child = run_id
            self._write()

    def stage_ended(self, number: int, status: str, duration: float, summary: str) -> None:
        for stage in self.progress.stages:
            if stage.number == number:
                stage.status, stage.duration, stage.summary = status, duration, summary
        self._write()

    def finished(self, result: str, message: str) -> None:
        self.progress.result = result
        self.progress.message = message
        self.progress.finished_at = datetime.now(UTC).isoformat(timespec="seconds")
        self._write()

    def _write(self) -> None:
        # A file that cannot be written leaves the console without the stages; the run itself goes on.
        with contextlib.suppress(OSError):
            write_atomically(self.path, json.dumps(asdict(self.progress)), mode=READABLE_BY_SERVERS)


def version_of(root: DeployRoot, run_id: str) -> str:
    """What changes whenever the progress file is rewritten (a stat, no read); "" when there is none."""
    try:
        stat = (root.run_log_dir(run_id) / PROGRESS_NAME).stat()
    except OSError:
        return ""
    return f"{stat.st_mtime_ns}-{stat.st_size}"


def read(root: DeployRoot, run_id: str) -> RunProgress | None:
    """The run's progress, or None when it has none (an older run, a pruned log folder, a bad id)."""
    if not is_run_id(run_id):
        return None
    try:
        data = json.loads((root.run_log_dir(run_id) / PROGRESS_NAME).read_text(encoding="utf-8"))
        return RunProgress.from_dict(data)
    except (OSError, ValueError, TypeError):
        return None


@dataclass(frozen=True)
class LogChunk:
    text: str
    # Where the next read starts; the page sends it back.
    offset: int
    size: int

    @property
    def complete(self) -> bool:
        return self.offset >= self.size


def read_log(root: DeployRoot, run_id: str, name: str, offset: int = 0, limit: int = LOG_CHUNK) -> LogChunk:
    """At most ``limit`` bytes of one of the run's logs from ``offset``: one small read, whatever the size.

    ``name`` must be a file of the run's own folder (a stage log or the launch log), never a path."""
    if not is_run_id(run_id) or "/" in name or name.startswith("."):
        return LogChunk("", 0, 0)
    path = root.run_log_dir(run_id) / name
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            offset = min(max(offset, 0), size)
            handle.seek(offset)
            data = handle.read(limit)
    except OSError:
        return LogChunk("", 0, 0)
    # A chunk may end inside a UTF-8 character: stop before it, the next poll reads it whole.
    cut = len(data)
    if cut == limit:
        while cut > 0 and (data[cut - 1] & 0xC0) == 0x80:
            cut -= 1
        if cut > 0 and data[cut - 1] >= 0xC0:
            cut -= 1
        cut = cut or len(data)
    return LogChunk(data[:cut].decode("utf-8", errors="replace"), offset + cut, size)
