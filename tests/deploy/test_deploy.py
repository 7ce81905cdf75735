"""deploy: the whole procedure on a real deploy root, stages as subprocesses in the slots."""

from __future__ import annotations

import json
import secrets
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from django_deploykit.deploy_root import history, links
from django_deploykit.exit_codes import ExitCode
from tests.deploy.deploying import commit_v2, deploy, deploy_json, last_deploy, note_columns
from tests.deploy_pull.pulling import live_snapshot
from tests.deployment import BARE_ENVIRONMENT, Site
from tests.json_fields import assert_documented
from tests.servers import free_port

# Run in one tox environment only (tox.ini): among the longest tests, and not about the Django version.
pytestmark = pytest.mark.end_to_end


class DeployTests:
    def test_the_destructive_phase_runs_the_new_slots_migrations_after_the_swap(self, site: Site) -> None:
        v2 = commit_v2(site)
        assert {"body"} <= note_columns(site)

        code, outcome = deploy_json(site)

        assert code == 0, outcome
        assert_documented(outcome, "deploy.md", "`deploy`")
        assert links.read_links(site.root) == links.LinkState("green", "blue")
        assert (site.slot_dir("green") / "REVISION").read_text().strip() == v2
        columns = note_columns(site)
        assert "summary" in columns
        assert "body" not in columns
        statuses = {stage["name"]: stage["status"] for stage in outcome["stages"]}
        assert statuses == {
            "notify": "skipped",
            "maintenance-on": "skipped",
            "pull": "ok",
            "swap": "ok",
            "migrate-destructive": "ok",
            "clear-old-cache": "skipped",
            "maintenance-off": "skipped",
        }
        # Each stage says what it did, from the JSON of the command it ran.
        summaries = {stage["name"]: stage["summary"] for stage in outcome["stages"]}
        assert summaries["pull"].startswith(f"green is at {v2[:12]} (1 new commit); pull ")
        assert summaries["swap"] == (
            f"green is live at {v2[:12]}, blue is the stage; "
            "not verified: DEPLOYKIT_LIVE_URL is not set in the settings of green's code"
        )
        assert summaries["migrate-destructive"] == (
            "applied 1 destructive migration: notes.0004_remove_note_body in green"
        )
        record = last_deploy(site)
        assert (record.result, record.from_slot, record.to_slot, record.to_revision) == (
            "ok",
            "blue",
            "green",
            v2,
        )
        assert record.details["pull_id"] == outcome["pull"]["id"]
        kinds = [r.kind for r in history.read(site.root)]
        # deploy_pull and swap_live ran as children and recorded themselves, under the deploy's lock.
        assert kinds[-3:] == ["pull", "swap", "deploy"]
        destructive_log = next(s["log"] for s in outcome["stages"] if s["name"] == "migrate-destructive")
        text = Path(destructive_log).read_text()
        assert "green/.venv/bin/python manage.py migrate_safe --phase=destructive" in text

    def test_a_failure_before_the_swap_leaves_live_untouched(self, site: Site) -> None:
        before = live_snapshot(site)
        completed = deploy(site, "--ref", "no-such-ref")
        assert completed.returncode == 1
        assert (
            "The pull stage failed: deploy_pull failed at its git stage: The ref 'no-such-ref'"
            in completed.stderr
        )
        assert "Live was not touched (blue still serves the old code)" in completed.stderr
        # Each fact once: not in the stage line as well, not twice through the child's own error.
        output = completed.stdout + completed.stderr
        assert output.count("is not a branch of 'origin'") == 1, output
        assert output.count("was not touched") == 1, output
        assert "  [3/7] pull: failed (" in completed.stdout
        assert live_snapshot(site) == before
        record = last_deploy(site)
        assert record.result == "failed"
        # The slots it was deploying from and into, not the live slot twice.
        assert (record.from_slot, record.to_slot) == ("blue", "green")
        assert [s["status"] for s in record.details["stages"]][:3] == ["skipped", "skipped", "failed"]

        code, outcome = deploy_json(site, "--ref", "no-such-ref")
        assert code == 1
        assert_documented(outcome, "deploy.md", "`deploy`", failed=True)
        assert outcome["exit_code"] == 1
        assert json.dumps(outcome).count("is not a branch of") == 2  # the pull stage's summary and the error

    def test_a_swap_refused_by_the_gate_leaves_live_untouched(self, site: Site) -> None:
        commit_v2(site)
        before = live_snapshot(site)
        # The stage server's health URL does not answer: the gate refuses the swap.
        site.write_env(DEPLOYKIT_STAGE_HEALTH_URL=f"http://127.0.0.1:{free_port()}/healthz")

        completed = deploy(site)

        assert completed.returncode == 1
        assert "The swap stage failed" in completed.stderr
        assert "Live was not touched (blue still serves the old code)" in completed.stderr
        assert live_snapshot(site) == before
        assert "body" in note_columns(site)
        assert [s["status"] for s in last_deploy(site).details["stages"]][2:4] == ["ok", "failed"]

    def test_a_failure_after_the_swap_says_the_new_code_is_live_and_how_to_resume_or_roll_back(
        self, site: Site
    ) -> None:
        commit_v2(site)
        pipeline = ["pull", "swap", {"name": "smoke", "argv": ["false"]}, "migrate-destructive"]
        site.write_env(DEPLOYKIT_DEPLOY_PIPELINE=json.dumps(pipeline))

        completed = deploy(site)

        assert completed.returncode == ExitCode.FAILED_PARTWAY
        assert "The smoke stage failed" in completed.stderr
        assert "The new code IS LIVE" in completed.stderr
        assert "manage.py deploy --ref main --resume-from smoke --yes" in completed.stderr
        assert "manage.py swap_live --rollback" in completed.stderr
        assert links.read_links(site.root).live == "green"
        assert "body" in note_columns(site)

        pipeline[2] = {"name": "smoke", "argv": ["true"]}
        site.write_env(DEPLOYKIT_DEPLOY_PIPELINE=json.dumps(pipeline))
        code, outcome = deploy_json(site, "--resume-from", "smoke")
        assert code == 0, outcome
        assert [s["status"] for s in outcome["stages"]] == ["skipped", "skipped", "ok", "ok"]
        assert "body" not in note_columns(site)

    def test_stages_can_be_added_removed_and_reordered(self, site: Site) -> None:
        pipeline = [
            {"name": "hello", "argv": ["sh", "-c", "echo hello from $DEPLOYKIT_LOCK_TOKEN > ran.txt"]},
            {"name": "showmigrations", "command": "showmigrations", "args": ["notes"], "slot": "stage"},
            "pull",
        ]
        site.write_env(DEPLOYKIT_DEPLOY_PIPELINE=json.dumps(pipeline))
        code, outcome = deploy_json(site)
        assert code == 0, outcome
        assert [s["name"] for s in outcome["stages"]] == ["hello", "showmigrations", "pull"]
        assert (site.root.path / "ran.txt").read_text().startswith("hello from ")
        assert links.read_links(site.root).live == "blue"

    def test_an_unknown_stage_name_is_refused_and_recorded_with_nothing_changed(self, site: Site) -> None:
        before = live_snapshot(site)
        site.write_env(DEPLOYKIT_DEPLOY_PIPELINE=json.dumps(["pull", "swapp"]))
        completed = deploy(site)
        assert completed.returncode == 1
        assert "DEPLOYKIT_DEPLOY_PIPELINE[1] is 'swapp', which is not a stage" in completed.stderr
        assert live_snapshot(site) == before
        record = last_deploy(site)
        assert record.result == "refused"
        assert (record.from_slot, record.to_slot) == ("blue", "green")
        assert "swapp" in record.message

    def test_bad_options_are_refused_with_nothing_changed(self, site: Site) -> None:
        before = (live_snapshot(site), list(history.read(site.root)))
        cases = [
            (
                ("--wait-lock", "-1"),
                "--wait-lock -1 is negative; give a positive duration",
            ),
            (
                ("--swap-timeout", "0"),
                "--swap-timeout 0 is zero; give a positive duration",
            ),
            (("--at", "14:00"), "--at only makes sense with --maintenance"),
            (("--resume-from", "nope"), "--resume-from must be one of the pipeline's stages"),
            (("--ref", ""), "--ref must name a branch, tag or commit"),
        ]
        for args, message in cases:
            completed = deploy(site, *args)
            assert completed.returncode == 1, args
            assert message in completed.stderr, (args, completed.stderr)
        completed = site.manage("live", "deploy", check=False)
        assert completed.returncode == 1
        assert "pass --yes" in completed.stderr
        assert (live_snapshot(site), list(history.read(site.root))) == before


# 'maintenance status' exits 4 while a window is active.
ACTIVE = "live/.venv/bin/python live/example_project/manage.py maintenance status >/dev/null; test $? -eq 14"


class DeployLockAndMaintenanceTests:
    def test_a_pull_during_a_deploy_is_refused_naming_the_deploy(self, site: Site) -> None:
        site.write_env(
            DEPLOYKIT_DEPLOY_PIPELINE=json.dumps([{"name": "wait", "argv": ["sleep", "5"]}, "pull"])
        )
        live = site.root.path / "live"
        running = subprocess.Popen(
            [str(live / ".venv" / "bin" / "python"), "manage.py", "deploy", "--yes"],
            cwd=live / "example_project",
            env=BARE_ENVIRONMENT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 60
            while not list(site.root.path.glob("logs/*/01-wait.log")) and time.monotonic() < deadline:
                time.sleep(0.1)
            refused = site.manage("live", "deploy_pull", check=False)
        finally:
            out, err = running.communicate(timeout=120)
        assert refused.returncode == ExitCode.LOCK_BUSY
        assert "Another deploy holds the lock" in refused.stderr
        assert "deploy --ref main" in refused.stderr
        # The deploy's own pull ran under its lock once the wait was over.
        assert running.returncode == 0, out + err

    def test_maintenance_is_announced_and_ended_around_the_stages(self, site: Site) -> None:
        site.write_env(
            DEPLOYKIT_DEPLOY_PIPELINE=json.dumps(
                [
                    "maintenance-on",
                    {"name": "during", "argv": ["sh", "-c", ACTIVE]},
                    "maintenance-off",
                ]
            )
        )
        code, outcome = deploy_json(site, "--maintenance", "--for", "10m", "--message", "Deploying v2")
        assert code == 0, outcome
        assert [s["status"] for s in outcome["stages"]] == ["ok", "ok", "ok"]
        assert outcome["stages"][0]["summary"].startswith("maintenance window on until ")
        assert outcome["stages"][1]["summary"] == f"ran sh -c {ACTIVE}"
        assert outcome["stages"][2]["summary"] == "maintenance window ended (host scope)"
        on_log = Path(outcome["stages"][0]["log"]).read_text()
        assert "manage.py maintenance on --for 10m --message Deploying v2" in on_log
        status = site.manage("live", "maintenance", "status", check=False)
        assert status.returncode != ExitCode.MAINTENANCE_ACTIVE, status.stdout

    def test_the_swap_waits_for_an_announced_window_to_start(self, site: Site) -> None:
        site.write_env(DEPLOYKIT_DEPLOY_PIPELINE=json.dumps(["maintenance-on", "swap", "maintenance-off"]))
        start = (datetime.now(UTC) + timedelta(seconds=6)).isoformat(timespec="seconds")

        code, outcome = deploy_json(site, "--maintenance", "--at", start, "--for", "10m")

        assert code == 0, outcome
        assert outcome["stages"][0]["summary"].startswith("maintenance window from ")
        assert " until " in outcome["stages"][0]["summary"]
        swap = outcome["stages"][1]
        assert swap["status"] == "ok"
        assert "the maintenance window is on (waited" in swap["summary"]
        assert "manage.py maintenance status" in Path(swap["log"]).read_text()
        assert links.read_links(site.root).live == "green"

    def test_a_bad_maintenance_value_is_refused_before_the_deploy_starts(self, site: Site) -> None:
        before = (live_snapshot(site), list(history.read(site.root)))
        completed = deploy(site, "--maintenance", "--for", "banana")
        assert completed.returncode == 1
        assert "--for 'banana' is not a duration" in completed.stderr
        assert "Nothing was deployed." in completed.stderr
        assert (live_snapshot(site), list(history.read(site.root))) == before
        assert site.manage("live", "maintenance", "status", check=False).returncode == 0  # idle


class ClearOldCacheTests:
    def test_the_summary_says_how_many_keys_of_the_old_slot_were_cleared(
        self, site: Site, redis_url: str
    ) -> None:
        import redis

        # A project on Redis lists its client in its requirements; the slots install it with pip.
        site.pip_install("blue", "redis>=5.0")
        base = f"deploykit_test_{secrets.token_hex(4)}"
        client = redis.Redis.from_url(redis_url)
        # Without a swap in the pipeline, the old slot is the stage slot: green.
        for number in range(3):
            client.set(f"{base}_green:1:key{number}", "old")
        client.set(f"{base}_blue:1:key", "live")
        site.write_env(
            CACHE_URL=f"{redis_url}?key_prefix={base}",
            DEPLOYKIT_DEPLOY_PIPELINE=json.dumps(["clear-old-cache"]),
        )
        try:
            code, outcome = deploy_json(site)
        finally:
            keys = client.keys(f"{base}_*")
            remaining = sorted(key.decode() for key in keys)
            if keys:
                client.delete(*keys)

        assert code == 0, outcome
        assert (
            outcome["stages"][0]["summary"] == f"cleared 3 keys of green (prefix {base}_green) from default"
        )
        assert remaining == [f"{base}_blue:1:key"]
