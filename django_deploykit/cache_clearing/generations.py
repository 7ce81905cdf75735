"""Per-instance generations for Memcached, which cannot delete keys by prefix.

Each instance's cache VERSION is raised by a generation number kept in a small JSON file
(``{"mysite_blue": 3}``) in the deploy root's shared folder, or beside the project without
one. The settings read it once at start with ``with_cache_generations``; ``clear_cache``
bumps it. The old keys are not deleted: once the servers reload, they read the new
generation, use a VERSION no key was written under, and the old keys age out of Memcached.

Like the slot helpers, this runs while the settings are being imported, so it takes every
input as an argument and never reads Django settings.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any, Final

from django.core.exceptions import ImproperlyConfigured
from filelock import FileLock

from django_deploykit.atomic_files import READABLE_BY_SERVERS, write_atomically

GENERATIONS_FILE_NAME: Final = "cache-generations.json"
# Written into each wrapped CACHES entry so clear_cache bumps the file the settings read;
# Django's cache backends ignore top-level keys they do not know.
GENERATION_FILE_KEY: Final = "DEPLOYKIT_GENERATION_FILE"
LOCK_TIMEOUT_SECONDS: Final = 10


def read_generations(path: Path) -> dict[str, int]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise ImproperlyConfigured(f"The cache generations file {path} cannot be read: {exc}.") from exc
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"The cache generations file {path} is not valid JSON ({exc}). Fix it or delete it; deleting it "
            "brings back keys from the first generation if Memcached still holds them."
        ) from exc
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and v >= 0
        for k, v in data.items()
    ):
        raise ImproperlyConfigured(
            f"The cache generations file {path} must hold a JSON object of prefix to whole number ≥ 0."
        )
    return data


def with_cache_generations(
    caches: Mapping[str, Mapping[str, Any]],
    generations_file: Path | str,
    *,
    aliases: Iterable[str] | None = None,
) -> dict[str, dict[str, Any]]:
    """Return a copy of ``caches`` whose Memcached aliases add their prefix's generation to VERSION.

    ``aliases`` defaults to every alias whose BACKEND is a Memcached one. Call it after
    ``slots.with_slot_key_prefixes`` so each slot's own prefix has its own generation.
    """
    path = Path(generations_file)
    generations = read_generations(path)
    chosen = (
        {alias for alias, config in caches.items() if "memcached" in str(config.get("BACKEND", "")).lower()}
        if aliases is None
        else set(aliases)
    )
    result: dict[str, dict[str, Any]] = {}
    for alias, config in caches.items():
        entry = dict(config)
        if alias in chosen:
            generation = generations.get(str(entry.get("KEY_PREFIX", "")), 0)
            entry["VERSION"] = int(entry.get("VERSION", 1)) + generation
            entry[GENERATION_FILE_KEY] = str(path)
        result[alias] = entry
    return result


def bump_generation(path: Path, prefix: str, *, dry_run: bool = False) -> tuple[int, int]:
    """Raise the generation of ``prefix`` by one; return (old, new). ``dry_run`` writes nothing."""
    if not path.parent.is_dir():
        raise ImproperlyConfigured(
            f"The folder of the cache generations file {path} does not exist; create it or fix the path "
            "given to with_cache_generations()."
        )
    lock = FileLock(f"{path}.lock", timeout=LOCK_TIMEOUT_SECONDS)
    with lock:
        generations = read_generations(path)
        old = generations.get(prefix, 0)
        if dry_run:
            return old, old + 1
        generations[prefix] = old + 1
        write_atomically(
            path, json.dumps(generations, indent=2, sort_keys=True) + "\n", mode=READABLE_BY_SERVERS
        )
    return old, old + 1
