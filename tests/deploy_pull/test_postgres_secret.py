"""A password in DATABASE_URL never reaches a stage log, the output or the history."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit

import pytest

from tests.deploy_pull.pulling import all_logs, deploy_pull
from tests.deployment import Site, commit_change
from tests.services import throwaway_postgres_database

# Run in one tox environment only (tox.ini): among the longest tests, and not about the Django version.
pytestmark = pytest.mark.end_to_end

PASSWORD = "Pg-Sup3r-Secret-" + secrets.token_hex(4)


@pytest.fixture
def database_url(postgres_url: str) -> Iterator[str]:
    """A database of its own on the PostgreSQL server, reached with a password in the URL."""
    with throwaway_postgres_database(postgres_url, "deploykit_pull") as url:
        parts = urlsplit(url)
        netloc = f"{parts.username or 'postgres'}:{PASSWORD}@{parts.hostname}:{parts.port or 5432}"
        yield urlunsplit(("postgres", netloc, parts.path, "", ""))


@pytest.mark.postgresql
class DatabasePasswordTests:
    def test_the_database_password_never_appears_in_a_log(self, site: Site, database_url: str) -> None:
        # A project on PostgreSQL lists its driver in its requirements; both slots install it with pip.
        for slot in site.root.slot_names:
            site.pip_install(slot, "psycopg2>=2.9")
        # The settings print the URL on every start, as a careless project might.
        commit_change(
            site.source,
            "example_project/mysite/settings/production.py",
            'DATABASES = {"default": env.database_url("DATABASE_URL")}',
            'DATABASES = {"default": env.database_url("DATABASE_URL")}\nprint("database:", env.str("DATABASE_URL"))',
            "print the database URL",
        )
        site.write_env(DATABASE_URL=database_url)
        site.manage("live", "migrate", "-v0")
        # A failing stage too, whose output holds the URL: the test stage prints the environment.
        site.write_env(DATABASE_URL=database_url, DEPLOYKIT_TEST_SETTINGS="mysite.settings.no_such_module")

        completed = deploy_pull(site)

        assert completed.returncode == 1
        logs = all_logs(site)
        assert "database: postgres://" in logs
        assert PASSWORD not in logs
        assert PASSWORD not in completed.stdout + completed.stderr
        assert PASSWORD not in (site.root.path / "history.jsonl").read_text()
