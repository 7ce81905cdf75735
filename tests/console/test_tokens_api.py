"""CI tokens: shown once, stored hashed, acting as their user with that user's rights at each request."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from django_deploykit.console import audit, tokens
from django_deploykit.deploy_root import history
from django_deploykit.deploy_root.layout import DeployRoot
from django_deploykit.deploy_root.run import Run
from tests.console.conftest import CONSOLE

API = CONSOLE + "api/deploys/"


def _token(client: Client) -> str:
    page = client.post(CONSOLE + "tokens/", {"name": "ci-main"}).content.decode()
    found = re.search(r'<pre id="token-value">([^<]+)</pre>', page)
    assert found, page
    return found.group(1)


@pytest.mark.django_db
class TokenTests:
    def test_a_token_is_shown_once_and_stored_hashed(
        self, root: DeployRoot, client_for: Callable[..., Client]
    ) -> None:
        client = client_for("push")
        token = _token(client)
        stored = root.tokens_file.read_text()
        assert token.split("_", 2)[2] not in stored
        assert "ci-main" in stored
        assert root.tokens_file.stat().st_mode & 0o777 == 0o600
        assert token not in client.get(CONSOLE + "tokens/").content.decode()
        assert [entry.details.get("name") for entry in audit.latest(root)] == ["ci-main"]

    @pytest.mark.parametrize("name", ["", " ", "x" * 81, "tab\there"])
    def test_a_bad_name_is_refused_and_nothing_stored(
        self, root: DeployRoot, client_for: Callable[..., Client], name: str
    ) -> None:
        response = client_for("push").post(CONSOLE + "tokens/", {"name": name})
        assert response.status_code == 400
        assert "Give the token a name" in response.content.decode()
        assert not root.tokens_file.exists()

    def test_revoked_tokens_stop_working(self, root: DeployRoot, client_for: Callable[..., Client]) -> None:
        client = client_for("push")
        token = _token(client)
        [stored] = tokens.of_user(root, "user-push")
        client.post(CONSOLE + "tokens/", {"revoke": stored.id})
        assert tokens.of_user(root, "user-push") == []
        response = Client().post(API, {"ref": "main"}, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 401

    def test_one_user_cannot_revoke_anothers_token(
        self, root: DeployRoot, client_for: Callable[..., Client]
    ) -> None:
        _token(client_for("push"))
        [stored] = tokens.of_user(root, "user-push")
        other = client_for("push", username="other")
        assert other.post(CONSOLE + "tokens/", {"revoke": stored.id}).status_code == 400
        assert tokens.of_user(root, "user-push") == [stored]


def test_tokens_made_at_the_same_time_are_all_kept(root: DeployRoot) -> None:
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=8) as pool:
        made = list(pool.map(lambda n: tokens.create(root, "alice", f"ci-{n}")[1], range(24)))
    assert len(tokens.of_user(root, "alice")) == 24
    assert all(tokens.authenticate(root, token) is not None for token in made)


@pytest.mark.django_db
class ApiTests:
    @pytest.mark.parametrize(
        "header", [None, "Bearer ", "Bearer nonsense", "Basic dXNlcjpwdw==", "Bearer dkt_x_y"]
    )
    def test_without_a_valid_token_401(self, root: DeployRoot, header: str | None) -> None:
        extra = {"HTTP_AUTHORIZATION": header} if header is not None else {}
        response = Client().post(API, json.dumps({"ref": "main"}), content_type="application/json", **extra)
        assert response.status_code == 401
        assert "Bearer" in response.json()["error"]
        assert [record.kind for record in history.read(root)] == ["init"]

    def test_a_token_of_a_user_who_lost_the_right_403(
        self, root: DeployRoot, client_for: Callable[..., Client]
    ) -> None:
        token = _token(client_for("push"))
        User.objects.get(username="user-push").user_permissions.clear()
        response = Client().post(API, {"ref": "main"}, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 403

    def test_a_token_of_a_deactivated_user_401(
        self, root: DeployRoot, client_for: Callable[..., Client]
    ) -> None:
        token = _token(client_for("push"))
        User.objects.filter(username="user-push").update(is_active=False)
        response = Client().post(API, {"ref": "main"}, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 401

    @pytest.mark.parametrize("body", ['{"ref": "-rf"}', '{"ref": "a b"}', "[1, 2]", "not json"])
    def test_bad_input_400_nothing_started(
        self, root: DeployRoot, client_for: Callable[..., Client], body: str
    ) -> None:
        token = _token(client_for("push"))
        response = Client().post(
            API, body, content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}"
        )
        assert response.status_code == 400
        assert response.json()["error"]
        assert not root.logs_dir.exists() or not any(root.logs_dir.iterdir())

    def test_a_held_lock_is_409_a_server_that_cannot_start_a_command_503(
        self, root: DeployRoot, client_for: Callable[..., Client]
    ) -> None:
        from django_deploykit.deploy_root.lock import deploy_lock

        token = _token(client_for("push"))
        with deploy_lock(root, command="deploy --ref main"):
            held = Client().post(API, {"ref": "main"}, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert held.status_code == 409
        assert "holds the deploy lock" in held.json()["error"]
        # This deploy root has no virtualenvs: nothing can be started, and waiting will not change that.
        broken = Client().post(API, {"ref": "main"}, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert broken.status_code == 503
        assert "has no Python" in broken.json()["error"]

    def test_a_database_that_does_not_answer_is_503_not_500(
        self, root: DeployRoot, client_for: Callable[..., Client]
    ) -> None:
        from django.db import connection

        client = client_for("push")
        token = _token(client)
        with connection.cursor() as cursor:
            # As in the middle of a migration that rebuilds it (rolled back with the test).
            cursor.execute("ALTER TABLE auth_user RENAME TO auth_user_away")
        response = Client().post(API, {"ref": "main"}, HTTP_AUTHORIZATION=f"Bearer {token}")
        assert response.status_code == 503
        assert "database does not answer" in response.json()["error"]
        page = client.get(CONSOLE)
        assert page.status_code == 503
        assert "database does not answer" in page.content.decode()
        assert [record.kind for record in history.read(root)] == ["init"]

    def test_get_is_not_a_deploy(self, root: DeployRoot) -> None:
        assert Client().get(API).status_code == 405

    def test_polls_a_runs_state_as_json(self, root: DeployRoot, client_for: Callable[..., Client]) -> None:
        token = _token(client_for("push"))
        run = Run(root, "deploy")
        runner = run.stages(1, lambda line: None, planned=["only"])
        runner.run("only", lambda log: "done")
        url = f"{CONSOLE}api/runs/{run.id}/"
        running = Client().get(url, HTTP_AUTHORIZATION=f"Bearer {token}").json()
        assert running["state"] == "running"
        assert not running["finished"]
        run.finish("ok")
        done = Client().get(url, HTTP_AUTHORIZATION=f"Bearer {token}").json()
        assert done["state"] == "ok"
        assert done["finished"]
        assert done["stages"][0]["status"] == "ok"
        assert Client().get(url).status_code == 401
        assert (
            Client()
            .get(f"{CONSOLE}api/runs/20261201T101500Z-abcdef/", HTTP_AUTHORIZATION=f"Bearer {token}")
            .status_code
            == 404
        )
