"""The gate's refusals and the rollback's migration rules, on real slots without servers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from django_deploykit.deploy_root import links
from tests.deployment import Site, build_site, commit_change, commit_drop_body, commit_summary_column
from tests.json_fields import assert_documented

# Run in one tox environment only (tox.ini): among the longest tests, and not about the Django version.
pytestmark = pytest.mark.faults

SWAP_JSON = "`swap_live`, `--rollback`, `--dry-run` and `--reload-servers`"


@pytest.fixture
def site(tmp_path: Path) -> Site:
    site = build_site(tmp_path)
    site.manage("live", "migrate", "-v0")
    return site


def applied(site: Site) -> str:
    return site.manage("live", "showmigrations", "notes").stdout


def swap(site: Site, *args: str) -> object:
    return site.manage("live", "swap_live", *args, check=False)


class GateTests:
    def test_unapplied_additive_migration(self, site: Site) -> None:
        commit_summary_column(site.source)
        site.update_slot("green")
        completed = swap(site)
        assert completed.returncode == 1  # type: ignore[attr-defined]
        assert "did not pass the gate; nothing was swapped" in completed.stderr  # type: ignore[attr-defined]
        assert "unapplied additive migrations" in completed.stderr  # type: ignore[attr-defined]
        assert links.read_links(site.root) == links.LinkState("blue", "green")
        # Once the additive phase has run in the stage slot, the same swap goes through.
        site.manage("stage", "migrate_safe", "--phase=additive")
        completed = swap(site, "--format", "json")
        assert completed.returncode == 0, completed.stderr  # type: ignore[attr-defined]
        outcome = json.loads(completed.stdout)  # type: ignore[attr-defined]
        assert_documented(outcome, "swap_live.md", SWAP_JSON)
        assert (outcome["action"], outcome["result"], outcome["after"]) == (
            "swap",
            "ok",
            {"live": "green", "stage": "blue"},
        )
        assert links.read_links(site.root) == links.LinkState("green", "blue")

    def test_debug_on_in_the_stage_slot(self, site: Site) -> None:
        settings_file = site.slot_dir("green") / "example_project/mysite/settings/production.py"
        settings_file.write_text(settings_file.read_text() + "\nDEBUG = True\n")
        completed = swap(site)
        assert completed.returncode == 1  # type: ignore[attr-defined]
        assert "check --deploy: exit 1" in completed.stderr  # type: ignore[attr-defined]
        assert "DEBUG is on" in completed.stderr  # type: ignore[attr-defined]
        assert links.read_links(site.root) == links.LinkState("blue", "green")

    def test_failing_health_url(self, site: Site) -> None:
        site.write_env(DEPLOYKIT_STAGE_HEALTH_URL="http://127.0.0.1:9/health")
        completed = swap(site, "--dry-run")
        assert completed.returncode == 1  # type: ignore[attr-defined]
        assert "health URL: http://127.0.0.1:9/health did not answer" in completed.stderr  # type: ignore[attr-defined]
        assert links.read_links(site.root) == links.LinkState("blue", "green")

    def test_dry_run_passes_and_changes_nothing(self, site: Site) -> None:
        commit_change(
            site.source, "example_project/notes/templates/notes/index.html", "Notes", "Notes v2", "v2"
        )
        site.update_slot("green")
        completed = swap(site, "--dry-run", "--format", "json")
        outcome = json.loads(completed.stdout)  # type: ignore[attr-defined]
        assert_documented(outcome, "swap_live.md", SWAP_JSON)
        assert outcome["result"] == "dry-run"
        assert [check["passed"] for check in outcome["gate"]] == [True, True]
        assert links.read_links(site.root) == links.LinkState("blue", "green")


class RollbackMigrationTests:
    def swap_to_v2(self, site: Site) -> None:
        commit_summary_column(site.source)
        site.update_slot("green")
        site.manage("stage", "migrate_safe", "--phase=additive")
        assert swap(site).returncode == 0  # type: ignore[attr-defined]

    def test_rollback_keeps_additive_migrations(self, site: Site) -> None:
        self.swap_to_v2(site)
        completed = site.manage("live", "swap_live", "--rollback")
        assert (
            "The newer code's additive migrations stay applied (notes.0003_note_summary)" in completed.stdout
        )
        assert links.read_links(site.root) == links.LinkState("blue", "green")
        assert "[X] 0003_note_summary" in site.manage("stage", "showmigrations", "notes").stdout

    def test_rollback_with_reverse_migrations(self, site: Site) -> None:
        self.swap_to_v2(site)
        completed = site.manage("stage", "swap_live", "--rollback", "--reverse-migrations")
        assert "Unapplied with the code of green: notes.0003_note_summary" in completed.stdout
        assert links.read_links(site.root) == links.LinkState("blue", "green")
        assert "[ ] 0003_note_summary" in site.manage("stage", "showmigrations", "notes").stdout
        assert "0003" not in applied(site)  # the v1 code does not even know it

    def test_rollback_refused_after_destructive_migrations(self, site: Site) -> None:
        self.swap_to_v2(site)
        # v3 drops the body column that v1 (now the stage slot) still reads.
        commit_drop_body(site.source)
        site.update_slot("green")  # green is live; update it in place for this test
        site.manage("live", "migrate_safe", "--phase=destructive")
        completed = site.manage("live", "swap_live", "--rollback", check=False)
        assert completed.returncode == 1
        assert "Refusing to roll back to blue" in completed.stderr
        assert "notes.0004_remove_note_body" in completed.stderr
        assert links.read_links(site.root) == links.LinkState("green", "blue")
        completed = site.manage("live", "swap_live", "--rollback", "--format", "json", check=False)
        outcome = json.loads(completed.stdout)
        assert_documented(outcome, "swap_live.md", SWAP_JSON, failed=True)
        assert (completed.returncode, outcome["action"], outcome["exit_code"]) == (1, "rollback", 1)
        assert outcome["error"].startswith("Refusing to roll back to blue")

    def test_reverse_migrations_needs_rollback(self, site: Site) -> None:
        completed = swap(site, "--reverse-migrations")
        assert completed.returncode == 1  # type: ignore[attr-defined]
        assert "--reverse-migrations goes with --rollback" in completed.stderr  # type: ignore[attr-defined]
