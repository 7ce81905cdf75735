from __future__ import annotations

import ipaddress
import json
import os
import re
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
import sh
from django.core.management import call_command

from django_deploykit.exit_codes import ExitCode
from django_deploykit.maintenance import bypass
from django_deploykit.maintenance.middleware import MaintenanceMiddleware
from django_deploykit.maintenance.state import MaintenanceState
from django_deploykit.maintenance.stores import FileStore
from django_deploykit.management.base import CommandOutput
from tests.commands import run_command
from tests.conftest import REPO_ROOT
from tests.json_fields import assert_documented
from tests.maintenance.conftest import NOW, make_state

COMMAND_MODULE = "django_deploykit.management.commands.maintenance"


@pytest.fixture
def frozen_now(monkeypatch: pytest.MonkeyPatch, settings: Any) -> datetime:
    """The command's clock at NOW (12:00 UTC, 13:00 in Paris)."""
    settings.TIME_ZONE = "Europe/Paris"
    monkeypatch.setattr(f"{COMMAND_MODULE}.utc_now", lambda: NOW)
    return NOW


def stored(state_file: Path) -> MaintenanceState | None:
    return FileStore(state_file).read()


class OnTests:
    def test_on_now_is_active_and_says_so(self, state_file: Path) -> None:
        out, _, code = run_command("maintenance", "on", "--message", "Back soon.")
        assert code == 0
        assert "Maintenance set (host scope, file" in out
        assert "phase: active" in out
        state = stored(state_file)
        assert state is not None
        assert (state.message, state.end, state.version) == ("Back soon.", None, 1)
        assert "@" in state.set_by

    def test_warns_when_the_middleware_is_missing(self, state_file: Path, settings: Any) -> None:
        settings.MIDDLEWARE = []
        _, err, _ = run_command("maintenance", "on")
        assert "MaintenanceMiddleware is not in MIDDLEWARE" in err
        settings.MIDDLEWARE = ["django_deploykit.maintenance.middleware.MaintenanceMiddleware"]
        _, err, _ = run_command("maintenance", "on")
        assert err == ""

    def test_at_clock_time_still_ahead_is_today(self, state_file: Path, frozen_now: datetime) -> None:
        out, _, _ = run_command("maintenance", "on", "--at", "14:00", "--for", "30m", "--warn", "60m")
        assert "Maintenance starts today at 14:00 (Europe/Paris)." in out
        assert "start: today at 14:00 (in 1 hour)" in out
        assert "banner from: today at 13:00" in out
        assert "end: today at 14:30 (in 1 hour 30 minutes)" in out
        state = stored(state_file)
        assert state is not None
        assert (state.start, state.end, state.warn_seconds) == (
            datetime(2026, 12, 1, 13, 0, tzinfo=UTC),
            datetime(2026, 12, 1, 13, 30, tzinfo=UTC),
            3600,
        )

    def test_at_clock_time_already_past_is_tomorrow(self, state_file: Path, frozen_now: datetime) -> None:
        out, _, _ = run_command("maintenance", "on", "--at", "12:30")
        assert "Maintenance starts tomorrow at 12:30 (Europe/Paris)." in out

    def test_until(self, state_file: Path, frozen_now: datetime) -> None:
        run_command("maintenance", "on", "--at", "2026-12-01T14:00+01:00", "--until", "15:15")
        state = stored(state_file)
        assert state is not None
        assert state.end == datetime(2026, 12, 1, 14, 15, tzinfo=UTC)

    def test_on_again_updates_the_given_fields_and_keeps_the_rest(
        self, state_file: Path, frozen_now: datetime
    ) -> None:
        run_command(
            "maintenance",
            "on",
            "--at",
            "14:00",
            "--for",
            "30m",
            "--message",
            "First.",
            "--allow-ip",
            "10.0.0.0/8",
        )
        first = stored(state_file)
        out, _, _ = run_command("maintenance", "on", "--message", "Second.")
        second = stored(state_file)
        assert first is not None
        assert second is not None
        assert "Maintenance updated" in out
        assert "message: Second." in out
        assert "end: today at 14:30" in out
        assert (second.start, second.end, second.allow_ips) == (first.start, first.end, ("10.0.0.0/8",))
        assert (second.message, second.version) == ("Second.", 2)

    def test_for_while_active_counts_from_the_start(self, state_file: Path, frozen_now: datetime) -> None:
        FileStore(state_file).write(make_state(start=NOW - timedelta(minutes=10), end=None))
        run_command("maintenance", "on", "--for", "1h")
        state = stored(state_file)
        assert state is not None
        assert state.end == NOW + timedelta(minutes=50)

    def test_on_after_an_ended_window_starts_afresh(self, state_file: Path, frozen_now: datetime) -> None:
        FileStore(state_file).write(make_state(start=NOW - timedelta(hours=2), end=NOW - timedelta(hours=1)))
        run_command("maintenance", "on")
        state = stored(state_file)
        assert state is not None
        assert (state.start, state.end, state.version) == (NOW, None, 1)

    def test_secret_is_printed_once_and_only_its_hash_is_stored(self, state_file: Path) -> None:
        out, _, _ = run_command("maintenance", "on", "--secret")
        line = next(line for line in out.splitlines() if "Bypass URL" in line)
        secret = line.rsplit("/", 1)[1]
        assert "<your site>/-/deploykit/maintenance/bypass/" in line
        assert secret not in state_file.read_text()
        state = stored(state_file)
        assert state is not None
        assert state.secret_hash == bypass.hash_secret(secret)
        status_out, _, _ = run_command("maintenance", "status")
        assert secret not in status_out
        assert "secret bypass: yes" in status_out

    @pytest.mark.parametrize(
        "network",
        ["10.0.0.0/8", "fc00::/7", "2600::/16", "::ffff:10.0.0.0/104", "2001:db8::/32", "fe80::/10"],
    )
    def test_wide_but_deliberate_networks_are_accepted(self, state_file: Path, network: str) -> None:
        run_command("maintenance", "on", "--no-wait", "--allow-ip", network)
        state = stored(state_file)
        assert state is not None
        assert [ipaddress.ip_network(n) for n in state.allow_ips] == [ipaddress.ip_network(network)]

    def test_retry_after_and_allow_ip_are_stored(self, state_file: Path) -> None:
        run_command("maintenance", "on", "--retry-after", "600", "--allow-ip", "10.0.0.1", "2001:db8::/32")
        state = stored(state_file)
        assert state is not None
        assert (state.retry_after, state.allow_ips) == (600, ("10.0.0.1/32", "2001:db8::/32"))


class WaitTests:
    @pytest.fixture
    def sleeps(self, monkeypatch: pytest.MonkeyPatch, settings: Any, state_file: Path) -> list[float]:
        settings.DEPLOYKIT_MAINTENANCE_STALENESS = 0.5
        calls: list[float] = []
        monkeypatch.setattr(f"{COMMAND_MODULE}.sleep", calls.append)
        return calls

    def test_window_starting_now_waits_for_the_staleness_bound(self, sleeps: list[float]) -> None:
        out, _, _ = run_command("maintenance", "on")
        assert sleeps == [0.5]
        assert "Waiting 0.5 s for every worker to see the window." in out

    def test_no_wait(self, sleeps: list[float]) -> None:
        run_command("maintenance", "on", "--no-wait")
        assert sleeps == []

    def test_future_start_does_not_wait(self, sleeps: list[float]) -> None:
        # Workers already hold the state; the clock starts the window in each of them.
        run_command("maintenance", "on", "--at", (datetime.now(UTC) + timedelta(days=2)).isoformat())
        assert sleeps == []


class OffTests:
    def test_off_removes_the_state(self, state_file: Path) -> None:
        run_command("maintenance", "on")
        out, _, _ = run_command("maintenance", "off")
        assert "Maintenance off (host scope" in out
        assert not state_file.exists()
        out, _, _ = run_command("maintenance", "off")
        assert "Maintenance was already off" in out

    def test_off_removes_a_corrupt_state(self, state_file: Path) -> None:
        state_file.write_text("garbage")
        run_command("maintenance", "off")
        assert not state_file.exists()


class StatusTests:
    @pytest.mark.parametrize(
        ("state", "phase", "code"),
        [
            (None, "idle", 0),
            (make_state(start=NOW + timedelta(minutes=30)), "announced", ExitCode.MAINTENANCE_ANNOUNCED),
            (make_state(start=NOW - timedelta(minutes=1)), "active", ExitCode.MAINTENANCE_ACTIVE),
            (
                make_state(start=NOW - timedelta(hours=1), end=NOW - timedelta(minutes=1)),
                "ended",
                ExitCode.MAINTENANCE_ENDED,
            ),
        ],
    )
    def test_exit_code_tells_the_phase(
        self, state_file: Path, frozen_now: datetime, state: MaintenanceState | None, phase: str, code: int
    ) -> None:
        if state is not None:
            FileStore(state_file).write(state)
        out, _, exit_code = run_command("maintenance", "status")
        assert exit_code == code
        assert out.startswith(f"Maintenance: {phase}\n")

    @pytest.mark.parametrize(
        ("state", "code"),
        [
            (None, 0),
            (make_state(start=NOW + timedelta(minutes=30)), ExitCode.MAINTENANCE_ANNOUNCED),
            (make_state(start=NOW - timedelta(minutes=1)), ExitCode.MAINTENANCE_ACTIVE),
            (
                make_state(start=NOW - timedelta(hours=1), end=NOW - timedelta(minutes=1)),
                ExitCode.MAINTENANCE_ENDED,
            ),
        ],
        ids=["idle", "announced", "active", "ended"],
    )
    def test_call_command_returns_the_same_way_for_every_phase(
        self, state_file: Path, frozen_now: datetime, state: MaintenanceState | None, code: int
    ) -> None:
        if state is not None:
            FileStore(state_file).write(state)
        # No SystemExit, whatever the phase: the status is on what call_command returns.
        output = call_command("maintenance", "status", stdout=StringIO())
        assert isinstance(output, CommandOutput)
        assert output.exit_code == code

    def test_text_shows_every_field(self, state_file: Path, frozen_now: datetime) -> None:
        FileStore(state_file).write(make_state(start=NOW + timedelta(minutes=25)))
        out, _, _ = run_command("maintenance", "status")
        assert out.splitlines() == [
            "Maintenance: announced",
            f"host scope (file {state_file}):",
            "  phase: announced",
            "  start: today at 13:25 (in 25 minutes)",
            "  banner from: today at 12:25",
            "  end: today at 13:30 (in 30 minutes)",
            "  message: Upgrading the database.",
            "  retry-after: auto",
            "  allowed IPs: none",
            "  secret bypass: no",
            "  set by: tester@host, today at 12:55 (version 1)",
        ]

    def test_json(self, state_file: Path, frozen_now: datetime) -> None:
        FileStore(state_file).write(make_state())
        out, _, code = run_command("maintenance", "status", "--format", "json")
        data = json.loads(out)
        assert (code, data["phase"], data["exit_code"]) == (
            ExitCode.MAINTENANCE_ACTIVE,
            "active",
            ExitCode.MAINTENANCE_ACTIVE,
        )
        (scope,) = data["scopes"]
        assert scope["scope"] == "host"
        assert scope["store"] == f"file {state_file}"
        assert scope["seconds_left"] == 1800
        assert scope["set_by"] == "tester@host"
        assert scope["end"] == "2026-12-01T12:30:00+00:00"

    def test_json_of_every_action_has_the_documented_fields(
        self, state_file: Path, frozen_now: datetime
    ) -> None:
        out, _, code = run_command(
            "maintenance",
            "on",
            "--at",
            "14:00",
            "--warn",
            "90m",
            "--for",
            "30m",
            "--secret",
            "--format",
            "json",
        )
        on = json.loads(out)
        assert_documented(on, "maintenance.md", "`maintenance on`")
        assert (code, on["action"], on["window"]["phase"], on["exit_code"]) == (0, "on", "announced", 0)
        assert on["bypass_path"].startswith("/-/deploykit/maintenance/bypass/")

        out, _, code = run_command("maintenance", "status", "--format", "json")
        status = json.loads(out)
        assert_documented(status, "maintenance.md", "`maintenance status`")
        assert (code, status["phase"], status["exit_code"]) == (
            ExitCode.MAINTENANCE_ANNOUNCED,
            "announced",
            ExitCode.MAINTENANCE_ANNOUNCED,
        )
        assert "secret" not in out.replace("secret_bypass", "")

        out, _, code = run_command("maintenance", "off", "--format", "json")
        off = json.loads(out)
        assert_documented(off, "maintenance.md", "`maintenance off`")
        assert (code, off["removed"]) == (0, True)

    def test_an_error_with_json_is_a_json_object_too(self, state_file: Path) -> None:
        out, err, code = run_command("maintenance", "on", "--for", "banana", "--format", "json")
        assert code == 1
        assert "--for 'banana' is not a duration" in err
        assert json.loads(out) == {"error": err, "exit_code": 1}
        assert not state_file.exists()

    def test_corrupt_state_says_so(self, state_file: Path) -> None:
        state_file.write_text("{")
        _, err, code = run_command("maintenance", "status")
        assert code == 1
        assert re.search(r"is corrupt: .* Run 'maintenance off' for that scope", err)

    def test_misconfigured_shared_scope_is_reported_with_the_host_scope(
        self, state_file: Path, settings: Any
    ) -> None:
        settings.DEPLOYKIT_MAINTENANCE_CACHE_ALIAS = "missing"
        FileStore(state_file).write(make_state(start=datetime.now(UTC) - timedelta(minutes=1), end=None))
        out, err, code = run_command("maintenance", "status")
        assert code == 1
        assert "CACHES has no alias 'missing'" in err
        assert "host scope (file" in out
        assert "shared scope ((misconfigured)):" in out

    def test_real_exit_code_from_the_command_line(self, state_file: Path) -> None:
        # tests.settings has no BASE_DIR, so the state file is beside the working folder.
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(REPO_ROOT)}
        env.pop("DEPLOYKIT_ROOT", None)
        python = sh.Command(sys.executable).bake(
            "-m", "django", "maintenance", _env=env, _cwd=str(state_file.parent), _return_cmd=True
        )
        assert python("status").exit_code == 0
        python("on", "--for", "10m")
        assert state_file.exists()
        assert python("status", _ok_code=[14]).exit_code == ExitCode.MAINTENANCE_ACTIVE
        now = datetime.now(UTC)
        FileStore(state_file).write(make_state(start=now + timedelta(minutes=10), end=None))
        assert python("status", _ok_code=[13]).exit_code == ExitCode.MAINTENANCE_ANNOUNCED
        FileStore(state_file).write(
            make_state(start=now - timedelta(hours=1), end=now - timedelta(minutes=1))
        )
        assert python("status", "--format", "json", _ok_code=[15]).exit_code == ExitCode.MAINTENANCE_ENDED


BAD_INPUT = [
    (["on", "--at", "25:00"], "--at 25:00: the hour must be between 00 and 23."),
    (["on", "--at", "14:60"], "--at 14:60: the minutes must be between 00 and 59."),
    (["on", "--at", "soon"], "--at 'soon' is not a time"),
    (["on", "--for", "-5m"], "--for -5m is negative; give a positive duration"),
    (["on", "--for=-5m"], "--for -5m is negative"),
    (["on", "--for", "30"], "--for 30 has no unit; write it with one"),
    (["on", "--warn", "0s"], "--warn 0s is zero"),
    (
        ["on", "--at", "2026-12-01T14:00+00:00", "--until", "2026-12-01T13:00+00:00"],
        "The window would end (today at 13:00) before it starts (today at 14:00)",
    ),
    (["on", "--at", "2026-11-30T10:00+00:00", "--for", "1h"], "The window would already be over"),
    (["on", "--for", "30m", "--until", "15:00"], "Give either --for or --until, not both."),
    (["on", "--allow-ip", "10.0.0.0/33"], "--allow-ip '10.0.0.0/33' is not an IP address or CIDR network"),
    (["on", "--allow-ip", "10.0.0.1", "example.org"], "--allow-ip 'example.org' is not an IP address"),
    # Allowlists so wide they let (nearly) everyone in.
    (["on", "--allow-ip", "0.0.0.0/0"], "--allow-ip '0.0.0.0/0' is too wide"),
    (["on", "--allow-ip", "::/0"], "--allow-ip '::/0' is too wide"),
    (["on", "--allow-ip", "10.0.0.1", "128.0.0.0/1"], "--allow-ip '128.0.0.0/1' is too wide"),
    (["on", "--allow-ip", "8.0.0.0/7"], "--allow-ip '8.0.0.0/7' is too wide"),
    (["on", "--allow-ip", "2000::/3"], "--allow-ip '2000::/3' is too wide"),
    (["on", "--allow-ip", "::ffff:0:0/96"], "--allow-ip '::ffff:0:0/96' is too wide"),
    (["on", "--allow-ip", "64:ff9b::/96"], "--allow-ip '64:ff9b::/96' is too wide"),
    (["on", "--allow-ip", "::/64"], "--allow-ip '::/64' is too wide"),
    (["on", "--retry-after", "soon"], "--retry-after 'soon' is neither 'auto' nor a whole number"),
    (["on", "--retry-after", "-5"], "--retry-after '-5' is neither"),
    (["on", "--scope", "cluster"], "--scope 'cluster' is not a scope; use host or shared."),
    (["on", "--scope", "shared"], "The shared scope needs a Redis cache alias"),
    (["off", "--at", "14:00"], "--at goes only with 'maintenance on', not with 'maintenance off'"),
    (["status", "--secret"], "--secret goes only with 'maintenance on', not with 'maintenance status'"),
    (["off", "--no-wait"], "--no-wait goes only with 'maintenance on'"),
    (["off", "--for", "30m", "--allow-ip", "10.0.0.1"], "--for, --allow-ip go only with 'maintenance on'"),
    (["status", "--scope", "host"], "'maintenance status' shows every scope; leave out --scope."),
    (["status", "--format", "xml"], "argument --format: invalid choice: 'xml'"),
    (["bogus"], "Unknown action 'bogus'; use one of: on, off, status."),
    # Numbers too big for a timedelta, for int() (over 4300 digits) or for a datetime.
    (["on", "--for", "99999999999d"], "--for 99999999999d is too long; the longest is 366 days."),
    (["on", "--for", "4" * 40], "has no unit; write it with one"),
    (["on", "--for", "4" * 40 + "s"], f"--for {'4' * 40}s is too long; the longest is 366 days."),
    (["on", "--for", "9" * 5000 + "m"], "--for 999999999999999999999999…999m is too long"),
    (["on", "--for", "1d99999999999h"], "--for 1d99999999999h is too long"),
    (["on", "--warn", "99999999999d"], "--warn 99999999999d is too long; the longest is 366 days."),
    (
        ["on", "--at", "0001-01-01T00:30+01:00"],
        "--at 0001-01-01T00:30+01:00 is more than 366 days from now; give a time within a year of now.",
    ),
    (["on", "--at", "0001-01-01T00:00+00:00"], "--at 0001-01-01T00:00+00:00 is more than 366 days from now"),
    (
        ["on", "--at", "9999-12-31T23:59", "--for", "2d"],
        "--at 9999-12-31T23:59 is more than 366 days from now",
    ),
    (["on", "--at", "2028-01-01T00:00"], "--at 2028-01-01T00:00 is more than 366 days from now"),
    (["on", "--until", "9999-12-31T23:59"], "--until 9999-12-31T23:59 is more than 366 days from now"),
    # str.isdigit() and the regex \d take superscripts and other scripts' digits.
    (
        ["on", "--retry-after", "\N{SUPERSCRIPT TWO}"],
        "--retry-after '²' is neither 'auto' nor a whole number",
    ),
    (["on", "--retry-after", "\u0663\u0660\u0660"], "is neither 'auto' nor a whole number"),
    (["on", "--retry-after", "9" * 5000], "--retry-after 999999999999999999999999…9999 is too long"),
    (
        ["on", "--retry-after", "31622401"],
        "--retry-after 31622401 is too long; the longest is 31622400 seconds",
    ),
    (["on", "--for", "\u0663\u0660m"], "--for '\u0663\u0660m' is not a duration"),
    (["on", "--at", "\u0661\u0664:\u0660\u0660"], "--at '\u0661\u0664:\u0660\u0660' is not a time"),
]


class BadInputTests:
    @pytest.fixture(params=["no state", "a window"])
    def before(
        self, request: pytest.FixtureRequest, state_file: Path, frozen_now: datetime
    ) -> Iterator[bytes | None]:
        if request.param == "a window":
            FileStore(state_file).write(
                make_state(start=NOW + timedelta(hours=1), end=NOW + timedelta(hours=2))
            )
        before = state_file.read_bytes() if state_file.exists() else None
        yield before
        after = state_file.read_bytes() if state_file.exists() else None
        assert after == before, "a refused command changed the state"
        assert sorted(p.name for p in state_file.parent.iterdir()) == (
            [] if before is None else [state_file.name]
        )

    @pytest.mark.parametrize(("args", "message"), BAD_INPUT, ids=[" ".join(a)[:60] for a, _ in BAD_INPUT])
    def test_refused_with_a_sentence_and_nothing_changed(
        self, before: bytes | None, args: list[str], message: str, settings: Any
    ) -> None:
        settings.TIME_ZONE = "UTC"
        _, err, code = run_command("maintenance", *args)
        assert code == 1
        assert message in err

    @pytest.mark.parametrize("value", [10**12, -5, "15m", 1.5])
    def test_a_bad_default_warning_setting_is_named(
        self, state_file: Path, frozen_now: datetime, settings: Any, value: object
    ) -> None:
        # Only read when no window is stored: a stored one keeps its own warning.
        settings.DEPLOYKIT_MAINTENANCE_DEFAULT_WARN = value
        _, err, code = run_command("maintenance", "on", "--at", "14:00", "--for", "30m")
        assert code == 1
        assert not state_file.exists()
        assert (
            f"DEPLOYKIT_MAINTENANCE_DEFAULT_WARN is {value!r}; give a whole number of seconds from 0 to "
            in err
        )

    def test_a_stored_window_whose_arithmetic_overflows_is_refused(self, state_file: Path) -> None:
        # Past the horizon check because it was stored before it (or by hand): --for counts from its start.
        FileStore(state_file).write(
            make_state(start=datetime(9999, 12, 31, 23, 0, tzinfo=UTC), end=None, warn_seconds=0)
        )
        before = state_file.read_bytes()
        _, err, code = run_command("maintenance", "on", "--for", "2d")
        assert code == 1
        assert "out of range" in err
        assert state_file.read_bytes() == before

    @pytest.mark.parametrize(
        "args",
        [
            ["--for", "99999999999d"],
            ["--for", "4" * 40 + "s"],
            ["--at", "0001-01-01T00:30+01:00"],
            ["--at", "9999-12-31T23:59", "--for", "2d"],
            ["--retry-after", "\N{SUPERSCRIPT TWO}"],
        ],
        ids=lambda args: " ".join(args),
    )
    def test_the_issue_examples_from_the_command_line(self, state_file: Path, args: list[str]) -> None:
        FileStore(state_file).write(make_state(start=NOW + timedelta(days=1), end=None))
        before = state_file.read_bytes()
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(REPO_ROOT)}
        env.pop("DEPLOYKIT_ROOT", None)
        completed = subprocess.run(
            [sys.executable, "-m", "django", "maintenance", "on", "--no-wait", *args],
            cwd=state_file.parent,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert completed.returncode == 1, completed
        assert completed.stderr.startswith("CommandError: --"), completed.stderr
        assert "Traceback" not in completed.stderr
        assert state_file.read_bytes() == before

    def test_unwritable_state_folder(self, state_file: Path, read_only_folder: Any) -> None:
        FileStore(state_file).write(make_state())
        before = state_file.read_bytes()
        with read_only_folder(state_file.parent):
            _, err, code = run_command("maintenance", "on", "--message", "changed")
        assert code == 1
        assert f"The maintenance state file {state_file} cannot be written: Operation not permitted." in err
        assert "Make the folder writable, or point DEPLOYKIT_MAINTENANCE_STATE_FILE" in err
        assert state_file.read_bytes() == before

    def test_unwritable_state_path(self, settings: Any, tmp_path: Path) -> None:
        blocker = tmp_path / "a-file"
        blocker.write_text("")
        settings.DEPLOYKIT_MAINTENANCE_STATE_FILE = str(blocker / "maintenance.json")
        _, err, code = run_command("maintenance", "on")
        assert code == 1
        assert "cannot be read: Not a directory" in err
        _, err, code = run_command("maintenance", "off")
        assert code == 1
        assert "cannot be removed: Not a directory" in err

    def test_bogus_from_the_command_line_exits_non_zero(self) -> None:
        python = sh.Command(sys.executable)
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(REPO_ROOT)}
        result = python(
            "-m",
            "django",
            "maintenance",
            "bogus",
            _env=env,
            _ok_code=[1],
            _cwd=str(REPO_ROOT),
            _return_cmd=True,
        )
        assert "CommandError: Unknown action 'bogus'; use one of: on, off, status." in result.stderr.decode()


class SharedScopeTests:
    @pytest.fixture(params=["django.core.cache.backends.redis.RedisCache", "django_redis.cache.RedisCache"])
    def shared(
        self, request: pytest.FixtureRequest, settings: Any, redis_url: str, state_file: Path
    ) -> Iterator[str]:
        import redis

        key = f"deploykit-test:maintenance:{uuid.uuid4().hex}"
        settings.CACHES = {
            **settings.CACHES,
            "shared": {
                "BACKEND": request.param,
                "LOCATION": redis_url,
                "KEY_PREFIX": "mysite_blue",
            },
        }
        settings.DEPLOYKIT_MAINTENANCE_CACHE_ALIAS = "shared"
        settings.DEPLOYKIT_MAINTENANCE_CACHE_KEY = key
        client = redis.Redis.from_url(redis_url)
        yield key
        client.delete(key)

    def test_on_writes_the_key_without_the_slots_prefix(
        self, shared: str, redis_url: str, settings: Any
    ) -> None:
        import redis

        run_command("maintenance", "on", "--scope", "shared", "--for", "10m", "--message", "All servers.")
        assert redis.Redis.from_url(redis_url).exists(shared) == 1
        # The other slot, with another KEY_PREFIX, sees the same window.
        settings.CACHES = {
            **settings.CACHES,
            "shared": {**settings.CACHES["shared"], "KEY_PREFIX": "mysite_green"},
        }
        from django.test import RequestFactory

        response = MaintenanceMiddleware(lambda r: None)(RequestFactory().get("/"))  # type: ignore[arg-type,return-value]
        assert response.status_code == 503
        assert b"All servers." in response.content

    def test_status_shows_both_scopes_and_either_active_means_active(
        self, shared: str, state_file: Path
    ) -> None:
        # Both ends from the real clock: make_state's default end is a fixed moment, long past.
        start = datetime.now(UTC) + timedelta(hours=5)
        FileStore(state_file).write(make_state(start=start, end=start + timedelta(minutes=30)))
        run_command("maintenance", "on", "--scope", "shared")
        out, _, code = run_command("maintenance", "status", "--format", "json")
        data = json.loads(out)
        assert code == ExitCode.MAINTENANCE_ACTIVE
        assert [(s["scope"], s["phase"]) for s in data["scopes"]] == [("host", "idle"), ("shared", "active")]

    def test_off_only_touches_its_scope(self, shared: str, state_file: Path) -> None:
        run_command("maintenance", "on")
        run_command("maintenance", "on", "--scope", "shared")
        run_command("maintenance", "off", "--scope", "shared")
        out, _, code = run_command("maintenance", "status", "--format", "json")
        assert code == ExitCode.MAINTENANCE_ACTIVE
        assert [s["phase"] for s in json.loads(out)["scopes"]] == ["active", "idle"]

    def test_local_memory_cache_is_refused(self, settings: Any, state_file: Path) -> None:
        settings.DEPLOYKIT_MAINTENANCE_CACHE_ALIAS = "default"
        _, err, code = run_command("maintenance", "on", "--scope", "shared")
        assert code == 1
        assert "LocMemCache, which is not shared between servers" in err
        assert not state_file.exists()


class UndecodableMessageTests:
    @pytest.mark.parametrize("before", [None, "a window"])
    def test_non_utf8_message_from_the_command_line_is_refused_and_nothing_changes(
        self, state_file: Path, before: str | None
    ) -> None:
        if before is not None:
            FileStore(state_file).write(
                make_state(start=NOW + timedelta(hours=1), end=NOW + timedelta(hours=2))
            )
        snapshot = state_file.read_bytes() if state_file.exists() else None
        env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(REPO_ROOT)}
        env.pop("DEPLOYKIT_ROOT", None)
        env["LANG"] = env["LC_ALL"] = "C.UTF-8"
        # tests.settings has no BASE_DIR, so the state file is beside the working folder.
        completed = subprocess.run(
            [sys.executable, "-m", "django", "maintenance", "on", "--no-wait", "--message", b"caf\xe9"],
            cwd=state_file.parent,
            env=env,
            capture_output=True,
            check=False,
        )
        assert completed.returncode == 1, completed
        assert b"The value given for message ('caf\xef\xbf\xbd') is not valid UTF-8" in completed.stderr
        assert b"Traceback" not in completed.stderr
        assert (state_file.read_bytes() if state_file.exists() else None) == snapshot
        assert sorted(p.name for p in state_file.parent.iterdir()) == (
            [] if snapshot is None else [state_file.name]
        )
