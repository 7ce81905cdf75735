"""The deploy history: one JSON object per line in ``history.jsonl`` under the deploy root.

It is a file, not a table, so it can be written while the database is down or being
migrated. This module owns the record's schema; every pull, swap and deploy appends here.
"""

from __future__ import annotations

import fcntl
import json
import os
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, Literal, get_args

from django_deploykit.deploy_root.layout import DeployRoot
from django_deploykit.deploy_root.lock import current_user

SCHEMA_VERSION: Final = 1

Kind = Literal["init", "pull", "swap", "rollback", "repair", "reload", "deploy"]
KINDS: Final[tuple[str, ...]] = get_args(Kind)
# "started" is written when a deploy begins and replaced by its outcome when it ends: a deploy that was
# killed stays "started" until the next one marks it "interrupted" and says what was left where.
Result = Literal["ok", "failed", "swapped-back", "refused", "started", "interrupted"]


def new_run_id() -> str:
    """A record's id: its UTC start (so ids sort by time, as the log folders named after them do) and six hex
    digits."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ-") + secrets.token_hex(3)


@dataclass
class HistoryRecord:
    kind: Kind
    result: Result
    started_at: str
    duration: float
    id: str = field(default_factory=new_run_id)
    user: str = field(default_factory=current_user)
    from_slot: str | None = None
    to_slot: str | None = None
    from_revision: str | None = None
    to_revision: str | None = None
    message: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    schema: int = SCHEMA_VERSION

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HistoryRecord:
        known = {f.name for f in fields(cls)}
        return cls(**{key: value for key, value in data.items() if key in known})


class Stopwatch:
    """The start time and duration fields of a record."""

    def __init__(self) -> None:
        self.started_at = datetime.now(UTC).isoformat(timespec="seconds")
        self._start = time.monotonic()

    @property
    def elapsed(self) -> float:
        return round(time.monotonic() - self._start, 3)


def history_path(root: DeployRoot) -> Path:
    return root.history_file


def append(root: DeployRoot, record: HistoryRecord) -> None:
    """Append ``record`` durably; concurrent writers never interleave their lines."""
    line = json.dumps(asdict(record), sort_keys=True) + "\n"
    with open(history_path(root), "a", encoding="utf-8") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def read(root: DeployRoot) -> Iterator[HistoryRecord]:
    """Yield the records oldest first, skipping a torn last line.

    A record appended again under the same id (a deploy's outcome after its "started" record)
    replaces the earlier one and takes its own place: a finished run is listed by when it ended."""
    path = history_path(root)
    if not path.exists():
        return
    records: dict[str, HistoryRecord] = {}
    with open(path, "rb") as handle:
        _parsed(handle, records)
    yield from records.values()


def _parsed(lines: Iterator[bytes] | list[bytes], records: dict[str, HistoryRecord]) -> None:
    for line in lines:
        try:
            record = HistoryRecord.from_dict(json.loads(line))
        except (ValueError, TypeError):
            continue
        records.pop(record.id, None)
        records[record.id] = record


@dataclass
class _Parsed:
    inode: int
    # How far the file was read: always the end of a whole line.
    offset: int
    records: dict[str, HistoryRecord]


class AppendedReader:
    """The history as ``read`` gives it, kept parsed by a long-lived process (the console's web worker):
    the file only ever grows by whole lines, so each call parses only what was appended since the last.

    A file that shrank or was replaced (another inode) is read again from its start. Safe across threads.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._files: dict[Path, _Parsed] = {}

    def records(self, root: DeployRoot) -> list[HistoryRecord]:
        path = history_path(root)
        try:
            stat = path.stat()
        except FileNotFoundError:
            return []
        with self._lock:
            parsed = self._files.get(path)
            if parsed is None or parsed.inode != stat.st_ino or stat.st_size < parsed.offset:
                parsed = _Parsed(stat.st_ino, 0, {})
            if stat.st_size > parsed.offset:
                with open(path, "rb") as handle:
                    handle.seek(parsed.offset)
                    data = handle.read(stat.st_size - parsed.offset)
                # A torn last line (a writer midway) waits for its end.
                whole = data.rfind(b"\n") + 1
                _parsed(data[:whole].splitlines(), parsed.records)
                parsed.offset += whole
            self._files[path] = parsed
            return list(parsed.records.values())


def last(root: DeployRoot, kinds: tuple[Kind, ...] = ("swap", "rollback")) -> HistoryRecord | None:
    found = None
    for record in read(root):
        if record.kind in kinds and record.result in ("ok",):
            found = record
    return found
