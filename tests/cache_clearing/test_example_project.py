"""The example project deployed in two slots on one Redis: clearing blue leaves green and sessions."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest
import redis
import sh

from tests.cache_clearing.helpers import unique_base


@pytest.mark.redis
class TwoSlotsTests:
    def test_clear_in_blue_leaves_green(self, example_project: Path, redis_url: str, tmp_path: Path) -> None:
        root = tmp_path / "root"
        root.mkdir()
        (root / ".deploykit-root").write_text(json.dumps({"slots": ["blue", "green"]}))
        (root / "shared").mkdir()
        for slot in ("blue", "green"):
            shutil.copytree(example_project, root / slot)
        base = unique_base()
        environment = {
            key: value
            for key, value in os.environ.items()
            if key not in ("DJANGO_SETTINGS_MODULE", "PRODUCTION", "DEPLOYKIT_ROOT")
        }
        environment["CACHE_URL"] = f"{redis_url}?key_prefix={base}"

        def manage(slot: str, *arguments: str) -> str:
            python = sh.Command(sys.executable)
            return str(python("manage.py", *arguments, _cwd=str(root / slot), _env=environment))

        client = redis.Redis.from_url(redis_url)
        try:
            for slot in ("blue", "green"):
                manage(slot, "shell", "-c", "from django.core.cache import cache; cache.set('page', 1)")
            client.set(f"{base}:1:django.contrib.sessions.cacheabc", 1)
            assert {k.decode() for k in client.scan_iter(match=f"{base}*")} == {
                f"{base}_blue:1:page",
                f"{base}_green:1:page",
                f"{base}:1:django.contrib.sessions.cacheabc",
            }
            output = manage("blue", "clear_cache")
            assert f"Deleted 1 keys matching {base}_blue:1:*" in output
            assert {k.decode() for k in client.scan_iter(match=f"{base}*")} == {
                f"{base}_green:1:page",
                f"{base}:1:django.contrib.sessions.cacheabc",
            }
            output = manage("blue", "clear_cache", "--slot", "green")
            assert f"Deleted 1 keys matching {base}_green:1:*" in output
        finally:
            for key in client.scan_iter(match=f"{base}*"):
                client.delete(key)
            client.close()
