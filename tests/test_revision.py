from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from django.test import RequestFactory, SimpleTestCase, override_settings

from django_deploykit import views
from django_deploykit.deploy_root import revision
from tests.deployment import git, make_source_repo


class RevisionEndpointTests(SimpleTestCase):
    def setUp(self) -> None:
        self.factory = RequestFactory()

    def get(self, **meta: str) -> tuple[int, dict[str, object]]:
        request = self.factory.get("/-/deploykit/revision/", **meta)
        response = views.revision(request)
        return response.status_code, json.loads(response.content)

    def test_local_request(self) -> None:
        status, data = self.get(REMOTE_ADDR="127.0.0.1")
        assert status == 200
        assert data["pid"] == os.getpid()
        assert set(data) >= {"revision", "slot", "sys_prefix", "settings_mode", "packages", "started_at"}

    def test_ipv6_loopback(self) -> None:
        assert self.get(REMOTE_ADDR="::1")[0] == 200

    def test_remote_request_is_refused(self) -> None:
        status, data = self.get(REMOTE_ADDR="203.0.113.9")
        assert status == 403
        assert "only local requests or a valid token" in str(data["error"])

    def test_a_request_through_a_proxy_is_not_local(self) -> None:
        assert self.get(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR="127.0.0.1")[0] == 403
        assert self.get(REMOTE_ADDR="127.0.0.1", HTTP_X_REAL_IP="198.51.100.1")[0] == 403

    @override_settings(DEPLOYKIT_REVISION_TOKEN="s3cret-token")
    def test_token(self) -> None:
        assert self.get(REMOTE_ADDR="203.0.113.9", HTTP_X_DEPLOYKIT_TOKEN="s3cret-token")[0] == 200
        assert self.get(REMOTE_ADDR="203.0.113.9", HTTP_X_DEPLOYKIT_TOKEN="wrong")[0] == 403

    def test_no_token_configured_means_no_token_accepted(self) -> None:
        assert self.get(REMOTE_ADDR="203.0.113.9", HTTP_X_DEPLOYKIT_TOKEN="")[0] == 403


class RevisionFileTests:
    def test_write_and_read(self, tmp_path: Path) -> None:
        repo = make_source_repo(tmp_path)
        written = revision.write_revision(repo)
        assert written == git(repo, "rev-parse", "HEAD")
        assert revision.read_revision(repo) == written
        assert revision.find_revision_dir(repo / "example_project" / "mysite") == repo.resolve()
        assert revision.find_revision_dir(tmp_path) is None

    def test_captured_once_at_start(self, tmp_path: Path) -> None:
        (tmp_path / "REVISION").write_text("abc123\n")
        choice = {"mode": "production", "module": "m", "base_dir": str(tmp_path), "slot": "blue"}
        with override_settings(DEPLOYKIT_SETTINGS_CHOICE=choice, DEPLOYKIT_REPORT_PACKAGES=["django"]):
            running = revision.capture_running()
            (tmp_path / "REVISION").write_text("changed-later\n")
            assert revision.running() == running
        assert (running.revision, running.slot, running.settings_mode) == ("abc123", "blue", "production")
        assert running.packages["django"]
        revision.capture_running()  # leave the capture of the test settings behind

    @pytest.mark.parametrize("content", ["", "\n"])
    def test_empty_revision_file(self, tmp_path: Path, content: str) -> None:
        (tmp_path / "REVISION").write_text(content)
        assert revision.read_revision(tmp_path) is None
