"""Clear one namespace from Redis without blocking it: SCAN with MATCH, then UNLINK in batches.

Never KEYS (it blocks the server for the whole enumeration) and never one huge pipeline of
DELs (django-redis's ``delete_pattern``): each round trip touches at most ``batch`` keys, so
other clients wait at most for one small command.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from django.core.cache.backends.base import BaseCache

from django_deploykit.cache_clearing.namespace import Namespace
from django_deploykit.redact import redact_text

if TYPE_CHECKING:
    from redis import Redis

Progress = Callable[[int], None]


class RedisClearError(Exception):
    """Redis could not be cleared; the message names host and port, never a password."""


def raw_client(cache: BaseCache) -> Redis:
    """The redis-py client that writes for ``cache``, for Django's RedisCache and django-redis."""
    inner = getattr(cache, "_cache", None)
    if inner is not None and hasattr(inner, "get_client"):
        # Django's RedisCache: the first server takes the writes, the others are replicas.
        client: Redis = inner.get_client(write=True)
        return client
    django_redis_client = cache.client  # type: ignore[attr-defined]
    if not hasattr(django_redis_client, "get_client") or hasattr(django_redis_client, "get_server_name"):
        raise RedisClearError(
            "django-redis's ShardClient spreads keys over several servers; clear_cache cannot scan it. "
            "Use --flush, or clear each server through its own alias."
        )
    sharded_client: Redis = django_redis_client.get_client(write=True)
    return sharded_client


def server_address(client: Redis) -> str:
    kwargs: dict[str, Any] = client.connection_pool.connection_kwargs
    if "path" in kwargs:
        return f"the Unix socket {kwargs['path']} (database {kwargs.get('db', 0)})"
    return f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)} (database {kwargs.get('db', 0)})"


def _password(client: Redis) -> str:
    return str(client.connection_pool.connection_kwargs.get("password") or "")


def clear_namespace(
    client: Redis,
    namespace: Namespace,
    *,
    batch: int,
    dry_run: bool,
    progress: Progress | None = None,
) -> int:
    """Delete (or with ``dry_run`` only count) the keys of ``namespace``; return how many."""
    from redis.exceptions import RedisError

    try:
        return _scan_and_unlink(client, namespace, batch=batch, dry_run=dry_run, progress=progress)
    except RedisError as exc:
        reason = redact_text(str(exc), (_password(client),))
        raise RedisClearError(f"Redis at {server_address(client)} failed: {reason}") from exc


def _scan_and_unlink(
    client: Redis, namespace: Namespace, *, batch: int, dry_run: bool, progress: Progress | None
) -> int:
    regex = namespace.key_regex()
    pattern = namespace.redis_pattern()
    delete = _unlinker(client)
    pending: list[bytes] = []
    # SCAN may return a key twice; UNLINK counts each key once, a dry run must do the same.
    seen: set[bytes] = set()
    done = 0
    cursor = 0
    while True:
        cursor, keys = client.scan(cursor=cursor, match=pattern, count=batch)
        matching = [key for key in map(_as_bytes, keys) if regex.match(key.decode("utf-8", "replace"))]
        if dry_run:
            matching = [key for key in matching if key not in seen]
            seen.update(matching)
        pending.extend(matching)
        while len(pending) >= batch or (cursor == 0 and pending):
            chunk, pending = pending[:batch], pending[batch:]
            done += len(chunk) if dry_run else delete(chunk)
            if progress is not None:
                progress(done)
        if cursor == 0:
            return done


def _as_bytes(key: bytes | str) -> bytes:
    # Both cache backends make clients without decode_responses, so keys arrive as bytes.
    return key if isinstance(key, bytes) else key.encode()


def _unlinker(client: Redis) -> Callable[[list[bytes]], int]:
    from redis.exceptions import ResponseError

    use_unlink = True

    def delete(keys: list[bytes]) -> int:
        nonlocal use_unlink
        if use_unlink:
            try:
                return int(client.unlink(*keys))
            except ResponseError as exc:
                # UNLINK arrived in Redis 4.0; older servers (and some proxies) only know DEL.
                if "unknown command" not in str(exc).lower():
                    raise
                use_unlink = False
        return int(client.delete(*keys))

    return delete


def count_database_keys(client: Redis) -> int:
    from redis.exceptions import RedisError

    try:
        return int(client.dbsize())
    except RedisError as exc:
        reason = redact_text(str(exc), (_password(client),))
        raise RedisClearError(f"Redis at {server_address(client)} failed: {reason}") from exc
