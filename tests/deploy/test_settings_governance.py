"""What a release configures takes effect for the deploy that brings it (docs/deploy.md).

The running code (the live slot, v1) configures no reload adapter and the built-in pipeline;
each test commits a release whose own settings say otherwise, and deploys it from v1.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.deploy.deploying import deploy_json
from tests.deploy_pull.pulling import deploy_pull_json
from tests.deployment import Site, commit_change

# Run in one tox environment only (tox.ini): among the longest tests, and not about the Django version.
pytestmark = pytest.mark.end_to_end

PRODUCTION = "example_project/mysite/settings/production.py"
ANCHOR = 'DATABASES = {"default": env.database_url("DATABASE_URL")}'


def release_with(site: Site, settings: str, message: str) -> None:
    commit_change(site.source, PRODUCTION, ANCHOR, f"{ANCHOR}\n{settings}", message)


def touch(marker: Path) -> dict[str, object]:
    return {"adapter": "command", "argv": ["touch", str(marker)]}


class SettingsGovernanceTests:
    def test_the_pull_reloads_the_stage_server_as_the_new_code_says(self, site: Site) -> None:
        marker = site.root.path / "stage-reloaded"
        release_with(site, f"DEPLOYKIT_RELOAD = { {'stage': touch(marker)}!r}", "stage reload")

        code, outcome = deploy_pull_json(site)

        assert code == 0, outcome
        assert marker.exists()
        reload_stage = next(stage for stage in outcome["stages"] if stage["name"] == "reload-and-record")
        assert f"reloaded (run touch {marker})" in reload_stage["summary"]
        assert outcome["warnings"] == []
        assert outcome["slot_settings"]["RELOAD"]["stage"]["adapter"] == "command"

    def test_a_slot_left_unreloaded_is_a_warning_never_a_silent_ok(self, site: Site) -> None:
        release_with(site, "# v2: still no reload adapter", "v2")

        code, outcome = deploy_pull_json(site)

        assert code == 0, outcome
        reload_stage = next(stage for stage in outcome["stages"] if stage["name"] == "reload-and-record")
        assert "NOT reloaded (no reload adapter for stage)" in reload_stage["summary"]
        assert any("green was not reloaded" in warning for warning in outcome["warnings"])
        text = site.manage("live", "deploy_pull", check=False).stdout
        assert text.count("was not reloaded") == 1  # said once, at the end

    def test_the_swap_reloads_live_as_the_code_it_puts_live_says(self, site: Site) -> None:
        marker = site.root.path / "live-reloaded"
        release_with(site, f"DEPLOYKIT_RELOAD = { {'live': touch(marker)}!r}", "live reload")
        assert deploy_pull_json(site)[0] == 0
        assert not marker.exists()

        completed = site.manage("live", "swap_live", "--format", "json", check=False)

        assert completed.returncode == 0, completed.stdout + completed.stderr
        assert marker.exists()
        outcome = json.loads(completed.stdout)
        assert f"live: run touch {marker}" in outcome["reloads"]

    def test_the_deploy_continues_with_the_pulled_code_pipeline(self, site: Site) -> None:
        marker = site.root.path / "announced"
        pipeline = [
            "maintenance-on",
            "pull",
            {"name": "announce", "argv": ["touch", str(marker)]},
            "swap",
            "migrate-destructive",
            "clear-old-cache",
            "maintenance-off",
        ]
        release_with(site, f"DEPLOYKIT_DEPLOY_PIPELINE = {pipeline!r}", "a new stage")

        code, outcome = deploy_json(site)

        assert code == 0, outcome
        assert marker.exists()
        names = [stage["name"] for stage in outcome["stages"]]
        assert names == [
            "notify",
            "maintenance-on",
            "pull",
            "announce",
            "swap",
            "migrate-destructive",
            "clear-old-cache",
            "maintenance-off",
        ]
        assert any("pulled code's pipeline continues" in warning for warning in outcome["warnings"])
