"""The notify stage of a real deploy run in-process: start and end posted to real receivers, failing targets
never failing the deploy, secrets in no log, record or output, and a bad setting refused before anything."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import override_settings

from django_deploykit.deploy.procedure import StageContext
from django_deploykit.deploy_root import history, links, lock, runtime_settings
from django_deploykit.deploy_root.revision import read_revision
from django_deploykit.exit_codes import ExitCode
from django_deploykit.interrupts import Interrupted
from tests.commands import run_command
from tests.deployment import Site, build_site
from tests.notifications.hooks import Hooks
from tests.servers import free_port

SLACK_PATH = "/services/T0001/B0002/SlackSecretPathToken"
TOKEN = "sntrys_deploykit-test-token-9f8e7d6c5b4a"
TOKEN_ENV = "DEPLOYKIT_TEST_SENTRY_TOKEN"
WORK = {"name": "work", "argv": ["true"]}
BROKEN = {"name": "broken", "argv": ["false"]}


@pytest.fixture
def bare_site(tmp_path: Path) -> Site:
    return build_site(tmp_path, venvs=False)


@pytest.fixture
def targets(hooks: Hooks, monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """A Slack-style hook, one answering 500, one on a refused port and a Sentry releases endpoint."""
    monkeypatch.setenv(TOKEN_ENV, TOKEN)
    return [
        {"url": hooks.url(SLACK_PATH), "format": "slack"},
        {"url": hooks.url("/fail/T0001/hook"), "format": "json", "name": "broken-hook"},
        {"url": f"http://127.0.0.1:{free_port()}/T0001/refused", "format": "json", "name": "nobody"},
        {
            "url": hooks.url("/api/0/organizations/acme/releases/"),
            "format": "sentry",
            "token_env": TOKEN_ENV,
            "projects": ["web"],
        },
    ]


def run_deploy(site: Site, pipeline: list[Any], notifications: Any, *args: str) -> tuple[str, str, int]:
    with override_settings(
        DEPLOYKIT_ROOT=str(site.root.path),
        DEPLOYKIT_PROJECT_SUBDIR="example_project",
        DEPLOYKIT_DEPLOY_PIPELINE=pipeline,
        DEPLOYKIT_NOTIFICATIONS=notifications,
    ):
        return run_command("deploy", "--yes", "--format", "json", *args)


def deploys(site: Site) -> list[history.HistoryRecord]:
    return [record for record in history.read(site.root) if record.kind == "deploy"]


def everything_written(site: Site) -> Iterator[str]:
    """The deploy root's logs and history: where a secret must never be."""
    yield site.root.history_file.read_text()
    for path in sorted(site.root.logs_dir.rglob("*")):
        if path.is_file():
            yield path.read_text()


class NotifyStageTests:
    def test_start_and_success_reach_the_targets_and_failing_ones_do_not_fail_the_deploy(
        self, bare_site: Site, hooks: Hooks, targets: list[dict[str, Any]]
    ) -> None:
        runtime_settings.write(
            bare_site.root,
            runtime_settings.RuntimeSettings(
                notifications=[
                    {"url": hooks.url("/console/T0001/saved"), "format": "json", "events": ["success"]},
                    {"url": hooks.url("/console/T0001/bad"), "format": "teams"},
                ]
            ),
        )

        out, err, code = run_deploy(bare_site, ["notify", WORK], targets)

        assert code == 0, err
        document = json.loads(out)
        notify = document["stages"][0]
        port = hooks.port
        assert (notify["name"], notify["status"]) == ("notify", "ok")
        assert notify["summary"] == (
            "notified 3 targets of the start; 2 failed: broken-hook (HTTP 500), nobody (connection refused)"
        )
        [start, success] = hooks.to(SLACK_PATH)
        assert start.body["text"].startswith(f"{bare_site.root.path.name}: deploying main by ")
        assert success.body["text"].startswith(f"{bare_site.root.path.name}: deployed main (")
        [saved] = hooks.to("/console/T0001/saved")
        assert saved.body["event"] == "success"
        assert saved.body["result"] == "ok"
        assert saved.body["run_id"] == document["id"]
        assert hooks.to("/console/T0001/bad") == []
        [release] = hooks.to("/api/0/organizations/acme/releases/")
        assert release.headers["Authorization"] == f"Bearer {TOKEN}"
        assert release.body["version"] == read_revision(bare_site.slot_dir("green"))
        assert release.body["projects"] == ["web"]

        record = deploys(bare_site)[-1]
        assert record.result == "ok"
        assert record.details["notifications"] == {
            "event": "success",
            "sent": 3,
            "failed": ["broken-hook (HTTP 500)", "nobody (connection refused)"],
        }
        log = Path(notify["log"]).read_text()
        assert "skipped a notification target: the console's notifications[1]" in log
        assert f"success: http://127.0.0.1:{port}/…: sent (HTTP 200)" in log
        assert "success: nobody: FAILED (connection refused)" in log

        for text in [out, err, *everything_written(bare_site)]:
            assert SLACK_PATH not in text
            assert "SlackSecretPathToken" not in text
            assert "T0001" not in text
            assert TOKEN not in text

    def test_a_failed_deploy_posts_the_failure_with_its_own_exit_code(
        self, bare_site: Site, hooks: Hooks, targets: list[dict[str, Any]]
    ) -> None:
        _out, err, code = run_deploy(bare_site, ["notify", BROKEN], targets)

        assert code == 1
        assert "The broken stage failed: false exited 1" in err
        [_start, failure] = hooks.to(SLACK_PATH)
        assert " failed after " in failure.body["text"]
        assert "The broken stage failed" in failure.body["text"]
        assert hooks.to("/api/0/organizations/acme/releases/") == []
        [failed_post] = hooks.to("/fail/T0001/hook")[1:]
        assert (failed_post.body["event"], failed_post.body["result"]) == ("failure", "failed")
        assert failed_post.body["message"].startswith("The broken stage failed")
        assert deploys(bare_site)[-1].details["notifications"]["event"] == "failure"
        # The same failure without any target exits the same way.
        assert run_deploy(bare_site, ["notify", BROKEN], [])[2] == 1

    def test_without_targets_the_stage_is_skipped_and_nothing_is_posted(
        self, bare_site: Site, hooks: Hooks
    ) -> None:
        out, err, code = run_deploy(bare_site, ["notify", WORK], [])

        assert code == 0, err
        notify = json.loads(out)["stages"][0]
        assert (notify["status"], notify["summary"]) == ("skipped", "no notification targets")
        assert hooks.received == []
        assert "notifications" not in deploys(bare_site)[-1].details

    def test_a_resumed_deploy_past_the_stage_still_posts_its_end(self, bare_site: Site, hooks: Hooks) -> None:
        target = [{"url": hooks.url("/plain"), "format": "json"}]

        out, err, code = run_deploy(bare_site, ["notify", WORK], target, "--resume-from", "work")

        assert code == 0, err
        notify = json.loads(out)["stages"][0]
        assert notify["status"] == "skipped"
        assert [request.body["event"] for request in hooks.to("/plain")] == ["success"]
        assert "success: http://127.0.0.1:" in Path(notify["log"]).read_text()


def stopped(context: StageContext) -> None:
    raise Interrupted(signal.SIGTERM)


class EndOfRunTests:
    def test_a_stopped_deploy_posts_its_failure_and_is_recorded(self, bare_site: Site, hooks: Hooks) -> None:
        target = [{"url": hooks.url("/plain"), "format": "json"}]

        _out, err, code = run_deploy(
            bare_site,
            ["notify", {"name": "stopped", "callable": "tests.notifications.test_deploy_notify.stopped"}],
            target,
        )

        assert code == 1, err
        assert [(r.body["event"], r.body["result"]) for r in hooks.to("/plain")] == [
            ("start", "started"),
            ("failure", "interrupted"),
        ]
        assert "deploy was stopped by SIGTERM" in hooks.to("/plain")[1].body["message"]
        assert deploys(bare_site)[-1].result == "interrupted"

    def test_a_resumed_deploy_that_cannot_take_the_lock_posts_nothing(
        self, bare_site: Site, hooks: Hooks
    ) -> None:
        target = [{"url": hooks.url("/plain"), "format": "json"}]
        with lock.deploy_lock(bare_site.root, command="test"):
            _out, err, code = run_deploy(bare_site, ["notify", WORK], target, "--resume-from", "work")
        assert code == ExitCode.LOCK_BUSY, err
        assert hooks.received == []


class RefusedSettingTests:
    def test_a_bad_setting_entry_is_refused_before_anything_changes(
        self, bare_site: Site, hooks: Hooks
    ) -> None:
        history_before = bare_site.root.history_file.read_text()
        links_before = links.read_links(bare_site.root)
        bad = [{"url": hooks.url("/ok"), "format": "json"}, {"url": hooks.url(SLACK_PATH), "format": "teams"}]

        out, err, code = run_deploy(bare_site, ["notify", WORK], bad)

        assert code == 1
        assert json.loads(out)["error"].startswith(
            f"DEPLOYKIT_NOTIFICATIONS[1] (http://127.0.0.1:{hooks.port}/…): 'format' is 'teams'; use one of "
            "'slack', 'json', 'sentry'. Nothing was deployed;"
        )
        assert SLACK_PATH not in out + err
        assert bare_site.root.history_file.read_text() == history_before
        assert links.read_links(bare_site.root) == links_before
        assert not bare_site.root.logs_dir.exists() or not any(bare_site.root.logs_dir.iterdir())
        assert hooks.received == []
