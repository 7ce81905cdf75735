"""The demo: a sandbox deploy root of example_project, deployed twice with gunicorn serving live.

1. a local bare git repository as origin, holding example_project at v1;
2. a deploy root with two slots, each virtualenv installed by pip from the project's
   requirements (django-deploykit as a wheel built from this checkout, the rest from the
   package index), SQLite in the shared folder (WAL mode, busy timeout), gunicorn serving
   live and stage;
3. ``manage.py deploy`` of v1, then of v2, which adds a column (additive, before the swap)
   and drops one (destructive, after it), under a small load: every failed request is counted;
4. the history of both deploys.
"""

from __future__ import annotations

import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import sqlite3
import sys
import time
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import sh

import django_deploykit
from django_deploykit.demo.load import Load, LoadResult
from django_deploykit.demo.release import write_v2
from django_deploykit.deploy_root import create
from django_deploykit.deploy_root.layout import VENV_DIR, DeployRoot

Say = Callable[[str], None]
PROJECT: Final = "example_project"
REPOSITORY: Final = "https://github.com/django-deploykit/django-deploykit"
# What a service manager gives a server: no PRODUCTION, no DJANGO_SETTINGS_MODULE, no virtualenv.
SERVER_ENVIRONMENT: Final = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}
GIT_IDENTITY: Final = {
    "GIT_AUTHOR_NAME": "deploykit demo",
    "GIT_AUTHOR_EMAIL": "demo@example.invalid",
    "GIT_COMMITTER_NAME": "deploykit demo",
    "GIT_COMMITTER_EMAIL": "demo@example.invalid",
}


class DemoError(Exception):
    pass


@dataclass
class DemoResult:
    base: Path
    root: DeployRoot
    ports: dict[str, int]
    revisions: dict[str, str] = field(default_factory=dict)
    load: LoadResult = field(default_factory=LoadResult)
    live: dict[str, object] = field(default_factory=dict)


def check_requirements(source: Path | None = None) -> Path:
    """The example_project folder to deploy, once sure that the demo can run; it creates nothing.

    ``source`` defaults to the example_project next to the package, which only a checkout has.
    """
    if source is None:
        source = Path(django_deploykit.__file__).resolve().parent.parent / PROJECT
    if not (source / "manage.py").is_file():
        raise DemoError(
            f"The demo runs from a checkout of django-deploykit, not from an installed package (it needs {PROJECT}/ "
            f"and gunicorn): clone {REPOSITORY} and run pip install -e '.[demo]' in the clone."
        )
    if importlib.util.find_spec("gunicorn") is None:
        raise DemoError(
            "The demo serves the example project with gunicorn, which is not installed: run "
            "pip install -e '.[demo]' in the checkout."
        )
    return source


def _git(*args: str, cwd: Path) -> str:
    return str(sh.git(*args, _cwd=str(cwd), _env={**os.environ, **GIT_IDENTITY})).strip()


def copy_project(source: Path, repository: Path) -> None:
    """example_project laid out as a team's repository holds it: requirements.txt at the top."""
    shutil.copytree(
        source,
        repository / PROJECT,
        ignore=shutil.ignore_patterns("__pycache__", "*.sqlite3*", ".env", "static", "media"),
    )
    (repository / PROJECT / "requirements.txt").rename(repository / "requirements.txt")


def build_package_wheel(checkout: Path, base: Path, say: Say) -> Path:
    """A wheel of this checkout's django-deploykit, where the slots' pip finds it (--find-links).

    The slots install it as a user's requirements line brings it from the package index.
    """
    wheels = base / "wheels"
    tree = base / "build" / "django-deploykit"
    # Built from a copy, so the build writes nothing (build/, *.egg-info) into the checkout.
    shutil.copytree(
        checkout,
        tree,
        ignore=shutil.ignore_patterns(".git", ".tox", ".venv", "__pycache__", "build", "*.egg-info", "dist"),
    )
    try:
        sh.Command(sys.executable)(
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--disable-pip-version-check",
            "-w",
            str(wheels),
            str(tree),
        )
    except sh.ErrorReturnCode as exc:
        raise DemoError(
            f"pip could not build django-deploykit from {checkout}: {exc.stderr.decode(errors='replace')[-300:]}"
        ) from exc
    finally:
        shutil.rmtree(base / "build", ignore_errors=True)
    say(f"django-deploykit built as a wheel into {wheels}")
    return wheels


def make_origin(base: Path, source: Path, say: Say) -> tuple[Path, Path]:
    """A working repository of example_project and the bare repository it pushes to (the origin)."""
    work = base / "work"
    copy_project(source, work)
    _git("init", "--quiet", "--initial-branch=main", cwd=work)
    _git("add", "-A", cwd=work)
    _git("commit", "--quiet", "-m", "v1", cwd=work)
    origin = base / "origin.git"
    _git("clone", "--quiet", "--bare", str(work), str(origin), cwd=base)
    _git("remote", "add", "origin", str(origin), cwd=work)
    say(f"origin: a bare git repository at {origin}, example_project committed as v1")
    return work, origin


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def build_root(base: Path, origin: Path, say: Say) -> tuple[DeployRoot, dict[str, int]]:
    root = create.create_deploy_root(
        create.InitOptions(
            root=base / "site", source=str(origin), python=sys.executable, requirements="requirements.txt"
        ),
        progress=lambda line: say(f"deploykit_init {line}"),
    )
    database = root.shared_dir / "db.sqlite3"
    with sqlite3.connect(database) as connection:
        # WAL lets the two slots' servers read while a migration writes; it stays set in the file.
        connection.execute("PRAGMA journal_mode=WAL")
    ports = {"live": free_port(), "stage": free_port()}
    reload = json.dumps(
        {link: {"adapter": "gunicorn", "pidfile": f"run/{link}.pid"} for link in ("live", "stage")}
    )
    values = {
        "PRODUCTION": "",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        # The busy timeout: a writer waits up to 20 s for another instead of failing at once.
        "DATABASE_URL": f"sqlite:///{database}?timeout=20",
        "SECURE_COOKIES": "false",
        "DEPLOYKIT_RELOAD": reload,
        "DEPLOYKIT_LIVE_URL": f"http://127.0.0.1:{ports['live']}/-/deploykit/revision/",
        "DEPLOYKIT_STAGE_URL": f"http://127.0.0.1:{ports['stage']}/-/deploykit/revision/",
    }
    (root.shared_dir / ".env").write_text("".join(f"{k}={v}\n" for k, v in values.items()), encoding="utf-8")
    say(f"deploy root: {root.path} (slots blue and green, each with its own virtualenv; SQLite in WAL mode)")
    return root, ports


def start_server(root: DeployRoot, link: str, port: int) -> None:
    """gunicorn through the link, as the gunicorn reload adapter expects (docs/swap_live.md)."""
    run_dir = root.path / "run"
    run_dir.mkdir(exist_ok=True)
    base = root.path / link
    sh.Command(str(base / VENV_DIR / "bin" / "python"))(
        "-m",
        "django_deploykit.gunicorn_launcher",
        "--chdir",
        str(base / PROJECT),
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
        "--pid",
        str(run_dir / f"{link}.pid"),
        "--graceful-timeout",
        "5",
        "--error-logfile",
        str(run_dir / f"{link}.log"),
        "mysite.wsgi",
        _env=SERVER_ENVIRONMENT,
        _bg=True,
        _bg_exc=False,
        _out=os.devnull,
        _err=os.devnull,
    )
    url = f"http://127.0.0.1:{port}/-/deploykit/revision/"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.2)
    raise DemoError(f"The {link} server did not start; see {run_dir / f'{link}.log'}.")


def stop_servers(root: DeployRoot, timeout: float = 15.0) -> None:
    """SIGTERM each server and wait for gunicorn to remove its pidfile on the way out."""
    run_dir = root.path / "run"
    pidfiles = list(run_dir.glob("*.pid")) if run_dir.exists() else []
    for pidfile in pidfiles:
        try:
            os.kill(int(pidfile.read_text().strip()), signal.SIGTERM)
        except (ValueError, ProcessLookupError, OSError):
            pidfile.unlink(missing_ok=True)
    deadline = time.monotonic() + timeout
    while any(pidfile.exists() for pidfile in pidfiles) and time.monotonic() < deadline:
        time.sleep(0.1)


def _restore(variable: str, value: str | None) -> None:
    if value is None:
        os.environ.pop(variable, None)
    else:
        os.environ[variable] = value


def manage(root: DeployRoot, *args: str, say: Say) -> None:
    """Run manage.py in the live slot, printing its output line by line as it comes."""
    live = root.path / "live"
    try:
        sh.Command(str(live / VENV_DIR / "bin" / "python"))(
            "manage.py",
            *args,
            _cwd=str(live / PROJECT),
            # pip's own configuration reaches deploy_pull's dependencies stage, as on a server.
            _env={**SERVER_ENVIRONMENT, **{k: v for k, v in os.environ.items() if k.startswith("PIP_")}},
            # A pipe, not a terminal: no colour codes in what the demo prints.
            _tty_out=False,
            _out=lambda line: say("  " + line.rstrip()),
            _err=lambda line: say("  " + line.rstrip()),
        )
    except sh.ErrorReturnCode as exc:
        raise DemoError(f"manage.py {' '.join(args)} failed (exit {exc.exit_code}).") from exc


def read_live(port: int) -> dict[str, object]:
    url = f"http://127.0.0.1:{port}/-/deploykit/revision/"
    with urllib.request.urlopen(url, timeout=5) as response:
        data: dict[str, object] = json.loads(response.read())
    return data


def run(base: Path, say: Say = print, source: Path | None = None) -> DemoResult:
    """Build the sandbox under ``base`` and deploy v1 then v2; the servers are stopped at the end.

    ``source`` is the example_project folder; by default the one next to the installed package
    (an editable install of a checkout).
    """
    source = check_requirements(source)
    started = time.monotonic()
    base.mkdir(parents=True, exist_ok=True)
    say("== 1. origin and deploy root")
    work, origin = make_origin(base, source, say)
    wheels = build_package_wheel(source.parent, base, say)
    # Every pip of the demo (deploykit_init, deploy_pull) finds the package there, the rest on the index.
    find_links = os.environ.get("PIP_FIND_LINKS")
    os.environ["PIP_FIND_LINKS"] = " ".join(filter(None, [str(wheels), find_links]))
    try:
        root, ports = build_root(base, origin, say)
    except BaseException:
        _restore("PIP_FIND_LINKS", find_links)
        raise
    result = DemoResult(base, root, ports)
    try:
        say(f"== 2. gunicorn serving live (port {ports['live']}) and stage (port {ports['stage']})")
        start_server(root, "live", ports["live"])
        start_server(root, "stage", ports["stage"])
        say("== 3. deploy v1")
        manage(root, "deploy", "--yes", say=say)
        result.revisions["v1"] = _git("rev-parse", "HEAD", cwd=work)
        say("== 4. v2: a summary column (additive) and the old body column dropped (destructive)")
        paths = write_v2(work)
        _git("add", *paths, cwd=work)
        _git("commit", "--quiet", "-m", "v2: summary instead of body", cwd=work)
        _git("push", "--quiet", "origin", "main", cwd=work)
        result.revisions["v2"] = _git("rev-parse", "HEAD", cwd=work)
        say(f"== 5. deploy v2 under load on http://127.0.0.1:{ports['live']}/")
        with Load(f"http://127.0.0.1:{ports['live']}/") as load:
            manage(root, "deploy", "--yes", say=say)
        result.load = load.result
        say(f"load: {load.result.requests} requests, {len(load.result.failures)} failed")
        result.live = read_live(ports["live"])
        say(f"live serves slot {result.live.get('slot')} at {result.live.get('revision')} (v2)")
        say("== 6. the history")
        manage(root, "deploy_log", "--last", "8", say=say)
    finally:
        stop_servers(root)
        _restore("PIP_FIND_LINKS", find_links)
    say(f"The sandbox stays in {base}; delete it when done. Both servers were stopped.")
    # The figure the README quotes: the whole demo, the slots' pip installs included.
    say(f"The demo took {time.monotonic() - started:.0f} s.")
    return result
