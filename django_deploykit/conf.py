"""Every setting of django-deploykit, declared once with its default.

Values are read from ``django.conf.settings`` on each access, so ``override_settings``
works without signal handlers. Settings needed while the settings themselves are being
imported (the deploy root, the slot of the running code) cannot live here: see
``django_deploykit.slots`` and ``django_deploykit.settings``.
"""

from __future__ import annotations

from typing import Any, Generic, TypeVar, overload

from django.conf import settings

T = TypeVar("T")


class Setting(Generic[T]):
    """A ``DEPLOYKIT_*`` setting with its default."""

    def __init__(self, default: T, doc: str) -> None:
        self.default = default
        self.__doc__ = doc
        self.name = ""

    def __set_name__(self, owner: type, attribute: str) -> None:
        self.name = "DEPLOYKIT_" + attribute

    @overload
    def __get__(self, instance: None, owner: type) -> Setting[T]: ...
    @overload
    def __get__(self, instance: object, owner: type) -> T: ...
    def __get__(self, instance: object | None, owner: type) -> T | Setting[T]:
        if instance is None:
            return self
        value: T = getattr(settings, self.name, self.default)
        return value


class DeployKitSettings:
    ROOT: Setting[str | None] = Setting(
        None,
        "Path of the deploy root. None finds it from the DEPLOYKIT_ROOT variable or the "
        "'.deploykit-root' marker above the running code.",
    )
    SLOT_NAMES: Setting[tuple[str, str]] = Setting(
        ("blue", "green"), "Names of the two slot directories; the deploy root's marker file wins."
    )
    SETTINGS_CHOICE: Setting[dict[str, Any] | None] = Setting(
        None, "Written by the settings dispatcher: which mode and module were chosen, and why."
    )
    REQUIRE_DISPATCHER: Setting[bool] = Setting(
        True, "Warn (django_deploykit.W001) under 'check --deploy' when the dispatcher was not used."
    )

    # migrate_safe: expand/contract migrations
    MIGRATION_PHASES: Setting[dict[str, str]] = Setting(
        {},
        "Phase of migrations you cannot mark, e.g. third-party ones: {'app_label.migration_name': "
        "'additive' | 'destructive'}. A Migration.deploy_phase marker wins over it.",
    )
    MIGRATE_LOCK_TIMEOUT: Setting[str] = Setting(
        "5s",
        "PostgreSQL lock_timeout (MySQL/MariaDB lock_wait_timeout) for every migration migrate_safe runs.",
    )
    MIGRATE_STATEMENT_TIMEOUT: Setting[str] = Setting(
        "0", "PostgreSQL statement_timeout for every migration migrate_safe runs; '0' means no limit."
    )
    MIGRATE_RETRIES: Setting[int] = Setting(
        3, "How often migrate_safe retries an atomic migration that hit the lock timeout (PostgreSQL)."
    )
    MIGRATE_RETRY_DELAY: Setting[float] = Setting(
        1.0, "Seconds before the first retry; each further retry waits twice as long."
    )

    @classmethod
    def declared(cls) -> dict[str, Setting[Any]]:
        """Every setting, by its full name."""
        return {s.name: s for s in vars(cls).values() if isinstance(s, Setting)}


conf = DeployKitSettings()
