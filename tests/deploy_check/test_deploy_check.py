"""deploy_check against a real deploy root and a real gunicorn server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from django_deploykit.deploy_root.dependencies import marker_path
from tests import slot_packages
from tests.deployment import Site, build_site, commit_file
from tests.json_fields import assert_documented
from tests.servers import free_port, serve

# One of the longest end-to-end tests: it runs in one tox environment only (tox.ini says which).
pytestmark = pytest.mark.end_to_end

RELOAD = json.dumps({"live": {"adapter": "gunicorn", "pidfile": "run/live.pid"}})


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    site = build_site(tmp_path)
    slot_packages.add_to_wheelhouse("six==1.17.0")
    commit_file(site.source, "requirements.txt", "django-deploykit\ngunicorn>=22\nsix==1.17.0\n", "pin six")
    site.manage("live", "migrate", "-v0")
    try:
        yield site
    finally:
        site.stop_servers()


def findings(site: Site, *args: str) -> tuple[int, dict[str, list[dict[str, str]]]]:
    completed = site.manage("live", "deploy_check", "--format", "json", *args, check=False)
    document = json.loads(completed.stdout)
    assert_documented(document, "deploy.md", "`deploy_check`", failed=completed.returncode != 0)
    assert document["exit_code"] == completed.returncode
    by_check: dict[str, list[dict[str, str]]] = {}
    for finding in document["findings"]:
        by_check.setdefault(finding["check"], []).append(finding)
    return completed.returncode, by_check


def levels(by_check: dict[str, list[dict[str, str]]], check: str) -> list[str]:
    return [finding["level"] for finding in by_check[check]]


class DeployCheckTests:
    def test_a_healthy_live_slot_has_no_errors(self, site: Site) -> None:
        assert site.manage("stage", "deploy_pull", check=False).returncode == 0
        assert site.manage("live", "swap_live", "--no-reload", check=False).returncode == 0
        serve(site, "live", urls=("live",), DEPLOYKIT_RELOAD=RELOAD)

        code, by_check = findings(site)

        assert code == 0, by_check
        for check in ("links", "requirements", "debug", "static", "migrations", "reload", "server"):
            assert set(levels(by_check, check)) == {"ok"}, (check, by_check[check])

    def test_errors_each_with_a_fix_and_a_non_zero_exit(self, site: Site) -> None:
        # blue gets the pinned requirements file by hand, without deploy_pull: nothing installed or collected.
        site.update_slot("blue")
        site.ports["live"] = free_port()
        site.write_env(DEPLOYKIT_LIVE_URL=site.url("live"))

        code, by_check = findings(site)

        assert code == 1
        assert levels(by_check, "debug") == ["ok"]
        assert "error" in levels(by_check, "requirements")
        assert "six" in " ".join(f["detail"] for f in by_check["requirements"])
        assert levels(by_check, "static") == ["error"]
        assert levels(by_check, "server") == ["error"]
        # No reload adapter configured: never a silent ok.
        assert levels(by_check, "reload") == ["warning"]
        assert "DEPLOYKIT_RELOAD has no adapter for live" in by_check["reload"][0]["detail"]
        for items in by_check.values():
            for finding in items:
                if finding["level"] != "ok":
                    assert finding["fix"], finding

    def test_text_output_and_stage_slot(self, site: Site) -> None:
        site.update_slot("green")
        # deploykit_init recorded what it installed; deploy_check only reads, so the record stays.
        installed = marker_path(site.slot_dir("green")).read_text()
        completed = site.manage("live", "deploy_check", "--slot", "stage", check=False)
        assert "[error] requirements" in completed.stdout
        assert "fix: " in completed.stdout
        assert "DEPLOYKIT_STAGE_URL is not set" in completed.stdout
        assert completed.returncode == 1
        assert "found" in completed.stderr
        assert marker_path(site.slot_dir("green")).read_text() == installed

    def test_a_long_message_is_cut_at_a_word_and_says_how_to_see_all_of_it(self, site: Site) -> None:
        # The stage slot's production settings stop with a long message; the live slot's still load.
        production = site.slot_dir("green") / "example_project" / "mysite" / "settings" / "production.py"
        production.write_text(
            production.read_text()
            + "\nfrom django.core.exceptions import ImproperlyConfigured\n"
            + "raise ImproperlyConfigured(\"The cache alias 'default' has the KEY_PREFIX '', \" + "
            + '"which every slot would share; " * 20 + "set CACHE_URL.")\n'
        )

        code, by_check = findings(site, "--slot", "stage")

        assert code == 1
        details = [by_check["settings"][0]["detail"], by_check["migrations"][0]["detail"]]
        assert details[0].startswith("the production settings do not load in green: …")
        assert details[1].startswith("migrate_safe --plan failed (exit 1): …")
        for detail in details:
            quoted, _, pointer = detail.split("…", 1)[1].partition(" (more in the output of: cd ")
            assert quoted.endswith("which every slot would share; set CACHE_URL.")
            # The cut is at a word: the first word kept is a whole word of the message.
            first_word = quoted.split()[0]
            assert first_word in {"which", "every", "slot", "would", "share;", "set"}, detail
            assert "green/.venv/bin/python manage.py" in pointer

    def test_bad_input(self, site: Site) -> None:
        completed = site.manage("live", "deploy_check", "--slot", "blue", check=False)
        assert completed.returncode == 2
        assert "invalid choice: 'blue'" in completed.stderr
