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

    # Revision endpoint and swap_live.
    REVISION_TOKEN: Setting[str | None] = Setting(
        None, "A token that lets non-local clients read the revision endpoint (header X-Deploykit-Token)."
    )

    REPORT_PACKAGES: Setting[list[str]] = Setting(
        ["django", "django-deploykit"],
        "Distributions whose installed versions the revision endpoint reports.",
    )
    PROJECT_SUBDIR: Setting[str | None] = Setting(
        None,
        "The project's folder inside a slot (where manage.py is); None derives it from the running code.",
    )
    RELOAD: Setting[dict[str, dict[str, Any]]] = Setting(
        {}, "Reload adapter per link, e.g. {'live': {'adapter': 'gunicorn', 'pidfile': 'run/live.pid'}}."
    )
    LIVE_URL: Setting[str | None] = Setting(
        None, "The revision endpoint as served by the live server, polled after a swap to verify it."
    )
    STAGE_URL: Setting[str | None] = Setting(None, "The revision endpoint as served by the stage server.")
    STAGE_HEALTH_URL: Setting[str | None] = Setting(
        None, "A URL of the stage server that must answer 200 before a swap (the gate's HTTP probe)."
    )
    VERIFY_CONSECUTIVE: Setting[int] = Setting(
        3, "How many answers in a row must report the new revision for a swap to count as verified."
    )
    FORCE_JOURNAL: Setting[bool] = Setting(
        False, "Exchange the links with the journalled pair of renames even where RENAME_EXCHANGE works."
    )

    @classmethod
    def declared(cls) -> dict[str, Setting[Any]]:
        """Every setting, by its full name."""
        return {s.name: s for s in vars(cls).values() if isinstance(s, Setting)}


conf = DeployKitSettings()
