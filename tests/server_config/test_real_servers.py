"""The files 'manage.py server_config' renders, run by the real programs they are written for.

One deploy root of example_project (real slot virtualenvs) serves every test of this module:

* nginx (``/usr/sbin/nginx``) with the rendered site in front of live and stage gunicorn, started the way
  the rendered gunicorn settings say: proxying, the stage port, static files from shared/static, the
  stage robots.txt, the static maintenance page while live is down, the app's own 503 passing through;
* uWSGI from the rendered ini in an empty environment: the ini alone selects the production settings, and
  touching the rendered reload file reloads it;
* ``systemd-analyze verify`` on the rendered units and ``logrotate -d`` on the rendered logrotate file, for
  gunicorn and for uWSGI renders.

All traffic goes to 127.0.0.1; every process is bounded by a timeout and stopped in a ``finally``.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.deployment import BARE_ENVIRONMENT, Site, build_site
from tests.servers import fetch, free_port
from tests.services import missing_tool

# The real web and app servers: they run in one tox environment only (tox.ini says which).
pytestmark = pytest.mark.servers

NGINX = Path("/usr/sbin/nginx")
NAME = "mysite"
# Through nginx (which always sends X-Forwarded-For) the revision endpoint answers with the token only.
TOKEN = "server-config-test-token-0123456789"
GENERIC_PAGE_TEXT = "The site is temporarily unavailable."
REVISION_PATH = "/-/deploykit/revision/"


@dataclass
class Ports:
    listen: int
    stage_listen: int
    live: int
    stage: int


@dataclass
class World:
    site: Site
    ports: Ports
    base: Path

    @property
    def root(self) -> Path:
        return self.site.root.path

    @property
    def servers_dir(self) -> Path:
        return self.site.root.servers_dir

    def slot_of(self, link: str) -> str:
        return os.readlink(self.root / link).rstrip("/").rsplit("/", 1)[-1]

    def revision_of(self, link: str) -> str:
        return (self.root / link / "REVISION").read_text().strip()

    def write_env(self, app_server: str, *, production_in_env: bool) -> None:
        servers = {
            "user": "root",
            "server_name": "localhost",
            "listen": self.ports.listen,
            "stage_listen": self.ports.stage_listen,
            "live_bind": f"127.0.0.1:{self.ports.live}",
            "stage_bind": f"127.0.0.1:{self.ports.stage}",
            "app_server": app_server,
            "workers": 2,
        }
        self.site.write_env(
            DEPLOYKIT_SERVERS=f"'{json.dumps(servers)}'",
            DEPLOYKIT_MAINTENANCE_TRUSTED_PROXIES="127.0.0.1/32",
            DEPLOYKIT_REVISION_TOKEN=TOKEN,
        )
        if not production_in_env:
            env_file = self.site.root.shared_dir / ".env"
            lines = env_file.read_text().splitlines(keepends=True)
            env_file.write_text("".join(line for line in lines if not line.startswith("PRODUCTION=")))

    def render(self, app_server: str, *, production_in_env: bool = True) -> None:
        """DEPLOYKIT_SERVERS for ``app_server`` in shared/.env, then server_config in the live slot."""
        self.write_env(app_server, production_in_env=production_in_env)
        self.site.manage("live", "server_config", env={"PRODUCTION": "1"})
        # What the units' ExecStartPre does before an app server starts.
        for folder in (self.site.root.run_dir, self.site.root.server_logs_dir):
            folder.mkdir(mode=0o755, parents=True, exist_ok=True)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    base = tmp_path_factory.mktemp("server-config")
    site = build_site(base)
    world = World(site, Ports(free_port(), free_port(), free_port(), free_port()), base)
    site.manage("live", "migrate", "-v0")
    try:
        yield world
    finally:
        site.stop_servers()


# -- processes -------------------------------------------------------------------------------------------


def start(args: list[str], log: Path, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    with log.open("ab") as output:
        return subprocess.Popen(
            args,
            env=env if env is not None else BARE_ENVIRONMENT,
            stdout=output,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )


def stop(process: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
    if process is None or process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def tail(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-4000:]
    except FileNotFoundError:
        return f"({path} does not exist)"


def wait_until(
    what: str,
    probe: Callable[[], tuple[int, dict[str, str], bytes] | None],
    accept: Callable[[int, dict[str, str], bytes], bool],
    timeout: float = 30,
    logs: tuple[Path, ...] = (),
) -> tuple[int, dict[str, str], bytes]:
    """Poll ``probe`` (at most ``timeout`` seconds, at most 300 tries) until ``accept`` holds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    for _ in range(300):
        try:
            answer = probe()
        except OSError as error:
            answer, last = None, error
        if answer is not None:
            last = answer[0], answer[2][:300]
            if accept(*answer):
                return answer
        if time.monotonic() > deadline:
            break
        time.sleep(0.1)
    raise AssertionError(
        f"{what}: no acceptable answer in {timeout} s (last: {last!r})\n" + "\n".join(map(tail, logs))
    )


def get(port: int, path: str, **headers: str) -> tuple[int, dict[str, str], bytes]:
    return fetch(f"http://127.0.0.1:{port}{path}", headers=headers, timeout=5)


def revision_through(port: int) -> dict[str, Any]:
    status, _, body = get(port, REVISION_PATH, **{"X-Deploykit-Token": TOKEN})
    assert status == 200, body[:500]
    data: dict[str, Any] = json.loads(body)
    return data


def start_gunicorn(world: World, link: str) -> subprocess.Popen[bytes]:
    """As the rendered unit's ExecStart does, with a service manager's bare environment."""
    config = world.servers_dir / f"gunicorn-{link}.conf.py"
    python = world.root / link / ".venv" / "bin" / "python"
    return start(
        [str(python), "-m", "django_deploykit.gunicorn_launcher", "--config", str(config)],
        world.base / f"gunicorn-{link}.out",
    )


NGINX_CONF = """user root;
worker_processes 1;
daemon off;
pid {folder}/nginx.pid;
error_log {folder}/error.log info;
events {{ worker_connections 64; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    access_log {folder}/access.log;
    client_body_temp_path {folder}/client_body;
    proxy_temp_path {folder}/proxy;
    fastcgi_temp_path {folder}/fastcgi;
    uwsgi_temp_path {folder}/uwsgi;
    scgi_temp_path {folder}/scgi;
    include {site};
}}
"""


# -- 1. nginx in front of live and stage gunicorn -------------------------------------------------------


def test_nginx_serves_the_rendered_site_in_front_of_gunicorn(world: World) -> None:
    if not NGINX.exists():
        missing_tool("nginx is not installed at /usr/sbin/nginx")
    site, ports = world.site, world.ports
    world.render("gunicorn")
    site.manage("live", "collectstatic", "--noinput", "-v0")
    folder = world.base / "nginx"
    folder.mkdir(exist_ok=True)
    conf = folder / "nginx.conf"
    conf.write_text(NGINX_CONF.format(folder=folder, site=world.servers_dir / f"nginx-{NAME}.conf"))
    tested = subprocess.run(
        [str(NGINX), "-t", "-c", str(conf), "-p", f"{folder}/"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert tested.returncode == 0, tested.stderr
    assert "[warn]" not in tested.stderr, tested.stderr
    # server_config wrote the generic page, since there was none.
    assert GENERIC_PAGE_TEXT in site.root.maintenance_page.read_text(encoding="utf-8")
    logs = (
        folder / "error.log",
        world.base / "gunicorn-live.out",
        site.root.server_logs_dir / "live.error.log",
    )
    nginx = live = stage = None
    try:
        nginx = start([str(NGINX), "-c", str(conf), "-p", f"{folder}/"], folder / "nginx.out")
        live = start_gunicorn(world, "live")
        stage = start_gunicorn(world, "stage")

        # The public site is served by live, through nginx.
        wait_until("the public site", lambda: get(ports.listen, "/"), lambda s, h, b: s == 200, logs=logs)
        seen = revision_through(ports.listen)
        assert (seen["slot"], seen["revision"]) == (world.slot_of("live"), world.revision_of("live"))
        assert seen["settings_mode"] == "production"
        # nginx is a proxy: without the token the endpoint refuses it.
        assert get(ports.listen, REVISION_PATH)[0] == 403

        # The stage port reaches the stage server.
        wait_until(
            "the stage site", lambda: get(ports.stage_listen, "/"), lambda s, h, b: s == 200, logs=logs
        )
        seen = revision_through(ports.stage_listen)
        assert (seen["slot"], seen["revision"]) == (world.slot_of("stage"), world.revision_of("stage"))
        assert world.slot_of("stage") != world.slot_of("live")

        # Static files come from shared/static, served by nginx itself.
        collected = site.root.shared_dir / "static" / "admin" / "css" / "base.css"
        assert collected.is_file()
        status, headers, body = get(ports.listen, "/static/admin/css/base.css")
        assert status == 200
        assert body == collected.read_bytes()
        assert "max-age=604800" in headers.get("Cache-Control", ""), headers
        assert headers.get("Server", "").startswith("nginx")

        # The stage site tells robots to stay away; the public one has no robots.txt of nginx's.
        status, headers, body = get(ports.stage_listen, "/robots.txt")
        assert status == 200
        assert headers["Content-Type"].startswith("text/plain")
        assert body.decode().splitlines() == ["User-agent: *", "Disallow: /"]

        # Live stopped: nginx answers with the static maintenance page.
        stop(live)
        live = None
        status, headers, body = wait_until(
            "the static maintenance page", lambda: get(ports.listen, "/"), lambda s, h, b: s == 503, logs=logs
        )
        assert GENERIC_PAGE_TEXT in body.decode()
        assert headers.get("Cache-Control") == "no-store", headers
        assert headers.get("Retry-After") == "60", headers
        assert headers["Content-Type"].startswith("text/html")
        # The stage site is unaffected.
        assert get(ports.stage_listen, "/")[0] == 200

        # Live again; an active window: the app's own 503 passes through nginx, with its message.
        live = start_gunicorn(world, "live")
        wait_until("live again", lambda: get(ports.listen, "/"), lambda s, h, b: s == 200, logs=logs)
        site.manage("live", "maintenance", "on", "--message", "Back at 15:00")
        try:
            status, headers, body = wait_until(
                "the app's maintenance 503",
                lambda: get(ports.listen, "/"),
                lambda s, h, b: s == 503,
                timeout=10,
                logs=logs,
            )
            text = body.decode()
            assert "Back at 15:00" in text
            assert headers.get("Server", "").startswith("nginx")
            # The app server stops during the window (as 'apachectl stop' in a hand procedure): visitors
            # still read the announced message, now from the static page 'maintenance on' wrote.
            stop(live)
            live = None
            status, headers, body = wait_until(
                "the window's static page",
                lambda: get(ports.listen, "/"),
                lambda s, h, b: s == 503 and b"Back at 15:00" in b,
                timeout=10,
                logs=logs,
            )
            assert headers.get("Cache-Control") == "no-store", headers
            live = start_gunicorn(world, "live")
        finally:
            site.manage("live", "maintenance", "off")
        wait_until(
            "after maintenance off", lambda: get(ports.listen, "/"), lambda s, h, b: s == 200, timeout=10
        )
        # 'off' put the generic page back for the next time the app server is down.
        assert GENERIC_PAGE_TEXT in site.root.maintenance_page.read_text(encoding="utf-8")
        assert "Back at 15:00" not in site.root.maintenance_page.read_text(encoding="utf-8")
    finally:
        stop(nginx, signal.SIGQUIT)
        stop(live)
        stop(stage)


# -- 2. uWSGI from the rendered ini, in an empty environment ----------------------------------------------

UWSGI = f"uwsgi=={importlib.metadata.version('uWSGI')}"


@pytest.fixture(scope="module")
def uwsgi_installed(world: World) -> None:
    """uWSGI in both slots' virtualenvs, by real pip from the run's wheel cache (the units name both)."""
    for slot in world.site.root.slot_names:
        world.site.pip_install(slot, UWSGI)


def test_uwsgi_ini_alone_selects_production_and_reloads_on_touch(world: World, uwsgi_installed: None) -> None:
    # No PRODUCTION in shared/.env: only the ini's env line can select the production settings.
    world.render("uwsgi", production_in_env=False)
    assert "PRODUCTION=" not in (world.site.root.shared_dir / ".env").read_text()
    ini = world.servers_dir / "uwsgi-live.ini"
    reload_file = world.site.root.run_dir / "live.reload"
    reload_file.touch()
    log = world.site.root.server_logs_dir / "live.error.log"
    port = world.ports.live
    process = start(
        ["env", "-i", str(world.root / "live" / ".venv" / "bin" / "uwsgi"), "--ini", str(ini)],
        world.base / "uwsgi-live.out",
        env={},
    )
    logs = (log, world.base / "uwsgi-live.out")
    try:
        _, _, body = wait_until(
            "uWSGI from the rendered ini",
            lambda: get(port, REVISION_PATH),
            lambda s, h, b: s == 200,
            logs=logs,
        )
        first = json.loads(body)
        assert first["settings_mode"] == "production", first
        assert first["slot"] == world.slot_of("live")
        assert first["sys_prefix"] == os.path.realpath(world.root / "live" / ".venv")

        # What the touch reload adapter does: the server comes back, freshly loaded. started_at has whole
        # seconds: touch a second after every worker seen so far started, so only a reloaded one is newer.
        seen = {first["pid"]: first["started_at"]}
        for _ in range(10):
            answer = json.loads(get(port, REVISION_PATH)[2])
            seen[answer["pid"]] = answer["started_at"]
        time.sleep(1.1)
        touched_at = datetime.now(UTC).replace(microsecond=0)
        assert all(datetime.fromisoformat(started) < touched_at for started in seen.values()), seen
        later = time.time() + 1
        os.utime(reload_file, (later, later))
        _, _, body = wait_until(
            "uWSGI after touching the reload file",
            lambda: get(port, REVISION_PATH),
            lambda s, h, b: s == 200 and datetime.fromisoformat(json.loads(b)["started_at"]) >= touched_at,
            logs=logs,
        )
        again = json.loads(body)
        assert again["pid"] not in seen
        assert again["settings_mode"] == "production"
        assert again["slot"] == world.slot_of("live")
        assert process.poll() is None, "the master exited on reload"
        assert f"{reload_file} has been touched" in log.read_text(errors="replace")
    finally:
        stop(process)


# -- deploy_check's finding -----------------------------------------------------------------------------


def test_deploy_check_reports_a_hand_edited_server_file(world: World) -> None:
    world.render("gunicorn")

    def server_files_finding() -> dict[str, str]:
        completed = world.site.manage("live", "deploy_check", "--format", "json", check=False)
        (found,) = [f for f in json.loads(completed.stdout)["findings"] if f["check"] == "server files"]
        return dict(found)

    assert server_files_finding()["level"] == "ok"
    nginx = world.servers_dir / f"nginx-{NAME}.conf"
    original = nginx.read_text()
    nginx.write_text(original.replace("client_max_body_size 10m;", "client_max_body_size 1g;"))
    try:
        found = server_files_finding()
        assert found["level"] == "warning"
        assert f"nginx-{NAME}.conf differs from what the settings render" in found["detail"]
        assert "server_config --check" in found["fix"]
    finally:
        nginx.write_text(original)


# -- 3. systemd units --------------------------------------------------------------------------------------


@pytest.mark.parametrize("app_server", ["gunicorn", "uwsgi"])
def test_systemd_analyze_verifies_the_units(world: World, uwsgi_installed: None, app_server: str) -> None:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        missing_tool("systemd-analyze is not installed")
    world.render(app_server)
    units = [f"{NAME}-{link}.service" for link in ("live", "stage")]
    if app_server == "gunicorn":
        units += [f"{NAME}-{link}.socket" for link in ("live", "stage")]
    paths = [str(world.servers_dir / unit) for unit in units]
    for path in paths:
        assert Path(path).is_file(), path
    completed = subprocess.run(
        [tool, "verify", *paths],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        env={**os.environ, "SYSTEMD_LOG_LEVEL": "notice"},
    )
    output = completed.stdout + completed.stderr
    about_ours = [
        line
        for line in output.splitlines()
        if str(world.servers_dir) in line or any(u in line for u in units)
    ]
    assert about_ours == [], output
    assert completed.returncode == 0, output


def test_gunicorn_serves_from_the_socket_unit_listening_socket(world: World) -> None:
    """What mysite-live.socket and .service do together: the socket listens, the first connection starts
    gunicorn (from the rendered settings, the unit's environment) on the inherited socket and is answered."""
    if shutil.which("systemd-socket-activate") is None:
        missing_tool("systemd-socket-activate is missing")
    world.render("gunicorn")
    service = (world.servers_dir / f"{NAME}-live.service").read_text()
    socket_unit = (world.servers_dir / f"{NAME}-live.socket").read_text()
    listen = next(
        line.split("=", 1)[1] for line in socket_unit.splitlines() if line.startswith("ListenStream=")
    )
    exec_start = next(line.split("=", 1)[1] for line in service.splitlines() if line.startswith("ExecStart="))
    environment = [line.split("=", 1)[1] for line in service.splitlines() if line.startswith("Environment=")]
    assert listen == f"127.0.0.1:{world.ports.live}"
    out = world.base / "socket-activated.out"
    process = start(
        [
            shutil.which("systemd-socket-activate") or "systemd-socket-activate",
            "--listen",
            listen,
            *(f"--setenv={variable}" for variable in environment),
            *exec_start.split(),
        ],
        out,
    )
    try:
        # The first request is what starts gunicorn; it waits in the socket's backlog meanwhile.
        _, _, body = wait_until(
            "gunicorn behind the activated socket",
            lambda: get(world.ports.live, REVISION_PATH),
            lambda s, h, b: s == 200,
            logs=(out, world.site.root.server_logs_dir / "live.error.log"),
        )
        seen = json.loads(body)
        assert (seen["slot"], seen["settings_mode"]) == (world.slot_of("live"), "production")
        # Had gunicorn bound the address itself rather than take the inherited socket, it would have
        # found the address in use and exited.
        assert process.poll() is None, tail(out)
    finally:
        stop(process)


# -- 4. logrotate -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("app_server", ["gunicorn", "uwsgi"])
def test_logrotate_accepts_the_rendered_file(world: World, app_server: str) -> None:
    tool = shutil.which("logrotate") or (
        "/usr/sbin/logrotate" if Path("/usr/sbin/logrotate").exists() else None
    )
    if tool is None:
        missing_tool("logrotate is not installed")
    world.render(app_server)
    path = world.servers_dir / f"logrotate-{NAME}"
    info = path.stat()
    # logrotate refuses a file that is not root's or that others may write.
    assert info.st_uid == 0
    assert info.st_mode & 0o022 == 0, oct(info.st_mode)
    for log in ("live.access.log", "live.error.log"):
        # notifempty: a log with a line, so logrotate goes through the whole block.
        with (world.site.root.server_logs_dir / log).open("a") as file:
            file.write("a line\n")
    completed = subprocess.run(
        # -d: nothing is done; -f: go through a rotation anyway (su, create, the postrotate script).
        [tool, "-d", "-f", "-s", str(world.base / f"logrotate-{app_server}.state"), str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    output = completed.stdout + completed.stderr
    assert completed.returncode == 0, output
    assert [line for line in output.splitlines() if line.lstrip().lower().startswith("error")] == [], output
    assert "rotating pattern" in output, output
    assert "running postrotate script" in output, output
