"""Static files storage with one manifest per slot in a shared, add-only STATIC_ROOT."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestStaticFilesStorage


def manifest_name(slot: str | None) -> str:
    """The manifest of one slot's collected files; ``staticfiles.json`` outside slots, as Django's."""
    return f"staticfiles-{slot}.json" if slot else "staticfiles.json"


class SlotManifestStaticFilesStorage(ManifestStaticFilesStorage):
    """``staticfiles-<slot>.json``: collectstatic in the stage slot leaves the live slot's manifest alone."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        choice: dict[str, Any] = getattr(settings, "DEPLOYKIT_SETTINGS_CHOICE", None) or {}
        slot = choice.get("slot")
        self.manifest_name = manifest_name(slot)
        super().__init__(*args, **kwargs)
