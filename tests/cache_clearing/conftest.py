"""A Redis namespace of its own for each test, removed afterwards."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from tests.cache_clearing.helpers import unique_base
from tests.cache_clearing.redis_store import Store


@pytest.fixture
def store(redis_url: str) -> Iterator[Store]:
    base = unique_base()
    client = redis.Redis.from_url(redis_url)
    yield Store(base, redis_url, client)
    for key in client.scan_iter(match=f"*{base}*", count=1000):
        client.delete(key)
    client.close()
