"""The built-in pipeline of a real deploy root notifies the targets a console user saved (real slots, real pip)."""

from __future__ import annotations

from pathlib import Path

import pytest

from django_deploykit.deploy_root import runtime_settings
from django_deploykit.deploy_root.revision import read_revision
from tests.deploy.deploying import commit_v2, deploy_json, last_deploy
from tests.deployment import Site
from tests.notifications.hooks import Hooks
from tests.servers import free_port

pytestmark = pytest.mark.end_to_end

SLACK_PATH = "/services/T0001/B0002/SlackSecretPathToken"


class DefaultPipelineTests:
    def test_the_notify_stage_comes_first_and_the_end_follows_the_swap(
        self, site: Site, hooks: Hooks
    ) -> None:
        v1 = read_revision(site.slot_dir("blue"))
        v2 = commit_v2(site)
        runtime_settings.write(
            site.root,
            runtime_settings.RuntimeSettings(
                notifications=[
                    {"url": hooks.url(SLACK_PATH), "format": "slack"},
                    {"url": hooks.url("/plain"), "format": "json", "name": "ci"},
                    {"url": f"http://127.0.0.1:{free_port()}/T0001/gone", "format": "json", "name": "gone"},
                ]
            ),
        )

        code, outcome = deploy_json(site)

        assert code == 0, outcome
        notify = outcome["stages"][0]
        assert (notify["name"], notify["status"]) == ("notify", "ok")
        assert notify["summary"] == "notified 3 targets of the start; 1 failed: gone (connection refused)"
        start, success = (request.body for request in hooks.to("/plain"))
        assert (start["event"], start["result"], start["revision"], start["from_revision"]) == (
            "start",
            "started",
            None,
            v1,
        )
        assert (success["event"], success["result"], success["revision"]) == ("success", "ok", v2)
        assert success["project"] == site.root.path.name
        assert success["run_id"] == outcome["id"]
        said = [request.body["text"] for request in hooks.to(SLACK_PATH)]
        assert said[0].startswith(f"{site.root.path.name}: deploying main by ")
        assert said[1].startswith(f"{site.root.path.name}: deployed main ({v2[:12]}) by ")
        assert last_deploy(site).details["notifications"] == {
            "event": "success",
            "sent": 2,
            "failed": ["gone (connection refused)"],
        }
        written = [site.root.history_file.read_text(), str(outcome)]
        written += [path.read_text() for path in Path(outcome["log_dir"]).iterdir()]
        assert not [text for text in written if "T0001" in text or "SlackSecretPathToken" in text]
