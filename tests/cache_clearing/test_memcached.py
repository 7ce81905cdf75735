"""clear_cache with Memcached: a per-instance generation bumped in a file, or --flush."""

from __future__ import annotations

import json
import os
import shutil
import socket
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import sh
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from django_deploykit import slots
from django_deploykit.cache_clearing.generations import (
    GENERATION_FILE_KEY,
    bump_generation,
    read_generations,
    with_cache_generations,
)
from tests.cache_clearing.helpers import unique_base
from tests.commands import run_command
from tests.servers import free_port

PYMEMCACHE = "django.core.cache.backends.memcached.PyMemcacheCache"
REDIS = "django.core.cache.backends.redis.RedisCache"
REPO_ROOT = Path(__file__).resolve().parents[2]


def location(url: str) -> str:
    return urlsplit(url).netloc


def project_caches(memcached: str, base: str, slot: str, generations_file: Path) -> dict[str, dict[str, Any]]:
    """CACHES as a deployed project's settings build them: per-slot prefix, then generation."""
    return with_cache_generations(
        slots.with_slot_key_prefixes(
            {"default": {"BACKEND": PYMEMCACHE, "LOCATION": memcached}}, base_prefix=base, slot=slot
        ),
        generations_file,
    )


class GenerationFileTests:
    def test_missing_file_is_generation_zero(self, tmp_path: Path) -> None:
        path = tmp_path / "cache-generations.json"
        result = with_cache_generations(
            {
                "default": {"BACKEND": PYMEMCACHE, "KEY_PREFIX": "mysite_blue"},
                "redis": {"BACKEND": REDIS, "KEY_PREFIX": "mysite_blue"},
            },
            path,
        )
        assert result["default"]["VERSION"] == 1
        assert result["default"][GENERATION_FILE_KEY] == str(path)
        assert "VERSION" not in result["redis"]
        assert GENERATION_FILE_KEY not in result["redis"]

    def test_generation_raises_the_version_of_its_prefix_only(self, tmp_path: Path) -> None:
        path = tmp_path / "cache-generations.json"
        path.write_text(json.dumps({"mysite_blue": 3}))
        result = with_cache_generations(
            {
                "blue": {"BACKEND": PYMEMCACHE, "KEY_PREFIX": "mysite_blue", "VERSION": 5},
                "green": {"BACKEND": PYMEMCACHE, "KEY_PREFIX": "mysite_green"},
            },
            path,
        )
        assert (result["blue"]["VERSION"], result["green"]["VERSION"]) == (8, 1)

    def test_explicit_aliases(self, tmp_path: Path) -> None:
        path = tmp_path / "g.json"
        path.write_text(json.dumps({"p": 2}))
        result = with_cache_generations(
            {
                "a": {"BACKEND": PYMEMCACHE, "KEY_PREFIX": "p"},
                "b": {"BACKEND": "x.Custom", "KEY_PREFIX": "p"},
            },
            path,
            aliases=["b"],
        )
        assert ("VERSION" in result["a"], result["b"]["VERSION"]) == (False, 3)

    @pytest.mark.parametrize("content", ["{not json", "[1]", '{"p": -1}', '{"p": "2"}', '{"p": true}'])
    def test_broken_file_stops_the_settings(self, tmp_path: Path, content: str) -> None:
        path = tmp_path / "g.json"
        path.write_text(content)
        with pytest.raises(ImproperlyConfigured, match="cache generations file"):
            with_cache_generations({"a": {"BACKEND": PYMEMCACHE}}, path)

    def test_bump_writes_a_readable_file(self, tmp_path: Path) -> None:
        path = tmp_path / "g.json"
        assert bump_generation(path, "mysite_blue") == (0, 1)
        assert bump_generation(path, "mysite_blue") == (1, 2)
        assert bump_generation(path, "mysite_green", dry_run=True) == (0, 1)
        assert read_generations(path) == {"mysite_blue": 2}
        assert path.stat().st_mode & 0o777 == 0o644

    def test_bump_in_a_missing_folder(self, tmp_path: Path) -> None:
        with pytest.raises(ImproperlyConfigured, match="does not exist"):
            bump_generation(tmp_path / "nowhere" / "g.json", "p")


@pytest.mark.memcached
class MemcachedGenerationTests:
    def test_clear_moves_this_instance_to_a_new_generation(self, memcached_url: str, tmp_path: Path) -> None:
        base, path = unique_base(), tmp_path / "cache-generations.json"
        server = location(memcached_url)
        with override_settings(CACHES=project_caches(server, base, "green", path)):
            caches["default"].set("page", "green page")
        with override_settings(CACHES=project_caches(server, base, "blue", path)):
            caches["default"].set("page", "old blue page")
            out, err, code = run_command("clear_cache")
            assert code == 0, err
            assert f"Moved prefix '{base}_blue' of alias 'default' ({server}) from generation 0 to 1" in out
            assert "It takes effect when the servers reload" in out
            # Nothing was deleted: the running servers still read the old page until they reload.
            assert caches["default"].get("page") == "old blue page"
        assert read_generations(path) == {f"{base}_blue": 1}
        with override_settings(CACHES=project_caches(server, base, "blue", path)):
            assert caches["default"].get("page") is None
        with override_settings(CACHES=project_caches(server, base, "green", path)):
            assert caches["default"].get("page") == "green page"

    def test_dry_run_and_json(self, memcached_url: str, tmp_path: Path) -> None:
        path = tmp_path / "g.json"
        path.write_text(json.dumps({"x_blue": 4}))
        with override_settings(CACHES=project_caches(location(memcached_url), "x", "blue", path)):
            out, err, code = run_command("clear_cache", "--dry-run", "--format", "json")
        assert code == 0, err
        [alias] = json.loads(out)["aliases"]
        assert alias["strategy"] == "memcached-generation"
        assert alias["generation"] == {"from": 4, "to": 5}
        assert alias["keys"] is None
        assert read_generations(path) == {"x_blue": 4}

    def test_without_generations_it_is_refused(self, memcached_url: str) -> None:
        config = {"BACKEND": PYMEMCACHE, "LOCATION": location(memcached_url), "KEY_PREFIX": "x_blue"}
        with override_settings(CACHES={"default": config}):
            _, err, code = run_command("clear_cache")
        assert code == 1
        assert "is a Memcached cache, which cannot delete keys by prefix" in err
        assert "with_cache_generations()" in err
        assert "--flush" in err

    def test_prefix_cannot_be_chosen(self, memcached_url: str, tmp_path: Path) -> None:
        path = tmp_path / "g.json"
        with override_settings(CACHES=project_caches(location(memcached_url), "x", "blue", path)):
            _, err, code = run_command("clear_cache", "--slot", "green")
        assert code == 1
        assert "--prefix and --slot cannot be used with it" in err
        assert not path.exists()

    def test_across_processes(self, memcached_url: str, tmp_path: Path) -> None:
        """A server process, clear_cache as its own process, then the reloaded server and the other slot."""
        base = unique_base()
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "tests.cache_clearing.memcached_settings",
            "MEMCACHED_LOCATION": location(memcached_url),
            "BASE_PREFIX": base,
            "GENERATIONS_FILE": str(tmp_path / "cache-generations.json"),
            "PYTHONPATH": str(REPO_ROOT),
        }
        python = sh.Command(sys.executable).bake(_env=environment, _cwd=str(REPO_ROOT))

        def in_slot(slot: str, code: str) -> str:
            script = f"import django; django.setup(); from django.core.cache import cache; {code}"
            return str(python("-c", script, _env={**environment, "SLOT": slot})).strip()

        in_slot("blue", "cache.set('page', 'blue')")
        in_slot("green", "cache.set('page', 'green')")
        output = str(python("-m", "django", "clear_cache", _env={**environment, "SLOT": "blue"}))
        assert "from generation 0 to 1" in output
        assert in_slot("blue", "print(cache.get('page'))") == "None"
        assert in_slot("green", "print(cache.get('page'))") == "green"


@pytest.fixture
def private_memcached(memcached_url: str) -> Iterator[str]:
    """A memcached server of our own, so a flush cannot touch anyone else's keys."""
    executable = shutil.which("memcached") or "/usr/bin/memcached"
    port = free_port()
    arguments = ["-l", "127.0.0.1", "-p", str(port), "-m", "8"]
    if os.geteuid() == 0:
        arguments += ["-u", "memcache"]  # memcached refuses to run as root
    process = sh.Command(executable)(*arguments, _bg=True, _bg_exc=False)
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if time.monotonic() > deadline:
                process.kill()
                pytest.fail("The private memcached did not start.")
            time.sleep(0.05)
    yield f"127.0.0.1:{port}"
    process.terminate()
    process.wait()


@pytest.mark.memcached
class MemcachedFlushTests:
    def test_flush_needs_yes(self, private_memcached: str) -> None:
        with override_settings(CACHES={"default": {"BACKEND": PYMEMCACHE, "LOCATION": private_memcached}}):
            caches["default"].set("k", 1)
            _, err, code = run_command("clear_cache", "--flush")
            assert code == 1
            assert "Pass --yes to confirm" in err
            assert caches["default"].get("k") == 1

    def test_flush_with_yes_empties_the_server(self, private_memcached: str) -> None:
        config = {"BACKEND": PYMEMCACHE, "LOCATION": private_memcached, "KEY_PREFIX": "a"}
        other = {"BACKEND": PYMEMCACHE, "LOCATION": private_memcached, "KEY_PREFIX": "b"}
        with override_settings(CACHES={"default": config, "other": other}):
            caches["default"].set("k", 1)
            caches["other"].set("k", 2)
            out, err, code = run_command("clear_cache", "--flush", "--yes")
            assert code == 0, err
            assert f"Flushed alias 'default' ({private_memcached}): an unknown number of keys" in out
            assert caches["other"].get("k") is None

    def test_unreachable_server(self) -> None:
        port = free_port()
        with override_settings(CACHES={"default": {"BACKEND": PYMEMCACHE, "LOCATION": f"127.0.0.1:{port}"}}):
            _, err, code = run_command("clear_cache", "--flush", "--yes")
        assert code == 1
        assert f"Memcached at 127.0.0.1:{port} does not answer" in err
        assert "Nothing was cleared." in err
