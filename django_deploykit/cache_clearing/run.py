"""Carry out the plans of ``plan.build_plans`` and report what was cleared and what was left alone."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.db import DatabaseCache
from django.core.exceptions import ImproperlyConfigured

from django_deploykit.cache_clearing import database, flush, generations, redis
from django_deploykit.cache_clearing.backends import BackendKind
from django_deploykit.cache_clearing.plan import AliasPlan, PlanRefused, Strategy

Progress = Callable[[str, int], None]

MAX_BATCH = 100_000
PROGRESS_INTERVAL_SECONDS = 1.0

# Sent only to find out whether a server answers before anything is deleted.
_PREFLIGHT_KEY = "django-deploykit-clear-cache-preflight"


class ClearFailed(Exception):
    """Clearing failed. ``changed`` says whether anything had been deleted or bumped already."""

    def __init__(self, message: str, *, changed: bool, results: Sequence[AliasResult] = ()) -> None:
        super().__init__(message)
        self.changed = changed
        self.results = list(results)


@dataclass
class AliasResult:
    alias: str
    backend: str
    location: str
    strategy: Strategy
    dry_run: bool
    prefix: str | None = None
    version: int | None = None
    pattern: str | None = None
    keys: int | None = None
    seconds: float = 0.0
    generation: tuple[int, int] | None = None
    sessions_at_risk: bool = False
    left_alone: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "alias": self.alias,
            "backend": self.backend,
            "location": self.location,
            "strategy": str(self.strategy),
            "dry_run": self.dry_run,
            "prefix": self.prefix,
            "versions": self._versions(),
            "pattern": self.pattern,
            "keys": self.keys,
            "seconds": round(self.seconds, 3),
            "generation": (
                {"from": self.generation[0], "to": self.generation[1]}
                if self.generation is not None
                else None
            ),
            "sessions_at_risk": self.sessions_at_risk,
            "left_alone": self.left_alone,
        }

    @property
    def summary(self) -> str:
        """The sentence that says what was cleared from the alias, or would be in a dry run."""
        where = f"alias {self.alias!r} ({self.location or self.backend})"
        took = f"{self.seconds:.2f} s"
        would = self.dry_run
        if self.strategy is Strategy.REDIS_SCAN or self.strategy is Strategy.DATABASE_ROWS:
            verb = "Would delete" if would else "Deleted"
            namespace = f"{self.prefix}:{'<any version>' if self.version is None else self.version}:*"
            return f"{verb} {self.keys} keys matching {namespace} from {where} in {took}."
        if self.strategy is Strategy.MEMCACHED_GENERATION and self.generation is not None:
            old, new = self.generation
            verb = "Would move" if would else "Moved"
            return (
                f"{verb} prefix {self.prefix!r} of {where} from generation {old} to {new}. It takes effect "
                "when the servers reload: their cache VERSION goes up by one and the old keys "
                "are no longer read."
            )
        if self.strategy is Strategy.FLUSH:
            count = "an unknown number of" if self.keys is None else str(self.keys)
            verb = "Would flush" if would else "Flushed"
            return f"{verb} {where}: {count} keys of every prefix, in {took}."
        return f"Nothing to clear in {where}."

    def _versions(self) -> int | str | None:
        if self.strategy not in (Strategy.REDIS_SCAN, Strategy.DATABASE_ROWS):
            return None
        return "all" if self.version is None else self.version


def refuse_bad_batch(batch: int) -> None:
    """Refuse a ``--batch`` outside 1 to ``MAX_BATCH`` keys per step."""
    if not 1 <= batch <= MAX_BATCH:
        raise PlanRefused(f"--batch must be a whole number from 1 to {MAX_BATCH}, not {batch}.")


def progress_lines(write: Callable[[str], None], *, every_step: bool = False) -> Progress:
    """A ``Progress`` that writes how many keys of an alias are done so far: at every step, or at most once
    every ``PROGRESS_INTERVAL_SECONDS``."""
    every = 0.0 if every_step else PROGRESS_INTERVAL_SECONDS
    last = time.monotonic()

    def report(alias: str, done: int) -> None:
        nonlocal last
        now = time.monotonic()
        if now - last >= every:
            last = now
            write(f"{alias}: {done} keys so far…")

    return report


def preflight(plans: Sequence[AliasPlan]) -> None:
    """Make sure every server that will be touched answers, before anything is deleted."""
    for plan in plans:
        cache = caches[plan.alias]
        try:
            if (
                plan.kind in (BackendKind.REDIS, BackendKind.DJANGO_REDIS)
                and plan.strategy is not Strategy.NOTHING
            ):
                redis.count_database_keys(redis.raw_client(cache))
            elif plan.kind is BackendKind.DATABASE and isinstance(cache, DatabaseCache):
                database.count_rows(cache)
            elif plan.kind is BackendKind.MEMCACHED and plan.strategy is Strategy.FLUSH:
                _ping_memcached(cache, plan)
            elif plan.strategy is Strategy.MEMCACHED_GENERATION and plan.generation_file:
                generations.bump_generation(Path(plan.generation_file), "", dry_run=True)
        except (redis.RedisClearError, database.DatabaseClearError, ImproperlyConfigured) as exc:
            raise ClearFailed(f"Alias {plan.alias!r}: {exc} Nothing was cleared.", changed=False) from exc


def _ping_memcached(cache: BaseCache, plan: AliasPlan) -> None:
    try:
        cache.get(_PREFLIGHT_KEY)
    except Exception as exc:
        # pymemcache and pylibmc raise their own errors, or OSError, for a server that is down.
        raise ClearFailed(
            f"Alias {plan.alias!r}: Memcached at {plan.location} does not answer "
            f"({type(exc).__name__}: {exc}). Nothing was cleared.",
            changed=False,
        ) from exc


def clear_all(
    plans: Sequence[AliasPlan], *, batch: int, dry_run: bool, progress: Progress | None = None
) -> list[AliasResult]:
    results: list[AliasResult] = []
    for plan in plans:
        try:
            results.append(clear_one(plan, batch=batch, dry_run=dry_run, progress=progress))
        except (
            redis.RedisClearError,
            database.DatabaseClearError,
            flush.FlushError,
            ImproperlyConfigured,
        ) as exc:
            raise ClearFailed(
                f"Alias {plan.alias!r}: {exc} Some of its keys may have been deleted already; run the "
                "command again once the problem is fixed.",
                changed=not dry_run,
                results=results,
            ) from exc
    return results


def clear_one(plan: AliasPlan, *, batch: int, dry_run: bool, progress: Progress | None = None) -> AliasResult:
    cache = caches[plan.alias]
    result = AliasResult(
        alias=plan.alias,
        backend=plan.backend,
        location=plan.location,
        strategy=plan.strategy,
        dry_run=dry_run,
        sessions_at_risk=plan.sessions_at_risk,
        left_alone=list(plan.left_alone),
    )
    if plan.namespace is not None:
        result.prefix = plan.namespace.prefix
        result.version = plan.namespace.version
    report: Callable[[int], None] | None = None
    if progress is not None:
        report = lambda done: progress(plan.alias, done)  # noqa: E731
    started = time.monotonic()
    if plan.strategy is Strategy.REDIS_SCAN and plan.namespace is not None:
        result.pattern = plan.namespace.redis_pattern()
        result.keys = redis.clear_namespace(
            redis.raw_client(cache), plan.namespace, batch=batch, dry_run=dry_run, progress=report
        )
    elif (
        plan.strategy is Strategy.DATABASE_ROWS
        and plan.namespace is not None
        and isinstance(cache, DatabaseCache)
    ):
        result.pattern = plan.namespace.sql_like()
        result.keys = database.clear_namespace(
            cache, plan.namespace, batch=batch, dry_run=dry_run, progress=report
        )
    elif plan.strategy is Strategy.MEMCACHED_GENERATION and plan.generation_file is not None:
        result.prefix = str(cache.key_prefix)
        result.generation = generations.bump_generation(
            Path(plan.generation_file), result.prefix, dry_run=dry_run
        )
    elif plan.strategy is Strategy.FLUSH:
        result.keys = flush.count_store(cache, plan.kind)
        if not dry_run:
            flush.flush(cache, f"{plan.alias!r} ({plan.location or plan.backend})")
    result.seconds = time.monotonic() - started
    return result
