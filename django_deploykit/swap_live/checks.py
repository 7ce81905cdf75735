"""System checks for swapping slots: ids django_deploykit.E040 to E049 and W040 to W049."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error, Warning, register

from django_deploykit.conf import conf
from django_deploykit.servers.reload import ReloadError, build_reloader


def register_checks() -> None:
    register()(check_reload_settings)


def check_reload_settings(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    # Typed as a dict, but it is a user's setting: check what is really there.
    reload: Any = conf.RELOAD
    if not isinstance(reload, dict):
        return [
            Error(
                "DEPLOYKIT_RELOAD must be a dict of link name to adapter settings.",
                id="django_deploykit.E040",
            )
        ]
    for link, config in reload.items():
        if link not in ("live", "stage"):
            messages.append(
                Error(
                    f"DEPLOYKIT_RELOAD has an entry for {link!r}; only 'live' and 'stage' exist.",
                    id="django_deploykit.E041",
                )
            )
            continue
        try:
            # Only the configuration is validated here; paths are resolved against the deploy root at swap time.
            build_reloader(config if isinstance(config, dict) else {}, Path())
        except ReloadError as exc:
            messages.append(
                Error(f"DEPLOYKIT_RELOAD[{link!r}] is invalid: {exc}", id="django_deploykit.E042")
            )
            continue
        if config.get("adapter") == "gunicorn-hup":
            messages.append(
                Warning(
                    f"DEPLOYKIT_RELOAD[{link!r}] uses gunicorn-hup: HUP starts new workers from the old master, so "
                    "they keep the master's interpreter, virtualenv and sys.path.",
                    hint="Use the 'gunicorn' adapter (USR2 re-exec through the link) so a slot's virtualenv goes live too.",
                    id="django_deploykit.W040",
                )
            )
    if reload.get("live") and not conf.LIVE_URL:
        messages.append(
            Warning(
                "DEPLOYKIT_RELOAD reloads the live server but DEPLOYKIT_LIVE_URL is not set, so swaps cannot verify "
                "that the new code is really served.",
                hint="Set DEPLOYKIT_LIVE_URL to the live server's revision endpoint (include django_deploykit.urls).",
                id="django_deploykit.W041",
            )
        )
    return messages
