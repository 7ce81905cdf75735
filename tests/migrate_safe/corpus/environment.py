"""The corpus installed the way a user installs it: a virtualenv, real pip, a generated project.

Downloads go to a wheel cache outside the repository (``DEPLOYKIT_CORPUS_CACHE``, by default
``~/.cache/deploykit-corpus/wheels``): the first run fills it from the package index, later runs
install from it with ``--no-index`` and reach the index only when a pin changed. django-deploykit
itself comes as a wheel built from this checkout, from the run's wheelhouse (tests/slot_packages.py).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.migrate_safe.corpus.decisions import MIGRATION_PHASES
from tests.migrate_safe.corpus.pins import BASE, installed_apps, requirements

# Generous bounds: a cold cache downloads about 70 wheels; wagtail's history takes a while on MariaDB.
PIP_TIMEOUT = 600
MANAGE_TIMEOUT = 600

SETTINGS = '''"""Settings of the corpus project: the corpus apps, the database from CORPUS_DATABASE_URL."""

import json
import os

import environ

SECRET_KEY = "corpus-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["*"]
USE_TZ = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
ROOT_URLCONF = "corpus_project.urls"
WAGTAIL_SITE_NAME = "corpus"
WAGTAILADMIN_BASE_URL = "http://localhost"
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_deploykit",
] + {apps!r}
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "axes.middleware.AxesMiddleware",
]
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "django.contrib.auth.backends.ModelBackend"]
TEMPLATES = [
    {{
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {{
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        }},
    }}
]
STATIC_URL = "static/"
DATABASES = {{"default": environ.Env.db_url_config(os.environ["CORPUS_DATABASE_URL"])}}
# The user's decisions for migrations no rule can decide (RunPython, RunSQL, custom operations),
# from tests/migrate_safe/corpus/decisions.py; the report can run without them.
DEPLOYKIT_MIGRATION_PHASES = (
    {{}} if os.environ.get("CORPUS_NO_DECISIONS") else json.loads({phases!r})
)
if os.environ.get("CORPUS_SYZYGY"):
    # benchmarks/migration_corpus.py asks django-syzygy for its stages. Its own heuristic, without
    # the blanket "pre_deploy" it gives third-party apps it cannot decide, so the report compares.
    INSTALLED_APPS.append("syzygy")
    MIGRATION_THIRD_PARTY_STAGES_FALLBACK = None
'''

MANAGE = """import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "corpus_project.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
"""


def cache_dir() -> Path:
    configured = os.environ.get("DEPLOYKIT_CORPUS_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "deploykit-corpus" / "wheels"


def _clean_environment() -> dict[str, str]:
    """This process's environment without what would leak the checkout or its pip settings into the venv."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PIP_", "DJANGO_", "VIRTUAL_ENV")) and key != "PYTHONPATH"
    }


def base_requirements() -> list[str]:
    """Django and the drivers at the versions running the tests: the corpus meets the Django under test."""
    return [f"{name}=={importlib.metadata.version(name)}" for name in BASE]


@dataclass
class Corpus:
    """One virtualenv with the corpus installed, and a project using it."""

    root: Path
    wheelhouse: Path
    durations: dict[str, float] = field(default_factory=dict)
    # The test runs independent chains (on separate databases) in two threads.
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def venv(self) -> Path:
        return self.root / "venv"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def project(self) -> Path:
        return self.root / "project"

    def _timed(self, label: str, started: float) -> None:
        with self._lock:
            self.durations[label] = self.durations.get(label, 0.0) + time.monotonic() - started

    def _requirements_file(self, which: str, extra: tuple[str, ...] = ()) -> Path:
        path = self.root / f"requirements-{which}{'' if not extra else '-with-extra'}.txt"
        lines = [*base_requirements(), *requirements(which), *extra]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def _pip(self, python: Path, *args: str, index: bool = False) -> subprocess.CompletedProcess[str]:
        env = _clean_environment()
        if index:
            # Filling the cache: pip as this machine configures it (its index, its proxy).
            env.update({k: v for k, v in os.environ.items() if k.startswith("PIP_")})
            env.pop("PIP_NO_INDEX", None)
            env.pop("PIP_FIND_LINKS", None)
        return subprocess.run(
            [str(python), "-m", "pip", "--disable-pip-version-check", *args],
            capture_output=True,
            text=True,
            check=False,
            env=env,
            timeout=PIP_TIMEOUT,
        )

    def install(self, which: str, extra: tuple[str, ...] = ()) -> None:
        """``pip install -r requirements-WHICH.txt`` in the venv, from the cache; fill the cache first if needed."""
        started = time.monotonic()
        requirements_file = self._requirements_file(which, extra)
        cache = cache_dir()
        cache.mkdir(parents=True, exist_ok=True)
        args = [
            "install",
            "--quiet",
            "--no-index",
            "--find-links",
            str(cache),
            "--find-links",
            str(self.wheelhouse),
            "-r",
            str(requirements_file),
        ]
        completed = self._pip(self.python, *args)
        if completed.returncode != 0:
            # A pin not yet in the cache: download (or build) its wheels from the index once. Timed
            # on its own line, so a run that reached the index shows it.
            # Only the pins: django-deploykit (``extra``) is on no index; it comes from the run's wheelhouse,
            # and a wheel of it kept in this cache would shadow a later checkout of the same version.
            filling = time.monotonic()
            pins_file = self._requirements_file(which)
            wheel = self._pip(
                Path(sys.executable),
                "wheel",
                "--quiet",
                "-w",
                str(cache),
                "--find-links",
                str(cache),
                "-r",
                str(pins_file),
                index=True,
            )
            if wheel.returncode != 0:
                raise RuntimeError(f"pip wheel -r {pins_file.name} failed:\n{wheel.stderr[-3000:]}")
            self._timed(f"pip wheel {which} (filling the cache from the index)", filling)
            completed = self._pip(self.python, *args)
        if completed.returncode != 0:
            raise RuntimeError(f"pip install -r {requirements_file.name} failed:\n{completed.stderr[-3000:]}")
        self._timed(f"pip install {which}", started)

    def create(self) -> None:
        """The venv with the old pins and django-deploykit, and the project."""
        started = time.monotonic()
        self.root.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "-m", "venv", str(self.venv)],
            check=True,
            capture_output=True,
            env=_clean_environment(),
            timeout=PIP_TIMEOUT,
        )
        self._timed("venv", started)
        self.install("old", extra=("django-deploykit",))
        package = self.project / "corpus_project"
        package.mkdir(parents=True, exist_ok=True)
        (package / "__init__.py").write_text("", encoding="utf-8")
        (package / "urls.py").write_text("urlpatterns = []\n", encoding="utf-8")
        (package / "settings.py").write_text(
            SETTINGS.format(apps=installed_apps(), phases=json.dumps(MIGRATION_PHASES, sort_keys=True)),
            encoding="utf-8",
        )
        (self.project / "manage.py").write_text(MANAGE, encoding="utf-8")

    def manage(
        self,
        database_url: str,
        *args: str,
        label: str = "",
        decisions: bool = True,
        syzygy: bool = False,
    ) -> subprocess.CompletedProcess[str]:
        """``python manage.py ARGS`` in the venv against ``database_url``; the result, whatever its exit code."""
        started = time.monotonic()
        env = {**_clean_environment(), "CORPUS_DATABASE_URL": database_url}
        if not decisions:
            env["CORPUS_NO_DECISIONS"] = "1"
        if syzygy:
            env["CORPUS_SYZYGY"] = "1"
        completed = subprocess.run(
            [str(self.python), "manage.py", *args],
            cwd=self.project,
            capture_output=True,
            text=True,
            check=False,
            env=env,
            timeout=MANAGE_TIMEOUT,
        )
        self._timed(label or args[0], started)
        return completed

    def manage_json(
        self, database_url: str, *args: str, label: str = "", decisions: bool = True
    ) -> tuple[dict[str, Any], int]:
        """``migrate_safe ARGS --format json``: the JSON object it printed and its exit code."""
        completed = self.manage(
            database_url, "migrate_safe", *args, "--format", "json", label=label, decisions=decisions
        )
        try:
            return json.loads(completed.stdout), completed.returncode
        except json.JSONDecodeError as exc:
            # Not an AssertionError: the tests' xfail marks tolerate only their own assertions.
            raise RuntimeError(
                f"migrate_safe {' '.join(args)} printed no JSON (exit {completed.returncode}):\n"
                f"{completed.stdout[-2000:]}\n{completed.stderr[-3000:]}"
            ) from exc
