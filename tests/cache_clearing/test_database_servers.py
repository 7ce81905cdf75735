"""DatabaseCache on real PostgreSQL and MariaDB: LIKE escaping and deletes as each server does them.

Each test runs the project in its own processes against the server's test database, in a
cache table of its own that is dropped afterwards.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import sh

from tests.cache_clearing.helpers import unique_base

REPO_ROOT = Path(__file__).resolve().parents[2]

FILL = """
import django; django.setup()
from django.core.cache import cache, caches
from django.db import connection
for i in range(25):
    cache.set(f"page{i}", i)
cache.set("old", 1, version=2)
table = connection.ops.quote_name(cache._table)
with connection.cursor() as cursor:
    for key in ("BASE_green:1:k", "BASEXblue:1:k", "BASE_blue:canary:1:k", ":1:k"):
        cursor.execute(
            f"INSERT INTO {table} (cache_key, value, expires) VALUES (%s, %s, %s)",
            [key, "x", "2999-01-01 00:00:00"],
        )
"""
KEYS = """
import django, json; django.setup()
from django.core.cache import cache
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute(f"SELECT cache_key FROM {connection.ops.quote_name(cache._table)}")
    print(json.dumps(sorted(key for (key,) in cursor.fetchall())))
"""
DROP = """
import django; django.setup()
from django.core.cache import cache
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute(f"DROP TABLE IF EXISTS {connection.ops.quote_name(cache._table)}")
"""


@pytest.fixture(params=["postgres_url", "mysql_url"])
def project(request: pytest.FixtureRequest) -> Iterator[tuple[sh.Command, str]]:
    url = request.getfixturevalue(request.param)
    base = unique_base()
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.cache_clearing.database_settings",
        "DATABASE_URL": url,
        "CACHE_TABLE": f"cache_{base}",
        "KEY_PREFIX": f"{base}_blue",
        "PYTHONPATH": str(REPO_ROOT),
    }
    python = sh.Command(sys.executable).bake(_env=environment, _cwd=str(REPO_ROOT))
    python("-m", "django", "createcachetable")
    yield python, base
    python("-c", DROP)


class DatabaseServerTests:
    def test_only_this_instances_rows_go(self, project: tuple[sh.Command, str]) -> None:
        python, base = project
        python("-c", FILL.replace("BASE", base))
        before = set(json.loads(str(python("-c", KEYS))))
        dry = json.loads(
            str(python("-m", "django", "clear_cache", "--dry-run", "--all-versions", "--format", "json"))
        )
        assert dry["aliases"][0]["keys"] == 26
        assert set(json.loads(str(python("-c", KEYS)))) == before
        output = str(python("-m", "django", "clear_cache", "--all-versions", "--batch", "10"))
        assert f"Deleted 26 keys matching {base}_blue:<any version>:*" in output
        assert set(json.loads(str(python("-c", KEYS)))) == {
            f"{base}_green:1:k",
            f"{base}Xblue:1:k",
            f"{base}_blue:canary:1:k",
            ":1:k",
        }
