"""The real servers the suite talks to, and whether they answer.

Addresses come from environment variables so the suite can run against other servers:
DEPLOYKIT_TEST_POSTGRES_URL, DEPLOYKIT_TEST_MYSQL_URL, DEPLOYKIT_TEST_REDIS_URL and
DEPLOYKIT_TEST_MEMCACHED_URL.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
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


SERVICES = {
    "postgresql": Service(
        "postgresql", "DEPLOYKIT_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/test"
    ),
    "mariadb": Service("mariadb", "DEPLOYKIT_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/test"),
    "redis": Service("redis", "DEPLOYKIT_TEST_REDIS_URL", "redis://127.0.0.1:6379/1"),
    "memcached": Service("memcached", "DEPLOYKIT_TEST_MEMCACHED_URL", "memcached://127.0.0.1:11211"),
}
