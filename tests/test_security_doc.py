"""docs/security.md against the code: its endpoints, secrets, file modes, redaction and check ids.

Each test reads a table or a line of the page and checks it against what the package does, so that
the page cannot drift from the code: a new endpoint, a new secret setting, a changed file mode or a
new secret query parameter fails here until the page says so.
"""

from __future__ import annotations

import json
import os
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command, load_command_class
from django.test import RequestFactory, override_settings
from django.urls import URLPattern

from django_deploykit import redact, urls, views
from django_deploykit.conf import DeployKitSettings
from django_deploykit.console import audit as console_audit
from django_deploykit.console import tokens as console_tokens
from django_deploykit.deploy_check import diagnose
from django_deploykit.deploy_root import lock, runtime_settings, slot_settings
from django_deploykit.deploy_root.layout import LOCK_HOLDER_NAME, DeployRoot
from django_deploykit.deploy_root.logs import RunLogs
from django_deploykit.deploy_root.revision import RunningCode
from django_deploykit.deploy_root.slot_commands import SlotProject
from django_deploykit.maintenance import bypass, operations, stores
from django_deploykit.maintenance.middleware import MaintenanceMiddleware
from django_deploykit.maintenance.reader import StateReader
from django_deploykit.maintenance.state import MaintenanceState
from django_deploykit.management.base import DeploykitCommand
from django_deploykit.servers.verify import wait_for_revision
from tests.deployment import REPO_ROOT, make_source_repo

PAGE = REPO_ROOT / "docs" / "security.md"
PREFIX = DeployKitSettings.ENDPOINTS_PREFIX.default
TOKEN = "tok-" + "x7Q" * 12


def page() -> str:
    return PAGE.read_text(encoding="utf-8")


def section(title: str) -> str:
    """The text of the ``## title`` section, up to the next ``## `` heading."""
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", page(), re.MULTILINE | re.DOTALL)
    assert match, f"docs/security.md has no section '## {title}'"
    return match.group(1)


def table_rows(text: str) -> list[list[str]]:
    """The cells of each table row of ``text`` (header and separator rows left out)."""
    rows = []
    for line in text.splitlines():
        if line.startswith("| ") and not line.startswith("| ---"):
            rows.append([cell.strip() for cell in line.strip().strip("|").split(" | ")])
    return rows[1:] if rows else rows


def backticked(text: str) -> list[str]:
    return re.findall(r"`([^`]+)`", text)


def line_starting(text: str, start: str) -> str:
    found = [line for line in text.splitlines() if line.startswith(start)]
    assert len(found) == 1, f"docs/security.md should have one line starting {start!r}, has {len(found)}"
    return found[0]


def paragraph_containing(text: str, words: str) -> str:
    found = [p for p in text.split("\n\n") if words in " ".join(p.split())]
    assert len(found) == 1, f"docs/security.md should have one paragraph with {words!r}, has {len(found)}"
    return " ".join(found[0].split())


class EndpointTests:
    def documented(self) -> set[str]:
        return {
            backticked(row[0])[0]
            for row in table_rows(section("Endpoints: what each discloses, and to whom"))
        }

    def test_every_url_of_the_urlconf_is_in_the_page_and_every_endpoint_exists(self) -> None:
        routes = {
            PREFIX + str(pattern.pattern) for pattern in urls.urlpatterns if isinstance(pattern, URLPattern)
        }
        assert len(routes) == len(urls.urlpatterns), (
            "django_deploykit.urls holds an include(): list its views"
        )
        served_by_middleware = {bypass.bypass_path(PREFIX, "<secret>")}
        assert self.documented() == routes | served_by_middleware

    def test_each_url_patterns_view_is_named_in_its_row(self) -> None:
        rows = {
            backticked(row[0])[0]: row
            for row in table_rows(section("Endpoints: what each discloses, and to whom"))
        }
        for pattern in urls.urlpatterns:
            assert isinstance(pattern, URLPattern)
            row = rows[PREFIX + str(pattern.pattern)]
            view = f"{pattern.callback.__module__}.{pattern.callback.__name__}"
            assert f"`{view}`" in row[1]
            assert f"`{urls.app_name}:{pattern.name}`" in row[1]

    def test_the_revision_fields_are_what_the_endpoint_returns(self) -> None:
        fields = backticked(paragraph_containing(page(), "The revision endpoint's fields:").split(".")[0])
        assert fields == list(RunningCode.__dataclass_fields__)
        request = RequestFactory().get(PREFIX + "revision/", REMOTE_ADDR="127.0.0.1")
        assert list(json.loads(views.revision(request).content)) == fields

    def test_the_proxy_headers_are_the_ones_that_make_a_request_not_local(self) -> None:
        sentence = re.search(
            r"carries none of the headers (.*?)\.", paragraph_containing(page(), "none of the headers")
        )
        assert sentence
        headers = backticked(sentence.group(1))
        assert {"HTTP_" + h.upper().replace("-", "_") for h in headers} == set(views._PROXY_HEADERS)

    @override_settings(DEPLOYKIT_REVISION_TOKEN=TOKEN)
    def test_who_gets_an_answer_from_the_revision_endpoint(self) -> None:
        def status(**meta: str) -> int:
            return views.revision(RequestFactory().get(PREFIX + "revision/", **meta)).status_code

        # "a loopback address (127.0.0.0/8, ::1) carrying no proxy header"
        assert status(REMOTE_ADDR="127.0.0.2") == 200
        assert status(REMOTE_ADDR="::1") == 200
        for header in views._PROXY_HEADERS:
            assert status(REMOTE_ADDR="127.0.0.1", **{header: "127.0.0.1"}) == 403
        # "or any request whose X-Deploykit-Token header equals DEPLOYKIT_REVISION_TOKEN"
        assert status(REMOTE_ADDR="203.0.113.9", HTTP_X_DEPLOYKIT_TOKEN=TOKEN) == 200
        assert status(REMOTE_ADDR="203.0.113.9", HTTP_X_DEPLOYKIT_TOKEN=TOKEN[:-1]) == 403
        # "with Cache-Control forbidding caching"
        response = views.revision(RequestFactory().get(PREFIX + "revision/", REMOTE_ADDR="127.0.0.1"))
        assert "no-store" in response["Cache-Control"]

    def test_the_bypass_url_answers_with_a_cookie_and_no_store(self, tmp_path: Path) -> None:
        secret = bypass.new_secret()
        state = MaintenanceState(
            start=datetime.now(UTC) + timedelta(hours=2), secret_hash=bypass.hash_secret(secret)
        )
        reader = StateReader(store_factory=lambda: [_Fixed(state)])
        middleware = MaintenanceMiddleware(lambda request: pytest.fail("the view ran"), reader=reader)
        response = middleware(RequestFactory().get(bypass.bypass_path(PREFIX, secret)))
        assert response.status_code == 302
        assert response["Location"] == "/"
        assert response["Cache-Control"] == "no-store"
        cookie = response.cookies[DeployKitSettings.MAINTENANCE_COOKIE_NAME.default]
        # "HttpOnly and SameSite=Lax, and Secure only when Django sees the request as HTTPS"
        assert (cookie["httponly"], cookie["samesite"], cookie["secure"]) == (True, "Lax", "")
        assert secret not in cookie.value
        assert state.secret_hash not in cookie.value


class _Fixed:
    scope = stores.HOST

    def __init__(self, state: MaintenanceState) -> None:
        self.state = state

    def describe(self) -> str:
        return "fixed"

    def read(self) -> MaintenanceState:
        return self.state


class SecretTests:
    def secret_settings(self) -> list[str]:
        rows = table_rows(section("Secrets: how they are made, stored and rotated"))
        return [name for row in rows for name in backticked(row[0]) if name.startswith("DEPLOYKIT_")]

    def test_the_secret_settings_are_declared_and_every_token_setting_is_listed(self) -> None:
        declared = DeployKitSettings.declared()
        listed = self.secret_settings()
        assert listed, "the secrets table names no DEPLOYKIT_* setting"
        assert set(listed) <= set(declared)
        secret_words = ("TOKEN", "SECRET", "PASSWORD")
        assert {name for name in declared if any(word in name for word in secret_words)} <= set(listed)

    def test_a_secret_setting_never_reaches_the_slot_settings_report(self) -> None:
        for name in self.secret_settings():
            assert name.removeprefix("DEPLOYKIT_") not in slot_settings.REPORTED
            with override_settings(**{name: TOKEN}):
                out = StringIO()
                call_command("deploykit_settings", stdout=out)
                assert TOKEN not in out.getvalue()

    @override_settings(DEPLOYKIT_REVISION_TOKEN=TOKEN)
    def test_the_token_is_sent_but_deploy_check_and_verification_never_print_it(self, tmp_path: Path) -> None:
        root = DeployRoot(tmp_path)
        project = SlotProject(root, "blue", Path("."))
        for status in (403, 200):
            with revision_server(status) as (url, received):
                options = diagnose.CheckOptions(Path("."), "live", url, token=TOKEN)
                finding = diagnose._server(root, "blue", project, options)
                verification = wait_for_revision(url, revision="abc", slot="blue", timeout=0.3, token=TOKEN)
            assert received
            assert set(received) == {TOKEN}
            assert TOKEN not in json.dumps(finding.as_dict())
            assert TOKEN not in f"{verification.error} {verification.last_seen}"

    def test_the_bypass_secret_is_made_as_described_and_only_its_hash_is_stored(
        self, tmp_path: Path, settings: Any
    ) -> None:
        # "secrets.token_urlsafe(24), 24 random bytes written as 32 characters"
        assert "`secrets.token_urlsafe(24)`" in page()
        assert len(bypass.new_secret()) == 32
        settings.DEPLOYKIT_MAINTENANCE_STATE_FILE = str(tmp_path / "maintenance.json")
        now = datetime.now(UTC)
        result = operations.switch_on(
            operations.OnOptions(at="now", duration="1h", secret=True), now=now, zone=UTC, set_by="t"
        )
        assert result.secret is not None
        stored = (tmp_path / "maintenance.json").read_text()
        assert result.secret not in stored
        assert json.loads(stored)["secret_hash"] == bypass.hash_secret(result.secret)
        status = operations.scope_as_dict(operations.status(now).scopes[0], now)
        assert status["secret_bypass"] is True
        assert result.secret not in json.dumps(status)
        # "maintenance on --secret again replaces it": the old URL and its cookies stop working.
        cookie = bypass.make_cookie_value(bypass.hash_secret(result.secret))
        again = operations.switch_on(operations.OnOptions(secret=True), now=now, zone=UTC, set_by="t")
        assert not bypass.secret_matches(result.secret, again.state.secret_hash)
        assert not bypass.cookie_is_valid(cookie, again.state.secret_hash, 3600)
        # "Updating a window without --secret keeps it."
        kept = operations.switch_on(operations.OnOptions(message="later"), now=now, zone=UTC, set_by="t")
        assert kept.state.secret_hash == again.state.secret_hash

    def test_the_lock_token_is_written_beside_the_lock_and_removed_with_it(self, tmp_path: Path) -> None:
        root = DeployRoot(tmp_path)
        with lock.deploy_lock(root, command="test") as holder:
            assert holder is not None
            assert len(holder.token) == 32
            assert json.loads((tmp_path / LOCK_HOLDER_NAME).read_text())["token"] == holder.token
        assert not (tmp_path / LOCK_HOLDER_NAME).exists()


@contextmanager
def revision_server(status: int) -> Iterator[tuple[str, list[str]]]:
    """A server that records the X-Deploykit-Token it is sent and answers ``status``."""
    received: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            received.append(self.headers.get("X-Deploykit-Token", ""))
            body = json.dumps({"slot": "green", "revision": "def"} if status == 200 else {"error": "no"})
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body.encode())

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{PREFIX}revision/", received
    finally:
        server.shutdown()
        server.server_close()


UMASK = 0o027


@contextmanager
def umask(mask: int) -> Iterator[None]:
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)


class FileModeTests:
    """The modes of the "Files that hold secrets" table, on a deploy root deploykit_init really made."""

    @pytest.fixture
    def made(self, tmp_path: Path) -> dict[str, tuple[int, bool]]:
        """The mode of each file of the table, and whether it is a folder, as the package makes them."""
        source = make_source_repo(tmp_path)
        root_path = tmp_path / "site"
        with umask(UMASK):
            call_command(
                "deploykit_init", str(root_path), "--source", str(source), "--no-venv", stdout=StringIO()
            )
            root = DeployRoot(root_path.absolute())
            stores.FileStore(root.shared_dir / stores.STATE_FILE_NAME).write(
                MaintenanceState(start=datetime.now(UTC))
            )
            log = RunLogs(root, "20260101T000000Z-abc").stage(1, "git")
            with lock.deploy_lock(root, command="test"):
                lock_mode = root.lock_holder_file.stat().st_mode & 0o777
            runtime_settings.write(
                root, runtime_settings.RuntimeSettings(notifications=[{"url": "https://x"}])
            )
            console_tokens.create(root, "alice", "ci")
            console_audit.record(
                root, console_audit.AuditEntry(user="alice", action="deploy", result="started")
            )
        makers: dict[str, Callable[[], Path]] = {
            "ROOT/shared/.env": lambda: root.shared_dir / ".env",
            "ROOT/shared/maintenance.json": lambda: root.shared_dir / stores.STATE_FILE_NAME,
            "ROOT/<slot>/.git/config": lambda: root.path / "blue" / ".git" / "config",
            "ROOT/history.jsonl": lambda: root.path / "history.jsonl",
            "ROOT/logs/<run id>/NN-<stage>.log": lambda: log.path,
            "ROOT/run/": lambda: root.run_dir,
            "ROOT/shared/": lambda: root.shared_dir,
            "ROOT/shared/console/settings.json": lambda: root.runtime_settings_file,
            "ROOT/shared/console/tokens.json": lambda: root.tokens_file,
            "ROOT/shared/console/audit.jsonl": lambda: root.audit_file,
        }
        found = {name: (make().stat().st_mode & 0o777, make().is_dir()) for name, make in makers.items()}
        # The side file exists only while the lock is held.
        found["ROOT/.deploy.lock.json"] = (lock_mode, False)
        return found

    def documented(self) -> dict[str, str]:
        rows = table_rows(section("Files that hold secrets, and their permissions"))
        modes = {}
        for row in rows:
            name = backticked(row[0])[0]
            mode_cell = row[-1]
            if mode_cell.startswith("umask"):
                modes[name] = "umask"
            else:
                match = re.match(r"`(0[0-7]{3})`", mode_cell)
                assert match, f"docs/security.md: the mode of {name} is neither 'umask' nor `0NNN`"
                modes[name] = match.group(1)
        return modes

    def test_each_documented_mode_is_the_mode_the_package_creates(
        self, made: dict[str, tuple[int, bool]]
    ) -> None:
        for name, mode in self.documented().items():
            assert name in made, f"the test does not make {name}: add it to the makers"
            actual, is_dir = made[name]
            created = 0o777 if is_dir else 0o666
            expected = created & ~UMASK if mode == "umask" else int(mode, 8)
            assert actual == expected, f"{name} is {oct(actual)}; docs/security.md says {mode}"

    def test_the_private_files_are_the_env_file_and_the_consoles_secrets(self) -> None:
        assert [name for name, mode in self.documented().items() if mode == "0600"] == [
            "ROOT/shared/.env",
            "ROOT/shared/console/settings.json",
            "ROOT/shared/console/tokens.json",
        ]


class RedactionTests:
    def test_the_secret_query_parameters_are_the_ones_masked(self) -> None:
        listed = backticked(line_starting(page(), "Secret query parameters:"))
        assert sorted(listed) == sorted(redact.SECRET_QUERY_KEYS)
        for key in listed:
            masked = redact.redact_url(f"https://h.example/p?{key}=v4lue&x=1")
            assert "v4lue" not in masked
            assert masked.endswith("&x=1")

    @pytest.mark.parametrize(
        ("url", "hidden"),
        [
            ("postgres://app:Zx9Qw8Lk7@db:5432/app", "Zx9Qw8Lk7"),
            ("redis://s3cretpass@cache:6379/0", "s3cretpass"),
            ("valkey://s3cretpass@cache:6379/0", "s3cretpass"),
            ("https://ghp_abcdefghijklmnopqrst@git.example/r.git", "ghp_abcdefghijklmnopqrst"),
        ],
    )
    def test_the_url_parts_the_page_says_are_masked(self, url: str, hidden: str) -> None:
        assert hidden not in redact.redact_text(f"failed: {url} (retrying)")

    def test_a_short_user_name_stays_readable(self) -> None:
        assert redact.redact_url("ssh://git@git.example/r.git") == "ssh://git@git.example/r.git"

    def test_stage_logs_are_redacted_as_they_are_written(self, tmp_path: Path) -> None:
        log = RunLogs(DeployRoot(tmp_path), "run").stage(1, "git")
        log.starting(["git", "fetch", "https://u:Pw0rd99@git.example/r.git"])
        log.finished(1, 0.1, "postgres://app:Pw0rd99@db/app", "https://h.example/?token=Pw0rd99")
        assert "Pw0rd99" not in log.read()


class SystemCheckTests:
    def test_every_listed_check_exists_with_its_level(self) -> None:
        source = "\n".join(
            path.read_text(encoding="utf-8") for path in (REPO_ROOT / "django_deploykit").rglob("checks.py")
        )
        rows = table_rows(section("What production refuses"))
        assert rows
        for row in rows:
            check_id = backticked(row[0])[0]
            assert f'id="{check_id}"' in source, f"{check_id} is not a check id of the package"
            level = "Error" if check_id.split(".")[1].startswith("E") else "Warning"
            assert row[1] == level, f"{check_id} is an {level}, the page says {row[1]}"


class CommandArgumentTests:
    def test_every_command_but_the_internal_one_refuses_undecodable_arguments(self) -> None:
        assert "(but the internal `deploykit_settings`, which takes no arguments of its own)" in " ".join(
            page().split()
        )
        names = sorted(
            path.stem
            for path in (REPO_ROOT / "django_deploykit" / "management" / "commands").glob("*.py")
            if not path.stem.startswith("_")
        )
        plain = [
            name
            for name in names
            if not isinstance(load_command_class("django_deploykit", name), DeploykitCommand)
        ]
        assert plain == ["deploykit_settings"]
