"""The README's first command, end to end: python -m django_deploykit.demo."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from django_deploykit.demo.sandbox import run
from django_deploykit.deploy_root import history
from tests.deployment import REPO_ROOT

# One of the longest end-to-end tests: it runs in one tox environment only (tox.ini says which).
pytestmark = pytest.mark.end_to_end


class DemoTests:
    def test_the_demo_deploys_v1_then_v2_with_no_failed_request(self, tmp_path: Path) -> None:
        lines: list[str] = []

        # From this checkout, whether the package is installed editable or not (tox).
        result = run(tmp_path / "demo", say=lines.append, source=REPO_ROOT / "example_project")

        assert result.load.requests > 20
        assert result.load.failures == []
        assert result.live["revision"] == result.revisions["v2"]
        deploys = [record for record in history.read(result.root) if record.kind == "deploy"]
        assert [record.result for record in deploys] == ["ok", "ok"]
        assert deploys[-1].to_revision == result.revisions["v2"]
        output = "\n".join(lines)
        for stage in ("pull", "swap", "migrate-destructive", "clear-old-cache"):
            assert f"] {stage}: " in output, stage
        # The stages say what they did, not their command's last line.
        assert "is the stage; verified by the live server" in output
        assert "applied 1 destructive migration: notes.0004_remove_note_body in " in output
        assert "0 failed" in output
        assert re.search(r"^The demo took \d+ s\.$", output, re.MULTILINE)
        assert not list((result.root.path / "run").glob("*.pid"))
