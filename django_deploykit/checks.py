"""System checks of django-deploykit, ids ``django_deploykit.E0xx`` / ``W0xx``.

Production-unsafe states are Errors, so ``manage.py check --deploy`` fails without
``--fail-level``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register

from django_deploykit.cache_clearing import checks as cache_checks
from django_deploykit.conf import conf
from django_deploykit.console import checks as console_checks
from django_deploykit.deploy import checks as deploy_checks
from django_deploykit.deploy_root import layout
from django_deploykit.maintenance import checks as maintenance_checks
from django_deploykit.migrate_safe import checks as migrate_safe_checks
from django_deploykit.notifications import checks as notification_checks
from django_deploykit.swap_live import checks as swap_checks


def register_all() -> None:
    register(Tags.security)(check_production_debug)
    register(Tags.security, deploy=True)(check_deploy_debug)
    register(Tags.security, deploy=True)(check_dispatcher_used)
    register()(check_slot_names)
    register()(check_deploy_root)
    cache_checks.register_checks()
    swap_checks.register_checks()
    maintenance_checks.register_checks()
    deploy_checks.register_checks()
    migrate_safe_checks.register_checks()
    notification_checks.register_checks()
    console_checks.register_checks()


def _mode() -> str | None:
    choice = conf.SETTINGS_CHOICE
    return choice.get("mode") if isinstance(choice, dict) else None


def check_production_debug(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    if _mode() == "production" and settings.DEBUG:
        return [
            Error(
                "DEBUG is on in production settings.",
                hint="Set DEBUG to False in the production settings or unset the DEBUG variable; "
                "a public site with DEBUG on shows its settings and source to anyone.",
                id="django_deploykit.E001",
            )
        ]
    return []


def check_deploy_debug(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    # E001 already reports production; this one makes 'check --deploy' fail for projects
    # that choose their settings some other way (Django's own W018 is only a warning).
    if settings.DEBUG and _mode() != "production":
        return [
            Error(
                "DEBUG is on, and 'check --deploy' checks settings meant for deployment.",
                hint="Run the deployment check with the production settings (set PRODUCTION), where "
                "DEBUG must be False.",
                id="django_deploykit.E002",
            )
        ]
    return []


def check_slot_names(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    try:
        layout.validate_slot_names(conf.SLOT_NAMES)
    except (TypeError, ValueError) as exc:
        return [
            Error(
                f"DEPLOYKIT_SLOT_NAMES is invalid: {exc}",
                hint="Use two distinct names such as ('blue', 'green').",
                id="django_deploykit.E003",
            )
        ]
    return []


def check_deploy_root(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    root = conf.ROOT
    if root is None:
        return []
    path = Path(root)
    if not path.is_dir():
        return [
            Error(
                f"DEPLOYKIT_ROOT is {root!r}, which is not a directory.",
                hint="Point it at the deploy root (the folder with the slots, the live and stage links and "
                "shared/), or remove it to find the root from the running code.",
                id="django_deploykit.E004",
            )
        ]
    if not (path / layout.SHARED_DIR_NAME).is_dir():
        return [
            Error(
                f"DEPLOYKIT_ROOT {root!r} has no {layout.SHARED_DIR_NAME}/ folder.",
                hint="Create the layout with the deploykit_init command, or fix the path.",
                id="django_deploykit.E005",
            )
        ]
    return []


def check_dispatcher_used(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    if conf.REQUIRE_DISPATCHER and conf.SETTINGS_CHOICE is None:
        return [
            Warning(
                "The settings were not loaded through django_deploykit.settings.dispatch().",
                hint="Call dispatch(__name__) in the settings package's __init__.py so that every process "
                "chooses production or development the same way; or set DEPLOYKIT_REQUIRE_DISPATCHER = False.",
                id="django_deploykit.W001",
            )
        ]
    return []
