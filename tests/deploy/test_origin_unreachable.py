"""The origin unreachable during ``deploy``: its pull stage fails naming the origin, live is untouched,
both the pull and the deploy are recorded as failed, and the message names the command to run again."""

from __future__ import annotations

import pytest

from django_deploykit.deploy_root import history
from tests.deploy.deploying import deploy, deploy_json, last_deploy
from tests.deploy_pull.pulling import last_pull, live_snapshot, slot_head
from tests.deploy_pull.test_faults import origin_url_to_a_closed_port
from tests.deployment import Site, commit_heading_v2

# A heavy fault or corpus test: it runs in one tox environment only (tox.ini says which).
pytestmark = pytest.mark.faults


class OriginUnreachableTests:
    def test_deploy_fails_at_its_pull_naming_the_origin_and_leaves_live_untouched(self, site: Site) -> None:
        commit_heading_v2(site.source)
        before = live_snapshot(site)
        stage_before = slot_head(site, "green")
        moved = site.source.parent / "source-moved-away"
        site.source.rename(moved)

        completed = deploy(site)

        assert completed.returncode == 1, completed.stdout + completed.stderr
        assert "Traceback" not in completed.stderr
        assert "The pull stage failed: deploy_pull failed at its git stage" in completed.stderr
        assert f"git could not fetch from the remote 'origin' ({site.source})" in completed.stderr
        assert "Live was not touched (blue still serves the old code)" in completed.stderr
        assert "run the deploy again (manage.py deploy --ref main --yes)" in completed.stderr
        assert live_snapshot(site) == before
        assert slot_head(site, "green") == stage_before
        assert last_deploy(site).result == "failed"
        assert last_pull(site).result == "failed"
        assert [r.kind for r in history.read(site.root)][-2:] == ["pull", "deploy"]

        # Back again: the same command deploys.
        moved.rename(site.source)
        code, outcome = deploy_json(site)
        assert code == 0, outcome
        assert last_deploy(site).result == "ok"

    def test_json_names_the_origin_and_the_next_step(self, site: Site) -> None:
        url = origin_url_to_a_closed_port(site)
        before = live_snapshot(site)
        code, outcome = deploy_json(site)
        assert (code, outcome["exit_code"], outcome["result"]) == (1, 1, "failed")
        assert f"git could not fetch from the remote 'origin' ({url})" in outcome["error"]
        assert outcome["next_steps"] == ["manage.py deploy --ref main --yes"]
        assert live_snapshot(site) == before
