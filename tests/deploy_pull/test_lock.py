"""Two deploy_pull processes at once, and kill -9 in the middle of a stage."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pytest

from django_deploykit.deploy_root import history
from django_deploykit.deploy_root.lock import read_holder
from django_deploykit.exit_codes import ExitCode
from tests.deploy_pull.pulling import deploy_pull, last_pull
from tests.deployment import BARE_ENVIRONMENT, Site, commit_heading_v2

# Run in one tox environment only (tox.ini): among the longest tests, and not about the Django version.
pytestmark = pytest.mark.end_to_end

# A stage reload that takes a while: long enough to start a second pull during it.
SLOW_RELOAD = json.dumps({"stage": {"adapter": "command", "argv": ["sleep", "6"]}})


def start_pull(site: Site) -> subprocess.Popen[str]:
    live = site.root.path / "live"
    return subprocess.Popen(
        [str(live / ".venv" / "bin" / "python"), "manage.py", "deploy_pull"],
        cwd=live / "example_project",
        env=BARE_ENVIRONMENT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def wait_for_stage_log(site: Site, name: str, timeout: float = 60) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = (
            list((site.root.path / "logs").glob(f"*/*-{name}.log"))
            if (site.root.path / "logs").exists()
            else []
        )
        if found:
            return found[0]
        time.sleep(0.1)
    raise AssertionError(f"no {name} stage started within {timeout} s")


class DeployPullLockTests:
    def test_a_second_pull_at_the_same_time_fails_at_once_naming_the_holder(self, site: Site) -> None:
        commit_heading_v2(site.source)
        site.write_env(DEPLOYKIT_RELOAD=SLOW_RELOAD)
        first = start_pull(site)
        try:
            wait_for_stage_log(site, "reload-and-record")
            started = time.monotonic()
            second = deploy_pull(site)
            assert time.monotonic() - started < 20
            assert second.returncode == ExitCode.LOCK_BUSY
            assert "Another deploy holds the lock" in second.stderr
            assert f"pid {first.pid}" in second.stderr
            assert "deploy_pull --ref main" in second.stderr
        finally:
            out, err = first.communicate(timeout=120)
        assert first.returncode == 0, out + err
        results = [record.result for record in history.read(site.root)]
        assert results[-2:] == ["ok", "failed"] or results[-2:] == ["failed", "ok"]

    def test_kill_9_in_the_middle_of_a_stage_releases_the_lock_and_keeps_the_log(self, site: Site) -> None:
        commit_heading_v2(site.source)
        site.write_env(DEPLOYKIT_RELOAD=SLOW_RELOAD)
        first = start_pull(site)
        log = wait_for_stage_log(site, "reload-and-record")
        assert read_holder(site.root) is not None
        os.kill(first.pid, signal.SIGKILL)
        first.wait(timeout=30)
        assert read_holder(site.root) is None
        assert "$ sleep 6" in log.read_text() or "reload" in log.read_text()
        assert (log.parent / "02-git.log").read_text()

        site.write_env()
        completed = deploy_pull(site)
        assert completed.returncode == 0, completed.stderr
        assert last_pull(site).result == "ok"

    def test_wait_lock_waits_for_the_holder_to_finish(self, site: Site) -> None:
        site.write_env(DEPLOYKIT_RELOAD=json.dumps({"stage": {"adapter": "command", "argv": ["sleep", "3"]}}))
        first = start_pull(site)
        try:
            wait_for_stage_log(site, "reload-and-record")
            second = deploy_pull(site, "--wait-lock", "120")
        finally:
            first.communicate(timeout=120)
        assert second.returncode == 0, second.stderr
