"""deploy_pull against a real deploy root: real git, real virtualenvs, the real example_project."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from django_deploykit.deploy_root import history
from tests.deploy_pull.pulling import (
    all_logs,
    deploy_pull,
    deploy_pull_json,
    last_pull,
    live_snapshot,
    slot_head,
    stage_statuses,
)
from tests.deployment import NOTES_INDEX, Site, commit_change, commit_file, commit_heading_v2, git
from tests.json_fields import assert_documented

# Run in one tox environment only (tox.ini): among the longest tests, and not about the Django version.
pytestmark = pytest.mark.end_to_end

MIGRATION_0003 = """from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("notes", "0002_note_body")]
    operations = [
        migrations.AddField("note", "summary", models.CharField(max_length=100, null=True)),
    ]
"""


class DeployPullTests:
    def test_pull_moves_the_stage_slot_logs_every_stage_and_records(self, site: Site) -> None:
        before = live_snapshot(site)
        v2 = commit_heading_v2(site.source)

        code, outcome = deploy_pull_json(site)

        assert code == 0, outcome
        assert_documented(outcome, "deploy.md", "`deploy_pull`")
        assert outcome["slot"] == "green"
        assert outcome["to_revision"] == v2
        assert [s["name"] for s in outcome["stages"]] == [
            "lock",
            "git",
            "dependencies",
            "collectstatic",
            "migrate",
            "checks",
            "reload-and-record",
        ]
        assert slot_head(site, "green") == v2
        assert (site.slot_dir("green") / "REVISION").read_text().strip() == v2
        assert live_snapshot(site) == before
        record = last_pull(site)
        assert (record.result, record.to_slot, record.to_revision) == ("ok", "green", v2)
        assert record.details["commits"] == [outcome["commits"][0]]
        assert "v2" in record.details["commits"][0]
        tag = record.details["tag"]
        assert tag.startswith("deploy-")
        assert git(site.slot_dir("green"), "rev-parse", f"{tag}^{{commit}}") == v2
        for stage in record.details["stages"]:
            log = stage["log"]
            assert log.startswith(str(site.root.path / "logs" / record.id)), log
            assert f"=== {stage['name']}: {stage['status']}" in Path(log).read_text()
        # Each stage says what it did, not the last line its command printed.
        summaries = {stage["name"]: stage["summary"] for stage in outcome["stages"]}
        assert summaries["collectstatic"].startswith("collected "), summaries
        assert re.match(r"collected \d+ static files", summaries["collectstatic"]), summaries
        assert summaries["migrate"] == "no additive migration pending"

    def test_a_pull_with_nothing_new_skips_the_dependency_and_static_stages(self, site: Site) -> None:
        commit_file(site.source, "requirements.txt", "# nothing pinned yet\n", "requirements")
        code, first = deploy_pull_json(site)
        assert code == 0, first
        assert {s["name"]: s["status"] for s in first["stages"]}["dependencies"] == "ok"

        code, second = deploy_pull_json(site)

        assert code == 0, second
        statuses = {s["name"]: s["status"] for s in second["stages"]}
        assert statuses["dependencies"] == "skipped"
        assert statuses["collectstatic"] == "skipped"
        assert statuses["git"] == "ok"

    def test_dry_run_shows_the_plan_and_changes_nothing(self, site: Site) -> None:
        old = slot_head(site, "green")
        commit_file(
            site.source, "example_project/notes/migrations/0003_note_summary.py", MIGRATION_0003, "summary"
        )
        commit_file(site.source, "requirements.txt", "six==1.17.0\n", "pin six")
        records_before = list(history.read(site.root))

        completed = deploy_pull(site, "--dry-run")

        assert completed.returncode == 0, completed.stderr
        assert "Dry run for green: nothing changed." in completed.stdout
        assert "pin six" in completed.stdout
        assert "summary" in completed.stdout
        assert "+six==1.17.0" in completed.stdout
        assert "notes/migrations/0003_note_summary.py" in completed.stdout
        assert "  additive: notes.0003_note_summary" in completed.stdout
        assert slot_head(site, "green") == old
        assert list(history.read(site.root)) == records_before
        assert not (site.root.path / "logs").exists()

    def test_a_ref_older_than_the_applied_migrations_is_refused_with_the_list(self, site: Site) -> None:
        commit_file(
            site.source, "example_project/notes/migrations/0003_note_summary.py", MIGRATION_0003, "summary"
        )
        # The database gets 0003 the way a deploy would apply it, from the stage slot.
        code, outcome = deploy_pull_json(site)
        assert code == 0, outcome
        migrate = next(stage for stage in outcome["stages"] if stage["name"] == "migrate")
        assert migrate["summary"] == "applied 1 additive migration: notes.0003_note_summary"
        before = live_snapshot(site)

        code, outcome = deploy_pull_json(site, "--ref", "v1", "--allow-non-fast-forward")

        assert code == 1
        git_stage = outcome["stages"][-1]
        assert git_stage["name"] == "git"
        assert git_stage["status"] == "failed"
        assert "older than the database" in git_stage["summary"]
        assert "example_project/notes/migrations/0003_note_summary.py" in git_stage["summary"]
        assert_documented(outcome, "deploy.md", "`deploy_pull`", failed=True)
        assert live_snapshot(site) == before
        assert last_pull(site).result == "failed"

        # In text, the list of missing migrations is said once: by the error, not by the stage line too.
        completed = deploy_pull(site, "--ref", "v1", "--allow-non-fast-forward")
        assert completed.returncode == 1
        assert (completed.stdout + completed.stderr).count("0003_note_summary.py") == 1
        assert "  [2/7] git: failed (" in completed.stdout
        assert "CommandError: The git stage failed: v1 (" in completed.stderr

    def test_a_non_fast_forward_and_a_dirty_checkout_are_refused_unless_asked(self, site: Site) -> None:
        commit_heading_v2(site.source)
        assert deploy_pull(site).returncode == 0
        completed = deploy_pull(site, "--ref", "v1")
        assert completed.returncode == 1
        assert "is not a fast-forward" in completed.stderr
        assert "--allow-non-fast-forward" in completed.stderr

        index = site.slot_dir("green") / NOTES_INDEX
        index.write_text("edited on the server")
        completed = deploy_pull(site)
        assert completed.returncode == 1
        assert "has local changes" in completed.stderr
        assert f"has local changes ({NOTES_INDEX})" in completed.stderr  # the whole path, first letter too
        assert index.read_text() == "edited on the server"

        assert deploy_pull(site, "--discard-local-changes").returncode == 0
        assert "Notes v2" in index.read_text()

    def test_in_place_updates_the_running_slot_with_a_warning(self, site: Site) -> None:
        v2 = commit_heading_v2(site.source)
        completed = deploy_pull(site, "--in-place")
        assert completed.returncode == 0, completed.stderr
        assert "it is the LIVE slot" in completed.stdout
        assert slot_head(site, "blue") == v2
        assert stage_statuses(last_pull(site))["git"] == "ok"

    def test_every_stage_log_is_redacted(self, site: Site) -> None:
        # A settings module that prints a URL with a password on every start: each stage's manage.py logs it.
        commit_change(
            site.source,
            "example_project/mysite/settings/production.py",
            'DATABASES = {"default": env.database_url("DATABASE_URL")}',
            'DATABASES = {"default": env.database_url("DATABASE_URL")}\n'
            'print("replica at", env.str("REPLICA_URL"))',
            "print the replica URL",
        )
        site.write_env(REPLICA_URL="postgres://app:Sup3r-Secret-pw@db.internal:5432/site")
        completed = deploy_pull(site, "--format", "json")
        assert completed.returncode == 0, completed.stderr
        logs = all_logs(site)
        assert "db.internal" in logs
        assert "Sup3r-Secret-pw" not in logs
        assert "Sup3r-Secret-pw" not in completed.stdout + completed.stderr
        assert "Sup3r-Secret-pw" not in (site.root.path / "history.jsonl").read_text()
        json.loads(completed.stdout)
