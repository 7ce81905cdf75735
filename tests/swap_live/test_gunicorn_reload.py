"""The gunicorn reload adapter against a real gunicorn: reloads in quick succession (a swap, then its undo)."""

from __future__ import annotations

import os
import signal
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from django_deploykit.processes import process_alive
from django_deploykit.servers.reload import GunicornReloader, ReloadError
from tests.servers import LAUNCHER, GunicornServer

APP = """import os


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(os.getppid()).encode()]
"""

# Where the fixture's gunicorn writes its pid, below its folder.
PIDFILE = Path("run/app.pid")


def master(server: GunicornServer) -> int:
    """The pid of the master serving the port: the parent of the worker that answers."""
    with urllib.request.urlopen(server.url + "/", timeout=5) as response:  # noqa: S310 - our own http URL
        return int(response.read())


def wait_for_a_master(server: GunicornServer, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            master(server)
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[GunicornServer]:
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "run").mkdir()
    with GunicornServer(
        "app:application",
        cwd=tmp_path,
        workers=1,
        log_path=tmp_path / "gunicorn.log",
        module=LAUNCHER,
        pidfile=tmp_path / PIDFILE,
    ) as server:
        yield server


class QuickSuccessionTests:
    def test_a_reload_right_after_a_reload_gives_a_new_master_each_time(self, server: GunicornServer) -> None:
        # gunicorn ignores USR2 ("Parent exists") until a re-executed master has noticed, up to
        # a second later, that its old master is gone; a swap undone at once reloads that soon.
        reloader = GunicornReloader(server.cwd / PIDFILE, timeout=10)
        masters = [master(server)]
        for _ in range(4):
            reloader.reload()
            masters.append(master(server))
            assert int((server.cwd / PIDFILE).read_text()) == masters[-1]
        assert len(set(masters)) == len(masters), masters
        log = server.log()
        assert "Shutting down: Master" in log  # each old master, gracefully
        wait_for_a_master(server, timeout=1)

    def test_a_dead_master_is_not_said_to_keep_serving(self, server: GunicornServer) -> None:
        pid = int((server.cwd / PIDFILE).read_text())
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while process_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        with pytest.raises(ReloadError, match=f"The server pid {pid} from .* is not running"):
            GunicornReloader(server.cwd / PIDFILE, timeout=3).reload()
