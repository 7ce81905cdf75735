"""Starting real migrate_safe processes against a throwaway database, for the concurrency tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def start_migrate_safe(
    url: str, graph: str, *args: str, sleep: float = 3, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    """migrate_safe in its own process; the 'slow' graph's second migration sleeps ``sleep`` seconds.
    ``env`` adds variables, such as the faults of tests/migrate_safe/faults.py."""
    environment = {
        "MIGRATE_SAFE_TEST_SLEEP": str(sleep),
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.migrate_safe.subprocess_settings",
        "MIGRATE_SAFE_TEST_DB": url,
        "MIGRATE_SAFE_TEST_GRAPH": graph,
        "PYTHONPATH": str(REPO_ROOT),
        **(env or {}),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "django", "migrate_safe", *args],
        cwd=REPO_ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(process: subprocess.Popen[str], timeout: float = 60) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=timeout)
    return process.returncode, out, err
