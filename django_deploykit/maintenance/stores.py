"""Where the maintenance state lives: a file for one host, a cache key for several servers.

Only the command writes. Readers (the middleware) never create, repair or delete anything,
so a read-only state folder or a read-only replica is fine.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Protocol

from django.conf import settings
from django.core.cache import BaseCache
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from django_deploykit.atomic_files import READABLE_BY_SERVERS, fsync_folder, write_atomically
from django_deploykit.conf import conf
from django_deploykit.deploy_root import layout
from django_deploykit.maintenance.state import MaintenanceState, StateError

STATE_FILE_NAME = "maintenance.json"
HOST = "host"
SHARED = "shared"
SCOPES = (HOST, SHARED)

# Cache backends that cannot be shared between servers, or that need the database.
REFUSED_CACHE_BACKENDS = frozenset(
    {
        "django.core.cache.backends.locmem.LocMemCache",
        "django.core.cache.backends.filebased.FileBasedCache",
        "django.core.cache.backends.db.DatabaseCache",
        "django.core.cache.backends.dummy.DummyCache",
    }
)


class Store(Protocol):
    scope: str

    def describe(self) -> str: ...
    def read(self) -> MaintenanceState | None: ...
    def write(self, state: MaintenanceState) -> None: ...
    def clear(self) -> bool: ...


class FileStore:
    scope = HOST

    def __init__(self, path: Path) -> None:
        self.path = path

    def describe(self) -> str:
        return f"file {self.path}"

    def read(self) -> MaintenanceState | None:
        try:
            text = self.path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise StateError(
                f"The maintenance state file {self.path} cannot be read: {exc.strerror}."
            ) from exc
        try:
            return MaintenanceState.from_json(text)
        except ValueError as exc:
            raise StateError(f"The maintenance state file {self.path} is corrupt: {exc}.") from exc

    def write(self, state: MaintenanceState) -> None:
        # Every worker reads this file while it may be rewritten: the old document or the new one.
        try:
            write_atomically(self.path, state.to_json(), mode=READABLE_BY_SERVERS)
        except OSError as exc:
            raise StateError(
                f"The maintenance state file {self.path} cannot be written: {exc.strerror}."
            ) from exc

    def clear(self) -> bool:
        try:
            self.path.unlink()
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise StateError(
                f"The maintenance state file {self.path} cannot be removed: {exc.strerror}."
            ) from exc
        fsync_folder(self.path.parent)
        return True


class CacheStore:
    scope = SHARED

    def __init__(self, alias: str, key: str) -> None:
        self.alias = alias
        self.key = key
        self._cache = unprefixed_cache(alias)

    def describe(self) -> str:
        return f"cache alias {self.alias!r}, key {self.key!r}"

    def read(self) -> MaintenanceState | None:
        try:
            text = self._cache.get(self.key)
        except Exception as exc:  # every backend raises its own connection errors
            raise StateError(f"The maintenance state in {self.describe()} cannot be read: {exc}.") from exc
        if text is None:
            return None
        try:
            return MaintenanceState.from_json(text)
        except ValueError as exc:
            raise StateError(f"The maintenance state in {self.describe()} is corrupt: {exc}.") from exc

    def write(self, state: MaintenanceState) -> None:
        try:
            # No expiry: an ended window stays visible to 'status' until 'off'.
            self._cache.set(self.key, state.to_json(), timeout=None)
        except Exception as exc:
            raise StateError(f"The maintenance state in {self.describe()} cannot be written: {exc}.") from exc

    def clear(self) -> bool:
        try:
            return bool(self._cache.delete(self.key))
        except Exception as exc:
            raise StateError(f"The maintenance state in {self.describe()} cannot be removed: {exc}.") from exc


def cache_backend_path(alias: str) -> str:
    try:
        config: dict[str, Any] = settings.CACHES[alias]
    except KeyError:
        raise StateError(
            f"CACHES has no alias {alias!r}; add it or fix DEPLOYKIT_MAINTENANCE_CACHE_ALIAS."
        ) from None
    return str(config.get("BACKEND", ""))


def unprefixed_cache(alias: str) -> BaseCache:
    """A connection to ``alias`` without its KEY_PREFIX and VERSION.

    The slot helpers give each slot its own KEY_PREFIX; the maintenance key must be the
    same for both slots and every server, so it is built without it.
    """
    backend = cache_backend_path(alias)
    if backend in REFUSED_CACHE_BACKENDS:
        raise StateError(
            f"The cache alias {alias!r} uses {backend}, which is not shared between servers or needs the "
            "database; use a Redis alias for the shared scope."
        )
    config = dict(settings.CACHES[alias])
    params: dict[str, Any] = {k: v for k, v in config.items() if k not in {"BACKEND", "LOCATION"}}
    params.update({"KEY_PREFIX": "", "VERSION": 1, "KEY_FUNCTION": _key_as_configured})
    cache: BaseCache = import_string(backend)(config.get("LOCATION", ""), params)
    return cache


def _key_as_configured(key: str, key_prefix: str, version: int) -> str:
    return key


def default_state_file() -> Path:
    """The host-scope state file: the setting, else the deploy root's shared/, else BASE_DIR."""
    configured = conf.MAINTENANCE_STATE_FILE
    if configured:
        return Path(configured)
    try:
        root = deploy_root()
    except ImproperlyConfigured as exc:
        raise StateError(f"The maintenance state file cannot be located: {exc}") from exc
    if root is not None:
        return root.shared_dir / STATE_FILE_NAME
    return Path(getattr(settings, "BASE_DIR", None) or Path.cwd()) / STATE_FILE_NAME


def deploy_root() -> layout.DeployRoot | None:
    """The deploy root the command works in (DEPLOYKIT_ROOT, else found above BASE_DIR); None outside one.

    The one lookup for the state file's default place and the static page, so both land in the same root.
    ``ImproperlyConfigured`` when DEPLOYKIT_ROOT names no folder or the root's marker is unreadable.
    """
    base_dir = getattr(settings, "BASE_DIR", None)
    environ = dict(os.environ)
    if conf.ROOT:
        environ[layout.ROOT_ENV_VARIABLE] = str(conf.ROOT)
    return layout.find_deploy_root(base_dir or Path.cwd(), environ)


def host_store() -> FileStore:
    return FileStore(default_state_file())


def shared_store() -> CacheStore | None:
    alias = conf.MAINTENANCE_CACHE_ALIAS
    if not alias:
        return None
    return CacheStore(alias, conf.MAINTENANCE_CACHE_KEY)


class BrokenStore:
    """A store that cannot even be set up; reading it reports why, so policies apply to it too."""

    def __init__(self, scope: str, error: str) -> None:
        self.scope = scope
        self.error = error

    def describe(self) -> str:
        return "(misconfigured)"

    def read(self) -> MaintenanceState | None:
        raise StateError(self.error)

    def write(self, state: MaintenanceState) -> None:
        raise StateError(self.error)

    def clear(self) -> bool:
        raise StateError(self.error)


def configured_stores() -> list[Store]:
    """Every store that is read: the host file always, the shared key when an alias is set.

    A broken shared configuration does not hide the host file.
    """
    stores: list[Store] = [host_store()]
    try:
        shared = shared_store()
    except StateError as exc:
        stores.append(BrokenStore(SHARED, str(exc)))
    else:
        if shared is not None:
            stores.append(shared)
    return stores
