"""The real servers the suite talks to, and whether they answer.

Addresses come from environment variables so the suite can run against other servers:
DEPLOYKIT_TEST_POSTGRES_URL, DEPLOYKIT_TEST_MYSQL_URL, DEPLOYKIT_TEST_REDIS_URL and
DEPLOYKIT_TEST_MEMCACHED_URL.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import NoReturn
from urllib.parse import urlsplit


@dataclass
class Service:
    name: str
    env_variable: str
    default_url: str
    tests_run: int = 0
    reachable: bool | None = None
    error: str = field(default="")

    @property
    def url(self) -> str:
        return os.environ.get(self.env_variable) or self.default_url

    @property
    def address(self) -> tuple[str, int]:
        parts = urlsplit(self.url)
        return parts.hostname or "127.0.0.1", parts.port or 0

    def probe(self) -> bool:
        if self.reachable is None:
            host, port = self.address
            try:
                with socket.create_connection((host, port), timeout=2):
                    self.reachable = True
            except OSError as exc:
                self.reachable = False
                self.error = f"{host}:{port} does not answer ({exc.strerror or exc})"
        return self.reachable


# A Redis database only the flush tests of clear_cache use, since they empty it: one per test environment,
# so that environments running side by side (tox run-parallel) never empty each other's.
REDIS_FLUSH_DB = int(os.environ.get("DEPLOYKIT_TEST_REDIS_FLUSH_DB", "11"))

SERVICES = {
    "postgresql": Service(
        "postgresql", "DEPLOYKIT_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test"
    ),
    "mariadb": Service("mariadb", "DEPLOYKIT_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
    "redis": Service("redis", "DEPLOYKIT_TEST_REDIS_URL", "redis://127.0.0.1:6379/1"),
    "memcached": Service("memcached", "DEPLOYKIT_TEST_MEMCACHED_URL", "memcached://127.0.0.1:11211"),
}


def missing_tool(reason: str) -> NoReturn:
    """Skip a test whose tool (a server binary, a module, root) is missing here; under CI, fail it."""
    import pytest

    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required when CI is set)", pytrace=False)
    pytest.skip(reason)


@contextmanager
def throwaway_postgres_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new database on the PostgreSQL server at ``server_url``, named ``prefix`` and a random part;
    yields its URL, then drops it, even while something is still connected to it."""
    # Imported here: most runs of the suite never need the driver.
    import psycopg2

    name = f"{prefix}_{secrets.token_hex(5)}"
    admin = psycopg2.connect(server_url)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlsplit(server_url)._replace(path=f"/{name}").geturl()
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
