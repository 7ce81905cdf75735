"""The gunicorn reload adapter against a real gunicorn: reloads in quick succession (a swap, then its undo)."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from django_deploykit.swap_live.reload import GunicornReloader, ReloadError, _alive
from tests.servers import free_port

APP = """import os


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [str(os.getppid()).encode()]
"""


class Server:
    def __init__(self, base: Path) -> None:
        self.base = base
        self.port = free_port()
        self.pidfile = base / "run" / "app.pid"

    def master(self) -> int:
        """The pid of the master serving the port: the parent of the worker that answers."""
        with urllib.request.urlopen(f"http://127.0.0.1:{self.port}/", timeout=5) as response:
            return int(response.read())

    def wait_until_up(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.master()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    (tmp_path / "app.py").write_text(APP)
    (tmp_path / "run").mkdir()
    server = Server(tmp_path)
    with open(tmp_path / "gunicorn.log", "w") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "django_deploykit.gunicorn_launcher",
                "--chdir",
                str(tmp_path),
                "--bind",
                f"127.0.0.1:{server.port}",
                "--workers",
                "1",
                "--pid",
                str(server.pidfile),
                "--graceful-timeout",
                "2",
                "app:application",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        server.wait_until_up()
        yield server
    finally:
        for path in server.base.joinpath("run").glob("app.pid*"):
            with contextlib.suppress(ValueError, OSError):
                os.kill(int(path.read_text().strip()), signal.SIGTERM)
        process.terminate()
        process.wait(timeout=15)


class QuickSuccessionTests:
    def test_a_reload_right_after_a_reload_gives_a_new_master_each_time(self, server: Server) -> None:
        # gunicorn ignores USR2 ("Parent exists") until a re-executed master has noticed, up to
        # a second later, that its old master is gone; a swap undone at once reloads that soon.
        reloader = GunicornReloader(server.pidfile, timeout=10)
        masters = [server.master()]
        for _ in range(4):
            reloader.reload()
            masters.append(server.master())
            assert int(server.pidfile.read_text()) == masters[-1]
        assert len(set(masters)) == len(masters), masters
        log = (server.base / "gunicorn.log").read_text()
        assert "Shutting down: Master" in log  # each old master, gracefully
        server.wait_until_up(timeout=1)

    def test_a_dead_master_is_not_said_to_keep_serving(self, server: Server) -> None:
        pid = int(server.pidfile.read_text())
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        with pytest.raises(ReloadError, match=f"The server pid {pid} from .* is not running"):
            GunicornReloader(server.pidfile, timeout=3).reload()
