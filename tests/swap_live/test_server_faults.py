"""Servers that die during a swap (defect 13): afterwards the live server and the ``live`` link agree,
or the error says exactly what each server serves and what to run.

Real gunicorn servers reloaded by the gunicorn adapter; a server is killed with SIGKILL (master and
workers) at a given point of the swap, read from swap_live's progress lines.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from django_deploykit.deploy_root import history, links
from django_deploykit.exit_codes import ExitCode
from django_deploykit.processes import process_alive
from tests import slot_packages
from tests.deployment import BARE_ENVIRONMENT, Site, build_site, commit_file, commit_heading_v2
from tests.servers import serve

# A heavy fault or corpus test: it runs in one tox environment only (tox.ini says which).
pytestmark = pytest.mark.faults

RELOAD = json.dumps(
    {
        "live": {"adapter": "gunicorn", "pidfile": "run/live.pid", "timeout": 15},
        "stage": {"adapter": "gunicorn", "pidfile": "run/stage.pid", "timeout": 15},
    }
)

# The new code's WSGI entry point dies, master and all, on the first revision request once the
# test has created ROOT/run/crash-on-verify: a new live server that crashes as it is verified.
CRASHING_WSGI = '''"""WSGI entry point; the settings package chooses production or development."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mysite.settings")

_django = get_wsgi_application()
_CRASH_FLAG = Path(__file__).resolve().parents[3] / "run" / "crash-on-verify"


def application(environ, start_response):
    if environ.get("PATH_INFO") == "/-/deploykit/revision/" and _CRASH_FLAG.exists():
        os.kill(os.getppid(), signal.SIGKILL)
        os._exit(1)
    return _django(environ, start_response)
'''


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    """blue live at v1, green the stage slot at v2; gunicorn serving both."""
    site = build_site(tmp_path)
    commit_heading_v2(site.source)
    site.update_slot("green")
    try:
        yield site
    finally:
        site.stop_servers()


def start(site: Site, *, stage_url: bool = True) -> None:
    site.manage("live", "migrate", "-v0")
    urls = ("live", "stage") if stage_url else ("live",)
    serve(site, "live", "stage", urls=urls, DEPLOYKIT_RELOAD=RELOAD)


def kill_server(site: Site, link: str) -> int:
    """SIGKILL the gunicorn master of ``link`` and its workers; return the master's pid."""
    master = int((site.root.path / "run" / f"{link}.pid").read_text())
    workers = [
        int(pid)
        for task in os.listdir(f"/proc/{master}/task")
        for pid in Path(f"/proc/{master}/task/{task}/children").read_text().split()
    ]
    for pid in [*workers, master]:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while any(process_alive(pid) for pid in [*workers, master]) and time.monotonic() < deadline:
        time.sleep(0.05)
    return master


def swap_live_with(site: Site, marker: str, action: Callable[[], object], *args: str) -> tuple[int, str, str]:
    """Run swap_live; when a progress line contains ``marker``, run ``action``. Bounded in time."""
    base = site.root.path / "live"
    process = subprocess.Popen(
        [str(base / ".venv" / "bin" / "python"), "manage.py", "swap_live", *args],
        cwd=base / "example_project",
        env={**BARE_ENVIRONMENT, **slot_packages.pip_environment_in_use(), "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    lines = []
    try:
        for line in process.stdout:
            lines.append(line)
            if marker in line:
                action()
                break
        out, err = process.communicate(timeout=180)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return process.returncode, "".join(lines) + out, err


def served_slot(site: Site, link: str) -> str | None:
    try:
        return str(site.revision(link)["slot"])
    except OSError:
        return None


class StageServerDiesTests:
    def test_stage_server_killed_before_its_reload_live_still_goes_live_and_agrees(self, site: Site) -> None:
        start(site)
        killed: list[int] = []
        code, out, err = swap_live_with(
            site, "exchange:", lambda: killed.append(kill_server(site, "stage")), "--timeout", "30"
        )
        assert code == 0, out + err
        state = links.read_links(site.root)
        assert state == links.LinkState("green", "blue")
        # The live server serves what the live link names: the swap is not undone for the stage server.
        assert served_slot(site, "live") == "green"
        assert served_slot(site, "stage") is None
        assert f"The server pid {killed[0]} from {site.root.path / 'run' / 'stage.pid'} is not running" in out
        assert "Start the stage server again (through the stage link it serves blue)" in out
        assert "'manage.py swap_live --rollback' undoes the swap" in out
        record = history.last(site.root, kinds=("swap",))
        assert record is not None
        assert (record.from_slot, record.to_slot, record.result) == ("blue", "green", "ok")

    def test_stage_server_crashing_during_verification_is_reported_with_what_to_do(self, site: Site) -> None:
        start(site)
        code, out, err = swap_live_with(
            site, "verify:", lambda: kill_server(site, "stage"), "--timeout", "30"
        )
        assert code == 0, out + err
        assert links.read_links(site.root) == links.LinkState("green", "blue")
        assert served_slot(site, "live") == "green"
        assert f"Warning: the stage server ({site.url('stage')}) does not answer" in out
        assert "Start the stage server again (through the stage link it serves blue)" in out
        assert "'manage.py swap_live --rollback' undoes the swap" in out


class LiveServerDiesTests:
    def test_new_live_server_crashing_as_it_is_verified_is_reported_exactly(self, site: Site) -> None:
        commit_file(
            site.source, "example_project/mysite/wsgi.py", CRASHING_WSGI, "v3: a crash on verification"
        )
        new_revision = site.update_slot("green")
        old_revision = (site.slot_dir("blue") / "REVISION").read_text().strip()
        start(site, stage_url=False)
        (site.root.path / "run" / "crash-on-verify").touch()
        code, out, err = swap_live_with(site, "verify:", lambda: None, "--timeout", "5")
        (site.root.path / "run" / "crash-on-verify").unlink()
        assert code == ExitCode.UNCERTAIN, out + err
        assert links.read_links(site.root) == links.LinkState("blue", "green")
        assert served_slot(site, "live") is None
        # What each server and link holds, and what to run.
        assert "The new slot green did not go live" in err
        assert f"The links were swapped back: live -> blue (revision {old_revision}), stage -> green" in err
        assert f"the live server ({site.url('live')}) does not answer" in err
        assert "Start the live server again: through the live link it serves blue" in err
        assert new_revision in err  # the new slot's, as the links now say
        record = [r for r in history.read(site.root) if r.kind == "swap"][-1]
        assert record.result == "failed"
        assert "does not answer" in record.message

        # Doing what it says repairs it.
        site.start_server("live")
        completed = site.manage("live", "swap_live", "--reload-servers", "--timeout", "30", check=False)
        assert completed.returncode == 0, completed.stdout + completed.stderr
        assert "Reloaded: live -> blue, stage -> green; verified by the live server." in completed.stdout
        assert served_slot(site, "live") == "blue"
        assert [r.result for r in history.read(site.root) if r.kind == "reload"] == ["ok"]


class ReloadServersTests:
    def test_servers_that_disagree_with_the_links_are_brought_onto_them(self, site: Site) -> None:
        start(site)
        # Links exchanged without a reload: both servers now serve the other link's slot.
        site.manage("live", "swap_live", "--no-reload")
        assert links.read_links(site.root) == links.LinkState("green", "blue")
        assert (served_slot(site, "live"), served_slot(site, "stage")) == ("blue", "green")
        completed = site.manage("live", "swap_live", "--reload-servers", "--format", "json", check=False)
        outcome = json.loads(completed.stdout)
        assert completed.returncode == 0, completed.stderr
        assert (outcome["action"], outcome["result"], outcome["verified"]) == ("reload", "ok", True)
        assert (served_slot(site, "live"), served_slot(site, "stage")) == ("green", "blue")
        record = [r for r in history.read(site.root) if r.kind == "reload"][-1]
        assert (record.result, record.to_slot) == ("ok", "green")

    def test_a_live_server_that_is_down_is_said_to_be_down(self, site: Site) -> None:
        start(site)
        kill_server(site, "live")
        completed = site.manage("live", "swap_live", "--reload-servers", "--timeout", "2", check=False)
        assert completed.returncode == ExitCode.UNCERTAIN
        assert f"the live server ({site.url('live')}) does not answer" in completed.stderr
        assert "Start the live server again: through the live link it serves blue" in completed.stderr
        assert links.read_links(site.root) == links.LinkState("blue", "green")
