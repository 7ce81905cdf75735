"""clear_cache against a real Redis, through Django's RedisCache and django-redis."""

from __future__ import annotations

import json

import pytest
import redis
from django.core.cache import caches
from django.test import override_settings

from tests.cache_clearing.redis_store import Store, with_db
from tests.commands import run_command
from tests.json_fields import assert_documented
from tests.servers import free_port
from tests.services import REDIS_FLUSH_DB

BACKENDS = ["django.core.cache.backends.redis.RedisCache", "django_redis.cache.RedisCache"]
FLUSH_DB = REDIS_FLUSH_DB
CACHE_SESSIONS = "django.contrib.sessions.backends.cache"


@pytest.mark.redis
@pytest.mark.parametrize("backend", BACKENDS)
class RedisClearTests:
    def test_only_this_instances_current_version_goes(self, store: Store, backend: str) -> None:
        with override_settings(CACHES=store.caches(backend)):
            survivors = store.fill()
            out, err, code = run_command("clear_cache")
        assert code == 0, err
        assert f"Deleted 30 keys matching {store.blue}:1:* from alias 'default'" in out
        assert "Left alone: every key outside that namespace in the same Redis database." in out
        assert store.stored() == survivors
        assert len([k for k in survivors if k.startswith(f"{store.blue}:2:")]) == 5
        assert len([k for k in survivors if k.startswith(f"{store.base}:1:session")]) == 5
        assert len([k for k in survivors if k.startswith(f"{store.green}:1:")]) == 10

    def test_all_versions_but_never_a_non_digit_version(self, store: Store, backend: str) -> None:
        with override_settings(CACHES=store.caches(backend)):
            survivors = store.fill()
            out, err, code = run_command("clear_cache", "--all-versions")
        assert code == 0, err
        assert f"Deleted 35 keys matching {store.blue}:<any version>:*" in out
        assert store.stored() == {k for k in survivors if not k.startswith(f"{store.blue}:2:")}
        assert f"{store.blue}:canary:1:k" in store.stored()

    def test_dry_run_counts_and_deletes_nothing(self, store: Store, backend: str) -> None:
        with override_settings(CACHES=store.caches(backend)):
            store.fill()
            before = store.stored()
            out, err, code = run_command("clear_cache", "--dry-run", "--all-versions", "--batch", "3")
        assert code == 0, err
        assert f"Would delete 35 keys matching {store.blue}:<any version>:*" in out
        assert store.stored() == before

    def test_other_slot(self, store: Store, backend: str) -> None:
        with override_settings(CACHES=store.caches(backend)):
            store.fill()
            before = store.stored()
            out, err, code = run_command("clear_cache", "--slot", "green")
        assert code == 0, err
        assert f"Deleted 10 keys matching {store.green}:1:*" in out
        assert store.stored() == {k for k in before if not k.startswith(f"{store.green}:")}

    def test_json_report(self, store: Store, backend: str) -> None:
        with override_settings(CACHES=store.caches(backend)):
            store.fill()
            out, err, code = run_command("clear_cache", "--format", "json", "--batch", "7")
        assert code == 0, err
        report = json.loads(out)
        assert_documented(report, "clear_cache.md", "`clear_cache`")
        assert report["exit_code"] == 0
        assert report["dry_run"] is False
        assert report["warnings"] == []
        [alias] = report["aliases"]
        assert alias["alias"] == "default"
        assert alias["strategy"] == "redis-scan"
        assert alias["prefix"] == store.blue
        assert alias["versions"] == 1
        assert alias["pattern"] == f"{store.blue}:1:*"
        assert alias["keys"] == 30
        assert alias["seconds"] >= 0
        assert alias["left_alone"] == ["every key outside that namespace in the same Redis database"]

    def test_progress_in_small_batches(self, store: Store, backend: str) -> None:
        with override_settings(CACHES=store.caches(backend)):
            store.fill()
            _, err, code = run_command("clear_cache", "--batch", "10", verbosity=2)
        assert code == 0, err
        assert "default: 10 keys so far…" in err
        assert "default: 30 keys so far…" in err

    def test_prefix_with_glob_characters_is_refused(self, store: Store, backend: str) -> None:
        with override_settings(CACHES=store.caches(backend)):
            store.fill()
            before = store.stored()
            _, err, code = run_command("clear_cache", "--prefix", f"{store.base}*")
        assert code == 1
        assert "contains the glob character(s) *" in err
        assert "Nothing was cleared." in err
        assert store.stored() == before

    def test_prefix_with_colon_is_refused(self, store: Store, backend: str) -> None:
        with override_settings(CACHES=store.caches(backend)):
            store.fill()
            before = store.stored()
            _, err, code = run_command("clear_cache", "--prefix", f"{store.blue}:canary")
        assert code == 1
        assert "contains ':', Django's key separator" in err
        assert store.stored() == before

    def test_prefix_of_another_slots_prefix_is_refused(self, store: Store, backend: str) -> None:
        with override_settings(CACHES=store.caches(backend)):
            store.fill()
            before = store.stored()
            _, err, code = run_command("clear_cache", "--prefix", store.base)
        assert code == 1
        assert f"is the beginning of another slot's prefix ({store.blue}, {store.green})" in err
        assert store.stored() == before

    def test_empty_prefix_is_refused(self, store: Store, backend: str) -> None:
        with override_settings(CACHES=store.caches(backend, KEY_PREFIX="")):
            caches["default"].set(f"k-{store.base}", 1)
            before = store.stored()
            _, err, code = run_command("clear_cache")
        assert code == 1
        assert "its KEY_PREFIX is empty" in err
        assert store.stored() == before == {f":1:k-{store.base}"}

    def test_custom_key_function_is_refused(self, store: Store, backend: str) -> None:
        key_function = "tests.cache_clearing.keys.reversed_key"
        with override_settings(CACHES=store.caches(backend, KEY_FUNCTION=key_function)):
            store.fill()
            before = store.stored()
            _, err, code = run_command("clear_cache")
        assert code == 1
        assert "custom KEY_FUNCTION tests.cache_clearing.keys.reversed_key" in err
        assert store.stored() == before

    def test_sessions_in_the_alias_need_yes(self, store: Store, backend: str) -> None:
        sessions = {"SESSION_ENGINE": CACHE_SESSIONS, "SESSION_CACHE_ALIAS": "default"}
        with override_settings(CACHES=store.caches(backend), **sessions):
            store.fill()
            before = store.stored()
            _, err, code = run_command("clear_cache")
            assert code == 1
            assert "everyone will be logged out" in err
            assert "Pass --yes" in err
            assert store.stored() == before
            out, err, code = run_command("clear_cache", "--yes")
        assert code == 0, err
        assert "everyone will be logged out" in err
        assert "Deleted 30 keys" in out

    def test_the_sessions_alias_itself_can_be_cleared_with_yes(self, store: Store, backend: str) -> None:
        sessions = {"SESSION_ENGINE": CACHE_SESSIONS, "SESSION_CACHE_ALIAS": "sessions"}
        with override_settings(CACHES=store.caches(backend), **sessions):
            store.fill()
            before = store.stored()
            _, err, code = run_command("clear_cache", "sessions")
            assert (code, store.stored()) == (1, before)
            assert "everyone will be logged out" in err
            out, err, code = run_command("clear_cache", "sessions", "--yes")
        assert code == 0, err
        assert f"Deleted 5 keys matching {store.base}:1:* from alias 'sessions'" in out
        assert store.stored() == {k for k in before if not k.startswith(f"{store.base}:1:")}

    def test_sessions_warning_in_json(self, store: Store, backend: str) -> None:
        sessions = {"SESSION_ENGINE": CACHE_SESSIONS, "SESSION_CACHE_ALIAS": "default"}
        with override_settings(CACHES=store.caches(backend), **sessions):
            store.fill()
            out, err, code = run_command("clear_cache", "--yes", "--format", "json")
        assert code == 0, err
        report = json.loads(out)
        [warning] = report["warnings"]
        assert "clearing alias 'default' deletes them: everyone will be logged out." in warning
        assert report["aliases"][0]["sessions_at_risk"] is True
        assert err == ""

    def test_sessions_on_another_alias_need_no_yes(self, store: Store, backend: str) -> None:
        sessions = {"SESSION_ENGINE": CACHE_SESSIONS, "SESSION_CACHE_ALIAS": "sessions"}
        with override_settings(CACHES=store.caches(backend), **sessions):
            store.fill()
            _, err, code = run_command("clear_cache")
        assert code == 0, err
        assert "logged out" not in err
        assert len([k for k in store.stored() if k.startswith(f"{store.base}:1:session")]) == 5

    def test_flush_needs_confirmation(self, store: Store, backend: str) -> None:
        with override_settings(CACHES=store.caches(backend)):
            store.fill()
            before = store.stored()
            _, err, code = run_command("clear_cache", "--flush")
        assert code == 1
        assert "--flush empties the whole store of 'default'" in err
        assert "Pass --yes to confirm" in err
        assert store.stored() == before

    def test_flush_with_yes_empties_the_database(self, store: Store, backend: str) -> None:
        url = with_db(store.url, FLUSH_DB)
        own = redis.Redis.from_url(url)
        own.flushdb()  # a database only these tests use
        own.set("someone-else", 1)
        config = {"BACKEND": backend, "LOCATION": url, "KEY_PREFIX": store.blue}
        with override_settings(CACHES={"default": config}):
            caches["default"].set("mine", 1)
            out, err, code = run_command("clear_cache", "--flush", "--yes", "--format", "json")
        assert code == 0, err
        [alias] = json.loads(out)["aliases"]
        assert (alias["strategy"], alias["keys"]) == ("flush", 2)
        assert own.dbsize() == 0
        own.close()

    def test_flush_dry_run_counts(self, store: Store, backend: str) -> None:
        url = with_db(store.url, FLUSH_DB)
        own = redis.Redis.from_url(url)
        own.flushdb()
        own.mset({"a": 1, "b": 2, "c": 3})
        with override_settings(CACHES={"default": {"BACKEND": backend, "LOCATION": url, "KEY_PREFIX": "x"}}):
            out, err, code = run_command("clear_cache", "--flush", "--dry-run")
        assert code == 0, err
        assert "Would flush alias 'default'" in out
        assert ": 3 keys of every prefix" in out
        assert own.dbsize() == 3
        own.flushdb()
        own.close()

    def test_unreachable_server_names_host_and_port_but_no_password(self, store: Store, backend: str) -> None:
        port = free_port()
        url = f"redis://:s3cretpassw0rd@127.0.0.1:{port}/1"
        config = {"BACKEND": backend, "LOCATION": url, "KEY_PREFIX": store.blue}
        with override_settings(CACHES={"default": config}):
            _, err, code = run_command("clear_cache")
        assert code == 1
        assert f"Redis at 127.0.0.1:{port} (database 1) failed" in err
        assert "Nothing was cleared." in err
        assert "s3cretpassw0rd" not in err

    def test_unknown_alias(self, store: Store, backend: str) -> None:
        with override_settings(CACHES=store.caches(backend)):
            store.fill()
            before = store.stored()
            _, err, code = run_command("clear_cache", "default", "nope")
        assert code == 1
        assert "Unknown cache alias(es): 'nope'. The CACHES setting defines 'default', 'sessions'" in err
        assert store.stored() == before

    def test_one_refused_alias_means_nothing_is_cleared(self, store: Store, backend: str) -> None:
        settings = store.caches(backend)
        settings["local"] = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
        with override_settings(CACHES=settings):
            store.fill()
            before = store.stored()
            _, err, code = run_command("clear_cache", "--all-aliases")
        assert code == 1
        assert "Alias 'local' is a LocMemCache" in err
        assert store.stored() == before
