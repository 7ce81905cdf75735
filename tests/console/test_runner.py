"""The queued console (DEPLOYKIT_CONSOLE_RUNNER = "queue"): the console leaves requests, the runner checks each
again and runs only what the console's forms make."""

from __future__ import annotations

import json
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from django_deploykit.console import audit, runner
from django_deploykit.console.actions import Request, queue_request
from django_deploykit.deploy_root import history
from django_deploykit.deploy_root.layout import LAUNCH_LOG_NAME, DeployRoot
from tests.console.conftest import CONSOLE


@pytest.fixture
def queued(root: DeployRoot, settings: Any) -> DeployRoot:
    settings.DEPLOYKIT_CONSOLE_RUNNER = "queue"
    return root


def _kinds(root: DeployRoot) -> list[str]:
    return [record.kind for record in history.read(root)]


@pytest.mark.django_db
class QueueTests:
    def test_a_deploy_is_queued_not_started(
        self, queued: DeployRoot, client_for: Callable[..., Client]
    ) -> None:
        client = client_for("push")
        response = client.post(CONSOLE + "deploy/", {"ref": "main", "confirmed": "yes"})
        assert response.status_code == 302
        run_id = response["Location"].rstrip("/").rsplit("/", 1)[-1]
        [request] = runner.waiting(queued)
        assert json.loads(request.read_text()) == {
            "run_id": run_id,
            "user": "user-push",
            "action": "deploy",
            "fields": {"ref": "main"},
            "at": json.loads(request.read_text())["at"],
        }
        page = client.get(response["Location"]).content.decode()
        assert "status-queued" in page
        assert client.get(f"{CONSOLE}api/runs/{run_id}/").json()["state"] == "queued"
        assert [entry.result for entry in audit.latest(queued)] == ["queued"]
        assert _kinds(queued) == ["init"]

    def test_a_check_is_queued_without_a_run(
        self, queued: DeployRoot, client_for: Callable[..., Client]
    ) -> None:
        response = client_for("push").post(CONSOLE + "check/", {"link": "stage", "confirmed": "yes"})
        assert response.status_code == 200
        [request] = runner.waiting(queued)
        assert json.loads(request.read_text())["run_id"] is None


@pytest.mark.django_db
class RunnerRefusalTests:
    """What the web user could write in the queue is checked again; nothing it cannot ask for runs."""

    @pytest.mark.parametrize(
        ("request_", "problem"),
        [
            (
                Request("20261201T101500Z-abc123", "pusher", "deploy", {"ref": "-x"}, "t"),
                "must name a branch",
            ),
            (Request("20261201T101500Z-abc123", "pusher", "shell", {"command": "id"}, "t"), "not an action"),
            (Request(None, "pusher", "deploy", {"ref": "main"}, "t"), "run id does not fit"),
            (Request("20261201T101500Z-abc123", "viewer", "deploy", {"ref": "main"}, "t"), "push right"),
            (Request("20261201T101500Z-abc123", "nobody", "deploy", {"ref": "main"}, "t"), "push right"),
            (
                Request("20261201T101500Z-abc123", "pusher", "rollback", {"mode": "redeploy"}, "t"),
                "hex digits",
            ),
        ],
    )
    def test_refused_and_nothing_runs(
        self, queued: DeployRoot, client_for: Callable[..., Client], request_: Request, problem: str
    ) -> None:
        client_for("push", username="pusher")
        client_for("view", username="viewer")
        queue_request(queued, request_)
        [handled] = runner.run_queue(queued, queued.path, lambda line: None)
        assert handled.result == "refused"
        assert problem in handled.message
        assert runner.waiting(queued) == []
        assert _kinds(queued) == ["init"]
        [entry] = audit.latest(queued)
        assert entry.result == "refused"
        assert entry.client == "runner"
        if request_.run_id and request_.action in ("deploy", "rollback") and "run id" not in problem:
            launch_log = queued.run_log_dir(request_.run_id) / LAUNCH_LOG_NAME
            assert problem in launch_log.read_text()

    @pytest.mark.parametrize(
        "text",
        ["not json", "[]", '{"run_id": "../x", "user": "u", "action": "deploy", "fields": {}, "at": ""}'],
    )
    def test_a_file_that_is_no_request(self, queued: DeployRoot, text: str) -> None:
        queued.console_queue_dir.mkdir(parents=True)
        (queued.console_queue_dir / "20261201T101500Z-abc123.json").write_text(text)
        [handled] = runner.run_queue(queued, queued.path, lambda line: None)
        assert handled.result == "refused"
        assert "not a request the console writes" in handled.message
        assert runner.waiting(queued) == []

    def test_a_command_that_cannot_start_is_said_and_the_queue_goes_on(
        self, queued: DeployRoot, client_for: Callable[..., Client]
    ) -> None:
        client_for("push", username="pusher")
        queue_request(queued, Request("20261201T101500Z-abc123", "pusher", "deploy", {"ref": "main"}, "t"))
        queue_request(
            queued, Request("20261201T101501Z-abc124", "pusher", "rollback", {"mode": "swap-back"}, "t")
        )
        # This deploy root has no virtualenvs: neither command can start, each is said, both leave the queue.
        handled = runner.run_queue(queued, queued.path, lambda line: None)
        assert [each.result for each in handled] == ["refused", "refused"]
        assert "could not be started" in handled[0].message
        assert list(queued.console_queue_dir.iterdir()) == []
        launch_log = queued.run_log_dir("20261201T101500Z-abc123") / LAUNCH_LOG_NAME
        assert "could not start the command" in launch_log.read_text()

    def test_the_command_refuses_when_the_console_does_not_queue(self, root: DeployRoot) -> None:
        with pytest.raises(CommandError, match="queues nothing") as raised:
            call_command("console_runner", stdout=StringIO())
        assert raised.value.returncode == 1

    def test_an_empty_queue_is_nothing_to_do(self, queued: DeployRoot) -> None:
        out = StringIO()
        call_command("console_runner", "--format", "json", stdout=out)
        assert json.loads(out.getvalue())["handled"] == []
