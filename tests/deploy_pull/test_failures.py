"""A failure injected at each stage halts the run, leaves live untouched, keeps the log and is recorded."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from tests.deploy_pull.pulling import (
    deploy_pull,
    deploy_pull_json,
    last_pull,
    live_snapshot,
    log_of,
    stage_statuses,
)
from tests.deploy_pull.wheels import make_wheel, sha256_of
from tests.deployment import Site, commit_file, commit_heading_v2, git

# Run in one tox environment only (tox.ini): among the longest tests, and not about the Django version.
pytestmark = pytest.mark.faults

FAILING_TEST = """from django.test import SimpleTestCase


class BrokenTests(SimpleTestCase):
    def test_broken(self):
        self.assertEqual(1, 2, "injected failure")
"""

UNCLASSIFIABLE_MIGRATION = """from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("notes", "0002_note_body")]
    operations = [migrations.RunSQL("SELECT 1")]
"""


def assert_halted_at(site: Site, stage: str, before: object) -> str:
    record = last_pull(site)
    statuses = stage_statuses(record)
    assert record.result == "failed"
    assert list(statuses)[-1] == stage, statuses
    assert statuses[stage] == "failed"
    assert live_snapshot(site) == before
    log = log_of(record, stage)
    assert log.is_file()
    text = log.read_text()
    assert f"=== {stage}: failed" in text
    return text


class StageFailureTests:
    def test_unknown_ref_fails_the_git_stage(self, site: Site) -> None:
        before = live_snapshot(site)
        completed = deploy_pull(site, "--ref", "no-such-branch")
        assert completed.returncode == 1
        assert "The ref 'no-such-branch' is not a branch of 'origin', a tag or a commit" in completed.stderr
        assert_halted_at(site, "git", before)

    def test_unreachable_origin_fails_the_git_stage(self, site: Site) -> None:
        before = live_snapshot(site)
        git(site.slot_dir("green"), "remote", "set-url", "origin", str(site.source.parent / "gone"))
        completed = deploy_pull(site)
        assert completed.returncode == 1
        assert "git could not fetch from the remote 'origin'" in completed.stderr
        assert_halted_at(site, "git", before)

    def test_a_requirement_missing_from_the_wheelhouse_fails_the_dependencies_stage(self, site: Site) -> None:
        before = live_snapshot(site)
        make_wheel(site.source / "wheelhouse", "deploykit-probe", "1.0")
        git(site.source, "add", "wheelhouse")
        commit_file(site.source, "requirements.txt", "deploykit-probe==2.0\n", "needs a wheel we lack")
        completed = deploy_pull(site, "--offline")
        assert completed.returncode == 1
        assert "could not be installed from the wheelhouse wheelhouse/" in completed.stderr
        text = assert_halted_at(site, "dependencies", before)
        assert "--no-index" in text
        assert "deploykit-probe==2.0" in text

    def test_collectstatic_failure_halts_the_run(self, site: Site) -> None:
        before = live_snapshot(site)
        commit_file(site.source, "example_project/notes/static/notes/site.css", "body {}\n", "a stylesheet")
        # STATIC_ROOT is a file: collectstatic cannot write there.
        (site.root.shared_dir / "static").write_text("not a folder")
        completed = deploy_pull(site)
        assert completed.returncode == 1
        assert "collectstatic exited" in completed.stderr
        assert_halted_at(site, "collectstatic", before)

    def test_an_unclassifiable_migration_fails_the_migrate_stage(self, site: Site) -> None:
        before = live_snapshot(site)
        commit_file(
            site.source, "example_project/notes/migrations/0003_raw_sql.py", UNCLASSIFIABLE_MIGRATION, "raw"
        )
        completed = deploy_pull(site)
        assert completed.returncode == 1
        assert (
            "migrate_safe --phase=additive --check exited 11 (a migration is mixed or cannot be classified"
            in completed.stderr
        )
        # Named with why, from migrate_safe's JSON, not from the end of its text.
        assert "notes.0003_raw_sql: " in completed.stderr
        assert_halted_at(site, "migrate", before)

    def test_a_failing_project_test_fails_the_checks_stage(self, site: Site) -> None:
        before = live_snapshot(site)
        commit_file(site.source, "example_project/notes/tests.py", FAILING_TEST, "a broken test")
        site.write_env(DEPLOYKIT_TEST_SETTINGS="mysite.settings.test")
        completed = deploy_pull(site)
        assert completed.returncode == 1
        assert "the project's tests failed" in completed.stderr
        text = assert_halted_at(site, "checks", before)
        assert "injected failure" in text
        assert "--settings=mysite.settings.test" in text

    def test_a_reload_that_fails_halts_the_run_before_it_is_recorded_as_deployed(self, site: Site) -> None:
        before = live_snapshot(site)
        commit_heading_v2(site.source)
        site.write_env(DEPLOYKIT_RELOAD=json.dumps({"stage": {"adapter": "command", "argv": ["false"]}}))
        code, outcome = deploy_pull_json(site)
        assert code == 1
        assert outcome["tag"] is None
        assert_halted_at(site, "reload-and-record", before)


class OfflineTests:
    def test_offline_installs_from_the_wheelhouse_into_a_new_virtualenv(self, site: Site) -> None:
        wheel = make_wheel(site.source / "wheelhouse", "deploykit-probe", "1.0")
        git(site.source, "add", "wheelhouse")
        commit_file(site.source, "requirements.txt", "deploykit-probe==1.0\n", "offline requirement")
        # A virtualenv built from scratch for the stage slot, as after a Python upgrade.
        venv = site.slot_dir("green") / ".venv"
        shutil.rmtree(venv)
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        # What the slot runs on comes from the project's requirements, as before the rebuild.
        site.pip_install("green", "-r", str(site.slot_dir("green") / "requirements.txt"))

        code, outcome = deploy_pull_json(site, "--offline")

        assert code == 0, outcome
        statuses = {s["name"]: s["status"] for s in outcome["stages"]}
        assert statuses["dependencies"] == "ok"
        version = subprocess.run(
            [
                str(venv / "bin" / "python"),
                "-c",
                "import deploykit_probe_mod; print(deploykit_probe_mod.VERSION)",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        assert version == "1.0"
        assert "--no-index" in log_of(last_pull(site), "dependencies").read_text()
        assert wheel.parent.name == "wheelhouse"

    def test_hashes_in_the_requirements_file_turn_on_require_hashes(self, site: Site) -> None:
        wheel = make_wheel(site.source / "wheelhouse", "deploykit-probe", "1.0")
        git(site.source, "add", "wheelhouse")
        commit_file(
            site.source,
            "requirements.txt",
            f"deploykit-probe==1.0 --hash=sha256:{sha256_of(wheel)}\n",
            "hashed requirement",
        )
        code, outcome = deploy_pull_json(site, "--offline")
        assert code == 0, outcome
        assert "--require-hashes" in log_of(last_pull(site), "dependencies").read_text()
