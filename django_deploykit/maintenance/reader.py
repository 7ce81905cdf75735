"""The middleware's view of the state: read at most once per staleness bound, errors logged once.

The staleness bound (``DEPLOYKIT_MAINTENANCE_STALENESS``, at most one second) is how long a
worker may answer from memory after ``maintenance on`` or ``off`` changed the store.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from django.core.signals import setting_changed
from django.dispatch import receiver

from django_deploykit.conf import conf
from django_deploykit.maintenance import stores
from django_deploykit.maintenance.state import MaintenanceState, StateError

logger = logging.getLogger("django_deploykit.maintenance")

POLICIES = ("last-good", "open", "closed")


def staleness_bound() -> float:
    """Seconds a worker may answer from memory: the setting, kept within 0 to 1."""
    try:
        return min(max(float(conf.MAINTENANCE_STALENESS), 0.0), 1.0)
    except (TypeError, ValueError):
        return 1.0


# What 'closed' serves when the state cannot be read: active, with no known end.
UNREADABLE_STATE = MaintenanceState(start=datetime(1970, 1, 1, tzinfo=UTC), set_by="(state unreadable)")

_readers: weakref.WeakSet[StateReader] = weakref.WeakSet()


class StateReader:
    def __init__(
        self,
        store_factory: Callable[[], Sequence[stores.Store]] = stores.configured_stores,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store_factory = store_factory
        self.monotonic = monotonic
        self.states: tuple[MaintenanceState, ...] = ()
        self.fresh_until = float("-inf")
        self._stores: Sequence[stores.Store] | None = None
        self._last_good: dict[str, MaintenanceState | None] = {}
        self._failing: dict[str, str] = {}
        _readers.add(self)

    def invalidate(self) -> None:
        self.fresh_until = float("-inf")
        self._stores = None

    def current(self) -> tuple[MaintenanceState, ...]:
        if self.monotonic() < self.fresh_until:
            return self.states
        return self.refresh()

    def refresh(self) -> tuple[MaintenanceState, ...]:
        # Counted from before the read, so a state read just before a write is never kept
        # past the write plus the bound (what 'maintenance on' waits for).
        started = self.monotonic()
        staleness = staleness_bound()
        policy = conf.MAINTENANCE_READ_ERROR_POLICY
        found: list[MaintenanceState] = []
        try:
            if self._stores is None:
                self._stores = list(self.store_factory())
            store_list: Sequence[stores.Store] = self._stores
        except StateError as exc:
            self._report("configuration", str(exc))
            store_list = ()
            if policy == "closed":
                found.append(UNREADABLE_STATE)
        for store in store_list:
            state = self._read(store, policy)
            if state is not None:
                found.append(state)
        self.states = tuple(found)
        self.fresh_until = started + staleness
        return self.states

    def _read(self, store: stores.Store, policy: str) -> MaintenanceState | None:
        try:
            state = store.read()
        except StateError as exc:
            self._report(store.scope, str(exc))
            if policy == "closed":
                return UNREADABLE_STATE
            if policy == "open":
                return None
            return self._last_good.get(store.scope)
        if self._failing.pop(store.scope, None) is not None:
            logger.warning("The maintenance state of scope %s can be read again.", store.scope)
        self._last_good[store.scope] = state
        return state

    def _report(self, key: str, error: str) -> None:
        # Once per change of error, not once per request: a corrupt file would otherwise
        # write a log line per request on a busy site.
        if self._failing.get(key) != error:
            self._failing[key] = error
            logger.error("%s The middleware follows DEPLOYKIT_MAINTENANCE_READ_ERROR_POLICY.", error)


@receiver(setting_changed)
def _forget_on_setting_change(*, setting: str, **kwargs: Any) -> None:
    if setting.startswith("DEPLOYKIT_") or setting in {"CACHES", "BASE_DIR"}:
        for reader in list(_readers):
            reader.invalidate()
