"""The console's audit log: one JSON line per action asked for, in the deploy root (``shared/console/audit.jsonl``).

Every action a user asks for is written here before anything is started, refused ones included, with who,
from where, what and what came of it. It is a file like the history, so it is written while the database is
being migrated. Values are redacted before they are written; a webhook address is never recorded whole.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from collections import deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from django_deploykit.deploy_root.layout import DeployRoot
from django_deploykit.redact import redact_text

logger = logging.getLogger("django_deploykit.console")

# The audit log is read by whoever may view the console; it names users and addresses, not secrets.
FILE_MODE = 0o640


@dataclass
class AuditEntry:
    user: str
    action: str
    # "started", "done", "refused" or "failed".
    result: str
    client: str = ""
    run_id: str | None = None
    details: dict[str, str] = field(default_factory=dict)
    message: str = ""
    at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))


def record(root: DeployRoot, entry: AuditEntry) -> None:
    """Append ``entry`` (redacted) and log it; a log that cannot be written is said in the server log."""
    entry.details = {key: redact_text(str(value)) for key, value in entry.details.items()}
    entry.message = redact_text(entry.message)
    line = json.dumps(asdict(entry), sort_keys=True) + "\n"
    logger.info("console: %s %s %s %s", entry.user, entry.action, entry.result, entry.message)
    try:
        root.console_dir.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(root.audit_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
        with os.fdopen(descriptor, "a", encoding="utf-8") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            handle.write(line)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        logger.error("console: the audit log %s cannot be written: %s", root.audit_file, exc)


def latest(root: DeployRoot, count: int = 200) -> list[AuditEntry]:
    """The newest ``count`` entries, newest first; a torn or foreign line is left out."""
    try:
        with open(root.audit_file, encoding="utf-8") as handle:
            lines = deque(handle, maxlen=count)
    except OSError:
        return []
    entries = []
    for line in reversed(lines):
        try:
            data: dict[str, Any] = json.loads(line)
            entries.append(AuditEntry(**data))
        except (ValueError, TypeError):
            continue
    return entries
