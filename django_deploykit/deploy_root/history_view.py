"""What deploy_log shows: the history records, newest first, and one record with its stage logs."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import Any

from django_deploykit.deploy_root import history
from django_deploykit.deploy_root.layout import DeployRoot
from django_deploykit.redact import redact_text
from django_deploykit.text import shorten

# How much of a record's message the list shows; 'deploy_log ID' shows all of it.
MESSAGE_WIDTH = 100
DETAIL_ORDER = (
    "ref",
    "tag",
    "pull_id",
    "swapped",
    "commits",
    "method",
    "verification",
    "log_dir",
    "next_steps",
)


class RecordNotFound(Exception):
    pass


def latest(root: DeployRoot, count: int) -> list[history.HistoryRecord]:
    records = list(history.read(root))
    return list(reversed(records[-count:])) if count else []


def find(root: DeployRoot, record_id: str) -> history.HistoryRecord:
    """The record whose id is ``record_id`` or starts with it (when only one does)."""
    matches = [record for record in history.read(root) if record.id.startswith(record_id)]
    exact = [record for record in matches if record.id == record_id]
    if exact:
        return exact[-1]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise RecordNotFound(
            f"No record {record_id!r} in the deploy history; 'manage.py deploy_log' lists them."
        )
    raise RecordNotFound(f"{record_id!r} matches {len(matches)} records; give more of the id.")


def summary_line(record: history.HistoryRecord, *, whole: bool = False) -> str:
    """One record on one line, its message shortened at the end; ``whole`` leaves the message out
    (deploy_log ID prints it in full below)."""
    slots = f"{record.from_slot or '-'} -> {record.to_slot or '-'}"
    revision = (record.to_revision or "")[:12]
    line = (
        f"{record.id}  {record.kind:<8} {record.result:<12} {record.started_at}  {record.duration:7.1f} s  "
        f"{slots:<16} {revision:<12} {record.user}"
    )
    if whole or not record.message:
        return line
    return f"{line}  {shorten(redact_text(record.message), MESSAGE_WIDTH, full=f'deploy_log {record.id}')}"


def detail_lines(record: history.HistoryRecord) -> list[str]:
    """The message and details of one record as lines of text (the stages are shown with their logs)."""
    lines = [f"message: {redact_text(record.message)}"] if record.message else []
    # The history stores keys sorted; a reader wants what was deployed first and what to do next last.
    keys = sorted(
        record.details, key=lambda key: (DETAIL_ORDER.index(key) if key in DETAIL_ORDER else 50, key)
    )
    for key in keys:
        value = record.details[key]
        if key == "stages" or value in (None, "", [], {}):
            continue
        label = key.replace("_", " ")
        if isinstance(value, list):
            lines.append(f"{label}:")
            lines.extend(f"  {_words(item)}" for item in value)
        else:
            lines.append(f"{label}: {_words(value)}")
    return lines


def _words(value: Any) -> str:
    """A value of a record's details as a reader would write it, not as Python prints it."""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if value is None:
        return "-"
    if isinstance(value, dict):
        return ", ".join(f"{key} {_words(item)}" for key, item in value.items())
    if isinstance(value, list):
        return ", ".join(_words(item) for item in value)
    return redact_text(str(value))


def stage_logs(record: history.HistoryRecord) -> list[dict[str, Any]]:
    """Each stage with its log's text (already redacted when written), or why it cannot be read."""
    stages = []
    for stage in record.details.get("stages", []):
        entry = dict(stage)
        path = stage.get("log")
        try:
            entry["text"] = Path(path).read_text(encoding="utf-8", errors="replace") if path else ""
        except OSError as exc:
            entry["text"] = f"(the log {path} cannot be read: {exc.strerror}; older logs are pruned)"
        stages.append(entry)
    return stages


def as_dict(record: history.HistoryRecord, with_logs: bool = False) -> dict[str, Any]:
    data = asdict(record)
    if with_logs:
        data["stage_logs"] = stage_logs(record)
    return data
