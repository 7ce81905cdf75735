"""The console's system checks: only when mounted; what it needs; where it answers during maintenance."""

from __future__ import annotations

from typing import Any

import pytest

from django_deploykit.console.checks import check_console
from tests.console.conftest import CONSOLE


class ConsoleCheckTests:
    def test_nothing_when_the_console_is_not_mounted(self, settings: Any) -> None:
        settings.ROOT_URLCONF = "tests.urls"
        assert check_console() == []

    def test_nothing_when_mounted_as_the_docs_say(self, console_settings: None) -> None:
        assert check_console() == []

    def test_needs_auth_sessions_and_their_middleware(self, console_settings: None, settings: Any) -> None:
        settings.MIDDLEWARE = [m for m in settings.MIDDLEWARE if "auth" not in m]
        [error] = check_console()
        assert error.id == "django_deploykit.E070"
        assert "AuthenticationMiddleware" in error.msg
        assert CONSOLE in error.msg

    def test_warns_when_mounted_outside_the_endpoint_prefix(
        self, console_settings: None, settings: Any
    ) -> None:
        settings.ROOT_URLCONF = "tests.console.urls_elsewhere"
        [warning] = check_console()
        assert warning.id == "django_deploykit.W070"
        assert "/ops/console/" in warning.msg
        assert "503" in warning.msg


def test_an_unknown_runner_is_an_error(settings: Any) -> None:
    settings.DEPLOYKIT_CONSOLE_RUNNER = "cron"
    [error] = check_console()
    assert error.id == "django_deploykit.E071"
    assert "'cron'" in error.msg


@pytest.mark.django_db
def test_the_permissions_exist_after_migrate() -> None:
    from django.contrib.auth.models import Permission

    assert set(
        Permission.objects.filter(content_type__app_label="django_deploykit").values_list(
            "codename", flat=True
        )
    ) == {"view_deploys", "push_deploys", "edit_deploys"}


def test_the_permission_names_fit_auth_0001s_column() -> None:
    """post_migrate writes them after any auth migration, when the column may still be auth.0001's 50."""
    from django_deploykit.console.access import PERMISSIONS

    assert all(len(name) <= 50 for _codename, name in PERMISSIONS)
