"""Helpers of the deploy tests."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from typing import Any

from django_deploykit.demo.release import write_v2
from django_deploykit.deploy_root import history
from tests.deployment import Site, git


def commit_v2(site: Site) -> str:
    """The demo's v2: 0003 adds notes.summary (additive), 0004 drops notes.body (destructive)."""
    paths = write_v2(site.source)
    git(site.source, "add", *paths)
    git(site.source, "commit", "--quiet", "-m", "v2: summary instead of body")
    return git(site.source, "rev-parse", "HEAD")


def deploy(site: Site, *args: str, link: str = "live") -> subprocess.CompletedProcess[str]:
    completed: subprocess.CompletedProcess[str] = site.manage(link, "deploy", "--yes", *args, check=False)
    return completed


def deploy_json(site: Site, *args: str) -> tuple[int, dict[str, Any]]:
    completed = deploy(site, "--format", "json", *args)
    try:
        return completed.returncode, json.loads(completed.stdout)
    except ValueError as exc:
        raise AssertionError(completed.stdout + completed.stderr) from exc


def note_columns(site: Site) -> set[str]:
    with sqlite3.connect(site.root.shared_dir / "db.sqlite3") as connection:
        return {row[1] for row in connection.execute("PRAGMA table_info(notes_note)")}


def last_deploy(site: Site) -> history.HistoryRecord:
    records = [record for record in history.read(site.root) if record.kind == "deploy"]
    assert records, "no deploy recorded"
    return records[-1]
