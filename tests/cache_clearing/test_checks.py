from __future__ import annotations

from typing import Any

from django.core.checks import run_checks
from django.test import override_settings

from django_deploykit import slots
from django_deploykit.settings import parse_cache_url

REDIS = "django.core.cache.backends.redis.RedisCache"
LOCATION = "redis://127.0.0.1:6379/1"
IN_BLUE = {"mode": "production", "slot": "blue", "deploy_root": None}
CACHE_SESSIONS = {
    "SESSION_ENGINE": "django.contrib.sessions.backends.cache",
    "SESSION_CACHE_ALIAS": "sessions",
}


def ids(**settings: Any) -> list[str]:
    with override_settings(**settings):
        return sorted(
            m.id for m in run_checks() if m.id and m.id.startswith("django_deploykit.") and m.id[-2] == "2"
        )


def messages(check_id: str, **settings: Any) -> list[str]:
    with override_settings(**settings):
        return [m.msg for m in run_checks() if m.id == check_id]


def slot_caches(slot: str | None) -> dict[str, dict[str, Any]]:
    return slots.with_slot_key_prefixes(
        {
            "default": {"BACKEND": REDIS, "LOCATION": LOCATION},
            "sessions": {"BACKEND": REDIS, "LOCATION": LOCATION},
            "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
        },
        base_prefix="mysite",
        slot=slot,
    )


class SlotPrefixTests:
    def test_helper_built_caches_pass(self) -> None:
        assert ids(CACHES=slot_caches("blue"), DEPLOYKIT_SETTINGS_CHOICE=IN_BLUE, **CACHE_SESSIONS) == []

    def test_shared_prefix_in_slots_is_an_error(self) -> None:
        caches = {"default": {"BACKEND": REDIS, "LOCATION": LOCATION, "KEY_PREFIX": "mysite"}}
        [message] = messages("django_deploykit.E020", CACHES=caches, DEPLOYKIT_SETTINGS_CHOICE=IN_BLUE)
        assert "KEY_PREFIX 'mysite', which does not name the slot 'blue'" in message

    def test_empty_prefix_in_slots_is_an_error(self) -> None:
        caches = {"default": {"BACKEND": REDIS, "LOCATION": LOCATION}}
        assert ids(CACHES=caches, DEPLOYKIT_SETTINGS_CHOICE=IN_BLUE) == ["django_deploykit.E020"]

    def test_outside_slots_one_prefix_is_fine(self) -> None:
        assert ids(CACHES=slot_caches(None), DEPLOYKIT_SETTINGS_CHOICE=None) == []


class DroppedPrefixTests:
    def test_lower_case_keys_from_django_environ(self) -> None:
        caches = {"default": {"BACKEND": REDIS, "LOCATION": LOCATION, "key_prefix": "blue", "version": "3"}}
        [message] = messages("django_deploykit.E021", CACHES=caches)
        assert "'key_prefix', 'version', which Django ignores" in message

    def test_prefix_in_options(self) -> None:
        caches = {"default": {"BACKEND": REDIS, "LOCATION": LOCATION, "OPTIONS": {"KEY_PREFIX": "blue"}}}
        assert ids(CACHES=caches) == ["django_deploykit.E021"]

    def test_our_cache_url_reader_keeps_the_prefix(self) -> None:
        caches = {"default": parse_cache_url("redis://127.0.0.1:6379/1?key_prefix=blue&version=3")}
        assert caches["default"]["KEY_PREFIX"] == "blue"
        assert ids(CACHES=caches) == []


class SessionPrefixTests:
    def test_sessions_on_a_slot_prefix(self) -> None:
        caches = slot_caches("blue")
        settings = {**CACHE_SESSIONS, "SESSION_CACHE_ALIAS": "default"}
        [message] = messages(
            "django_deploykit.E022", CACHES=caches, DEPLOYKIT_SETTINGS_CHOICE=IN_BLUE, **settings
        )
        assert "KEY_PREFIX 'mysite_blue' belongs to the slot 'blue'" in message
        assert "log everyone out" in message

    def test_sessions_in_the_database_are_not_concerned(self) -> None:
        caches = slot_caches("blue")
        settings = {"SESSION_ENGINE": "django.contrib.sessions.backends.db", "SESSION_CACHE_ALIAS": "default"}
        assert ids(CACHES=caches, DEPLOYKIT_SETTINGS_CHOICE=IN_BLUE, **settings) == []


class KeyFunctionTests:
    def test_custom_key_function_warns(self) -> None:
        caches = {
            "default": {
                "BACKEND": REDIS,
                "LOCATION": LOCATION,
                "KEY_FUNCTION": "tests.cache_clearing.keys.reversed_key",
            }
        }
        [message] = messages("django_deploykit.W020", CACHES=caches)
        assert "can only empty the whole store (--flush)" in message
