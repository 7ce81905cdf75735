from __future__ import annotations

import json
import os
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from django_deploykit.deploy_root import history, links
from django_deploykit.deploy_root.layout import DeployRoot
from django_deploykit.swap_live import checks
from tests.json_fields import assert_documented
from tests.swap_live.conftest import run_swap_live, settings_of
from tests.swap_live.test_lock_and_history import start_holder


def swap_live(root: DeployRoot, *args: str) -> str:
    out = StringIO()
    with settings_of(root):
        call_command("swap_live", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def entries(root: DeployRoot) -> list[tuple[str, str]]:
    # The lock file itself stays after the lock is released; it carries no state.
    return sorted(
        (p.name, os.readlink(p) if p.is_symlink() else "")
        for p in root.path.iterdir()
        if p.name != ".deploy.lock"
    )


def targets(root: DeployRoot) -> tuple[str, str]:
    return os.readlink(root.live_link), os.readlink(root.stage_link)


class StatusTests:
    def test_status_json(self, fake_root: DeployRoot) -> None:
        data = json.loads(swap_live(fake_root, "--status", "--format", "json"))
        assert_documented(data, "swap_live.md", "`swap_live --status`")
        assert (data["live"], data["stage"], data["links_ok"]) == ("blue", "green", True)
        assert data["slots"] == {"blue": {"revision": "rev-blue"}, "green": {"revision": "rev-green"}}
        assert data["lock_holder"] is None
        assert data["interrupted_swap"] is False

    def test_status_text_shows_a_broken_pair(self, fake_root: DeployRoot) -> None:
        fake_root.stage_link.unlink()
        output = swap_live(fake_root, "--status")
        assert "Links: The stage link is missing" in output
        assert "'manage.py swap_live --repair' fixes them." in output

    def test_status_text_is_lines_not_python_values(self, fake_root: DeployRoot) -> None:
        history.append(
            fake_root,
            history.HistoryRecord(
                kind="swap",
                result="ok",
                started_at="2026-01-01T00:00:00+00:00",
                duration=3.5,
                from_slot="green",
                to_slot="blue",
                details={"method": "renameat2", "verification": "not verified"},
            ),
        )
        lines = swap_live(fake_root, "--status").splitlines()
        assert lines[0] == f"Deploy root: {fake_root.path}"
        assert lines[1].split() == ["blue", "live", "revision", "rev-blue"]
        assert lines[2].split() == ["green", "stage", "revision", "rev-green"]
        assert lines[3].startswith("Last swap: swap ok at 2026-01-01T00:00:00+00:00 by ")
        assert "green -> blue (3.5 s; deploy_log " in lines[3]
        assert lines[4:] == ["Deploy lock: free", "Interrupted swap: no"]
        for line in lines:
            assert not any(mark in line for mark in ("{'", "['", "None", "True", "False")), line


class BadInputTests:
    @pytest.mark.parametrize(
        ("breakage", "message"),
        [
            ("missing", "The stage link is missing"),
            ("outside", "outside the deploy root"),
            ("same", "Both live and stage point at blue"),
            ("not-checkout", "which is not a git checkout"),
        ],
    )
    def test_broken_links_change_nothing(
        self, fake_root: DeployRoot, tmp_path: Path, breakage: str, message: str
    ) -> None:
        if breakage == "missing":
            fake_root.stage_link.unlink()
        elif breakage == "outside":
            (tmp_path / "elsewhere" / ".git").mkdir(parents=True)
            fake_root.stage_link.unlink()
            fake_root.stage_link.symlink_to(tmp_path / "elsewhere")
        elif breakage == "same":
            fake_root.stage_link.unlink()
            fake_root.stage_link.symlink_to("blue")
        else:
            (fake_root.path / "green" / ".git").rmdir()
        before = entries(fake_root)
        with pytest.raises(CommandError, match=message) as excinfo:
            swap_live(fake_root)
        assert excinfo.value.returncode == 1
        assert entries(fake_root) == before
        assert list(history.read(fake_root)) == []

    def test_a_second_swap_while_one_runs(self, fake_root: DeployRoot, tmp_path: Path) -> None:
        holder = start_holder(fake_root, tmp_path)
        try:
            with pytest.raises(CommandError, match=f"Another deploy holds the lock .* pid {holder.pid}"):
                swap_live(fake_root)
        finally:
            holder.kill()
            holder.wait()
        assert targets(fake_root) == ("blue", "green")

    def test_bad_timeout(self, fake_root: DeployRoot) -> None:
        with pytest.raises(CommandError, match="--timeout 0 is zero; give a positive duration"):
            swap_live(fake_root, "--timeout", "0")

    @pytest.mark.parametrize("other", ["--dry-run", "--no-reload"])
    def test_reload_servers_with_an_option_that_contradicts_it(
        self, fake_root: DeployRoot, other: str
    ) -> None:
        before = entries(fake_root)
        with pytest.raises(CommandError, match="--reload-servers reloads the servers; it goes with neither"):
            swap_live(fake_root, "--reload-servers", other)
        assert entries(fake_root) == before
        assert list(history.read(fake_root)) == []

    def test_no_deploy_root(self, tmp_path: Path) -> None:
        with (
            override_settings(DEPLOYKIT_ROOT=str(tmp_path / "absent")),
            pytest.raises(CommandError, match="not a directory"),
        ):
            call_command("swap_live", stdout=StringIO())

    def test_stage_that_fails_the_gate_is_not_swapped(self, fake_root: DeployRoot) -> None:
        # The fake slots have no virtualenv: every gate check fails to run.
        with pytest.raises(CommandError, match="did not pass the gate; nothing was swapped") as excinfo:
            swap_live(fake_root)
        assert "check --deploy" in str(excinfo.value)
        assert targets(fake_root) == ("blue", "green")

    def test_rollback_without_history(self, fake_root: DeployRoot) -> None:
        with pytest.raises(CommandError, match="no earlier swap in the deploy history"):
            swap_live(fake_root, "--rollback")
        assert targets(fake_root) == ("blue", "green")

    def test_rollback_refuses_a_slot_that_changed(self, fake_root: DeployRoot) -> None:
        history.append(
            fake_root,
            history.HistoryRecord(
                kind="swap",
                result="ok",
                started_at="t",
                duration=1,
                from_slot="green",
                to_slot="blue",
                from_revision="rev-old",
                to_revision="rev-blue",
            ),
        )
        with pytest.raises(CommandError, match="no longer holds the revision that was live"):
            swap_live(fake_root, "--rollback")
        assert targets(fake_root) == ("blue", "green")


class RollbackHelperCommandTests:
    @pytest.mark.parametrize("leaves", ["not json", '{"a": 1}', "[1, 2]"])
    def test_bad_leaves(self, leaves: str) -> None:
        with pytest.raises(
            CommandError, match=r"--to must be a JSON list of \[app_label, migration_name\] pairs"
        ):
            call_command("swap_live_migrations", "plan", "--to", leaves, stdout=StringIO())

    @pytest.mark.parametrize(
        ("args", "message"),
        [
            (("--timeout", "0"), "--timeout 0 is zero; give a positive duration"),
            ((), "did not pass the gate"),
        ],
        ids=["bad input", "refused by the gate"],
    )
    def test_an_error_with_json_is_one_json_object(
        self, fake_root: DeployRoot, args: tuple[str, ...], message: str
    ) -> None:
        out, err, code = run_swap_live(fake_root, *args, "--format", "json")
        assert code == 1
        assert message in err
        data = json.loads(out)
        assert (data["error"], data["exit_code"]) == (err, 1)
        if args == ():
            # The gate ran: the outcome so far comes with the error.
            assert_documented(
                data,
                "swap_live.md",
                "`swap_live`, `--rollback`, `--dry-run` and `--reload-servers`",
                failed=True,
            )
            assert data["result"] == "refused"

    def test_unknown_format_is_a_usage_error(self, fake_root: DeployRoot) -> None:
        with pytest.raises(CommandError, match="invalid choice: 'yaml'"):
            swap_live(fake_root, "--status", "--format", "yaml")


class RepairFirstTests:
    def test_an_interrupted_swap_is_finished_before_anything_else(self, fake_root: DeployRoot) -> None:
        fake_root.swap_journal.write_text('{"live": "green", "stage": "blue"}')
        # The fake slots fail the gate, but the interrupted swap is finished first.
        with pytest.raises(CommandError, match="did not pass the gate"):
            swap_live(fake_root)
        assert targets(fake_root) == ("green", "blue")
        assert links.needs_repair(fake_root) is None


class RepairCommandTests:
    def test_repair(self, fake_root: DeployRoot) -> None:
        fake_root.stage_link.unlink()
        fake_root.stage_link.symlink_to("blue")
        output = swap_live(fake_root, "--repair")
        assert "pointed live -> blue and stage -> green" in output
        assert targets(fake_root) == ("blue", "green")
        assert [r.kind for r in history.read(fake_root)] == ["repair"]

    def test_interrupted_journal(self, fake_root: DeployRoot) -> None:
        fake_root.swap_journal.write_text('{"live": "green", "stage": "blue"}')
        data = json.loads(swap_live(fake_root, "--repair", "--format", "json"))
        assert_documented(data, "swap_live.md", "`swap_live --repair`")
        assert (data["live"], data["stage"]) == ("green", "blue")
        assert data["repair"] == "finished the interrupted swap: live -> green, stage -> blue"


class ReloadChecksTests:
    def test_valid(self) -> None:
        config = {"live": {"adapter": "gunicorn", "pidfile": "run/live.pid"}}
        with override_settings(
            DEPLOYKIT_RELOAD=config, DEPLOYKIT_LIVE_URL="http://127.0.0.1:8000/-/deploykit/revision/"
        ):
            assert checks.check_reload_settings() == []

    @pytest.mark.parametrize(
        ("config", "expected"),
        [
            ("not a dict", "django_deploykit.E040"),
            ({"canary": {"adapter": "touch", "path": "x"}}, "django_deploykit.E041"),
            ({"live": {"adapter": "teleport"}}, "django_deploykit.E042"),
            ({"live": {"adapter": "gunicorn"}}, "django_deploykit.E042"),
            ({"stage": {"adapter": "gunicorn-hup", "pidfile": "x"}}, "django_deploykit.W040"),
            ({"live": {"adapter": "touch", "path": "x"}}, "django_deploykit.W041"),
        ],
    )
    def test_problems(self, config: object, expected: str) -> None:
        with override_settings(DEPLOYKIT_RELOAD=config, DEPLOYKIT_LIVE_URL=None):
            assert expected in [message.id for message in checks.check_reload_settings()]
