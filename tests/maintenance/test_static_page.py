"""The static page a web server shows while the app is down: written by 'maintenance on' and 'off' into a
real deploy root's shared/ folder."""

from __future__ import annotations

import json
import re
import stat
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from django_deploykit.deploy_root.layout import ROOT_MARKER, DeployRoot
from django_deploykit.maintenance.static_page import ensure_static_page, write_static_page
from django_deploykit.maintenance.stores import FileStore
from tests.commands import run_command
from tests.json_fields import assert_documented
from tests.maintenance.conftest import NOW, make_state

COMMAND_MODULE = "django_deploykit.management.commands.maintenance"
GENERIC_TEXT = "The site is temporarily unavailable. Please try again in a few minutes."


@pytest.fixture
def root(tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch) -> DeployRoot:
    """A deploy root as deploykit_init lays it out (marker and shared/), the state file in its shared/."""
    path = tmp_path / "site"
    (path / "shared").mkdir(parents=True)
    (path / ROOT_MARKER).write_text(json.dumps({"slots": ["blue", "green"]}))
    monkeypatch.delenv("DEPLOYKIT_ROOT", raising=False)
    settings.DEPLOYKIT_ROOT = str(path)
    settings.DEPLOYKIT_MAINTENANCE_STATE_FILE = None
    settings.DEPLOYKIT_MAINTENANCE_STALENESS = 0
    settings.MIDDLEWARE = ["django_deploykit.maintenance.middleware.MaintenanceMiddleware"]
    return DeployRoot(path=path.resolve())


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch, settings: Any) -> datetime:
    """The command's clock at NOW (12:00 UTC, 13:00 in Paris)."""
    settings.TIME_ZONE = "Europe/Paris"
    monkeypatch.setattr(f"{COMMAND_MODULE}.utc_now", lambda: NOW)
    return NOW


def page(root: DeployRoot) -> str:
    return root.maintenance_page.read_text(encoding="utf-8")


def assert_self_contained(html: str) -> None:
    """A page the web server can show alone: the app that would serve anything it links to is down."""
    assert html.startswith("<!DOCTYPE html>")
    assert '<meta charset="utf-8">' in html
    assert "<script" not in html.lower()
    assert not re.search(r"\b(src|href)\s*=", html, re.IGNORECASE), html
    assert "<link" not in html.lower()
    assert "url(" not in html
    assert "{{" not in html
    assert "{%" not in html
    assert "nonce" not in html


class CommandTests:
    def test_on_writes_the_windows_message_and_end(self, root: DeployRoot, frozen_now: datetime) -> None:
        out, err, code = run_command("maintenance", "on", "--for", "30m", "--message", "Wartung — café")
        assert (code, err) == (0, "")
        html = page(root)
        assert "Wartung — café" in html
        assert "Down for maintenance" in html
        # A date, not "today" nor "in 30 minutes": the page may be read long after it was written.
        assert "We expect to be back on 2026-12-01 at 13:30." in html
        assert "(in " not in html
        assert_self_contained(html)
        assert f"static page: {root.maintenance_page}" in out
        assert FileStore(root.shared_dir / "maintenance.json").read() is not None

    def test_the_message_is_escaped(self, root: DeployRoot) -> None:
        run_command("maintenance", "on", "--message", "<b>&")
        html = page(root)
        assert "&lt;b&gt;&amp;" in html
        assert "<b>" not in html

    def test_an_announced_window_gets_its_page(self, root: DeployRoot, frozen_now: datetime) -> None:
        run_command("maintenance", "on", "--at", "15:00", "--for", "1h", "--message", "Upgrade tonight.")
        assert "Upgrade tonight." in page(root)
        assert "We expect to be back on 2026-12-01 at 16:00." in page(root)

    def test_without_an_end_it_says_shortly(self, root: DeployRoot) -> None:
        run_command("maintenance", "on")
        assert "The site is being updated." in page(root)
        assert "We will be back shortly." in page(root)

    def test_in_the_projects_language(self, root: DeployRoot, frozen_now: datetime, settings: Any) -> None:
        settings.LANGUAGE_CODE = "fr"
        run_command("maintenance", "on", "--for", "30m")
        html = page(root)
        assert '<html lang="fr">' in html
        assert "Site en maintenance" in html
        assert "Retour prévu le 1 décembre 2026 à 13:30." in html
        run_command("maintenance", "off")
        assert "Le site est temporairement indisponible." in page(root)

    def test_off_writes_the_generic_page(self, root: DeployRoot) -> None:
        run_command("maintenance", "on", "--message", "Upgrading.")
        out, err, code = run_command("maintenance", "off")
        assert (code, err) == (0, "")
        html = page(root)
        assert GENERIC_TEXT in html
        assert "Upgrading." not in html
        assert_self_contained(html)
        assert f"static page: {root.maintenance_page}" in out

    def test_off_without_a_window_writes_it_too(self, root: DeployRoot) -> None:
        _, _, code = run_command("maintenance", "off")
        assert code == 0
        assert GENERIC_TEXT in page(root)

    def test_the_shared_scope_writes_it_too(self, root: DeployRoot, settings: Any, redis_url: str) -> None:
        import redis

        key = f"deploykit-test:maintenance:{uuid.uuid4().hex}"
        settings.CACHES = {
            **settings.CACHES,
            "shared": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url},
        }
        settings.DEPLOYKIT_MAINTENANCE_CACHE_ALIAS = "shared"
        settings.DEPLOYKIT_MAINTENANCE_CACHE_KEY = key
        try:
            run_command("maintenance", "on", "--scope", "shared", "--message", "All servers.")
            assert "All servers." in page(root)
            run_command("maintenance", "off", "--scope", "shared")
            assert GENERIC_TEXT in page(root)
        finally:
            redis.Redis.from_url(redis_url).delete(key)

    def test_the_page_is_readable_by_the_web_server(self, root: DeployRoot) -> None:
        run_command("maintenance", "on")
        assert stat.S_IMODE(root.maintenance_page.stat().st_mode) == 0o644
        assert [p.name for p in root.shared_dir.iterdir() if p.name.endswith(".tmp")] == []

    @pytest.mark.parametrize(
        "args",
        [["--for", "30"], ["--for", "1h", "--until", "15:00"], ["--retry-after", "soon"], ["--at", "25:00"]],
        ids=lambda args: " ".join(args),
    )
    def test_a_refused_on_writes_no_page(self, root: DeployRoot, args: list[str]) -> None:
        _, _, code = run_command("maintenance", "on", *args)
        assert code == 1
        assert not root.maintenance_page.exists()
        assert not (root.shared_dir / "maintenance.json").exists()

    def test_a_refused_on_keeps_the_page_it_had(self, root: DeployRoot) -> None:
        run_command("maintenance", "on", "--message", "First.")
        before = root.maintenance_page.read_bytes()
        _, _, code = run_command("maintenance", "on", "--message", "Second.", "--for", "bad")
        assert code == 1
        assert root.maintenance_page.read_bytes() == before

    def test_an_unwritable_shared_folder_warns_and_stores_the_window(
        self, root: DeployRoot, tmp_path: Path, settings: Any, read_only_folder: Any
    ) -> None:
        state_file = tmp_path / "state" / "maintenance.json"
        state_file.parent.mkdir()
        settings.DEPLOYKIT_MAINTENANCE_STATE_FILE = str(state_file)
        with read_only_folder(root.shared_dir):
            out, err, code = run_command("maintenance", "on", "--message", "Stored anyway.")
            assert code == 0
            assert "The static maintenance page could not be written" in err
            assert str(root.maintenance_page) in err
            assert "the app's own 503 page still works" in err
            assert "Maintenance set" in out
            stored = FileStore(state_file).read()
            assert stored is not None
            assert stored.message == "Stored anyway."

            out, err, code = run_command("maintenance", "on", "--message", "Again.", "--format", "json")
            document = json.loads(out)
            assert code == 0
            assert document["static_page"] is None
            assert "could not be written" in document["static_page_warning"]
            assert "could not be written" in err

            _, err, code = run_command("maintenance", "off")
            assert code == 0
            assert "The static maintenance page could not be written" in err
            assert FileStore(state_file).read() is None
        assert not root.maintenance_page.exists()

    def test_json_fields(self, root: DeployRoot) -> None:
        out, _, code = run_command("maintenance", "on", "--no-wait", "--format", "json")
        on = json.loads(out)
        assert code == 0
        assert_documented(on, "maintenance.md", "`maintenance on`")
        assert (on["static_page"], on["static_page_warning"]) == (str(root.maintenance_page), None)
        out, _, _ = run_command("maintenance", "off", "--format", "json")
        off = json.loads(out)
        assert_documented(off, "maintenance.md", "`maintenance off`")
        assert (off["static_page"], off["static_page_warning"]) == (str(root.maintenance_page), None)

    def test_outside_a_deploy_root_nothing_is_written_nor_said(
        self, tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("DEPLOYKIT_ROOT", raising=False)
        settings.DEPLOYKIT_ROOT = None
        settings.BASE_DIR = tmp_path
        settings.DEPLOYKIT_MAINTENANCE_STATE_FILE = None
        settings.MIDDLEWARE = ["django_deploykit.maintenance.middleware.MaintenanceMiddleware"]
        out, err, code = run_command("maintenance", "on", "--no-wait")
        assert (code, err) == (0, "")
        assert "static page" not in out
        out, _, _ = run_command("maintenance", "on", "--no-wait", "--format", "json")
        assert (json.loads(out)["static_page"], json.loads(out)["static_page_warning"]) == (None, None)
        out, err, code = run_command("maintenance", "off")
        assert (code, err) == (0, "")
        assert "static page" not in out
        assert sorted(p.name for p in tmp_path.iterdir()) == []


class FunctionTests:
    def test_write_replaces_the_page(self, root: DeployRoot) -> None:
        path = write_static_page(root, make_state(message="First."), NOW)
        assert path == root.maintenance_page
        write_static_page(root, make_state(message="Second."), NOW)
        assert "Second." in page(root)
        assert "First." not in page(root)

    def test_an_ended_window_gets_the_generic_page(self, root: DeployRoot) -> None:
        write_static_page(
            root, make_state(end=NOW - timedelta(minutes=1), start=NOW - timedelta(hours=1)), NOW
        )
        assert GENERIC_TEXT in page(root)

    def test_ensure_writes_the_generic_page_once(self, root: DeployRoot) -> None:
        assert ensure_static_page(root, NOW) == root.maintenance_page
        assert GENERIC_TEXT in page(root)
        assert_self_contained(page(root))
        assert stat.S_IMODE(root.maintenance_page.stat().st_mode) == 0o644

    def test_ensure_keeps_an_existing_page(self, root: DeployRoot) -> None:
        write_static_page(root, make_state(message="Announced window."), NOW)
        before = root.maintenance_page.read_bytes()
        assert ensure_static_page(root, NOW) == root.maintenance_page
        assert root.maintenance_page.read_bytes() == before

    def test_an_unwritable_folder_raises_and_leaves_nothing(
        self, root: DeployRoot, read_only_folder: Any
    ) -> None:
        with read_only_folder(root.shared_dir), pytest.raises(PermissionError):
            write_static_page(root, None, NOW)
        assert list(root.shared_dir.iterdir()) == []
