"""The clear_cache command's options: every wrong value is a clear error that changes nothing."""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path

import pytest
import redis
import sh
from django.core.cache import caches
from django.test import override_settings

from tests.cache_clearing.redis_store import Store, with_db
from tests.commands import run_command
from tests.services import REDIS_FLUSH_DB

DJANGO_REDIS = "django_redis.cache.RedisCache"
REPO_ROOT = Path(__file__).resolve().parents[2]
FLUSH_DB = REDIS_FLUSH_DB


class TerminalInput(io.StringIO):
    """Standard input as a terminal where someone types ``text``."""

    def isatty(self) -> bool:
        return True


@pytest.mark.redis
class OptionTests:
    @pytest.mark.parametrize(
        ("arguments", "message"),
        [
            (["--batch", "0"], "--batch must be a whole number from 1 to 100000, not 0."),
            (["--batch", "100001"], "--batch must be a whole number from 1 to 100000, not 100001."),
            (["--batch", "many"], "argument --batch: invalid int value: 'many'"),
            (["--format", "xml"], "argument --format: invalid choice: 'xml'"),
            (["--prefix", "a", "--slot", "green"], "argument --slot: not allowed with argument --prefix"),
            (["--slot", "purple"], "--slot 'purple' is not one of this deployment's slots (blue, green)."),
            (["default", "--all-aliases"], "Name aliases or pass --all-aliases, not both."),
            (["sessions", "--slot", "green"], "does not end with a slot name, so both slots share it"),
            (["--prefix", "a]b"], "glob character(s) ]"),
            (["--flush", "--yes", "--slot", "green"], "--prefix and --slot cannot be combined with it"),
        ],
    )
    def test_wrong_values_change_nothing(self, store: Store, arguments: list[str], message: str) -> None:
        with override_settings(CACHES=store.caches(DJANGO_REDIS)):
            store.fill()
            before = store.stored()
            _, err, code = run_command("clear_cache", *arguments)
        assert code == 1
        assert message in err
        assert store.stored() == before

    def test_verbosity_zero_prints_nothing(self, store: Store) -> None:
        with override_settings(CACHES=store.caches(DJANGO_REDIS)):
            store.fill()
            out, err, code = run_command("clear_cache", verbosity=0)
        assert (out, err, code) == ("", "", 0)
        assert not any(key.startswith(f"{store.blue}:1:") for key in store.stored())

    def test_slot_names_come_from_the_deploy_root(self, store: Store, tmp_path: Path) -> None:
        (tmp_path / ".deploykit-root").write_text(json.dumps({"slots": ["blue", "cat"]}))
        choice = {"mode": "production", "deploy_root": str(tmp_path), "slot": "blue"}
        with override_settings(CACHES=store.caches(DJANGO_REDIS), DEPLOYKIT_SETTINGS_CHOICE=choice):
            caches["default"].set("k", 1)
            store.raw.set(f"{store.base}_cat:1:k", 1)
            out, err, code = run_command("clear_cache", "--slot", "cat")
            _, err_green, code_green = run_command("clear_cache", "--slot", "green")
        assert code == 0, err
        assert f"Deleted 1 keys matching {store.base}_cat:1:*" in out
        assert code_green == 1
        assert "not one of this deployment's slots (blue, cat)" in err_green

    def test_flush_of_another_alias_on_the_sessions_store_needs_yes(self, store: Store) -> None:
        sessions = {
            "SESSION_ENGINE": "django.contrib.sessions.backends.cached_db",
            "SESSION_CACHE_ALIAS": "sessions",
        }
        with override_settings(CACHES=store.caches(DJANGO_REDIS), **sessions):
            store.fill()
            before = store.stored()
            _, err, code = run_command("clear_cache", "--flush")
        assert code == 1
        assert "Sessions are kept in the cache" in err
        assert "everyone will be logged out" in err
        assert store.stored() == before


@pytest.mark.redis
class FlushConfirmationTests:
    @pytest.fixture
    def own_database(self, redis_url: str) -> tuple[str, redis.Redis]:
        url = with_db(redis_url, FLUSH_DB)
        client = redis.Redis.from_url(url)
        client.flushdb()  # a database only the flush tests use
        client.set("someone-else", 1)
        return url, client

    def test_typing_flush_confirms(
        self, own_database: tuple[str, redis.Redis], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        url, client = own_database
        monkeypatch.setattr(sys, "stdin", TerminalInput("flush\n"))
        with override_settings(
            CACHES={"default": {"BACKEND": DJANGO_REDIS, "LOCATION": url, "KEY_PREFIX": "a"}}
        ):
            _, err, code = run_command("clear_cache", "--flush")
        assert code == 0, err
        assert client.dbsize() == 0

    def test_anything_else_refuses(
        self, own_database: tuple[str, redis.Redis], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        url, client = own_database
        monkeypatch.setattr(sys, "stdin", TerminalInput("yes\n"))
        with override_settings(
            CACHES={"default": {"BACKEND": DJANGO_REDIS, "LOCATION": url, "KEY_PREFIX": "a"}}
        ):
            _, err, code = run_command("clear_cache", "--flush")
        assert code == 1
        assert "Flush not confirmed. Nothing was cleared." in err
        assert client.dbsize() == 1


class CommandLineTests:
    """Exit codes as a shell script sees them."""

    def run(self, *arguments: str) -> sh.RunningCommand:
        environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(REPO_ROOT)}
        return sh.Command(sys.executable)(
            "-m",
            "django",
            "clear_cache",
            *arguments,
            _env=environment,
            _cwd=str(REPO_ROOT),
            _ok_code=range(256),
            _return_cmd=True,
        )

    def test_refusal_exits_1(self) -> None:
        result = self.run("nope")
        assert result.exit_code == 1
        assert "CommandError: Unknown cache alias(es): 'nope'." in result.stderr.decode()

    def test_locmem_exits_1(self) -> None:
        result = self.run()
        assert result.exit_code == 1
        assert "is a LocMemCache" in result.stderr.decode()

    def test_usage_error_exits_2(self) -> None:
        result = self.run("--batch", "many")
        assert result.exit_code == 2
        assert "invalid int value: 'many'" in result.stderr.decode()
