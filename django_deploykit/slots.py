"""The deploy root as a settings module sees it: which slot this code is, where the shared folder is, and
each slot's own cache key prefixes.

These helpers run while a settings module is being imported, before Django's settings exist, so they take
every input as an explicit argument and never read ``conf``. The deploy root's layout itself is
``django_deploykit.deploy_root.layout``; ``find_deploy_root`` and ``DeployRoot`` are named here too because
settings modules use them (README, docs/adopting.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

from django_deploykit.deploy_root.layout import SAFE_NAME_RE, DeployRoot, find_deploy_root

__all__ = [
    "DEFAULT_SHARED_CACHE_ALIASES",
    "DeployRoot",
    "current_slot",
    "find_deploy_root",
    "shared_dir",
    "slot_key_prefix",
    "validate_key_prefix_part",
    "with_slot_key_prefixes",
]

DEFAULT_SHARED_CACHE_ALIASES: tuple[str, ...] = ("sessions",)


def current_slot(code_path: Path | str, deploy_root: DeployRoot | None) -> str | None:
    """Return the slot whose directory holds the real path of ``code_path``.

    The real path matters: code imported through the ``live`` link belongs to the slot the
    link pointed at when it was imported, whatever the link says later.
    """
    if deploy_root is None:
        return None
    real = Path(code_path).resolve()
    try:
        relative = real.relative_to(deploy_root.path.resolve())
    except ValueError:
        return None
    if relative.parts and relative.parts[0] in deploy_root.slot_names:
        return relative.parts[0]
    return None


def shared_dir(deploy_root: DeployRoot | None, fallback: Path | str) -> Path:
    """Return the folder for what must survive a swap: the deploy root's ``shared/``, else ``fallback``."""
    if deploy_root is None:
        return Path(fallback)
    return deploy_root.shared_dir


def validate_key_prefix_part(value: str, what: str) -> None:
    if not value:
        raise ImproperlyConfigured(f"The {what} of a cache KEY_PREFIX must not be empty.")
    if not SAFE_NAME_RE.match(value):
        raise ImproperlyConfigured(
            f"The {what} {value!r} of a cache KEY_PREFIX may hold only letters, digits, '-' and '_': "
            "':' is Django's key separator and '*?[]\\' are glob characters that would make the "
            "prefix match other instances' keys."
        )


def slot_key_prefix(base: str, slot: str | None) -> str:
    """Return the cache KEY_PREFIX of one slot, such as ``mysite_blue``; ``base`` outside slots."""
    validate_key_prefix_part(base, "base")
    if slot is None:
        return base
    validate_key_prefix_part(slot, "slot name")
    return f"{base}_{slot}"


def with_slot_key_prefixes(
    caches: Mapping[str, Mapping[str, Any]],
    *,
    base_prefix: str,
    slot: str | None,
    shared_aliases: Iterable[str] = DEFAULT_SHARED_CACHE_ALIASES,
) -> dict[str, dict[str, Any]]:
    """Return a copy of ``caches`` in which each alias has its slot's own KEY_PREFIX.

    An alias's own KEY_PREFIX (from ``CACHE_URL``'s ``key_prefix``, say) is its base, else
    ``base_prefix``; the slot name is appended to it. Aliases in ``shared_aliases``
    (sessions, by default) keep the base so a swap does not log everyone out.
    """
    shared = set(shared_aliases)
    result: dict[str, dict[str, Any]] = {}
    for alias, config in caches.items():
        base = config.get("KEY_PREFIX") or base_prefix
        prefix = slot_key_prefix(base, None if alias in shared else slot)
        result[alias] = {**config, "KEY_PREFIX": prefix}
    return result
