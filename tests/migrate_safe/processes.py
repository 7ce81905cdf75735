"""Starting real migrate_safe processes against a throwaway database, for the concurrency tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from django.db import connections

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


def assert_one_of_two_runs_migrates(url: str) -> None:
    """Two runs of the 'slow' graph at once, both exit 0: one applies it, the other waits for the
    migration lock and then finds nothing to apply."""
    first = start_migrate_safe(url, "slow", "--phase=all")
    second = start_migrate_safe(url, "slow", "--phase=all")
    results = [finish(first), finish(second)]
    assert [code for code, _, _ in results] == [0, 0], results
    migrated = [out for _, out, _ in results if "Applying ms_shop.0002_take_a_while... OK" in out]
    waited = [out for _, out, _ in results if "waiting for it to finish" in out]
    assert len(migrated) == 1, results
    assert len(waited) == 1, results
    assert "No migrations to apply." in waited[0]


def run_no_wait_while_another_migrates(url: str, alias: str) -> tuple[int, str, int]:
    """A ``--no-wait`` run started while another run holds the migration lock: its exit code and
    stderr, then the other run's exit code."""
    # The first run holds the lock long enough for the second one to start under any load.
    first = start_migrate_safe(url, "slow", "--phase=all", sleep=10)
    try:
        wait_for_table(alias, "ms_shop_product")
        code, _, err = finish(start_migrate_safe(url, "slow", "--phase=all", "--no-wait"))
    finally:
        first_code, _, _ = finish(first)
    return code, err, first_code


def wait_for_table(alias: str, table: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    connection = connections[alias]
    while time.monotonic() < deadline:
        if table in connection.introspection.table_names():
            return
        time.sleep(0.1)
    raise AssertionError(f"{table} did not appear within {timeout}s")
