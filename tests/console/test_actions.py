"""Actions: a confirmation step first; bad input and a held lock refused with nothing started, audited."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest
from django.test import Client

from django_deploykit.console import audit
from django_deploykit.deploy_root import history
from django_deploykit.deploy_root.layout import DeployRoot
from django_deploykit.deploy_root.lock import deploy_lock
from tests.console.conftest import CONSOLE


def _snapshot(root: DeployRoot) -> tuple[list[str], list[str]]:
    logs = sorted(path.name for path in root.logs_dir.iterdir()) if root.logs_dir.exists() else []
    return logs, [record.id for record in history.read(root)]


@pytest.mark.django_db
class ConfirmationTests:
    @pytest.mark.parametrize(
        ("action", "data", "words"),
        [
            ("deploy/", {"ref": "v2"}, "Deploy v2"),
            (
                "deploy/",
                {"ref": "main", "resume_from": "smoke-test"},
                "Resume the deploy of main at its smoke-test",
            ),
            ("rollback/", {"mode": "swap-back"}, "Swap back"),
            ("rollback/", {"mode": "redeploy", "revision": "abcdef1"}, "Redeploy release abcdef1"),
            (
                "maintenance/",
                {"action": "start", "duration": "30m", "message": "Back soon"},
                "Start a maintenance",
            ),
            ("maintenance/", {"action": "end"}, "End the maintenance"),
            ("check/", {"link": "stage"}, "Run deploy_check on the stage slot"),
        ],
    )
    def test_the_first_post_only_asks(
        self,
        root: DeployRoot,
        client_for: Callable[..., Client],
        action: str,
        data: dict[str, str],
        words: str,
    ) -> None:
        before = _snapshot(root)
        response = client_for("push").post(CONSOLE + action, data)
        assert response.status_code == 200
        page = response.content.decode()
        assert words in page
        assert 'name="confirmed" value="yes"' in page
        assert _snapshot(root) == before
        assert audit.latest(root) == []


@pytest.mark.django_db
class BadInputTests:
    @pytest.mark.parametrize(
        ("action", "data", "sentence"),
        [
            ("deploy/", {"ref": "-x", "confirmed": "yes"}, "must name a branch, tag or commit"),
            ("deploy/", {"ref": "a..b", "confirmed": "yes"}, "must name a branch, tag or commit"),
            ("deploy/", {"ref": "", "confirmed": "yes"}, "required"),
            (
                "deploy/",
                {"ref": "main", "duration": "30m", "confirmed": "yes"},
                "go with the maintenance window",
            ),
            (
                "deploy/",
                {"ref": "main", "maintenance": "on", "duration": "soon", "confirmed": "yes"},
                "--for",
            ),
            (
                "rollback/",
                {"mode": "redeploy", "revision": "main; rm -rf /", "confirmed": "yes"},
                "hex digits",
            ),
            ("rollback/", {"mode": "sideways", "confirmed": "yes"}, "valid choice"),
            ("maintenance/", {"action": "announce", "confirmed": "yes"}, "needs its start"),
            (
                "maintenance/",
                {"action": "start", "message": "two\nlines", "confirmed": "yes"},
                "control character",
            ),
            ("maintenance/", {"action": "start", "duration": "99999999999d", "confirmed": "yes"}, "--for"),
            ("check/", {"link": "../etc", "confirmed": "yes"}, "valid choice"),
        ],
    )
    def test_refused_with_a_sentence_nothing_started_and_audited(
        self,
        root: DeployRoot,
        client_for: Callable[..., Client],
        action: str,
        data: dict[str, str],
        sentence: str,
    ) -> None:
        before = _snapshot(root)
        response = client_for("push").post(CONSOLE + action, data)
        assert response.status_code == 400
        assert sentence in response.content.decode()
        assert _snapshot(root) == before
        [entry] = audit.latest(root)
        assert entry.result == "refused"
        assert sentence in entry.message
        assert "csrfmiddlewaretoken" not in entry.details
        assert "confirmed" not in entry.details

    def test_a_held_lock_is_refused_naming_its_holder(
        self, root: DeployRoot, client_for: Callable[..., Client]
    ) -> None:
        client = client_for("push")
        with deploy_lock(root, command="deploy --ref main"):
            before = _snapshot(root)
            response = client.post(CONSOLE + "deploy/", {"ref": "main", "confirmed": "yes"})
            assert response.status_code == 409
            page = response.content.decode()
            assert f"pid {os.getpid()}" in page
            assert "deploy --ref main" in page
            assert _snapshot(root) == before
        [entry] = audit.latest(root)
        assert entry.result == "refused"
        assert "holds the deploy lock" in entry.message

    def test_a_side_file_left_by_a_killed_holder_does_not_refuse(self, root: DeployRoot) -> None:
        import json
        import subprocess
        import sys

        from django_deploykit.console.actions import refuse_if_locked

        gone = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
        )
        holder = {"pid": int(gone.stdout), "user": "x", "command": "deploy", "started_at": "t", "token": "t"}
        root.lock_holder_file.write_text(json.dumps(holder))
        refuse_if_locked(root)  # nothing raised: the lock is free, whatever the stale file says

    def test_a_slot_without_python_is_refused_not_a_500(
        self, root: DeployRoot, client_for: Callable[..., Client]
    ) -> None:
        # This deploy root has no virtualenvs: the command cannot be started, and the page says so.
        before = _snapshot(root)
        client = client_for("push")
        for action, data in (("rollback/", {"mode": "swap-back"}), ("check/", {"link": "live"})):
            response = client.post(CONSOLE + action, {**data, "confirmed": "yes"})
            assert response.status_code == 409
            assert "has no Python" in response.content.decode()
            assert _snapshot(root) == before
