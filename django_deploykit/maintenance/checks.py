"""System checks of the maintenance part, ids ``django_deploykit.E010``-``E019`` and ``W010``-``W019``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register

from django_deploykit.conf import conf
from django_deploykit.maintenance import stores
from django_deploykit.maintenance.client_ip import parse_networks
from django_deploykit.maintenance.middleware import is_narrow_exempt_path
from django_deploykit.maintenance.reader import POLICIES
from django_deploykit.maintenance.state import StateError

MIDDLEWARE_PATH = "django_deploykit.maintenance.middleware.MaintenanceMiddleware"
STAFF_MIDDLEWARE_PATH = "django_deploykit.maintenance.middleware.MaintenanceStaffMiddleware"
AUTH_MIDDLEWARE_PATH = "django.contrib.auth.middleware.AuthenticationMiddleware"


def register_checks() -> None:
    register()(check_middleware_first)
    register()(check_shared_cache)
    register()(check_settings_values)
    register()(check_staff_bypass)


def missing_middleware_warning() -> str | None:
    """What ``maintenance on`` warns of when this project's pages would not show the window it set."""
    if MIDDLEWARE_PATH in settings.MIDDLEWARE:
        return None
    return (
        f"{MIDDLEWARE_PATH} is not in MIDDLEWARE, so this project will not show the window; "
        "add it as the first entry."
    )


def check_middleware_first(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    middleware = list(settings.MIDDLEWARE)
    if MIDDLEWARE_PATH in middleware and middleware[0] != MIDDLEWARE_PATH:
        return [
            Error(
                "MaintenanceMiddleware is not the first entry of MIDDLEWARE.",
                hint="Move it to the top: a middleware above it would run during maintenance, and may need "
                "the database that is being migrated.",
                id="django_deploykit.E010",
            )
        ]
    return []


def check_shared_cache(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    alias = conf.MAINTENANCE_CACHE_ALIAS
    if not alias:
        return []
    try:
        backend = stores.cache_backend_path(alias)
    except StateError as exc:
        return [Error(str(exc), id="django_deploykit.E011")]
    if backend in stores.REFUSED_CACHE_BACKENDS:
        return [
            Error(
                f"DEPLOYKIT_MAINTENANCE_CACHE_ALIAS {alias!r} uses {backend}.",
                hint="The shared maintenance scope needs a cache every server reads and that works with the "
                "database down: point it at a Redis alias.",
                id="django_deploykit.E012",
            )
        ]
    return []


def check_settings_values(
    app_configs: Sequence[AppConfig] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    try:
        parse_networks(conf.MAINTENANCE_TRUSTED_PROXIES, "DEPLOYKIT_MAINTENANCE_TRUSTED_PROXIES entry")
    except (TypeError, ValueError) as exc:
        errors.append(Error(str(exc), id="django_deploykit.E013"))
    if conf.MAINTENANCE_READ_ERROR_POLICY not in POLICIES:
        errors.append(
            Error(
                f"DEPLOYKIT_MAINTENANCE_READ_ERROR_POLICY is {conf.MAINTENANCE_READ_ERROR_POLICY!r}.",
                hint=f"Use one of {', '.join(POLICIES)}.",
                id="django_deploykit.E014",
            )
        )
    staleness = conf.MAINTENANCE_STALENESS
    if not isinstance(staleness, int | float) or not 0 <= staleness <= 1:
        errors.append(
            Error(
                f"DEPLOYKIT_MAINTENANCE_STALENESS is {staleness!r}.",
                hint="Give a number of seconds from 0 to 1; 'maintenance on' takes effect within that time.",
                id="django_deploykit.E015",
            )
        )
    if conf.MAINTENANCE_RETRY_AFTER_FORMAT not in ("seconds", "http-date"):
        errors.append(
            Error(
                f"DEPLOYKIT_MAINTENANCE_RETRY_AFTER_FORMAT is {conf.MAINTENANCE_RETRY_AFTER_FORMAT!r}.",
                hint="Use 'seconds' or 'http-date'.",
                id="django_deploykit.E016",
            )
        )
    errors.extend(check_exempt_paths())
    for name in ("ENDPOINTS_PREFIX",):
        value = getattr(conf, name)
        if not (isinstance(value, str) and value.startswith("/") and value.endswith("/") and value != "/"):
            errors.append(
                Error(
                    f"DEPLOYKIT_{name} is {value!r}.",
                    hint="Give a path that starts and ends with '/', such as '/-/deploykit/'.",
                    id="django_deploykit.E017",
                )
            )
    return errors


def check_exempt_paths() -> list[CheckMessage]:
    configured: object = conf.MAINTENANCE_EXEMPT_PATHS  # a setting may hold anything
    hint = (
        "Give a tuple of path prefixes such as ('/healthz',); none may be '' or '/', which exempt every path."
    )
    if isinstance(configured, str) or not isinstance(configured, Iterable):
        return [
            Error(
                f"DEPLOYKIT_MAINTENANCE_EXEMPT_PATHS is {configured!r}.",
                hint=hint,
                id="django_deploykit.E019",
            )
        ]
    return [
        Error(
            f"DEPLOYKIT_MAINTENANCE_EXEMPT_PATHS holds {path!r}, which the middleware ignores.",
            hint=hint,
            id="django_deploykit.E019",
        )
        for path in configured
        if not is_narrow_exempt_path(path)
    ]


def check_staff_bypass(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    if not conf.MAINTENANCE_STAFF_BYPASS:
        return []
    middleware = list(settings.MIDDLEWARE)
    if (
        STAFF_MIDDLEWARE_PATH not in middleware
        or AUTH_MIDDLEWARE_PATH not in middleware
        or middleware.index(STAFF_MIDDLEWARE_PATH) < middleware.index(AUTH_MIDDLEWARE_PATH)
    ):
        return [
            Error(
                "DEPLOYKIT_MAINTENANCE_STAFF_BYPASS is on, but MaintenanceStaffMiddleware is not after "
                "AuthenticationMiddleware.",
                hint=f"Add {STAFF_MIDDLEWARE_PATH!r} to MIDDLEWARE after {AUTH_MIDDLEWARE_PATH!r}, or "
                "turn the staff bypass off. Until then staff get the 503 like everyone else.",
                id="django_deploykit.E018",
            )
        ]
    return [
        Warning(
            "The maintenance staff bypass reads the session and the user on every request of an active "
            "window.",
            hint="With database-backed sessions this needs the database during maintenance; prefer the "
            "secret bypass URL (maintenance on --secret) or --allow-ip when the database is being migrated.",
            id="django_deploykit.W010",
        )
    ]
