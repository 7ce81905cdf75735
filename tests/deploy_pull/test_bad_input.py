"""Bad options and settings: a clear error, a non-zero exit and nothing changed."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from django_deploykit.deploy_root import history
from tests.deploy_pull.pulling import deploy_pull, live_snapshot, slot_head
from tests.deployment import BARE_ENVIRONMENT, Site

# Run in one tox environment only (tox.ini): among the longest tests, and not about the Django version.
pytestmark = pytest.mark.faults


class DeployPullBadInputTests:
    def test_bad_options_change_nothing(self, site: Site) -> None:
        before = (live_snapshot(site), slot_head(site, "green"), list(history.read(site.root)))
        cases = [
            (
                ("--wait-lock", "-1"),
                "--wait-lock -1 is negative; give a positive duration such as 500ms, 90s, 2min or 1h30m, or 0 for "
                "failing at once.",
            ),
            (("--wait-lock", "soon"), "--wait-lock 'soon' is not a duration"),
            (("--ref", ""), "--ref must name a branch, tag or commit"),
            (("--format", "yaml"), "invalid choice"),
        ]
        for args, message in cases:
            completed = deploy_pull(site, *args)
            assert completed.returncode != 0, args
            assert message in completed.stderr, (args, completed.stderr)
        assert (live_snapshot(site), slot_head(site, "green"), list(history.read(site.root))) == before
        assert not (site.root.path / "logs").exists()

    def test_in_place_needs_a_slot(self, site: Site) -> None:
        # Run from outside the slots, through DEPLOYKIT_ROOT: there is no running slot to update in place.
        outside = site.root.path.parent / "outside"
        shutil.copytree(site.slot_dir("blue") / "example_project", outside)
        completed = subprocess.run(
            [
                str(site.slot_dir("blue") / ".venv" / "bin" / "python"),
                "manage.py",
                "deploy_pull",
                "--in-place",
            ],
            cwd=outside,
            env={**BARE_ENVIRONMENT, "DEPLOYKIT_ROOT": str(site.root.path)},
            capture_output=True,
            text=True,
            check=False,
        )
        assert completed.returncode == 1, completed.stdout + completed.stderr
        assert "--in-place needs the command to run from a slot's checkout" in completed.stderr
