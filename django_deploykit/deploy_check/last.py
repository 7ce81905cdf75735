"""The findings of the last ``deploy_check`` of each link, kept in the deploy root for the console."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django_deploykit.atomic_files import READABLE_BY_SERVERS, write_atomically
from django_deploykit.deploy_check.diagnose import Finding
from django_deploykit.deploy_root.layout import DeployRoot


@dataclass
class LastCheck:
    link: str
    at: str
    findings: list[dict[str, str]]

    @property
    def errors(self) -> int:
        return sum(1 for finding in self.findings if finding.get("level") == "error")


def save(root: DeployRoot, link: str, findings: list[Finding]) -> None:
    """Keep the findings; a deploy root the checking user cannot write to keeps the older ones."""
    data = {
        "link": link,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
        "findings": [finding.as_dict() for finding in findings],
    }
    try:
        root.logs_dir.mkdir(exist_ok=True)
        write_atomically(root.last_check_file(link), json.dumps(data), mode=READABLE_BY_SERVERS)
    except OSError:
        pass


def read(root: DeployRoot, link: str) -> LastCheck | None:
    try:
        data: dict[str, Any] = json.loads(root.last_check_file(link).read_text(encoding="utf-8"))
        return LastCheck(link=str(data["link"]), at=str(data["at"]), findings=list(data["findings"]))
    except (OSError, ValueError, TypeError, KeyError):
        return None
