"""Bad options and settings: a clear error, a non-zero exit and nothing changed."""

from __future__ import annotations

from django_deploykit import history
from tests.deploy_pull.pulling import deploy_pull, live_snapshot, slot_head
from tests.deployment import Site


class DeployPullBadInputTests:
    def test_bad_options_change_nothing(self, site: Site) -> None:
        before = (live_snapshot(site), slot_head(site, "green"), list(history.read(site.root)))
        cases = [
            (("--wait-lock", "-1"), "--wait-lock must be zero or a positive number of seconds."),
            (("--wait-lock", "soon"), "invalid float value"),
            (("--ref", ""), "--ref must name a branch, tag or commit"),
            (("--format", "yaml"), "invalid choice"),
        ]
        for args, message in cases:
            completed = deploy_pull(site, *args)
            assert completed.returncode != 0, args
            assert message in completed.stderr, (args, completed.stderr)
        assert (live_snapshot(site), slot_head(site, "green"), list(history.read(site.root))) == before
        assert not (site.root.path / "logs").exists()
