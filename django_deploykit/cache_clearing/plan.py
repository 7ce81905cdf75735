"""Decide, for every alias to clear, how it would be cleared, before anything is deleted.

Every refusal is found here, so a refused run changes nothing, even for the aliases that
could have been cleared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.cache import InvalidCacheBackendError, caches

from django_deploykit.cache_clearing import namespace as ns
from django_deploykit.cache_clearing.backends import BackendKind, backend_kind, describe_location, same_store
from django_deploykit.cache_clearing.generations import GENERATION_FILE_KEY
from django_deploykit.conf import conf
from django_deploykit.deploy_root import layout

CACHE_SESSION_ENGINES = frozenset(
    {"django.contrib.sessions.backends.cache", "django.contrib.sessions.backends.cached_db"}
)


class Strategy(StrEnum):
    REDIS_SCAN = "redis-scan"
    DATABASE_ROWS = "database-rows"
    MEMCACHED_GENERATION = "memcached-generation"
    FLUSH = "flush"
    NOTHING = "nothing"


@dataclass(frozen=True)
class ClearRequest:
    aliases: Sequence[str] = ()
    all_aliases: bool = False
    prefix: str | None = None
    slot: str | None = None
    all_versions: bool = False
    flush: bool = False


@dataclass(frozen=True)
class CacheSetup:
    """The settings a plan depends on, passed explicitly so plans can be built from any settings."""

    caches: Mapping[str, Mapping[str, Any]]
    kinds: Mapping[str, BackendKind]
    slot_names: tuple[str, ...]
    session_engine: str = "django.contrib.sessions.backends.db"
    session_alias: str = "default"


@dataclass
class AliasPlan:
    alias: str
    kind: BackendKind
    backend: str
    location: str
    strategy: Strategy
    namespace: ns.Namespace | None = None
    generation_file: str | None = None
    sessions_at_risk: bool = False
    left_alone: list[str] = field(default_factory=list)


def sessions_warning(plan: AliasPlan, setup: CacheSetup) -> str:
    return (
        f"Sessions are kept in the cache (SESSION_ENGINE {setup.session_engine}, alias "
        f"{setup.session_alias!r}) and clearing alias {plan.alias!r} deletes them: "
        "everyone will be logged out."
    )


class PlanRefused(Exception):
    """Clearing was refused; the message is a full sentence that says what to do."""


def build_plans(request: ClearRequest, setup: CacheSetup) -> list[AliasPlan]:
    if request.flush and (request.prefix is not None or request.slot is not None):
        raise PlanRefused(
            "--flush empties the whole store whatever the prefix, so --prefix and --slot cannot be combined "
            "with it. Drop one or the other. Nothing was cleared."
        )
    aliases = _chosen_aliases(request, setup)
    if request.slot is not None and request.slot not in setup.slot_names:
        raise PlanRefused(
            f"--slot {request.slot!r} is not one of this deployment's slots ({', '.join(setup.slot_names)}). "
            "Pass one of them."
        )
    known_prefixes = [str(c.get("KEY_PREFIX", "")) for c in setup.caches.values()]
    plans = []
    refusals = []
    for alias in aliases:
        try:
            plans.append(_plan_alias(alias, request, setup, known_prefixes))
        except PlanRefused as exc:
            refusals.append(str(exc))
    if refusals:
        raise PlanRefused(" ".join(refusals) + " Nothing was cleared.")
    return plans


def _chosen_aliases(request: ClearRequest, setup: CacheSetup) -> list[str]:
    if request.all_aliases and request.aliases:
        raise PlanRefused("Name aliases or pass --all-aliases, not both.")
    if request.all_aliases:
        return list(setup.caches)
    aliases = list(dict.fromkeys(request.aliases)) or ["default"]
    unknown = [alias for alias in aliases if alias not in setup.caches]
    if unknown:
        raise PlanRefused(
            f"Unknown cache alias(es): {', '.join(repr(a) for a in unknown)}. The CACHES setting defines "
            f"{', '.join(repr(a) for a in setup.caches) or 'none'}; name one of them or pass --all-aliases."
        )
    return aliases


def _plan_alias(alias: str, request: ClearRequest, setup: CacheSetup, known_prefixes: list[str]) -> AliasPlan:
    config = dict(setup.caches[alias])
    kind = setup.kinds[alias]
    plan = AliasPlan(
        alias=alias,
        kind=kind,
        backend=str(config.get("BACKEND", "")),
        location=describe_location(config),
        strategy=Strategy.NOTHING,
    )
    if kind is BackendKind.LOCMEM:
        raise PlanRefused(
            f"Alias {alias!r} is a LocMemCache: it lives inside each server process, and no other process "
            "(this command included) can clear it. Restart the servers to empty it."
        )
    if kind is BackendKind.DUMMY:
        return plan
    plan.sessions_at_risk = _sessions_at_risk(alias, config, request, setup)
    if request.flush:
        plan.strategy = Strategy.FLUSH
        plan.left_alone.append("nothing: every key of this cache store is deleted, whatever its prefix")
        return plan
    if kind is BackendKind.FILE:
        raise PlanRefused(
            f"Alias {alias!r} is a FileBasedCache, whose file names are hashes of the keys, so its keys "
            "cannot be picked out by prefix. Pass --flush to delete every file in "
            f"{plan.location or 'its folder'}."
        )
    if kind is BackendKind.OTHER:
        raise PlanRefused(
            f"Alias {alias!r} uses the backend {plan.backend}, which clear_cache cannot clear by prefix. "
            "Pass --flush to call its own clear()."
        )
    plan.namespace = _namespace(alias, config, request, setup, known_prefixes)
    if kind in (BackendKind.REDIS, BackendKind.DJANGO_REDIS):
        plan.strategy = Strategy.REDIS_SCAN
        plan.left_alone.append("every key outside that namespace in the same Redis database")
    elif kind is BackendKind.DATABASE:
        plan.strategy = Strategy.DATABASE_ROWS
        plan.left_alone.append("every row outside that namespace in the same table")
    elif kind is BackendKind.MEMCACHED:
        generation_file = config.get(GENERATION_FILE_KEY)
        if not generation_file:
            raise PlanRefused(
                f"Alias {alias!r} is a Memcached cache, which cannot delete keys by prefix. Wrap CACHES with "
                "django_deploykit.cache_clearing.generations.with_cache_generations() in the settings so "
                "clear_cache can move this instance to a new generation, or pass --flush to empty the whole "
                "server."
            )
        if request.prefix is not None or request.slot is not None:
            raise PlanRefused(
                f"Alias {alias!r} is a Memcached cache cleared by generation: --prefix and --slot cannot "
                "be used with it, as only the settings of the instance itself read its generation."
            )
        plan.strategy = Strategy.MEMCACHED_GENERATION
        plan.generation_file = str(generation_file)
        plan.left_alone.append(
            "every key on the server: the old keys stay until Memcached evicts them or they expire"
        )
    return plan


def _namespace(
    alias: str, config: dict[str, Any], request: ClearRequest, setup: CacheSetup, known_prefixes: list[str]
) -> ns.Namespace:
    prefix = str(config.get("KEY_PREFIX", ""))
    if request.prefix is not None:
        prefix = request.prefix
    elif request.slot is not None:
        for_slot = ns.prefix_for_slot(prefix, request.slot, setup.slot_names)
        if for_slot is None:
            raise PlanRefused(
                f"Alias {alias!r} has the KEY_PREFIX {prefix!r}, which does not end with a slot name, so "
                "both slots share it and --slot cannot apply. Clear it without --slot, or pass --prefix."
            )
        prefix = for_slot
    siblings = ns.slot_prefixes([*known_prefixes, prefix], setup.slot_names)
    if (
        request.prefix is None
        and alias == setup.session_alias
        and setup.session_engine in CACHE_SESSION_ENGINES
    ):
        # The sessions alias keeps the slots' shared base prefix on purpose; naming it is a
        # deliberate choice, confirmed by --yes because everyone is logged out.
        siblings = set()
    problems = ns.namespace_problems(
        prefix, key_function=config.get("KEY_FUNCTION"), other_slot_prefixes=siblings
    )
    if problems:
        raise PlanRefused(
            f"Refusing to clear alias {alias!r} by prefix: {'; and '.join(problems)}. Fix the setting, "
            "pass another --prefix, or pass --flush to empty the whole cache store knowingly."
        )
    version = None if request.all_versions else int(config.get("VERSION", 1))
    return ns.Namespace(prefix=prefix, version=version)


def _sessions_at_risk(alias: str, config: dict[str, Any], request: ClearRequest, setup: CacheSetup) -> bool:
    if setup.session_engine not in CACHE_SESSION_ENGINES:
        return False
    if alias == setup.session_alias:
        return True
    session_config = setup.caches.get(setup.session_alias)
    if session_config is None or not same_store(dict(session_config), config):
        return False
    if request.flush:
        return True
    target_prefix = request.prefix if request.prefix is not None else str(config.get("KEY_PREFIX", ""))
    return str(session_config.get("KEY_PREFIX", "")) == target_prefix


def setup_from_settings() -> CacheSetup:
    """The ``CacheSetup`` of the running project's settings."""
    kinds = {}
    for alias in settings.CACHES:
        try:
            kinds[alias] = backend_kind(caches[alias])
        except InvalidCacheBackendError:
            kinds[alias] = BackendKind.OTHER
    return CacheSetup(
        caches=settings.CACHES,
        kinds=kinds,
        slot_names=current_slot_names(),
        session_engine=settings.SESSION_ENGINE,
        session_alias=settings.SESSION_CACHE_ALIAS,
    )


def current_slot_names() -> tuple[str, ...]:
    """The slots of the deploy root the settings found, else ``DEPLOYKIT_SLOT_NAMES``."""
    choice = conf.SETTINGS_CHOICE
    root = choice.get("deploy_root") if isinstance(choice, dict) else None
    if root:
        return layout.read_deploy_root(Path(root)).slot_names
    return tuple(conf.SLOT_NAMES)
