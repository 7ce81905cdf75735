"""Stage logs (redacted, pruned) and the per-slot static manifest, without a deploy root's servers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.core.files import File
from django.core.files.storage import FileSystemStorage
from django.test import override_settings

from django_deploykit.deploy_pull.storage import SlotManifestStaticFilesStorage
from django_deploykit.deploy_root.logs import RunLogs, prune
from tests.deployment import Site, build_site


@pytest.fixture
def bare_site(tmp_path: Path) -> Site:
    return build_site(tmp_path, venvs=False)


class StageLogTests:
    def test_a_stage_log_holds_command_output_exit_code_and_duration_redacted(self, bare_site: Site) -> None:
        log = RunLogs(bare_site.root, "20260101T000000Z-abcdef").stage(3, "dependencies")
        log.starting(
            ["pip", "install", "--index-url", "https://user:t0ps3cret@pypi.example.org/simple"], Path("/srv")
        )
        log.finished(1, 2.5, "Collecting x", "ERROR: no matching distribution")
        text = log.read()
        assert log.path.name == "03-dependencies.log"
        assert "$ cd /srv" in text
        assert "pypi.example.org" in text
        assert "t0ps3cret" not in text
        assert "[stdout]\nCollecting x" in text
        assert "[stderr]\nERROR: no matching distribution" in text
        assert "[exit 1 after 2.50 s]" in text

    def test_prune_keeps_the_newest_runs(self, bare_site: Site) -> None:
        for day in range(1, 6):
            RunLogs(bare_site.root, f"2026010{day}T000000Z-aaaaaa").stage(1, "lock").write("x")
        removed = prune(bare_site.root, keep=2)
        assert [path.name[:9] for path in removed] == ["20260101T", "20260102T", "20260103T"]
        remaining = sorted(path.name[:9] for path in (bare_site.root.path / "logs").iterdir())
        assert remaining == ["20260104T", "20260105T"]


def collect(slot: str, source: Path, static_root: Path) -> None:
    """What collectstatic does with one file: copy it, then post-process (hash and write the manifest)."""
    with override_settings(DEPLOYKIT_SETTINGS_CHOICE={"slot": slot}, STATIC_URL="/static/"):
        storage = SlotManifestStaticFilesStorage(location=str(static_root), base_url="/static/")
        with open(source / "site.css", "rb") as handle:
            storage.save("site.css", File(handle))
        found = {"site.css": (FileSystemStorage(location=str(source)), "site.css")}
        for _name, _hashed, processed in storage.post_process(found):
            assert not isinstance(processed, Exception), processed


class SlotManifestTests:
    def test_each_slot_writes_its_own_manifest_into_the_shared_root(self, tmp_path: Path) -> None:
        source = tmp_path / "assets"
        source.mkdir()
        static_root = tmp_path / "static"
        for slot, body in (("blue", "body { color: blue }"), ("green", "body { color: green }")):
            (source / "site.css").write_text(body)
            collect(slot, source, static_root)
        blue = json.loads((static_root / "staticfiles-blue.json").read_text())["paths"]["site.css"]
        green = json.loads((static_root / "staticfiles-green.json").read_text())["paths"]["site.css"]
        assert blue != green
        # Add-only: blue's hashed file is still there after green collected.
        assert (static_root / blue).read_text() == "body { color: blue }"
        assert (static_root / green).read_text() == "body { color: green }"
