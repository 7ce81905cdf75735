"""swap_live against real gunicorn servers, each slot with its own virtualenv and dependency version."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from django_deploykit.deploy_root import history, links
from django_deploykit.exit_codes import ExitCode
from tests.deployment import Site, build_site, commit_heading_v2
from tests.servers import ServerKind, serve

# One of the longest end-to-end tests: it runs in one tox environment only (tox.ini says which).
pytestmark = pytest.mark.end_to_end

RELOAD = json.dumps(
    {
        "live": {"adapter": "gunicorn", "pidfile": "run/live.pid"},
        "stage": {"adapter": "gunicorn", "pidfile": "run/stage.pid"},
    }
)

UWSGI_RELOAD = json.dumps(
    {
        "live": {"adapter": "touch", "path": "run/live.reload"},
        "stage": {"adapter": "touch", "path": "run/stage.reload"},
    }
)


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    site = build_site(tmp_path)
    v2 = commit_heading_v2(site.source)
    assert site.update_slot("green") == v2
    site.pip_install("blue", "six==1.16.0")
    site.pip_install("green", "six==1.17.0")
    try:
        yield site
    finally:
        site.stop_servers()


def start(site: Site, server: ServerKind = "gunicorn") -> None:
    site.manage("live", "migrate", "-v0")
    reload = RELOAD if server == "gunicorn" else UWSGI_RELOAD
    serve(
        site,
        "live",
        "stage",
        server=server,
        urls=("live",),
        DEPLOYKIT_REPORT_PACKAGES="six",
        DEPLOYKIT_RELOAD=reload,
    )


class SwapEndToEndTests:
    def test_swap_serves_the_new_slots_code_and_virtualenv_then_rolls_back(self, site: Site) -> None:
        start(site)
        before = site.revision("live")
        assert (before["slot"], before["packages"]["six"]) == ("blue", "1.16.0")
        assert before["sys_prefix"] == str(site.slot_dir("blue") / ".venv")
        assert before["settings_mode"] == "production"

        completed = site.manage("live", "swap_live", "--format", "json", "--timeout", "30")
        outcome = json.loads(completed.stdout)
        assert outcome["result"] == "ok", completed.stderr
        assert outcome["verified"] is True
        assert outcome["after"] == {"live": "green", "stage": "blue"}
        assert [check["passed"] for check in outcome["gate"]] == [True, True]

        after = site.revision("live")
        assert after["slot"] == "green"
        assert after["revision"] == (site.slot_dir("green") / "REVISION").read_text().strip()
        assert after["sys_prefix"] == str(site.slot_dir("green") / ".venv")
        assert after["packages"]["six"] == "1.17.0"
        assert site.revision("stage")["slot"] == "blue"
        assert links.read_links(site.root) == links.LinkState("green", "blue")
        record = history.last(site.root)
        assert record is not None
        assert (record.from_slot, record.to_slot, record.result) == ("blue", "green", "ok")

        # Either slot can run the command: rollback from what is now the stage slot.
        completed = site.manage("stage", "swap_live", "--rollback", "--format", "json")
        assert json.loads(completed.stdout)["result"] == "ok", completed.stderr
        back = site.revision("live")
        assert (back["slot"], back["packages"]["six"]) == ("blue", "1.16.0")

    def test_uwsgi_touch_reload_serves_the_new_slots_code_and_virtualenv(self, site: Site) -> None:
        start(site, server="uwsgi")
        assert site.revision("live")["sys_prefix"] == str(site.slot_dir("blue") / ".venv")
        completed = site.manage("live", "swap_live", "--format", "json", "--timeout", "30", check=False)
        assert json.loads(completed.stdout)["result"] == "ok", completed.stderr
        after = site.revision("live")
        assert (after["slot"], after["packages"]["six"]) == ("green", "1.17.0")
        assert after["sys_prefix"] == str(site.slot_dir("green") / ".venv")
        assert site.revision("stage")["slot"] == "blue"

    def test_a_server_that_keeps_the_old_code_is_swapped_back(self, site: Site) -> None:
        start(site)
        # A "reload" that does nothing: the live server keeps serving blue.
        site.write_env(
            DEPLOYKIT_REPORT_PACKAGES="six",
            DEPLOYKIT_RELOAD=json.dumps({"live": {"adapter": "command", "argv": ["true"]}}),
            DEPLOYKIT_LIVE_URL=site.url("live"),
        )
        completed = site.manage("live", "swap_live", "--timeout", "3", check=False)
        assert completed.returncode == ExitCode.SWAPPED_BACK, completed.stdout + completed.stderr
        assert "did not go live" in completed.stderr
        assert "Swapped back: blue is live again" in completed.stderr
        # What the live server reported is said once, by the error, not by a progress line too.
        assert (completed.stdout + completed.stderr).count("still reports revision") == 1
        assert links.read_links(site.root) == links.LinkState("blue", "green")
        assert site.revision("live")["slot"] == "blue"
        record = history.last(site.root, kinds=("swap",))
        assert record is None  # no successful swap recorded
        results = [r.result for r in history.read(site.root) if r.kind == "swap"]
        assert results == ["swapped-back"]
