"""System checks of the deploy console (ids ``django_deploykit.E070``, ``E071``, ``W070``).

The console signs users in and checks their permissions, so it needs Django's auth, sessions and content
types, and the two middleware that put a user on each request. Mounted outside the package's endpoint prefix
it would answer 503 during a maintenance window, when an operator needs it to end the window.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig, apps
from django.conf import settings
from django.core.checks import CheckMessage, Error, Warning, register
from django.urls import NoReverseMatch, get_script_prefix, reverse

from django_deploykit.conf import conf
from django_deploykit.console.actions import RUNNERS

NAMESPACE = "deploykit_console"
NEEDED_APPS = ("django.contrib.auth", "django.contrib.contenttypes", "django.contrib.sessions")
NEEDED_MIDDLEWARE = (
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
)


def mounted_at() -> str | None:
    """Where the project's URLconf mounts the console, or None when it does not."""
    try:
        return reverse(f"{NAMESPACE}:overview")
    except NoReverseMatch:
        return None
    except Exception:  # a URLconf that does not load: Django's own checks say why
        return None


def check_console(app_configs: Sequence[AppConfig] | None = None, **kwargs: Any) -> list[CheckMessage]:
    problems: list[CheckMessage] = []
    if conf.CONSOLE_RUNNER not in RUNNERS:
        problems.append(
            Error(
                f"DEPLOYKIT_CONSOLE_RUNNER is {conf.CONSOLE_RUNNER!r}; it is 'detached' or 'queue'.",
                hint="'queue' when the app servers restart through systemd (see docs/console.md).",
                id="django_deploykit.E071",
            )
        )
    where = mounted_at()
    if where is None:
        return problems
    missing_apps = [name for name in NEEDED_APPS if not apps.is_installed(name)]
    missing_middleware = [name for name in NEEDED_MIDDLEWARE if name not in (settings.MIDDLEWARE or [])]
    if missing_apps or missing_middleware:
        problems.append(
            Error(
                f"The deploy console is mounted at {where} but signs users in with Django's auth: "
                f"it needs {', '.join([*missing_apps, *missing_middleware])}.",
                hint="Add them to INSTALLED_APPS and MIDDLEWARE, or remove the console's URLs.",
                id="django_deploykit.E070",
            )
        )
    prefix = get_script_prefix().rstrip("/") + conf.ENDPOINTS_PREFIX
    if not where.startswith(prefix):
        problems.append(
            Warning(
                f"The deploy console is mounted at {where}, outside DEPLOYKIT_ENDPOINTS_PREFIX "
                f"({conf.ENDPOINTS_PREFIX}): during a maintenance window it answers 503 like every page.",
                hint=f'Mount it with path("{conf.ENDPOINTS_PREFIX.strip("/")}/console/", '
                'include("django_deploykit.console_urls")).',
                id="django_deploykit.W070",
            )
        )
    return problems


def register_checks() -> None:
    register()(check_console)
