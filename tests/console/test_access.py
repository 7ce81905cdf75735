"""Every page and action checks its right: anonymous visitors sign in, others get 403, forged POSTs too."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from django_deploykit.console import audit
from django_deploykit.deploy_root import history
from django_deploykit.deploy_root.layout import DeployRoot
from tests.console.conftest import CONSOLE

PAGES = ("", "history/", "audit/")
ACTIONS = {
    "deploy/": {"ref": "main", "confirmed": "yes"},
    "rollback/": {"mode": "swap-back", "confirmed": "yes"},
    "maintenance/": {"action": "start", "confirmed": "yes"},
    "settings/": {"what": "maintenance", "message": "x"},
    "tokens/": {"name": "ci"},
    "check/": {"link": "live", "confirmed": "yes"},
}


def _nothing_started(root: DeployRoot) -> None:
    assert not root.logs_dir.exists() or not any(root.logs_dir.iterdir())
    assert list(history.read(root)) == [] or all(r.kind == "init" for r in history.read(root))
    assert not root.runtime_settings_file.exists()
    assert not root.tokens_file.exists()


@pytest.mark.django_db
class AccessTests:
    @pytest.mark.parametrize("page", [*PAGES, "runs/20261201T101500Z-abcdef/", "tokens/", "settings/"])
    def test_anonymous_visitors_are_sent_to_sign_in(self, root: DeployRoot, page: str) -> None:
        response = Client().get(CONSOLE + page)
        assert response.status_code == 302
        assert response["Location"].startswith(CONSOLE + "login/?next=")

    @pytest.mark.parametrize("action", list(ACTIONS))
    def test_anonymous_posts_start_nothing(self, root: DeployRoot, action: str) -> None:
        response = Client().post(CONSOLE + action, ACTIONS[action])
        assert response.status_code == 302
        _nothing_started(root)

    def test_a_user_without_a_right_gets_403_everywhere(
        self, root: DeployRoot, client_for: Callable[..., Client]
    ) -> None:
        client = client_for()
        for page in PAGES:
            assert client.get(CONSOLE + page).status_code == 403

    @pytest.mark.parametrize("group", [False, True])
    def test_view_sees_the_pages_and_no_action(
        self, root: DeployRoot, client_for: Callable[..., Client], group: bool
    ) -> None:
        client = client_for("view", group=group)
        for page in PAGES:
            assert client.get(CONSOLE + page).status_code == 200
        page = client.get(CONSOLE).content.decode()
        for button in ("deploy-button", "swap-back-button", "maintenance-button", "CI tokens", "Settings"):
            assert button not in page

    @pytest.mark.parametrize("action", list(ACTIONS))
    def test_a_forged_post_of_a_view_only_user_gets_403_and_is_audited(
        self, root: DeployRoot, client_for: Callable[..., Client], action: str
    ) -> None:
        client = client_for("view")
        response = client.post(CONSOLE + action, ACTIONS[action])
        assert response.status_code == 403
        _nothing_started(root)
        entries = audit.latest(root)
        assert [(e.user, e.result) for e in entries] == [("user-view", "refused")]
        assert "right" in entries[0].message

    def test_push_may_act_but_not_edit_the_settings(
        self, root: DeployRoot, client_for: Callable[..., Client]
    ) -> None:
        client = client_for("push")
        page = client.get(CONSOLE).content.decode()
        assert "deploy-button" in page
        assert "CI tokens" in page
        assert "Settings" not in page
        assert client.get(CONSOLE + "settings/").status_code == 403
        assert client.get(CONSOLE + "tokens/").status_code == 200

    def test_edit_may_change_settings_but_not_deploy(
        self, root: DeployRoot, client_for: Callable[..., Client]
    ) -> None:
        client = client_for("edit")
        assert client.get(CONSOLE + "settings/").status_code == 200
        assert client.post(CONSOLE + "deploy/", ACTIONS["deploy/"]).status_code == 403

    def test_actions_are_post_only(self, root: DeployRoot, client_for: Callable[..., Client]) -> None:
        client = client_for("push")
        for action in ("deploy/", "rollback/", "maintenance/", "check/"):
            assert client.get(CONSOLE + action).status_code == 405

    def test_a_post_without_the_csrf_token_is_refused(
        self, root: DeployRoot, client_for: Callable[..., Client]
    ) -> None:
        client = client_for("push", enforce_csrf_checks=True)
        response = client.post(CONSOLE + "deploy/", ACTIONS["deploy/"])
        assert response.status_code == 403
        _nothing_started(root)

    def test_signing_in_with_the_consoles_own_page(
        self, root: DeployRoot, client_for: Callable[..., Client]
    ) -> None:
        from django.contrib.auth.models import User

        client_for("view", username="carol")
        browser = Client()
        response = browser.post(
            CONSOLE + "login/", {"username": "carol", "password": "pw", "next": CONSOLE + "history/"}
        )
        assert response.status_code == 302
        assert response["Location"] == CONSOLE + "history/"
        assert browser.get(CONSOLE + "history/").status_code == 200
        assert browser.post(CONSOLE + "logout/").status_code == 302
        # Opened directly, with no ?next=: the console's front page, not the project's LOGIN_REDIRECT_URL.
        direct = browser.post(CONSOLE + "login/", {"username": "carol", "password": "pw"})
        assert direct["Location"] == CONSOLE
        assert browser.post(CONSOLE + "logout/").status_code == 302
        assert browser.get(CONSOLE).status_code == 302
        assert User.objects.filter(username="carol").exists()

    def test_the_projects_own_login_url(self, root: DeployRoot, settings: Any) -> None:
        settings.DEPLOYKIT_CONSOLE_LOGIN_URL = "/sso/start/"
        assert Client().get(CONSOLE)["Location"].startswith("/sso/start/?next=")

    def test_an_inactive_user_has_no_right(self, root: DeployRoot, client_for: Callable[..., Client]) -> None:
        from django.contrib.auth.models import User

        client = client_for("push", username="gone")
        User.objects.filter(username="gone").update(is_active=False)
        assert client.get(CONSOLE).status_code in (302, 403)

    def test_the_console_answers_during_an_active_window(
        self, root: DeployRoot, client_for: Callable[..., Client], settings: Any
    ) -> None:
        from datetime import timedelta
        from pathlib import Path

        from django.utils import timezone

        from django_deploykit.maintenance.stores import FileStore
        from tests.maintenance.conftest import make_state

        now = timezone.now()
        FileStore(Path(settings.DEPLOYKIT_MAINTENANCE_STATE_FILE)).write(
            make_state(start=now - timedelta(minutes=1), end=now + timedelta(minutes=30))
        )
        client = client_for("view")
        assert client.get(CONSOLE).status_code == 200
        # Not a catch-all: a path under the prefix that is not the console's gets the 503.
        assert client.get(CONSOLE + "nothing-here/").status_code == 503
        # Signing in works during the window too.
        assert Client().get(CONSOLE + "login/").status_code == 200


@pytest.mark.django_db
def test_the_state_page_shows_slots_refs_and_pending_migrations(
    root: DeployRoot, client_for: Callable[..., Client]
) -> None:
    from django.db import connection

    from django_deploykit.deploy_root.revision import read_revision

    history.append(
        root,
        history.HistoryRecord(
            kind="pull",
            result="ok",
            started_at="2026-12-01T10:00:00+00:00",
            duration=1.0,
            to_slot="green",
            details={"ref": "release-42"},
        ),
    )
    with connection.cursor() as cursor:
        # As if the live code brought a migration the database has not applied (rolled back with the test).
        cursor.execute("DELETE FROM django_migrations WHERE app = 'sessions'")
    page = client_for("view").get(CONSOLE).content.decode()
    blue = read_revision(root.path / "blue")
    assert blue is not None
    assert blue[:12] in page
    assert "release-42" in page
    assert "sessions.0001_initial" in page
