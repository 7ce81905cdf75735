"""The deploy root, its slots and its shared folder.

These helpers run while a settings module is being imported, before Django's settings
exist, so they take every input as an explicit argument and never read ``conf``.

A deploy root looks like this::

    <root>/.deploykit-root   JSON: {"slots": ["blue", "green"]}
    <root>/blue/             a checkout of the app, with its own virtualenv
    <root>/green/            the other checkout
    <root>/live -> blue      the slot the public site serves
    <root>/stage -> green    the slot being updated and tested
    <root>/shared/           what survives a swap: .env, media, SQLite files, state
    <root>/run/              the servers' pid files, control sockets and reload files
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.exceptions import ImproperlyConfigured

DEFAULT_SLOT_NAMES: tuple[str, str] = ("blue", "green")
ROOT_MARKER = ".deploykit-root"
ROOT_ENV_VARIABLE = "DEPLOYKIT_ROOT"
SHARED_DIR_NAME = "shared"
RUN_DIR_NAME = "run"
# Each slot's own virtualenv, inside the slot: <root>/<slot>/.venv.
VENV_DIR = ".venv"
LIVE_LINK = "live"
STAGE_LINK = "stage"
DEFAULT_SHARED_CACHE_ALIASES: tuple[str, ...] = ("sessions",)

# A slot name becomes a directory name and part of a cache key prefix, so it must be
# safe in both: no path separators, no ``:`` (Django's key separator), no glob characters.
_SAFE_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")
_RESERVED_NAMES = frozenset({LIVE_LINK, STAGE_LINK, SHARED_DIR_NAME, RUN_DIR_NAME})


@dataclass(frozen=True)
class DeployRoot:
    path: Path
    slot_names: tuple[str, str] = DEFAULT_SLOT_NAMES

    @property
    def shared_dir(self) -> Path:
        return self.path / SHARED_DIR_NAME

    @property
    def run_dir(self) -> Path:
        return self.path / RUN_DIR_NAME

    @property
    def live_link(self) -> Path:
        return self.path / LIVE_LINK

    @property
    def stage_link(self) -> Path:
        return self.path / STAGE_LINK

    @property
    def marker(self) -> Path:
        return self.path / ROOT_MARKER

    def slot_dir(self, slot: str) -> Path:
        if slot not in self.slot_names:
            raise ValueError(f"{slot!r} is not one of this deploy root's slots {self.slot_names}.")
        return self.path / slot

    def slot_python(self, slot: str) -> Path:
        return slot_python(self.slot_dir(slot))

    def other_slot(self, slot: str) -> str:
        first, second = self.slot_names
        if slot == first:
            return second
        if slot == second:
            return first
        raise ValueError(f"{slot!r} is not one of this deploy root's slots {self.slot_names}.")


def slot_python(slot_dir: Path) -> Path:
    """The interpreter of a slot's own virtualenv."""
    return slot_dir / VENV_DIR / "bin" / "python"


def validate_slot_names(names: Iterable[str]) -> tuple[str, str]:
    """Return ``names`` as a pair, or raise ``ValueError`` saying what is wrong with them."""
    pair = tuple(names)
    if len(pair) != 2:
        raise ValueError(f"Exactly two slot names are needed, got {len(pair)}: {pair!r}.")
    first, second = pair
    if first == second:
        raise ValueError(f"The two slot names must differ, both are {first!r}.")
    for name in pair:
        if not isinstance(name, str) or not _SAFE_NAME_RE.match(name):
            raise ValueError(
                f"Slot name {name!r} must start with a letter or digit and hold only letters, digits, "
                "'-' and '_'."
            )
        if name in _RESERVED_NAMES:
            raise ValueError(f"Slot name {name!r} is reserved for the deploy root's own links and folders.")
    if first.startswith(second) or second.startswith(first):
        # A prefix of the other would make one slot's cache keys match the other's patterns.
        raise ValueError(f"Slot names {first!r} and {second!r} must not be prefixes of each other.")
    return first, second


def read_deploy_root(path: Path) -> DeployRoot:
    """Load the deploy root at ``path`` from its marker file."""
    marker = path / ROOT_MARKER
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return DeployRoot(path=path)
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(f"The deploy root marker {marker} cannot be read: {exc}.") from exc
    if not isinstance(data, dict):
        raise ImproperlyConfigured(f"The deploy root marker {marker} must hold a JSON object.")
    try:
        names = validate_slot_names(data.get("slots", DEFAULT_SLOT_NAMES))
    except ValueError as exc:
        raise ImproperlyConfigured(f"The deploy root marker {marker} is invalid: {exc}") from exc
    return DeployRoot(path=path, slot_names=names)


def find_deploy_root(start: Path | str, environ: Mapping[str, str] | None = None) -> DeployRoot | None:
    """Find the deploy root that holds the code at ``start``.

    ``DEPLOYKIT_ROOT`` in ``environ`` wins; otherwise the real path of ``start`` and its
    parents are searched for the marker file. ``None`` means the code is not deployed in
    slots (a developer's checkout, a single-checkout server).
    """
    environ = os.environ if environ is None else environ
    configured = environ.get(ROOT_ENV_VARIABLE, "")
    if configured:
        path = Path(configured)
        if not path.is_dir():
            raise ImproperlyConfigured(
                f"{ROOT_ENV_VARIABLE} is {configured!r}, which is not a directory. Point it at the deploy root "
                "or unset it."
            )
        return read_deploy_root(path.resolve())
    real = Path(start).resolve()
    for candidate in (real, *real.parents):
        if (candidate / ROOT_MARKER).is_file():
            return read_deploy_root(candidate)
    return None


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
    if not _SAFE_NAME_RE.match(value):
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
