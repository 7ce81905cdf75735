"""Real deploy roots for tests: a git repository of example_project, two slots, real virtualenvs.

Each slot's virtualenv is made by deploykit_init and filled by real pip from the project's
requirements file, from the run's wheel cache (tests/slot_packages.py): the path a user takes.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from django_deploykit.demo import release, sandbox
from django_deploykit.deploy_root import create, revision
from django_deploykit.deploy_root.layout import DeployRoot
from tests import slot_packages
from tests.servers import free_port

REPO_ROOT = Path(__file__).resolve().parent.parent
STRONG_KEY = "deploy-tests-" + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
GIT_ENV = {
    "GIT_AUTHOR_NAME": "tests",
    "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "tests",
    "GIT_COMMITTER_EMAIL": "tests@example.invalid",
}
# The notes page's template, in the source repository.
NOTES_INDEX = "example_project/notes/templates/notes/index.html"
# What a service manager gives a server: no PRODUCTION, no DJANGO_SETTINGS_MODULE, no virtualenv.
BARE_ENVIRONMENT = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-C", str(repo), *args],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, **GIT_ENV},
    ).stdout.strip()


def make_source_repo(base: Path) -> Path:
    """A git repository holding a copy of example_project, committed as v1."""
    repo = base / "source"
    sandbox.copy_project(REPO_ROOT / "example_project", repo)
    git(repo.parent, "init", "--quiet", "--initial-branch=main", str(repo))
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", "v1")
    git(repo, "tag", "v1")
    return repo


def commit_change(repo: Path, path: str, old: str, new: str, message: str) -> str:
    target = repo / path
    target.write_text(target.read_text().replace(old, new))
    git(repo, "commit", "--quiet", "-am", message)
    return git(repo, "rev-parse", "HEAD")


def commit_heading_v2(repo: Path) -> str:
    """v2, a change of code only: the notes page's heading says "Notes v2". Returns the commit."""
    return commit_change(repo, NOTES_INDEX, "<h1>Notes</h1>", "<h1>Notes v2</h1>", "v2")


def commit_file(repo: Path, path: str, content: str, message: str) -> str:
    """Write (or overwrite) a file in the source repository and commit it; return the commit."""
    target = repo / path
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(content)
    git(repo, "add", path)
    git(repo, "commit", "--quiet", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def commit_files(repo: Path, files: dict[str, str], message: str) -> str:
    for path, content in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(content)
    git(repo, "add", "-A")
    git(repo, "commit", "--quiet", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def commit_summary_column(repo: Path) -> str:
    """v2: an additive migration (a nullable column) and the model that uses it."""
    models = (repo / "example_project/notes/models.py").read_text()
    return commit_files(
        repo,
        {
            "example_project/notes/migrations/0003_note_summary.py": release.ADD_SUMMARY,
            "example_project/notes/models.py": models.replace(
                "    created =",
                "    summary = models.CharField(max_length=200, null=True, blank=True)\n    created =",
            ),
        },
        "v2: notes get a summary",
    )


def commit_drop_body(repo: Path) -> str:
    """v3: a destructive migration dropping a column the v1 code still reads."""
    models = (repo / "example_project/notes/models.py").read_text()
    return commit_files(
        repo,
        {
            "example_project/notes/migrations/0004_remove_note_body.py": release.DROP_BODY,
            "example_project/notes/models.py": models.replace(
                '    body = models.TextField(blank=True, db_default="")\n', ""
            ),
        },
        "v3: notes lose their body",
    )


@dataclass
class Site:
    root: DeployRoot
    source: Path
    ports: dict[str, int] = field(default_factory=dict)
    servers: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def slot_dir(self, slot: str) -> Path:
        return self.root.path / slot

    def manage(
        self, link_or_slot: str, *args: str, env: dict[str, str] | None = None, check: bool = True
    ) -> Any:
        base = self.root.path / link_or_slot
        completed = subprocess.run(
            [str(base / ".venv" / "bin" / "python"), "manage.py", *args],
            cwd=base / "example_project",
            env={**BARE_ENVIRONMENT, **slot_packages.pip_environment_in_use(), **(env or {})},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if check and completed.returncode != 0:
            raise AssertionError(
                f"manage.py {args} exited {completed.returncode}:\n{completed.stdout}\n{completed.stderr}"
            )
        return completed

    def write_env(self, **extra: str) -> None:
        values = {
            "PRODUCTION": "",
            "SECRET_KEY": STRONG_KEY,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "DATABASE_URL": f"sqlite:///{self.root.shared_dir / 'db.sqlite3'}",
            "SECURE_COOKIES": "false",
            **extra,
        }
        (self.root.shared_dir / ".env").write_text(
            "".join(f"{key}={value}\n" for key, value in values.items())
        )

    def update_slot(self, slot: str, ref: str = "main") -> str:
        """Fast-forward a slot to the source's ref and write its REVISION (what deploy_pull will do)."""
        git(self.slot_dir(slot), "pull", "--quiet", "--ff-only", "origin", ref)
        return revision.write_revision(self.slot_dir(slot))

    def pip_install(self, slot: str, *requirements: str) -> None:
        """Real pip in the slot's virtualenv, from the run's wheel cache."""
        slot_packages.add_to_wheelhouse(*requirements)
        subprocess.run(
            [
                str(self.slot_dir(slot) / ".venv" / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "--quiet",
                *requirements,
            ],
            check=True,
            capture_output=True,
            env={**os.environ, **slot_packages.pip_environment()},
        )

    def start_server(self, link: str) -> None:
        """Serve ``link`` with gunicorn the way the reload adapter expects: through the link (as the demo does)."""
        sandbox.start_server(self.root, link, self.ports.setdefault(link, free_port()))

    def start_uwsgi(self, link: str) -> None:
        """Serve ``link`` with uWSGI, re-executed on touch: home and chdir go through the link."""
        port = self.ports.setdefault(link, free_port())
        run_dir = self.root.path / "run"
        run_dir.mkdir(exist_ok=True)
        (run_dir / f"{link}.reload").touch()
        base = self.root.path / link
        uwsgi = Path(sys.executable).with_name("uwsgi")
        self.servers[link] = subprocess.Popen(
            [
                str(uwsgi),
                "--master",
                "--http-socket",
                f"127.0.0.1:{port}",
                "--processes",
                "2",
                "--home",
                str(base / ".venv"),
                "--chdir",
                str(base / "example_project"),
                "--module",
                "mysite.wsgi:application",
                "--touch-reload",
                str(run_dir / f"{link}.reload"),
                "--pidfile",
                str(run_dir / f"{link}.pid"),
                "--lazy-apps",
                "--die-on-term",
                "--need-app",
                "--logto",
                str(run_dir / f"{link}.log"),
            ],
            env=BARE_ENVIRONMENT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.wait_for(link)

    def url(self, link: str, path: str = "/-/deploykit/revision/") -> str:
        return f"http://127.0.0.1:{self.ports[link]}{path}"

    def wait_for(self, link: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.revision(link)
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError(f"the {link} server did not answer within {timeout} s")

    def revision(self, link: str) -> dict[str, Any]:
        with urllib.request.urlopen(self.url(link), timeout=5) as response:  # noqa: S310 (a local http URL)
            data: dict[str, Any] = json.loads(response.read())
        return data

    def stop_servers(self) -> None:
        run_dir = self.root.path / "run"
        pids = set()
        for pidfile in run_dir.glob("*.pid*") if run_dir.exists() else []:
            with contextlib.suppress(ValueError):
                pids.add(int(pidfile.read_text().strip()))
        pids.update(process.pid for process in self.servers.values())
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        for process in self.servers.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def build_site(base: Path, *, venvs: bool = True, python: str = sys.executable) -> Site:
    """A deploy root of example_project at v1 in both slots, each virtualenv installed by real pip.

    ``deploykit_init --requirements requirements.txt``, as the docs say; ``venvs=False`` makes no
    virtualenvs at all (for tests that only read and write the deploy root). ``python`` makes the
    slots' virtualenvs (``--python``): by default the interpreter running the tests.
    """
    source = make_source_repo(base)
    if venvs:
        slot_packages.use_wheelhouse()
    root = create.create_deploy_root(
        create.InitOptions(
            root=base / "site",
            source=str(source),
            python=python,
            create_venvs=venvs,
            requirements="requirements.txt" if venvs else None,
        )
    )
    site = Site(root=root, source=source)
    site.write_env()
    return site


@pytest.fixture(name="site")
def migrated_site(tmp_path: Path) -> Iterator[Site]:
    """blue live and migrated at v1, green the stage slot at v1; its servers stopped afterwards.

    The ``site`` of the deploy and deploy_pull tests: their conftests import it.
    """
    site = build_site(tmp_path)
    site.manage("live", "migrate", "-v0")
    try:
        yield site
    finally:
        site.stop_servers()
