"""The settings page (edit right): targets saved without ever being shown again, defaults checked."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from django.test import Client

from django_deploykit.console import audit
from django_deploykit.deploy_root import runtime_settings
from django_deploykit.deploy_root.layout import DeployRoot
from tests.console.conftest import CONSOLE

SLACK = "https://hooks.slack.com/services/T0001/B0002/SECRETSECRETSECRET"


@pytest.mark.django_db
class SettingsPageTests:
    def test_a_target_is_saved_for_its_owner_only_and_never_shown_again(
        self, root: DeployRoot, client_for: Callable[..., Client]
    ) -> None:
        client = client_for("edit")
        response = client.post(
            CONSOLE + "settings/",
            {"what": "add-target", "format": "slack", "url": SLACK, "events": ["failure"], "name": "ops"},
        )
        assert response.status_code == 200
        saved = runtime_settings.read(root).notifications
        assert saved == [{"url": SLACK, "format": "slack", "events": ["failure"], "name": "ops"}]
        assert root.runtime_settings_file.stat().st_mode & 0o777 == 0o600
        page = client.get(CONSOLE + "settings/").content.decode()
        assert "ops" in page
        assert "SECRETSECRET" not in page
        assert "T0001" not in page
        assert "SECRETSECRET" not in root.audit_file.read_text()

    def test_an_unnamed_target_is_listed_by_its_host(
        self, root: DeployRoot, client_for: Callable[..., Client]
    ) -> None:
        client = client_for("edit")
        client.post(CONSOLE + "settings/", {"what": "add-target", "format": "json", "url": SLACK})
        page = client.get(CONSOLE + "settings/").content.decode()
        assert "https://hooks.slack.com/…" in page
        assert "services" not in page

    @pytest.mark.parametrize(
        ("data", "sentence"),
        [
            ({"format": "slack", "url": "ftp://example.com/x"}, "http"),
            ({"format": "carrier-pigeon", "url": SLACK}, "valid choice"),
            ({"format": "sentry", "url": "https://sentry.io/api/0/organizations/o/releases/"}, "token_env"),
            ({"format": "slack", "url": ""}, "required"),
        ],
    )
    def test_a_bad_target_is_refused_and_nothing_saved(
        self, root: DeployRoot, client_for: Callable[..., Client], data: dict[str, str], sentence: str
    ) -> None:
        response = client_for("edit").post(CONSOLE + "settings/", {"what": "add-target", **data})
        assert response.status_code == 400
        assert sentence in response.content.decode()
        assert not root.runtime_settings_file.exists()
        [entry] = audit.latest(root)
        assert entry.result == "refused"

    def test_a_target_is_removed(self, root: DeployRoot, client_for: Callable[..., Client]) -> None:
        client = client_for("edit")
        client.post(
            CONSOLE + "settings/", {"what": "add-target", "format": "json", "url": SLACK, "name": "a"}
        )
        assert client.post(CONSOLE + "settings/", {"what": "remove-target", "index": "3"}).status_code == 400
        assert len(runtime_settings.read(root).notifications) == 1
        client.post(CONSOLE + "settings/", {"what": "remove-target", "index": "0"})
        assert runtime_settings.read(root).notifications == []

    def test_maintenance_defaults_are_checked_and_fill_the_forms(
        self, root: DeployRoot, client_for: Callable[..., Client]
    ) -> None:
        client = client_for("edit")
        bad = client.post(CONSOLE + "settings/", {"what": "maintenance", "duration": "forever"})
        assert bad.status_code == 400
        assert not root.runtime_settings_file.exists()
        good = {"what": "maintenance", "duration": "20m", "warn": "10m", "message": "Upgrading the catalogue"}
        assert client.post(CONSOLE + "settings/", good).status_code == 200
        assert runtime_settings.read(root).maintenance == {
            "duration": "20m",
            "warn": "10m",
            "message": "Upgrading the catalogue",
        }
        pusher = client_for("push")
        assert "Upgrading the catalogue" in pusher.get(CONSOLE).content.decode()

    def test_a_broken_settings_file_is_said_not_a_500(
        self, root: DeployRoot, client_for: Callable[..., Client]
    ) -> None:
        root.console_dir.mkdir(parents=True)
        root.runtime_settings_file.write_text(json.dumps({"notifications": "nope"}))
        client = client_for("edit")
        response = client.get(CONSOLE + "settings/")
        assert response.status_code == 503
        assert "must be a list" in response.content.decode()
        assert client_for("push", username="p").get(CONSOLE).status_code == 200
