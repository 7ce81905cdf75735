"""deploy stopped by a signal at its stages: SIGTERM unwinds and says what to do; after SIGKILL the next
deploy finds the run that never ended; no stage child outlives its deploy."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from django_deploykit.deploy_root import history, links, lock
from django_deploykit.exit_codes import ExitCode
from tests.deploy.deploying import commit_v2, deploy, deploy_json, last_deploy, note_columns
from tests.deployment import BARE_ENVIRONMENT, Site, commit_file
from tests.slot_packages import pip_environment_in_use

# A heavy fault or corpus test: it runs in one tox environment only (tox.ini says which).
pytestmark = pytest.mark.faults

# Bounds: a stage child shows up within this many seconds, and a stopped deploy ends within this many.
CHILD_APPEARS = 120.0
DEPLOY_ENDS = 60.0


def start_deploy(site: Site, *args: str) -> subprocess.Popen[str]:
    base = site.root.path / "live"
    return subprocess.Popen(
        [str(base / ".venv" / "bin" / "python"), "manage.py", "deploy", "--yes", "--format", "json", *args],
        cwd=base / "example_project",
        env={**BARE_ENVIRONMENT, **pip_environment_in_use()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def parent_of(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rsplit(")", 1)[1].split()[1])


def descendants(pid: int) -> dict[int, str]:
    """Every living process below ``pid``, with its command line."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            parent = parent_of(int(entry.name))
            if parent is not None:
                children.setdefault(parent, []).append(int(entry.name))
    found: dict[int, str] = {}
    pending = list(children.get(pid, []))
    while pending:
        child = pending.pop()
        try:
            found[child] = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        pending.extend(children.get(child, []))
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def signal_when_running(process: subprocess.Popen[str], command: str, signum: int) -> list[int]:
    """Send ``signum`` to the deploy once a stage child running ``manage.py COMMAND`` exists; return the
    pids of everything below the deploy at that moment."""
    deadline = time.monotonic() + CHILD_APPEARS
    while time.monotonic() < deadline:
        below = descendants(process.pid)
        if any(f"manage.py {command}" in line for line in below.values()):
            process.send_signal(signum)
            return list(below)
        if process.poll() is not None:
            raise AssertionError(f"deploy ended before {command} ran: {process.communicate()}")
        time.sleep(0.02)
    process.kill()
    raise AssertionError(f"no stage child ran manage.py {command} within {CHILD_APPEARS:g} s")


def finish(process: subprocess.Popen[str]) -> tuple[int, dict[str, object], str]:
    stdout, stderr = process.communicate(timeout=DEPLOY_ENDS)
    try:
        document = json.loads(stdout)
    except ValueError as exc:
        raise AssertionError(stdout + stderr) from exc
    return process.returncode, document, stderr


def assert_all_gone(pids: list[int]) -> None:
    """No stage child (nor anything it started) outlives the deploy; the kernel may take a moment to
    deliver a parent-death signal, so wait a bounded while."""
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(alive(pid) for pid in pids):
        time.sleep(0.05)
    assert not [pid for pid in pids if alive(pid)], "stage children outlived their deploy"


class SigtermTests:
    def test_before_the_swap_the_child_is_stopped_maintenance_ended_and_the_deploy_recorded(
        self, site: Site
    ) -> None:
        commit_v2(site)
        process = start_deploy(site, "--maintenance", "--for", "10m")
        children = signal_when_running(process, "deploy_pull", signal.SIGTERM)
        code, document, stderr = finish(process)

        assert code == 1, (document, stderr)
        assert_all_gone(children)
        assert "deploy was stopped by SIGTERM during its pull stage" in str(document["error"])
        assert "Live was not touched (blue still serves the old code)" in str(document["error"])
        assert "The maintenance window it started is ended." in str(document["error"])
        assert document["result"] == "interrupted"
        assert links.read_links(site.root) == links.LinkState("blue", "green")
        # The window is over: 'maintenance status' exits 0 when no window is on or announced.
        assert site.manage("live", "maintenance", "status", check=False).returncode == 0
        assert lock.read_holder(site.root) is None
        record = last_deploy(site)
        assert record.result == "interrupted"
        assert [stage["status"] for stage in record.details["stages"]][-1] == "interrupted"

        # Nothing was lost: the next deploy does the whole job.
        code, outcome = deploy_json(site)
        assert code == 0, outcome.get("error")
        assert "body" not in note_columns(site)

    def test_after_the_swap_it_says_the_new_code_is_live_and_the_printed_resume_finishes(
        self, site: Site
    ) -> None:
        commit_v2(site)
        process = start_deploy(site)
        children = signal_when_running(process, "migrate_safe --phase=destructive", signal.SIGTERM)
        code, document, stderr = finish(process)

        assert code == ExitCode.FAILED_PARTWAY, (document, stderr)
        assert_all_gone(children)
        error = str(document["error"])
        assert "during its migrate-destructive stage" in error
        assert "The new code IS LIVE" in error
        assert links.read_links(site.root).live == "green"
        resume = document["next_steps"][0]  # type: ignore[index]
        assert resume == "manage.py deploy --ref main --resume-from migrate-destructive --yes"
        completed = deploy(site, *resume.split()[2:])
        assert completed.returncode == 0, completed.stdout + completed.stderr
        assert "body" not in note_columns(site)

    def test_during_the_swap_it_says_the_outcome_is_uncertain_and_names_the_commands(
        self, site: Site
    ) -> None:
        commit_file(site.source, "CHANGES.txt", "A one-line change.\n", "a one-line change")
        process = start_deploy(site)
        children = signal_when_running(process, "swap_live", signal.SIGTERM)
        code, document, stderr = finish(process)

        assert code == ExitCode.UNCERTAIN, (document, stderr)
        assert_all_gone(children)
        assert "during its swap stage" in str(document["error"])
        assert document["next_steps"] == ["manage.py swap_live --status", "manage.py swap_live --repair"]
        status = site.manage("live", "swap_live", "--status", check=False)
        assert status.returncode in (0, 3), status.stdout + status.stderr
        if status.returncode:
            site.manage("live", "swap_live", "--repair")
        assert lock.read_holder(site.root) is None
        completed = deploy(site)
        assert completed.returncode == 0, completed.stdout + completed.stderr


class SigkillTests:
    def test_the_child_dies_with_its_deploy_and_the_next_deploy_explains_the_unfinished_one(
        self, site: Site
    ) -> None:
        commit_v2(site)
        process = start_deploy(site)
        children = signal_when_running(process, "deploy_pull", signal.SIGKILL)
        process.communicate(timeout=DEPLOY_ENDS)
        assert_all_gone(children)
        killed = last_deploy(site)
        assert killed.result == "started"
        assert lock.read_holder(site.root) is None
        checked = site.manage("live", "deploy_check", "--format", "json", check=False)
        history_findings = [f for f in json.loads(checked.stdout)["findings"] if f["check"] == "history"]
        assert [f["level"] for f in history_findings] == ["warning"], checked.stdout
        assert killed.id in history_findings[0]["detail"]

        code, outcome = deploy_json(site)

        assert code == 0, outcome
        said = [warning for warning in outcome["warnings"] if killed.id in warning]
        assert said, outcome["warnings"]
        assert "did not finish" in said[0]
        assert "during its pull stage" in said[0]
        again = {record.id: record for record in history.read(site.root)}[killed.id]
        assert again.result == "interrupted"
        assert "body" not in note_columns(site)


class LockInheritanceTests:
    def test_a_token_counts_only_in_a_descendant_of_the_holder(self, site: Site) -> None:
        probe = (
            "import sys; from django_deploykit.deploy_root import lock; "
            "from django_deploykit.deploy_root.layout import DeployRoot; "
            "print(lock.held_by_parent(DeployRoot(__import__('pathlib').Path(sys.argv[1]))))"
        )
        with lock.deploy_lock(site.root, command="test") as holder:
            assert holder is not None
            env = {**os.environ, **lock.child_environment(holder)}
            child = subprocess.run(
                [sys.executable, "-c", probe, str(site.root.path)], env=env, capture_output=True, text=True
            )
            assert child.stdout.strip() == "True", child.stderr
            # The same token in a process that is not below the holder (its grandparent exited: it was
            # re-parented, as a stage child is when its deploy dies).
            orphan = subprocess.run(
                [
                    "sh",
                    "-c",
                    f'( "{sys.executable}" -c "$0" "$1" > "$2" & ) ; sleep 0',
                    probe,
                    str(site.root.path),
                    str(site.root.path / "probe.out"),
                ],
                env=env,
                capture_output=True,
                text=True,
            )
            assert orphan.returncode == 0, orphan.stderr
            deadline = time.monotonic() + 30
            output = site.root.path / "probe.out"
            while time.monotonic() < deadline and not output.read_text().strip():
                time.sleep(0.05)
            assert output.read_text().strip() == "False"


class EveryStageTests:
    """SIGTERM at the stages the tests above do not reach, with the deploy run as the message says after."""

    @pytest.mark.parametrize(
        ("child", "stage", "code"),
        [
            ("maintenance on", "maintenance-on", 1),
            # The stage's first command asks the cache's kind (the pull runs 'shell' too, for other things).
            ("shell --no-color -v 0 -c from django.core.cache", "clear-old-cache", ExitCode.FAILED_PARTWAY),
            ("maintenance off", "maintenance-off", ExitCode.FAILED_PARTWAY),
        ],
    )
    def test_sigterm_stops_the_stage_and_the_printed_command_finishes_the_job(
        self, site: Site, child: str, stage: str, code: int
    ) -> None:
        commit_v2(site)
        process = start_deploy(site, "--maintenance", "--for", "10m")
        children = signal_when_running(process, child, signal.SIGTERM)
        exit_code, document, stderr = finish(process)

        assert exit_code == code, (document, stderr)
        assert_all_gone(children)
        assert f"during its {stage} stage" in str(document["error"])
        assert lock.read_holder(site.root) is None
        steps = document["next_steps"]
        assert isinstance(steps, list)
        if code == 1:
            # Before the swap the window this deploy started is ended: the old code serves.
            assert site.manage("live", "maintenance", "status", check=False).returncode == 0
            completed = deploy(site)
        else:
            assert steps[0] == f"manage.py deploy --ref main --resume-from {stage} --yes"
            completed = deploy(site, *steps[0].split()[2:], "--maintenance", "--for", "10m")
        assert completed.returncode == 0, completed.stdout + completed.stderr
        assert "body" not in note_columns(site)
        assert site.manage("live", "maintenance", "status", check=False).returncode == 0

    def test_sigkill_after_the_swap_is_explained_by_the_next_deploy(self, site: Site) -> None:
        commit_v2(site)
        process = start_deploy(site)
        children = signal_when_running(process, "migrate_safe --phase=destructive", signal.SIGKILL)
        process.communicate(timeout=DEPLOY_ENDS)
        assert_all_gone(children)
        killed = last_deploy(site)

        code, outcome = deploy_json(site)

        assert code == 0, outcome.get("error")
        said = [warning for warning in outcome["warnings"] if killed.id in warning]
        assert said, outcome["warnings"]
        assert "during its migrate-destructive stage" in said[0]
        assert "body" not in note_columns(site)


class PullSigtermTests:
    def test_deploy_pull_records_where_it_stopped_and_exits_143(self, site: Site) -> None:
        commit_v2(site)
        base = site.root.path / "live"
        process = subprocess.Popen(
            [str(base / ".venv" / "bin" / "python"), "manage.py", "deploy_pull", "--format", "json"],
            cwd=base / "example_project",
            env={**BARE_ENVIRONMENT, **pip_environment_in_use()},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        children = signal_when_running(process, "collectstatic", signal.SIGTERM)
        code, document, stderr = finish(process)

        assert code == 143, (document, stderr)
        assert_all_gone(children)
        assert "deploy_pull was stopped by SIGTERM during its collectstatic stage" in str(document["error"])
        assert "Run 'manage.py deploy_pull --ref main' again to finish the pull." in stderr
        pulls = [record for record in history.read(site.root) if record.kind == "pull"]
        assert pulls[-1].result == "interrupted"
        assert lock.read_holder(site.root) is None
        assert links.read_links(site.root) == links.LinkState("blue", "green")

        again = site.manage("live", "deploy_pull", check=False)
        assert again.returncode == 0, again.stdout + again.stderr
