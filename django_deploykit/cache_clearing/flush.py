"""Empty a whole cache store with the backend's own ``clear()`` (FLUSHDB, flush_all, DELETE, rm).

Only reached with ``--flush`` and a confirmation: it deletes every prefix, every other
instance's keys and any sessions kept in the same store.
"""

from __future__ import annotations

from pathlib import Path

from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.db import DatabaseCache
from django.core.cache.backends.filebased import FileBasedCache

from django_deploykit.cache_clearing import database, redis
from django_deploykit.cache_clearing.backends import BackendKind
from django_deploykit.redact import redact_text


class FlushError(Exception):
    """The store could not be emptied; the message holds no password."""


def count_store(cache: BaseCache, kind: BackendKind) -> int | None:
    """How many keys the whole store holds, or ``None`` where the backend cannot tell cheaply."""
    if kind in (BackendKind.REDIS, BackendKind.DJANGO_REDIS):
        try:
            return redis.count_database_keys(redis.raw_client(cache))
        except redis.RedisClearError as exc:
            raise FlushError(str(exc)) from exc
    if kind is BackendKind.DATABASE and isinstance(cache, DatabaseCache):
        try:
            return database.count_rows(cache)
        except database.DatabaseClearError as exc:
            raise FlushError(str(exc)) from exc
    if kind is BackendKind.FILE and isinstance(cache, FileBasedCache):
        folder = Path(cache._dir)  # type: ignore[attr-defined]
        return len(list(folder.glob(f"*{cache.cache_suffix}"))) if folder.is_dir() else 0
    return None


def flush(cache: BaseCache, description: str, secrets: tuple[str, ...] = ()) -> None:
    try:
        cache.clear()
    except Exception as exc:
        # Backends raise their client library's own errors (redis-py, pymemcache, OSError…).
        reason = redact_text(f"{type(exc).__name__}: {exc}", secrets)
        raise FlushError(f"Emptying {description} failed: {reason}") from exc
