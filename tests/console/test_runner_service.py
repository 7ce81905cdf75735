"""The queued console end to end: the live gunicorn's console leaves a request, and the runner service that
server_config renders (its ExecStart, run as the unit would run it) deploys it as the deploy user."""

from __future__ import annotations

import http.cookiejar
import json
import os
import shutil
import subprocess
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from django_deploykit.deploy_root import history
from tests.deploy.deploying import commit_v2
from tests.deployment import BARE_ENVIRONMENT, Site, migrated_site
from tests.servers import serve
from tests.services import missing_tool

__all__ = ["migrated_site"]

# One of the longest end-to-end tests: it runs in one tox environment only (tox.ini says which).
pytestmark = pytest.mark.end_to_end

CONSOLE = "/-/deploykit/console/"
RELOAD = json.dumps(
    {
        "live": {"adapter": "gunicorn", "pidfile": "run/live.pid"},
        "stage": {"adapter": "gunicorn", "pidfile": "run/stage.pid"},
    }
)
USERS = """
from django.contrib.auth.models import Permission, User
User.objects.create_user("alice", password="alice-pw").user_permissions.add(
    Permission.objects.get(codename="push_deploys")
)
"""


class Browser:
    """Just enough of a browser for Django's forms: cookies, the CSRF token, redirects followed."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def csrf(self) -> str:
        return next(cookie.value for cookie in self.jar if cookie.name == "csrftoken")

    def get(self, path: str) -> tuple[str, str]:
        with self.opener.open(self.base + path, timeout=30) as response:
            return response.geturl(), response.read().decode()

    def post(self, path: str, fields: dict[str, str]) -> tuple[str, str]:
        data = urllib.parse.urlencode({**fields, "csrfmiddlewaretoken": self.csrf()}).encode()
        with self.opener.open(self.base + path, data=data, timeout=30) as response:
            return response.geturl(), response.read().decode()


def unit_values(text: str, key: str) -> list[str]:
    return [line.split("=", 1)[1] for line in text.splitlines() if line.startswith(f"{key}=")]


class QueuedConsoleTests:
    def test_the_runner_service_deploys_what_the_console_queued(self, site: Site) -> None:
        site.manage("live", "shell", "-c", USERS)
        servers = {"user": "root", "server_name": "localhost", "listen": 8080, "stage_listen": 8081}
        serve(
            site,
            "live",
            "stage",
            urls=("live", "stage"),
            DEPLOYKIT_RELOAD=RELOAD,
            DEPLOYKIT_CONSOLE_RUNNER="queue",
            DEPLOYKIT_SERVERS=f"'{json.dumps(servers)}'",
        )
        v2 = commit_v2(site)

        # The console on the live server: sign in, deploy; the request waits in the queue.
        browser = Browser(site.url("live", ""))
        browser.get(CONSOLE + "login/")
        browser.post(CONSOLE + "login/", {"username": "alice", "password": "alice-pw", "next": CONSOLE})
        where, page = browser.post(CONSOLE + "deploy/", {"ref": "main", "confirmed": "yes"})
        run_id = where.rstrip("/").rsplit("/", 1)[-1]
        assert "status-queued" in page
        queue = site.root.console_queue_dir
        assert [path.name for path in queue.iterdir()] == [f"{run_id}.json"]
        assert site.revision("live")["revision"] != v2

        # The units server_config renders for the queue, checked by systemd where it is installed.
        site.manage("live", "server_config", env={"PRODUCTION": "1"})
        service = (site.root.servers_dir / "mysite-console.service").read_text()
        path_unit = site.root.servers_dir / "mysite-console.path"
        tool = shutil.which("systemd-analyze")
        if tool is None:
            missing_tool("systemd-analyze is not installed")
        else:
            verified = subprocess.run(
                [tool, "verify", str(path_unit), str(site.root.servers_dir / "mysite-console.service")],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
                env={**os.environ, "SYSTEMD_LOG_LEVEL": "notice"},
            )
            assert "mysite-console" not in verified.stdout + verified.stderr, verified.stderr
            assert verified.returncode == 0, verified.stderr

        # What the path unit starts: the service's ExecStart, in its environment and folder, as its user.
        environment: dict[str, Any] = dict(BARE_ENVIRONMENT)
        for assignment in unit_values(service, "Environment"):
            name, _, value = assignment.partition("=")
            environment[name] = value
        [exec_start] = unit_values(service, "ExecStart")
        [directory] = unit_values(service, "WorkingDirectory")
        completed = subprocess.run(
            exec_start.split(),
            cwd=directory,
            env=environment,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        assert completed.returncode == 0, completed.stdout + completed.stderr
        assert f"{run_id}: exit 0" in completed.stderr + completed.stdout
        assert list(queue.iterdir()) == []
        served = site.revision("live")
        assert served["revision"] == v2
        deploy = next(record for record in history.read(site.root) if record.id == run_id)
        assert deploy.result == "ok"
        assert deploy.user.startswith("alice (console, as ")
        launch_log = (site.root.run_log_dir(run_id) / "launch.log").read_text()
        assert "swap" in launch_log
        _where, page = browser.get(CONSOLE + f"runs/{run_id}/")
        assert 'id="run-state">ok<' in page
        assert Path(directory).is_dir()
