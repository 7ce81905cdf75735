"""clear_cache with the caches that live in the process, in files, or in the project's database."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.cache import caches
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from django_deploykit.cache_clearing.plan import ClearRequest, build_plans, setup_from_settings
from django_deploykit.cache_clearing.run import ClearFailed, clear_all, preflight
from tests.commands import run_command

LOCMEM = "django.core.cache.backends.locmem.LocMemCache"
FILE = "django.core.cache.backends.filebased.FileBasedCache"
DUMMY = "django.core.cache.backends.dummy.DummyCache"
DATABASE = "django.core.cache.backends.db.DatabaseCache"
TABLE = "deploykit_test_cache"


class LocMemTests:
    def test_refused_because_another_process_cannot_clear_it(self) -> None:
        with override_settings(CACHES={"default": {"BACKEND": LOCMEM, "KEY_PREFIX": "mysite_blue"}}):
            caches["default"].set("k", 1)
            _, err, code = run_command("clear_cache")
            assert caches["default"].get("k") == 1
        assert code == 1
        assert "Alias 'default' is a LocMemCache" in err
        assert "no other process (this command included) can clear it" in err

    def test_flush_does_not_help(self) -> None:
        with override_settings(CACHES={"default": {"BACKEND": LOCMEM}}):
            _, err, code = run_command("clear_cache", "--flush", "--yes")
        assert code == 1
        assert "is a LocMemCache" in err


class DummyTests:
    def test_nothing_to_clear(self) -> None:
        with override_settings(CACHES={"default": {"BACKEND": DUMMY}}):
            out, err, code = run_command("clear_cache")
        assert code == 0, err
        assert "Nothing to clear in alias 'default'" in out


class FileBasedTests:
    def test_needs_flush_because_names_are_hashes(self, tmp_path: Path) -> None:
        config = {"BACKEND": FILE, "LOCATION": str(tmp_path), "KEY_PREFIX": "mysite_blue"}
        with override_settings(CACHES={"default": config}):
            caches["default"].set("k", 1)
            _, err, code = run_command("clear_cache")
        assert code == 1
        assert "is a FileBasedCache, whose file names are hashes of the keys" in err
        assert "Pass --flush" in err
        assert len(list(tmp_path.glob("*.djcache"))) == 1

    def test_flush_with_yes_deletes_every_file(self, tmp_path: Path) -> None:
        config = {"BACKEND": FILE, "LOCATION": str(tmp_path), "KEY_PREFIX": "mysite_blue"}
        with override_settings(CACHES={"default": config}):
            for i in range(4):
                caches["default"].set(f"k{i}", i)
            out, err, code = run_command("clear_cache", "--flush", "--yes")
        assert code == 0, err
        assert f"Flushed alias 'default' ({tmp_path}): 4 keys of every prefix" in out
        assert list(tmp_path.glob("*.djcache")) == []


@pytest.fixture
def database_cache() -> object:
    config = {"BACKEND": DATABASE, "LOCATION": TABLE, "KEY_PREFIX": "my_site_blue"}
    sessions = {"BACKEND": DATABASE, "LOCATION": TABLE, "KEY_PREFIX": "my_site"}
    with override_settings(CACHES={"default": config, "sessions": sessions}):
        call_command("createcachetable", verbosity=0)
        yield caches["default"]


def stored_keys() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT cache_key FROM {TABLE}")  # noqa: S608
        return {key for (key,) in cursor.fetchall()}


def fill_database_cache() -> set[str]:
    for i in range(12):
        caches["default"].set(f"page{i}", i)
    caches["default"].set("old", 1, version=2)
    caches["sessions"].set("session", 1)
    with connection.cursor() as cursor:
        others = ("my_site_green:1:page", "myXsite_blue:1:like", "my_site_blue:canary:1:k", ":1:bare")
        for key in others:
            cursor.execute(
                f"INSERT INTO {TABLE} (cache_key, value, expires) VALUES (%s, %s, %s)",  # noqa: S608
                [key, "x", "2999-01-01 00:00:00"],
            )
    return {key for key in stored_keys() if not key.startswith("my_site_blue:1:")}


@pytest.mark.django_db
@pytest.mark.usefixtures("database_cache")
class DatabaseCacheTests:
    def test_only_this_instances_rows_go(self) -> None:
        survivors = fill_database_cache()
        out, err, code = run_command("clear_cache")
        assert code == 0, err
        assert "Deleted 12 keys matching my_site_blue:1:* from alias 'default'" in out
        assert "Left alone: every row outside that namespace in the same table." in out
        assert stored_keys() == survivors

    def test_all_versions(self) -> None:
        survivors = fill_database_cache()
        out, err, code = run_command("clear_cache", "--all-versions", "--batch", "5")
        assert code == 0, err
        assert "Deleted 13 keys" in out
        assert stored_keys() == survivors - {"my_site_blue:2:old"}

    def test_dry_run_counts_and_deletes_nothing(self) -> None:
        fill_database_cache()
        before = stored_keys()
        out, err, code = run_command("clear_cache", "--dry-run", "--all-versions", "--format", "json")
        assert code == 0, err
        [alias] = json.loads(out)["aliases"]
        assert (alias["strategy"], alias["keys"]) == ("database-rows", 13)
        assert alias["pattern"] == "my!_site!_blue:%"
        assert stored_keys() == before

    def test_refusal_changes_nothing(self) -> None:
        fill_database_cache()
        before = stored_keys()
        _, err, code = run_command("clear_cache", "--prefix", "my_site")
        assert code == 1
        assert "is the beginning of another slot's prefix" in err
        out, _, code = run_command("clear_cache", "--prefix", "my_site", "--format", "json")
        report = json.loads(out)
        assert (code, report["exit_code"]) == (1, 1)
        assert "is the beginning of another slot's prefix" in report["error"]
        assert stored_keys() == before

    def test_flush_with_yes_deletes_every_row(self) -> None:
        fill_database_cache()
        count = len(stored_keys())
        out, err, code = run_command("clear_cache", "--flush", "--yes")
        assert code == 0, err
        assert f"{count} keys of every prefix" in out
        assert stored_keys() == set()


@pytest.mark.django_db
@pytest.mark.usefixtures("database_cache")
class FailurePartwayTests:
    def test_a_table_lost_between_batches_reports_that_keys_were_deleted(self) -> None:
        fill_database_cache()
        request = ClearRequest()
        plans = build_plans(request, setup_from_settings())

        def drop_table(alias: str, done: int) -> None:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE {TABLE}")

        preflight(plans)
        with pytest.raises(ClearFailed) as excinfo:
            clear_all(plans, batch=5, dry_run=False, progress=drop_table)
        assert excinfo.value.changed
        assert "Some of its keys may have been deleted already" in str(excinfo.value)

    def test_a_missing_table_is_found_before_anything_is_deleted(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TABLE {TABLE}")
        _, err, code = run_command("clear_cache")
        assert code == 1
        assert "could not be read" in err
        assert "Nothing was cleared." in err
