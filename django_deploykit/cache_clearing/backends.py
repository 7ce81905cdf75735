"""Recognise the kind of a cache backend, and where it keeps its data (for messages)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.dummy import DummyCache
from django.core.cache.backends.filebased import FileBasedCache
from django.core.cache.backends.locmem import LocMemCache
from django.core.cache.backends.memcached import BaseMemcachedCache
from django.core.cache.backends.redis import RedisCache

from django_deploykit.redact import redact_url


class BackendKind(StrEnum):
    REDIS = "redis"
    DJANGO_REDIS = "django-redis"
    MEMCACHED = "memcached"
    DATABASE = "database"
    FILE = "file"
    LOCMEM = "locmem"
    DUMMY = "dummy"
    OTHER = "other"


def backend_kind(cache: BaseCache) -> BackendKind:
    if isinstance(cache, RedisCache):
        return BackendKind.REDIS
    if _is_django_redis(cache):
        return BackendKind.DJANGO_REDIS
    if isinstance(cache, BaseMemcachedCache):
        return BackendKind.MEMCACHED
    if isinstance(cache, DatabaseCache):
        return BackendKind.DATABASE
    if isinstance(cache, FileBasedCache):
        return BackendKind.FILE
    if isinstance(cache, LocMemCache):
        return BackendKind.LOCMEM
    if isinstance(cache, DummyCache):
        return BackendKind.DUMMY
    return BackendKind.OTHER


def _is_django_redis(cache: BaseCache) -> bool:
    try:
        from django_redis.cache import RedisCache as DjangoRedisCache  # type: ignore[import-untyped]
    except ImportError:
        return False
    return isinstance(cache, DjangoRedisCache)


def describe_location(config: dict[str, Any]) -> str:
    """The LOCATION of a CACHES entry as text safe to print (passwords masked)."""
    location = config.get("LOCATION", "")
    if isinstance(location, list | tuple):
        return ", ".join(redact_url(str(item)) for item in location)
    return redact_url(str(location)) if location else ""


def same_store(first: dict[str, Any], second: dict[str, Any]) -> bool:
    """Whether two CACHES entries keep their keys in the same place (same backend and LOCATION)."""
    return first.get("BACKEND") == second.get("BACKEND") and describe_location(first) == describe_location(
        second
    )
