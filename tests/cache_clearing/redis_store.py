"""A Redis namespace of its own for one test: its prefixes, its keys, and the keys it must keep."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import redis
from django.core.cache import caches


def with_db(url: str, db: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{db}"))


@dataclass
class Store:
    base: str
    url: str
    raw: redis.Redis

    @property
    def blue(self) -> str:
        return f"{self.base}_blue"

    @property
    def green(self) -> str:
        return f"{self.base}_green"

    def stored(self) -> set[str]:
        return {key.decode() for key in self.raw.scan_iter(match=f"*{self.base}*", count=1000)}

    def caches(self, backend: str, **default: Any) -> dict[str, dict[str, Any]]:
        return {
            "default": {"BACKEND": backend, "LOCATION": self.url, "KEY_PREFIX": self.blue, **default},
            "sessions": {"BACKEND": backend, "LOCATION": self.url, "KEY_PREFIX": self.base},
        }

    def fill(self) -> set[str]:
        """Write every kind of key a shared Redis holds; return the keys that must survive a default clear."""
        default, sessions = caches["default"], caches["sessions"]
        for i in range(30):
            default.set(f"page{i}", i)
        for i in range(5):
            default.set(f"old{i}", i, version=2)
        for i in range(5):
            sessions.set(f"session{i}", i)
        for i in range(10):
            self.raw.set(f"{self.green}:1:page{i}", i)
        self.raw.set(f"{self.base}_bluex:1:k", 1)  # a longer prefix starting with ours
        self.raw.set(f"{self.blue}:canary:1:k", 1)  # not a digit version
        self.raw.set(f"unprefixed-{self.base}", 1)
        self.raw.set(f"{self.blue}-plain", 1)
        return {key for key in self.stored() if not key.startswith(f"{self.blue}:1:")}
