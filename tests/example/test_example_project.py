"""The example project end to end, in fresh processes as a server or cron job would start them."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.deployment import BARE_ENVIRONMENT
from tests.servers import free_port
from tests.services import throwaway_postgres_database

# One of the longest end-to-end tests: it runs in one tox environment only (tox.ini says which).
pytestmark = pytest.mark.end_to_end

PROBE = Path(__file__).with_name("probe_wsgi.py")
STRONG_KEY = "example-" + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"


def run(
    project: Path, *args: str, env: dict[str, str] | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run(
        [sys.executable, *args],
        cwd=project,
        env={**BARE_ENVIRONMENT, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
    )
    if check and completed.returncode != 0:
        raise AssertionError(f"{args} exited {completed.returncode}:\n{completed.stdout}\n{completed.stderr}")
    return completed


def choice_from_manage(project: Path, env: dict[str, str]) -> dict[str, Any]:
    code = (
        "import json; from django.conf import settings; print(json.dumps(settings.DEPLOYKIT_SETTINGS_CHOICE))"
    )
    output = run(project, "manage.py", "shell", "-c", code, env=env).stdout
    return json.loads(output.strip().splitlines()[-1])  # type: ignore[no-any-return]


def probe(project: Path, env: dict[str, str], path: str = "/", host: str = "localhost") -> dict[str, Any]:
    return json.loads(run(project, str(PROBE), path, host, env=env).stdout)  # type: ignore[no-any-return]


def production_env_file(project: Path, database_url: str, extra: str = "") -> None:
    (project / ".env").write_text(
        f"PRODUCTION=\nSECRET_KEY={STRONG_KEY}\nALLOWED_HOSTS=localhost\nDATABASE_URL={database_url}\n"
        f"SECURE_COOKIES=false\n{extra}"
    )


class SameChoiceEverywhereTests:
    @pytest.mark.parametrize(
        ("case", "expected"),
        [
            ("absent", "development"),
            ("empty", "production"),
            ("one", "production"),
            ("zero", "production"),
            ("only_in_env_file", "production"),
        ],
    )
    def test_manage_py_and_wsgi_py_choose_the_same_module(
        self, example_project: Path, case: str, expected: str
    ) -> None:
        database_url = f"sqlite:///{example_project / 'prod.sqlite3'}"
        env: dict[str, str] = {}
        if case == "only_in_env_file":
            production_env_file(example_project, database_url)
        elif case != "absent":
            env = {
                "PRODUCTION": {"empty": "", "one": "1", "zero": "0"}[case],
                "SECRET_KEY": STRONG_KEY,
                "ALLOWED_HOSTS": "localhost",
                "DATABASE_URL": database_url,
            }
        from_manage = choice_from_manage(example_project, env)
        run(example_project, "manage.py", "migrate", "-v0", env=env)
        from_wsgi = probe(example_project, env)
        assert from_manage["mode"] == from_wsgi["choice"]["mode"] == expected
        assert (
            from_manage["module"]
            == from_wsgi["choice"]["module"]
            == f"mysite.settings.{'production' if expected == 'production' else 'dev'}"
        )
        assert from_wsgi["status"] == 200
        assert f"Settings: {expected}" in from_wsgi["body"]

    def test_asgi_py_chooses_the_same_module(self, example_project: Path) -> None:
        production_env_file(example_project, f"sqlite:///{example_project / 'prod.sqlite3'}")
        code = "import mysite.asgi, json; from django.conf import settings; print(settings.DEPLOYKIT_SETTINGS_CHOICE['module'])"
        assert run(example_project, "-c", code).stdout.strip() == "mysite.settings.production"

    def test_zero_warns_on_stderr(self, example_project: Path) -> None:
        env = {
            "PRODUCTION": "0",
            "SECRET_KEY": STRONG_KEY,
            "ALLOWED_HOSTS": "localhost",
            "DATABASE_URL": "sqlite:///:memory:",
        }
        completed = run(example_project, "manage.py", "check", env=env)
        assert "PRODUCTION='0' still selects production settings" in completed.stderr


class RefusalTests:
    def test_production_refuses_every_unsafe_setting_at_once(self, example_project: Path) -> None:
        env = {
            "PRODUCTION": "",
            "DEBUG": "true",
            "ALLOWED_HOSTS": "",
            "DATABASE_URL": "postgres://app:hunter2pass@db.example:5432/site",
        }
        completed = run(example_project, "manage.py", "check", env=env, check=False)
        assert completed.returncode != 0
        assert "Refusing to load the production settings mysite.settings.production" in completed.stderr
        for problem in ("DEBUG is on", "SECRET_KEY is not set", "ALLOWED_HOSTS is empty"):
            assert problem in completed.stderr
        assert "hunter2pass" not in completed.stderr + completed.stdout

    def test_malformed_database_url_names_the_variable_not_the_password(self, example_project: Path) -> None:
        env = {
            "PRODUCTION": "",
            "SECRET_KEY": STRONG_KEY,
            "ALLOWED_HOSTS": "localhost",
            "DATABASE_URL": "postgres://app:hunter2pass@db.example:port/site",
        }
        completed = run(example_project, "manage.py", "check", env=env, check=False)
        assert completed.returncode != 0
        assert "DATABASE_URL, from the environment variable DATABASE_URL" in completed.stderr
        assert "hunter2pass" not in completed.stderr + completed.stdout

    def test_missing_production_module(self, example_project: Path) -> None:
        (example_project / "mysite" / "settings" / "production.py").unlink()
        completed = run(example_project, "manage.py", "check", env={"PRODUCTION": ""}, check=False)
        assert completed.returncode != 0
        assert "The production settings module mysite.settings.production does not exist" in completed.stderr


class DeployCheckTests:
    def test_check_deploy_fails_with_debug_on(self, example_project: Path) -> None:
        completed = run(example_project, "manage.py", "check", "--deploy", check=False)
        assert completed.returncode == 1
        assert "django_deploykit.E002" in completed.stderr

    def test_check_deploy_passes_our_checks_in_production(self, example_project: Path) -> None:
        production_env_file(example_project, "sqlite:///:memory:")
        completed = run(example_project, "manage.py", "check", "--deploy", check=False)
        assert completed.returncode == 0, completed.stderr
        assert "django_deploykit" not in completed.stdout + completed.stderr


class ServeTests:
    def test_migrate_and_runserver_on_sqlite(self, example_project: Path) -> None:
        """The README's first command: migrate and serve the example project in development."""
        run(example_project, "manage.py", "migrate", "-v0")
        assert (example_project / "db.sqlite3").is_file()
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=example_project,
            env=BARE_ENVIRONMENT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            body = ""
            for _ in range(100):
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
                        body = response.read().decode()
                    break
                except OSError:
                    time.sleep(0.1)
            assert "<h1>Notes</h1>" in body
            assert "Settings: development" in body
        finally:
            server.terminate()
            server.wait(timeout=10)


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[str]:
    with throwaway_postgres_database(postgres_url, "dk_example") as url:
        yield url


@pytest.fixture
def mysql_database(mysql_url: str) -> Iterator[str]:
    import MySQLdb

    parts = urlsplit(mysql_url)
    name = f"dk_example_{uuid.uuid4().hex[:10]}"
    admin = MySQLdb.connect(
        host=parts.hostname,
        port=parts.port or 3306,
        user=parts.username or "root",
        password=parts.password or "",
    )
    admin.cursor().execute(f"CREATE DATABASE `{name}`")
    try:
        yield parts._replace(path=f"/{name}").geturl()
    finally:
        admin.cursor().execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


class RealDatabaseTests:
    @pytest.mark.postgresql
    def test_production_on_postgresql(self, example_project: Path, postgres_database: str) -> None:
        self._migrate_and_serve(example_project, postgres_database, "django.db.backends.postgresql")

    @pytest.mark.mysql
    def test_production_on_mariadb(self, example_project: Path, mysql_database: str) -> None:
        self._migrate_and_serve(example_project, mysql_database, "django.db.backends.mysql")

    def _migrate_and_serve(self, project: Path, database_url: str, engine: str) -> None:
        production_env_file(project, database_url)
        run(project, "manage.py", "migrate", "-v0")
        shown = run(project, "manage.py", "showmigrations", "notes").stdout
        assert "[X] 0002_note_body" in shown
        result = probe(project, {})
        assert result["status"] == 200
        assert result["database"] == engine
        assert "Settings: production" in result["body"]
