"""Helpers of the deploy_pull tests: run it, read what it left behind."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

from django_deploykit.deploy_root import history, links
from tests.deployment import Site, git


def deploy_pull(site: Site, *args: str, link: str = "live") -> subprocess.CompletedProcess[str]:
    completed: subprocess.CompletedProcess[str] = site.manage(link, "deploy_pull", *args, check=False)
    return completed


def deploy_pull_json(site: Site, *args: str) -> tuple[int, dict[str, Any]]:
    completed = deploy_pull(site, "--format", "json", *args)
    return completed.returncode, json.loads(completed.stdout)


def slot_head(site: Site, slot: str) -> str:
    return git(site.slot_dir(slot), "rev-parse", "HEAD")


def live_snapshot(site: Site) -> tuple[links.LinkState, str | None, str]:
    """What must not change when a pull fails: the links, live's REVISION and live's checkout."""
    state = links.read_links(site.root)
    live_dir = site.slot_dir(state.live)
    return state, (live_dir / "REVISION").read_text(), slot_head(site, state.live)


def last_pull(site: Site) -> history.HistoryRecord:
    records = [record for record in history.read(site.root) if record.kind == "pull"]
    assert records, "no pull recorded"
    return records[-1]


def stage_statuses(record: history.HistoryRecord) -> dict[str, str]:
    return {stage["name"]: stage["status"] for stage in record.details["stages"]}


def all_logs(site: Site) -> str:
    return "\n".join(path.read_text() for path in sorted((site.root.path / "logs").rglob("*.log")))


def log_of(record: history.HistoryRecord, stage: str) -> Path:
    for entry in record.details["stages"]:
        if entry["name"] == stage:
            return Path(entry["log"])
    raise AssertionError(f"no {stage} stage in {record.details['stages']}")
