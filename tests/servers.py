"""Real servers for tests: a free port, a gunicorn that answers before the test goes on, and the
live and stage servers of a deploy root.

    with GunicornServer("myproject.wsgi:application", cwd=project_dir, env=env) as server:
        urllib.request.urlopen(server.url + "/")

The server's output goes to ``server.log_path``; ``server.log()`` returns it for assertion
messages. ``serve`` starts a deploy root's servers (gunicorn through the links, or uWSGI) the way
the reload adapters expect them.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any, Literal

import sh

if TYPE_CHECKING:
    # Only for annotations: tests.deployment imports free_port from here.
    from tests.deployment import Site

# gunicorn through this module re-executes itself correctly on USR2 (see its docstring): what a
# server reloaded by the gunicorn adapter must be started with.
LAUNCHER = "django_deploykit.gunicorn_launcher"


def free_port() -> int:
    """A loopback TCP port that was free a moment ago: one to serve on, or one nothing listens on."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class ServerError(RuntimeError):
    pass


class GunicornServer:
    def __init__(
        self,
        wsgi_app: str,
        *,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        workers: int = 2,
        startup_timeout: float = 30.0,
        log_path: Path | None = None,
        module: str = "gunicorn",
        pidfile: Path | None = None,
    ) -> None:
        """``module`` is what ``python -m`` runs (``LAUNCHER`` for a server that is reloaded);
        ``pidfile`` is gunicorn's ``--pid``, for a reload adapter to read."""
        self.wsgi_app = wsgi_app
        self.cwd = cwd
        self.env = {**os.environ, **(env or {})}
        self.workers = workers
        self.startup_timeout = startup_timeout
        self.module = module
        self.pidfile = pidfile
        self.port = free_port()
        self.log_path = log_path or cwd / f"gunicorn-{self.port}.log"
        self._process: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> GunicornServer:
        gunicorn = sh.Command(sys.executable).bake("-m", self.module)
        pid_option = ["--pid", str(self.pidfile)] if self.pidfile else []
        self._process = gunicorn(
            *pid_option,
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--access-logfile",
            "-",
            "--graceful-timeout",
            "2",
            self.wsgi_app,
            _cwd=str(self.cwd),
            _env=self.env,
            _out=str(self.log_path),
            _err_to_out=True,
            _bg=True,
            _bg_exc=False,
        )
        self._wait_until_up()
        return self

    def _wait_until_up(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if not self._process.is_alive():
                raise ServerError(f"gunicorn exited during startup:\n{self.log()}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2):  # noqa: S310 - our own http URL
                    return
            except urllib.error.HTTPError:
                return  # any HTTP answer means a worker is serving
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise ServerError(f"gunicorn did not answer within {self.startup_timeout} s:\n{self.log()}")

    def stop(self) -> None:
        if self._process is None:
            return
        # A master started by a USR2 reload is not our child: its pid is only in the pid files
        # (gunicorn writes <pidfile>.2 while two masters run).
        if self.pidfile is not None:
            for path in self.pidfile.parent.glob(self.pidfile.name + "*"):
                with contextlib.suppress(ValueError, OSError):
                    os.kill(int(path.read_text().strip()), signal.SIGTERM)
        with contextlib.suppress(ProcessLookupError):
            self._process.terminate()
        with contextlib.suppress(sh.ErrorReturnCode, sh.SignalException):
            self._process.wait(timeout=10)
        if self._process.is_alive():
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()
        self._process = None

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def __enter__(self) -> GunicornServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def fetch(
    url: str, headers: Mapping[str, str] | None = None, timeout: float = 5
) -> tuple[int, dict[str, str], bytes]:
    """GET ``url``; HTTP errors are answers too (returns status, headers, body)."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"fetch() takes http(s) URLs only, not {url!r}.")
    request = urllib.request.Request(url, headers=dict(headers or {}))  # noqa: S310 - checked above
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - checked above
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


ServerKind = Literal["gunicorn", "uwsgi"]


def serve(
    site: Site,
    *links: str,
    server: ServerKind = "gunicorn",
    urls: Iterable[str] = (),
    **env: str,
) -> None:
    """Serve each of ``links`` (the slot links "live", "stage") of ``site`` on a fresh port.

    The shared .env gets ``env``, and ``DEPLOYKIT_<LINK>_URL`` for each link in ``urls``, before
    the servers start, so they read them. gunicorn runs through the links with a pid file, as the
    gunicorn reload adapter expects; uWSGI re-executes when ``run/<link>.reload`` is touched, as the
    touch adapter expects.
    """
    site.ports = {link: free_port() for link in links}
    link_urls = {f"DEPLOYKIT_{link.upper()}_URL": site.url(link) for link in urls}
    site.write_env(**link_urls, **env)
    for link in links:
        if server == "gunicorn":
            site.start_server(link)
        else:
            site.start_uwsgi(link)
