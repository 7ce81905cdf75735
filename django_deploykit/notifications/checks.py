"""System check of the notification targets (id django_deploykit.E060)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.core.checks import CheckMessage, Error, register

from django_deploykit.conf import conf
from django_deploykit.notifications.targets import SETTING, TargetError, parse_targets


def check_targets(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        parse_targets(conf.NOTIFICATIONS, SETTING)
    except TargetError as exc:
        return [
            Error(
                str(exc),
                hint="See docs/notifications.md for the target forms; deploy refuses to start until it is fixed.",
                id="django_deploykit.E060",
            )
        ]
    return []


def register_checks() -> None:
    register()(check_targets)
