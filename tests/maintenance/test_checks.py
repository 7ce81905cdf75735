from __future__ import annotations

from typing import Any

import pytest

from django_deploykit.maintenance import checks

MW = checks.MIDDLEWARE_PATH
STAFF = checks.STAFF_MIDDLEWARE_PATH
AUTH = checks.AUTH_MIDDLEWARE_PATH
SESSIONS = "django.contrib.sessions.middleware.SessionMiddleware"


def ids(messages: list[Any]) -> list[str]:
    return [m.id for m in messages]


class MiddlewareOrderTests:
    def test_first_is_fine(self, settings: Any) -> None:
        settings.MIDDLEWARE = [MW, SESSIONS]
        assert checks.check_middleware_first() == []

    def test_not_first_is_an_error(self, settings: Any) -> None:
        settings.MIDDLEWARE = [SESSIONS, MW]
        assert ids(checks.check_middleware_first()) == ["django_deploykit.E010"]

    def test_absent_is_not_our_business(self, settings: Any) -> None:
        settings.MIDDLEWARE = [SESSIONS]
        assert checks.check_middleware_first() == []


class SharedCacheTests:
    def test_missing_alias(self, settings: Any) -> None:
        settings.DEPLOYKIT_MAINTENANCE_CACHE_ALIAS = "nope"
        assert ids(checks.check_shared_cache()) == ["django_deploykit.E011"]

    @pytest.mark.parametrize(
        "backend",
        [
            "django.core.cache.backends.locmem.LocMemCache",
            "django.core.cache.backends.filebased.FileBasedCache",
            "django.core.cache.backends.db.DatabaseCache",
            "django.core.cache.backends.dummy.DummyCache",
        ],
    )
    def test_unshared_or_database_caches_are_refused(self, settings: Any, backend: str) -> None:
        settings.CACHES = {**settings.CACHES, "m": {"BACKEND": backend, "LOCATION": "x"}}
        settings.DEPLOYKIT_MAINTENANCE_CACHE_ALIAS = "m"
        (message,) = checks.check_shared_cache()
        assert message.id == "django_deploykit.E012"
        assert backend in message.msg

    @pytest.mark.parametrize(
        "backend", ["django.core.cache.backends.redis.RedisCache", "django_redis.cache.RedisCache"]
    )
    def test_redis_is_accepted(self, settings: Any, backend: str) -> None:
        settings.CACHES = {
            **settings.CACHES,
            "m": {"BACKEND": backend, "LOCATION": "redis://127.0.0.1:6379/1"},
        }
        settings.DEPLOYKIT_MAINTENANCE_CACHE_ALIAS = "m"
        assert checks.check_shared_cache() == []


class SettingsValueTests:
    def test_defaults_are_valid(self) -> None:
        assert checks.check_settings_values() == []

    @pytest.mark.parametrize(
        ("name", "value", "check_id"),
        [
            ("DEPLOYKIT_MAINTENANCE_TRUSTED_PROXIES", ("10.0.0.0/8", "proxy.local"), "django_deploykit.E013"),
            # Trusting every address lets any client write its own X-Forwarded-For.
            ("DEPLOYKIT_MAINTENANCE_TRUSTED_PROXIES", ("0.0.0.0/0",), "django_deploykit.E013"),
            ("DEPLOYKIT_MAINTENANCE_TRUSTED_PROXIES", ("10.0.0.0/8", "::/0"), "django_deploykit.E013"),
            ("DEPLOYKIT_MAINTENANCE_TRUSTED_PROXIES", ("::ffff:0:0/96",), "django_deploykit.E013"),
            ("DEPLOYKIT_MAINTENANCE_READ_ERROR_POLICY", "panic", "django_deploykit.E014"),
            ("DEPLOYKIT_MAINTENANCE_STALENESS", 5, "django_deploykit.E015"),
            ("DEPLOYKIT_MAINTENANCE_STALENESS", "1", "django_deploykit.E015"),
            ("DEPLOYKIT_MAINTENANCE_RETRY_AFTER_FORMAT", "minutes", "django_deploykit.E016"),
            ("DEPLOYKIT_ENDPOINTS_PREFIX", "deploykit", "django_deploykit.E017"),
            ("DEPLOYKIT_ENDPOINTS_PREFIX", "/", "django_deploykit.E017"),
            # Exempt paths that exempt the whole site, the path allowlist's 0.0.0.0/0.
            ("DEPLOYKIT_MAINTENANCE_EXEMPT_PATHS", ("/healthz", "/"), "django_deploykit.E019"),
            ("DEPLOYKIT_MAINTENANCE_EXEMPT_PATHS", ("",), "django_deploykit.E019"),
            ("DEPLOYKIT_MAINTENANCE_EXEMPT_PATHS", ("healthz",), "django_deploykit.E019"),
            ("DEPLOYKIT_MAINTENANCE_EXEMPT_PATHS", "/healthz", "django_deploykit.E019"),
            ("DEPLOYKIT_MAINTENANCE_EXEMPT_PATHS", None, "django_deploykit.E019"),
        ],
    )
    def test_wrong_values(self, settings: Any, name: str, value: object, check_id: str) -> None:
        setattr(settings, name, value)
        assert ids(checks.check_settings_values()) == [check_id]


class StaffBypassTests:
    def test_off_by_default(self) -> None:
        assert checks.check_staff_bypass() == []

    @pytest.mark.parametrize(
        "middleware",
        [[MW, SESSIONS, AUTH], [MW, SESSIONS, STAFF, AUTH], [MW, STAFF]],
        ids=["missing", "before", "no-auth"],
    )
    def test_needs_the_staff_middleware_after_authentication(
        self, settings: Any, middleware: list[str]
    ) -> None:
        settings.DEPLOYKIT_MAINTENANCE_STAFF_BYPASS = True
        settings.MIDDLEWARE = middleware
        assert ids(checks.check_staff_bypass()) == ["django_deploykit.E018"]

    def test_correct_order_warns_about_the_database(self, settings: Any) -> None:
        settings.DEPLOYKIT_MAINTENANCE_STAFF_BYPASS = True
        settings.MIDDLEWARE = [MW, SESSIONS, AUTH, STAFF]
        assert ids(checks.check_staff_bypass()) == ["django_deploykit.W010"]


class RegisteredTests:
    def test_checks_run_through_django(self, settings: Any) -> None:
        from django.core.checks import run_checks

        settings.MIDDLEWARE = [SESSIONS, MW]
        assert "django_deploykit.E010" in ids(run_checks())


class TrustedProxiesWidthTests:
    def test_the_error_says_why(self, settings: Any) -> None:
        settings.DEPLOYKIT_MAINTENANCE_TRUSTED_PROXIES = ("0.0.0.0/0",)
        [error] = checks.check_settings_values()
        assert error.msg.startswith("DEPLOYKIT_MAINTENANCE_TRUSTED_PROXIES entry '0.0.0.0/0' is too wide")

    def test_private_ranges_are_fine(self, settings: Any) -> None:
        settings.DEPLOYKIT_MAINTENANCE_TRUSTED_PROXIES = (
            "10.0.0.0/8",
            "172.16.0.0/12",
            "fc00::/7",
            "127.0.0.1",
        )
        assert checks.check_settings_values() == []
