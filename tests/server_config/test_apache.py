"""server_config's Apache files served by a real Apache with mod_wsgi, and a swap under load through them.

One deploy root for the module: example_project at v1 in both slots, the files rendered by
``manage.py server_config`` in the live slot, an Apache of the test's own (its httpd.conf only loads
modules, listens on two free loopback ports and includes the rendered vhost file) in the foreground.

mod_wsgi is Debian's libapache2-mod-wsgi-py3, built for Debian's /usr/bin/python3, so the slots'
virtualenvs are made from that interpreter: mod_wsgi's daemon processes run as www-data (mod_wsgi
refuses root), and must read their Python's standard library, which an interpreter below /root is not.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from django_deploykit.deploy_root import links
from tests.deployment import Site, build_site, commit_heading_v2
from tests.servers import free_port
from tests.services import missing_tool

# One of the longest end-to-end tests: it runs in one tox environment only (tox.ini says which).
# Its slots are made from Debian's Python (3.11, for Debian's mod_wsgi), which the newest Django does not
# support: it runs with the end-to-end tests, in the Django 5.2 environment (tox.ini).
pytestmark = pytest.mark.end_to_end

APACHE = Path("/usr/sbin/apache2")
MODULES = Path("/usr/lib/apache2/modules")
# Debian's mod_wsgi and the interpreter it is built for: the slots' virtualenvs must be of that Python.
MOD_WSGI = MODULES / "mod_wsgi.so"
SYSTEM_PYTHON = "/usr/bin/python3"
USER = "www-data"
NAME = "mysite"
REVISION_PATH = "/-/deploykit/revision/"
# A file collectstatic copies into shared/static.
STATIC_FILE = "admin/css/base.css"

HTTPD_CONF = """\
ServerRoot {apache_dir}
ServerName localhost
PidFile {apache_dir}/httpd.pid
ErrorLog {apache_dir}/error.log
LogLevel info
DefaultRuntimeDir {apache_dir}
Mutex file:{apache_dir} default
User {user}
Group {user}
LoadModule mpm_event_module {modules}/mod_mpm_event.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule alias_module {modules}/mod_alias.so
LoadModule mime_module {modules}/mod_mime.so
LoadModule wsgi_module {mod_wsgi}
TypesConfig /etc/mime.types
LogFormat "%h %t \\"%r\\" %>s %b %D" timed
CustomLog {apache_dir}/access.log timed
# The daemon processes' sockets: Debian's default folder (/var/run/apache2) is the system Apache's.
WSGISocketPrefix {apache_dir}/wsgi
Listen 127.0.0.1:{listen}
Listen 127.0.0.1:{stage_listen}
Include {servers_dir}/apache-{name}.conf
"""


def _missing() -> str | None:
    if not APACHE.exists():
        return f"{APACHE} is not installed (apache2)"
    if not MOD_WSGI.exists():
        return f"{MOD_WSGI} is not installed (libapache2-mod-wsgi-py3)"
    if not Path(SYSTEM_PYTHON).exists():
        return f"{SYSTEM_PYTHON} is not installed"
    if os.geteuid() != 0:
        return "Apache switches its children to www-data: the test must run as root"
    return None


@dataclass
class ApacheSite:
    site: Site
    base: Path
    apache_dir: Path
    conf: Path
    listen: int
    stage_listen: int
    process: subprocess.Popen[bytes] | None = None
    ports: dict[str, int] = field(default_factory=dict)

    def url(self, link: str, path: str = REVISION_PATH) -> str:
        return f"http://127.0.0.1:{self.ports[link]}{path}"

    def get(self, link: str, path: str = REVISION_PATH) -> tuple[int, bytes]:
        try:
            with urllib.request.urlopen(self.url(link, path), timeout=10) as response:  # noqa: S310 (local http)
                return response.status, response.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def revision(self, link: str) -> dict[str, Any]:
        status, body = self.get(link)
        assert status == 200, f"{status} from {link}:\n{body[:500]!r}\n{self.error_log()}"
        data: dict[str, Any] = json.loads(body)
        return data

    def error_log(self) -> str:
        log = self.apache_dir / "error.log"
        return log.read_text(errors="replace")[-4000:] if log.exists() else "(no error.log)"

    def apache(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(APACHE), "-d", str(self.apache_dir), "-f", str(self.conf), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            env={"PATH": "/usr/sbin:/usr/bin:/bin", "LANG": "C"},
        )

    def start(self) -> None:
        self.process = subprocess.Popen(
            [str(APACHE), "-DFOREGROUND", "-d", str(self.apache_dir), "-f", str(self.conf)],
            env={"PATH": "/usr/sbin:/usr/bin:/bin", "LANG": "C"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        for link in ("live", "stage"):
            while True:
                if self.process.poll() is not None:
                    raise AssertionError(f"Apache exited with {self.process.returncode}:\n{self.error_log()}")
                with contextlib.suppress(OSError):
                    if self.get(link)[0] == 200:
                        break
                if time.monotonic() > deadline:
                    raise AssertionError(
                        f"the {link} site did not answer 200 within 60 s:\n{self.error_log()}"
                    )
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def _open_path_to(path: Path) -> None:
    """Let www-data traverse every folder from / down to ``path`` (mkdtemp makes them 0700)."""
    for folder in [path, *path.parents]:
        if folder == Path("/"):
            break
        mode = folder.stat().st_mode & 0o7777
        if mode & 0o005 != 0o005:
            folder.chmod(mode | 0o055)


@pytest.fixture(scope="module")
def apache() -> Iterator[ApacheSite]:
    reason = _missing()
    if reason:
        missing_tool(reason)
    # pytest's tmp folders are 0700 and root's: www-data could not reach the deploy root in them.
    base = Path(tempfile.mkdtemp(prefix="deploykit-apache-", dir="/tmp"))
    try:
        _open_path_to(base)
        site = build_site(base, python=SYSTEM_PYTHON)
        listen, stage_listen = free_port(), free_port()
        apache_dir = base / "apache"
        apache_dir.mkdir(mode=0o755)
        served = ApacheSite(
            site=site,
            base=base,
            apache_dir=apache_dir,
            conf=apache_dir / "httpd.conf",
            listen=listen,
            stage_listen=stage_listen,
            ports={"live": listen, "stage": stage_listen},
        )
        servers = {
            "app_server": "mod_wsgi",
            "web_server": "apache",
            "user": USER,
            "group": USER,
            "server_name": "localhost",
            "listen": listen,
            "stage_listen": stage_listen,
            "workers": 2,
        }
        reload = {link: {"adapter": "touch", "path": f"servers/{link}.wsgi"} for link in ("live", "stage")}
        site.write_env(
            DEPLOYKIT_SERVERS=json.dumps(servers),
            DEPLOYKIT_RELOAD=json.dumps(reload),
            DEPLOYKIT_LIVE_URL=served.url("live"),
            DEPLOYKIT_STAGE_URL=served.url("stage"),
        )
        site.manage("live", "migrate", "-v0")
        site.manage("live", "collectstatic", "--noinput", "-v0")
        # deploykit_init, run by root, left shared/ and its .env to root: www-data could not read or write.
        rendered = site.manage("live", "server_config", "--format", "json")
        warnings = json.loads(rendered.stdout)["warnings"]
        assert [("could not read it" in w, "could not write" in w) for w in warnings] == [
            (True, False),
            (False, True),
        ], rendered.stdout
        # The daemon processes run as www-data: what they write (the database's journal) is theirs.
        shutil.chown(site.root.shared_dir, USER, USER)
        for dirpath, dirnames, filenames in os.walk(site.root.shared_dir):
            for name in dirnames + filenames:
                shutil.chown(Path(dirpath) / name, USER, USER)
        rendered = site.manage("live", "server_config", "--format", "json")
        assert json.loads(rendered.stdout)["warnings"] == [], rendered.stdout
        served.conf.write_text(
            HTTPD_CONF.format(
                apache_dir=apache_dir,
                user=USER,
                modules=MODULES,
                mod_wsgi=MOD_WSGI,
                listen=listen,
                stage_listen=stage_listen,
                servers_dir=site.root.servers_dir,
                name=NAME,
            )
        )
        try:
            yield served
        finally:
            served.stop()
    finally:
        shutil.rmtree(base, ignore_errors=True)


class ApacheTests:
    def test_the_rendered_vhost_passes_apaches_configuration_test(self, apache: ApacheSite) -> None:
        servers_dir = apache.site.root.servers_dir
        assert sorted(path.name for path in servers_dir.iterdir()) == [
            f"apache-{NAME}.conf",
            "live.wsgi",
            "robots-stage.txt",
            "stage.wsgi",
        ]
        completed = apache.apache("-t")
        assert completed.returncode == 0, completed.stdout + completed.stderr
        assert "Syntax OK" in completed.stderr

    def test_the_public_port_serves_live_the_stage_port_stage_and_static_files(
        self, apache: ApacheSite
    ) -> None:
        apache.start()
        state = links.read_links(apache.site.root)
        for link, slot in (("live", state.live), ("stage", state.stage)):
            report = apache.revision(link)
            assert report["slot"] == slot
            assert report["settings_mode"] == "production"
            assert report["revision"] == (apache.site.slot_dir(slot) / "REVISION").read_text().strip()
        status, body = apache.get("live", "/")
        assert status == 200, body[:500]
        assert b"<h1>Notes</h1>" in body
        status, body = apache.get("live", f"/static/{STATIC_FILE}")
        assert status == 200
        assert body == (apache.site.root.shared_dir / "static" / STATIC_FILE).read_bytes()
        status, body = apache.get("stage", "/robots.txt")
        assert (status, body) == (200, b"User-agent: *\nDisallow: /\n")

    def test_a_swap_under_load_serves_the_new_revision_with_no_failed_request(
        self, apache: ApacheSite
    ) -> None:
        if apache.process is None or apache.process.poll() is not None:
            apache.start()
        site = apache.site
        state = links.read_links(site.root)
        v2 = commit_heading_v2(site.source)
        assert site.update_slot(state.stage) == v2
        # The stage daemon reloads as a deploy's reload of the stage link would make it: touched script.
        (site.root.servers_dir / "stage.wsgi").touch()
        deadline = time.monotonic() + 30
        while apache.revision("stage")["revision"] != v2:
            assert time.monotonic() < deadline, f"the stage site did not serve {v2}:\n{apache.error_log()}"
            time.sleep(0.2)

        v1 = apache.revision("live")["revision"]
        load = Load(apache.url("live"), apache.url("live", "/"))
        load.start(threads=3)
        try:
            time.sleep(1)
            completed = site.manage("live", "swap_live", "--format", "json", "--timeout", "60")
            time.sleep(1)
        finally:
            load.stop()
        outcome = json.loads(completed.stdout)
        assert outcome["result"] == "ok", completed.stdout + completed.stderr
        assert outcome["verified"] is True
        assert outcome["after"] == {"live": state.stage, "stage": state.live}

        after = apache.revision("live")
        assert (after["slot"], after["revision"]) == (state.stage, v2)
        assert apache.revision("stage")["slot"] == state.live
        status, body = apache.get("live", "/")
        assert status == 200
        assert b"<h1>Notes v2</h1>" in body
        assert load.failures == [], f"{len(load.failures)} of {load.requests} failed: {load.failures[:5]}"
        # The clients ran through the whole swap: they saw the old revision, then the new one.
        assert not load.ran_out, f"a client stopped before the swap ended ({load.requests} requests)"
        assert {v1, v2} <= load.revisions, load.revisions


class Load:
    """Client threads requesting ``urls`` in turn until stopped, bounded in count and time.

    Each answer of the first URL (the revision endpoint) adds the revision it reports to ``revisions``.
    """

    MAX_REQUESTS = 20_000  # per thread
    MAX_SECONDS = 120.0
    PAUSE = 0.005  # between two requests of a thread: load, not a benchmark, on a shared machine

    def __init__(self, *urls: str) -> None:
        self.urls = urls
        self.requests = 0
        self.failures: list[str] = []
        self.revisions: set[str] = set()
        self.ran_out = False
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self, threads: int) -> None:
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]
        for thread in self._threads:
            thread.start()

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=30)

    def _run(self) -> None:
        deadline = time.monotonic() + self.MAX_SECONDS
        for number in range(self.MAX_REQUESTS):
            if self._stop.is_set():
                return
            if time.monotonic() > deadline:
                break
            url = self.urls[number % len(self.urls)]
            failure = None
            revision = None
            try:
                with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (local http)
                    body = response.read()
                    if response.status != 200:
                        failure = f"{response.status} from {url}"
                    elif url == self.urls[0]:
                        revision = json.loads(body)["revision"]
            except urllib.error.HTTPError as exc:
                failure = f"{exc.code} from {url}"
            except OSError as exc:
                failure = f"{exc!r} from {url}"
            except ValueError as exc:
                failure = f"{exc!r} from {url}"
            with self._lock:
                self.requests += 1
                if failure:
                    self.failures.append(failure)
                if revision:
                    self.revisions.add(revision)
            time.sleep(self.PAUSE)
        self.ran_out = True
