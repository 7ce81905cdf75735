from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.core.cache.backends.base import BaseCache
from django.core.exceptions import ImproperlyConfigured
from django.db import connections

from django_deploykit.settings import DeployEnv, parse_cache_url, parse_database_url


class DatabaseUrlTests:
    def test_boolean_options_are_real_booleans(self) -> None:
        config = parse_database_url(
            "postgres://u:p@db.example:5432/site?conn_health_checks=false&atomic_requests=true&sslmode=require"
        )
        assert config["CONN_HEALTH_CHECKS"] is False
        assert config["ATOMIC_REQUESTS"] is True
        assert config["OPTIONS"] == {"sslmode": "require"}
        assert config["ENGINE"] == "django.db.backends.postgresql"

    def test_percent_encoded_password(self) -> None:
        assert parse_database_url("mysql://root:p%40ss%23@127.0.0.1:3306/test")["PASSWORD"] == "p@ss#"

    def test_sqlite(self) -> None:
        assert parse_database_url("sqlite:////var/site/db.sqlite3")["NAME"] == "/var/site/db.sqlite3"

    @pytest.mark.parametrize(
        ("url", "reason"),
        [
            ("postgres://admin:hunter2secret@db.example:notaport/site", "Port could not be cast"),
            ("nonsense://admin:hunter2secret@db.example/site", "does not start with a known database scheme"),
            ("admin:hunter2secret@db.example/site", "it is not a URL"),
            (
                "postgres://admin:hunter2secret@db.example/site?conn_health_checks=sometimes",
                "is not a boolean",
            ),
        ],
    )
    def test_malformed_url_names_the_variable_never_the_password(self, url: str, reason: str) -> None:
        env = DeployEnv(environ={"DATABASE_URL": url})
        with pytest.raises(ImproperlyConfigured) as excinfo:
            env.database_url("DATABASE_URL")
        message = str(excinfo.value)
        assert message.startswith("DATABASE_URL, from the environment variable DATABASE_URL")
        assert reason in message
        assert "hunter2secret" not in message

    @pytest.mark.parametrize("separator", ["/", "?", "#"])
    def test_a_password_holding_a_url_delimiter_is_never_shown(self, separator: str) -> None:
        # Issue 11: "...as 'Zx9' (in 'postgres://app:Zx9/Qw8+Lk7@db:5432/app')"; base64 passwords hold '/'.
        password = f"Zx9{separator}Qw8+Lk7"
        for url in (
            f"postgres://app:{password}@db:5432/app?conn_health_checks=sometimes",
            f"postgres://app:{password}@db:notaport/app",
            f"postgress://app:{password}@db:5432/app",
        ):
            env = DeployEnv(environ={"DATABASE_URL": url, "CACHE_URL": url})
            for read in (env.database_url, env.cache_url):
                with pytest.raises(ImproperlyConfigured) as excinfo:
                    read()
                message = str(excinfo.value)
                for piece in ("Zx9", "Qw8", "Lk7"):
                    assert piece not in message

    def test_the_error_says_how_to_write_such_a_password(self) -> None:
        env = DeployEnv(environ={"DATABASE_URL": "postgres://app:Zx9/Qw8+Lk7@db:5432/app"})
        with pytest.raises(ImproperlyConfigured) as excinfo:
            env.database_url()
        assert str(excinfo.value).endswith(
            "is invalid: Port could not be cast to integer value as '***' (in 'postgres://app:***@db:5432/app'); "
            "if the password holds '/', '?', '[' or ']', write them percent-encoded (%2F, %3F, %5B, %5D) so that "
            "the URL is not cut inside the password."
        )


class CacheUrlTests:
    @pytest.mark.parametrize(
        "backend", ["django.core.cache.backends.redis.RedisCache", "django_redis.cache.RedisCache"]
    )
    def test_key_prefix_version_and_timeout_reach_django(self, backend: str) -> None:
        config = parse_cache_url(
            "redis://127.0.0.1:6379/1?key_prefix=shop&version=3&timeout=60", backend=backend
        )
        assert config["BACKEND"] == backend
        assert (config["KEY_PREFIX"], config["VERSION"], config["TIMEOUT"]) == ("shop", 3, 60)
        assert "key_prefix" not in config
        assert "KEY_PREFIX" not in config.get("OPTIONS", {})

    def test_redis_options_for_djangos_backend_are_lower_case_and_boolean(self) -> None:
        config = parse_cache_url(
            "redis://127.0.0.1:6379/1?health_check_interval=30&retry_on_timeout=true",
            backend="django.core.cache.backends.redis.RedisCache",
        )
        assert config["OPTIONS"] == {"health_check_interval": 30, "retry_on_timeout": True}

    def test_unknown_scheme(self) -> None:
        with pytest.raises(ValueError, match="known cache scheme"):
            parse_cache_url("mongo://127.0.0.1")

    def test_invalid_version(self) -> None:
        with pytest.raises(ValueError, match="version='x' is not a whole number"):
            parse_cache_url("redis://127.0.0.1:6379/1?version=x")


def _cache(config: dict[str, Any]) -> BaseCache:
    backend_path = config["BACKEND"]
    module_name, class_name = backend_path.rsplit(".", 1)
    module = __import__(module_name, fromlist=[class_name])
    params = {k: v for k, v in config.items() if k not in ("BACKEND", "LOCATION")}
    cache: BaseCache = getattr(module, class_name)(config["LOCATION"], params)
    return cache


@pytest.mark.redis
class RealRedisTests:
    @pytest.mark.parametrize(
        "backend", ["django.core.cache.backends.redis.RedisCache", "django_redis.cache.RedisCache"]
    )
    def test_keys_land_under_the_url_prefix_and_version(self, redis_url: str, backend: str) -> None:
        import redis

        prefix = f"dk_{uuid.uuid4().hex[:8]}"
        config = parse_cache_url(f"{redis_url}?key_prefix={prefix}&version=7", backend=backend)
        cache = _cache(config)
        cache.set("greeting", "hello", 30)
        assert cache.get("greeting") == "hello"
        client = redis.Redis.from_url(redis_url)
        try:
            assert client.keys(f"{prefix}*") == [f"{prefix}:7:greeting".encode()]
        finally:
            client.delete(f"{prefix}:7:greeting")
            client.close()


class RealDatabaseTests:
    @pytest.fixture(autouse=True)
    def _allow_database(self, django_db_blocker: Any) -> Any:
        # These tests open their own connections from parsed URLs, outside the test database.
        with django_db_blocker.unblock():
            yield

    @pytest.mark.postgresql
    def test_postgres_url_connects(self, postgres_url: str) -> None:
        self._connect(parse_database_url(postgres_url + "?conn_health_checks=true"), "SELECT 1")

    @pytest.mark.mysql
    def test_mysql_url_connects(self, mysql_url: str) -> None:
        self._connect(parse_database_url(mysql_url), "SELECT 1")

    def _connect(self, config: dict[str, Any], sql: str) -> None:
        alias = f"probe_{uuid.uuid4().hex[:6]}"
        connections.settings[alias] = connections.configure_settings({"default": config, alias: config})[
            alias
        ]
        try:
            connection = connections.create_connection(alias)
            with connection.cursor() as cursor:
                cursor.execute(sql)
                assert cursor.fetchone() == (1,)
            assert connection.settings_dict["CONN_HEALTH_CHECKS"] in (True, False)
            connection.close()
        finally:
            del connections.settings[alias]
