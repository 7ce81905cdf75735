"""System checks for per-instance cache keys: ids django_deploykit.E020 to E029 and W020 to W029."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from django_deploykit.cache_clearing import namespace as ns
from django_deploykit.cache_clearing.plan import CACHE_SESSION_ENGINES, current_slot_names
from django_deploykit.conf import conf
from django_deploykit.slots import DEFAULT_SHARED_CACHE_ALIASES

# Keys Django reads at the top of a CACHES entry; django-environ emits them lower-cased for
# Django's own RedisCache, and Django silently ignores those.
_BASE_KEYS = ("KEY_PREFIX", "VERSION", "TIMEOUT", "KEY_FUNCTION")
# Backends whose keys are not shared between processes, so slots cannot collide in them.
_PRIVATE_BACKENDS = ("LocMemCache", "DummyCache")


def register_checks() -> None:
    register(Tags.caches)(check_slots_have_own_prefixes)
    register(Tags.caches)(check_key_prefix_not_dropped)
    register(Tags.caches)(check_sessions_prefix_is_shared)
    register(Tags.caches)(check_key_function_clearable)


def _current_slot() -> str | None:
    choice = conf.SETTINGS_CHOICE
    slot = choice.get("slot") if isinstance(choice, dict) else None
    return slot if isinstance(slot, str) else None


def _session_alias() -> str | None:
    return settings.SESSION_CACHE_ALIAS if settings.SESSION_ENGINE in CACHE_SESSION_ENGINES else None


def _is_private(config: dict[str, Any]) -> bool:
    return str(config.get("BACKEND", "")).endswith(_PRIVATE_BACKENDS)


def check_slots_have_own_prefixes(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    slot = _current_slot()
    if slot is None:
        return []
    names = current_slot_names()
    shared = {*DEFAULT_SHARED_CACHE_ALIASES, _session_alias()}
    errors: list[CheckMessage] = []
    for alias, config in settings.CACHES.items():
        if alias in shared or _is_private(config):
            continue
        prefix = str(config.get("KEY_PREFIX", ""))
        if ns.slot_of_prefix(prefix, names) is None:
            errors.append(
                Error(
                    f"Cache alias {alias!r} has the KEY_PREFIX {prefix!r}, which does not name the slot "
                    f"{slot!r}: both slots would write the same keys, and clear_cache in one would clear "
                    "the other's.",
                    hint="Build CACHES with django_deploykit.slots.with_slot_key_prefixes(..., slot=SLOT), "
                    "or list the alias in its shared_aliases if both slots must share it on purpose.",
                    id="django_deploykit.E020",
                )
            )
    return errors


def check_key_prefix_not_dropped(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for alias, config in settings.CACHES.items():
        raw_options: Any = config.get("OPTIONS")
        options: dict[str, Any] = raw_options if isinstance(raw_options, dict) else {}
        ignored = [key for key in config if key != key.upper() and key.upper() in _BASE_KEYS]
        ignored += [f"OPTIONS[{key!r}]" for key in options if str(key).upper() in ("KEY_PREFIX", "VERSION")]
        if ignored:
            errors.append(
                Error(
                    f"Cache alias {alias!r} has {', '.join(repr(k) for k in ignored)}, which Django "
                    "ignores: the alias runs without the key prefix or version it was given, so instances "
                    "sharing the server share their keys.",
                    hint="Read CACHE_URL with django_deploykit.settings.env.cache_url() (or "
                    "parse_cache_url), which puts key_prefix and version where Django reads them, or set "
                    "KEY_PREFIX and VERSION at the top of the entry.",
                    id="django_deploykit.E021",
                )
            )
    return errors


def check_sessions_prefix_is_shared(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    alias = _session_alias()
    if alias is None or _current_slot() is None or alias not in settings.CACHES:
        return []
    prefix = str(settings.CACHES[alias].get("KEY_PREFIX", ""))
    slot = ns.slot_of_prefix(prefix, current_slot_names())
    if slot is None:
        return []
    return [
        Error(
            f"Sessions are kept in cache alias {alias!r}, whose KEY_PREFIX {prefix!r} belongs to the slot "
            f"{slot!r}: a swap would make every session unreadable and log everyone out.",
            hint="Keep sessions on an alias that both slots share: pass it in shared_aliases to "
            "django_deploykit.slots.with_slot_key_prefixes (the alias 'sessions' is shared by default) "
            "and point SESSION_CACHE_ALIAS at it.",
            id="django_deploykit.E022",
        )
    ]


def check_key_function_clearable(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    warnings: list[CheckMessage] = []
    for alias, config in settings.CACHES.items():
        if _is_private(config) or ns.is_default_key_function(config.get("KEY_FUNCTION")):
            continue
        warnings.append(
            Warning(
                f"Cache alias {alias!r} uses a custom KEY_FUNCTION, so clear_cache cannot tell its keys from "
                "other instances' and can only empty the whole store (--flush).",
                hint="Use Django's default key function and a per-instance KEY_PREFIX.",
                id="django_deploykit.W020",
            )
        )
    return warnings
