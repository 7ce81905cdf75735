"""One run as the console shows it, and what a poll of its page costs.

A run started from the console has, from its first moment, ``logs/<id>/launch.json`` (who asked, the
command's pid) and ``launch.log`` (what the command printed); once the command runs, ``run.json`` (its
stages as they go, ``deploy_root.progress``); when it ends, its history record. A run started on the command
line has the last two. This module puts them together into one state, and answers a poll with at most one
small read: the progress file only when its version changed (a stat tells), plus the new bytes of one log.
"""

from __future__ import annotations

import json
import re
import threading
from dataclasses import asdict, dataclass, field
from typing import Any, Final

from django_deploykit.console.history_page import recorded_runs
from django_deploykit.deploy_root import history, progress
from django_deploykit.deploy_root.layout import LAUNCH_LOG_NAME, DeployRoot
from django_deploykit.deploy_root.progress import LogChunk, RunProgress
from django_deploykit.processes import process_alive

LAUNCH_RECORD_NAME: Final = "launch.json"
RESUME_RE: Final = re.compile(r"--resume-from (\S+)")
# States a run's page shows; the finished ones are the history's results.
RUNNING_STATES: Final = frozenset({"queued", "starting", "running"})


@dataclass
class Launch:
    """What the console wrote when it started a command: who asked, what, and the command's pid."""

    run_id: str
    user: str
    action: str
    argv: list[str]
    # 0 while the request waits in the queue for the runner (DEPLOYKIT_CONSOLE_RUNNER = "queue").
    pid: int
    at: str


@dataclass
class RunState:
    id: str
    kind: str
    # starting, running, stopped (its process ended without an end), or the history's result.
    state: str
    user: str = ""
    started_at: str = ""
    message: str = ""
    stages: list[dict[str, Any]] = field(default_factory=list)
    # Stages still to run, by name.
    planned: list[str] = field(default_factory=list)
    record: history.HistoryRecord | None = None
    launch: Launch | None = None
    version: str = ""
    # The process doing the run, to tell a run that goes on from one that was killed.
    pid: int | None = None

    @property
    def finished(self) -> bool:
        return self.state not in RUNNING_STATES

    def as_dict(self) -> dict[str, Any]:
        data = {key: value for key, value in asdict(self).items() if key not in ("record", "launch", "pid")}
        data["finished"] = self.finished
        data["ref"] = self.ref
        data["next_steps"] = list(self.record.details.get("next_steps", [])) if self.record else []
        return data

    @property
    def resume_from(self) -> str:
        """The stage a failed deploy's advice says to resume at ("" when it says to deploy again)."""
        for step in self.record.details.get("next_steps", []) if self.record else []:
            found = RESUME_RE.search(str(step))
            if found:
                return found.group(1)
        return ""

    @property
    def ref(self) -> str:
        if self.record is not None:
            return str(self.record.details.get("ref", ""))
        return ""


def read_launch(root: DeployRoot, run_id: str) -> Launch | None:
    if not progress.is_run_id(run_id):
        return None
    try:
        data = json.loads((root.run_log_dir(run_id) / LAUNCH_RECORD_NAME).read_text(encoding="utf-8"))
        return Launch(**data)
    except (OSError, ValueError, TypeError):
        return None


def find_record(root: DeployRoot, run_id: str) -> history.HistoryRecord | None:
    for record in reversed(recorded_runs(root)[0]):
        if record.id == run_id:
            return record
    return None


def _from_progress(run: RunProgress, version: str) -> RunState:
    if run.result is not None:
        state = run.result
    elif process_alive(run.pid):
        state = "running"
    else:
        state = "stopped"
    started = {stage.name for stage in run.stages}
    return RunState(
        id=run.id,
        kind=run.kind,
        state=state,
        user=run.user,
        started_at=run.started_at,
        message=run.message,
        stages=[asdict(stage) for stage in run.stages],
        planned=[name for name in run.planned if name not in started],
        version=version,
        pid=run.pid,
    )


def state_of(root: DeployRoot, run_id: str, *, with_record: bool = True) -> RunState | None:
    """Everything known of the run, or None when nothing is (no such id). ``with_record`` reads the history
    for a finished run's record (its advice, details) and the launch record beside the progress; a poll passes
    False."""
    if not progress.is_run_id(run_id):
        return None
    version = progress.version_of(root, run_id)
    run = progress.read(root, run_id) if version else None
    # A poll of a run with progress needs nothing of its launch record: it is read only when it tells something.
    launch = read_launch(root, run_id) if run is None or with_record else None
    record = find_record(root, run_id) if with_record else None
    if run is not None:
        state = _from_progress(run, version)
    elif record is not None:
        state = RunState(
            id=record.id,
            kind=record.kind,
            state=record.result,
            user=record.user,
            started_at=record.started_at,
            message=record.message,
            stages=list(record.details.get("stages", [])),
        )
    elif launch is not None:
        state = RunState(
            id=run_id,
            kind=launch.action,
            state=_launch_state(root, launch),
            user=launch.user,
            started_at=launch.at,
            pid=launch.pid,
        )
    else:
        return None
    state.record, state.launch = record, launch
    if state.state == "stopped" and launch is not None and run is None:
        state.message = "The command ended before its run began; what it printed is below."
    elif state.state == "stopped":
        state.message = (
            "The run's process ended without recording an end (killed?); the next deploy marks it interrupted "
            "and says what was left where."
        )
    return state


def _launch_state(root: DeployRoot, launch: Launch) -> str:
    if launch.pid == 0:
        queued = (root.console_queue_dir / f"{launch.run_id}.json").exists()
        taken = (root.console_queue_dir / f"{launch.run_id}.json.taken").exists()
        return "queued" if queued else "starting" if taken else "stopped"
    return "starting" if process_alive(launch.pid) else "stopped"


class _ProgressCache:
    """The last progress read per run in this worker: a poll whose version is unchanged reads nothing."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._runs: dict[tuple[str, str], tuple[str, RunState]] = {}

    def get(self, root: DeployRoot, run_id: str) -> RunState | None:
        key = (str(root.path), run_id)
        version = progress.version_of(root, run_id)
        with self._lock:
            cached = self._runs.get(key)
        if cached is not None and cached[0] == version and version:
            known = cached[1]
            if known.state in RUNNING_STATES and known.pid and not process_alive(known.pid):
                # Only the process may have gone since: a signal-0 check, no read.
                return state_of(root, run_id, with_record=False)
            return known
        state = state_of(root, run_id, with_record=False)
        if state is not None and version:
            with self._lock:
                if len(self._runs) > 256:
                    self._runs.clear()
                self._runs[key] = (version, state)
        return state


PROGRESS_CACHE: Final = _ProgressCache()


def poll(
    root: DeployRoot, run_id: str, known_version: str, log_name: str, offset: int
) -> dict[str, Any] | None:
    """What the run page asks every second or so: the run's state when it changed since ``known_version``,
    and the bytes of ``log_name`` from ``offset`` on."""
    state = PROGRESS_CACHE.get(root, run_id)
    if state is None:
        return None
    chunk = progress.read_log(root, run_id, log_name or LAUNCH_LOG_NAME, offset)
    document: dict[str, Any] = {
        "version": state.version,
        "state": state.state,
        "finished": state.finished,
        "log": {"name": log_name, **_chunk_fields(chunk)},
    }
    if state.version != known_version or not known_version:
        document["run"] = state.as_dict()
    running = [stage for stage in state.stages if stage.get("status") == "running" and stage.get("child")]
    if running:
        # The running stage's own run (a deploy's pull): its stages too, read only when its progress changed.
        child = PROGRESS_CACHE.get(root, str(running[0]["child"]))
        if child is not None:
            document["child"] = {"stage": running[0]["number"], **child_summary(child)}
    return document


def child_summary(child: RunState) -> dict[str, Any]:
    """What a parent run's page shows of a stage's own run: its id, state and stages."""
    return {
        "id": child.id,
        "state": child.state,
        "stages": [
            {key: stage.get(key) for key in ("number", "name", "status", "duration")}
            for stage in child.stages
        ],
    }


def _chunk_fields(chunk: LogChunk) -> dict[str, Any]:
    return {"text": chunk.text, "offset": chunk.offset, "size": chunk.size, "complete": chunk.complete}
