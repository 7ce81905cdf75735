from __future__ import annotations

import json
from pathlib import Path

import pytest

from django_deploykit.deploy_root.layout import ROOT_MARKER, DeployRoot


def build_fake_root(base: Path, names: tuple[str, str] = ("blue", "green")) -> DeployRoot:
    """A deploy root whose slots are bare folders with a .git marker and a REVISION file."""
    root = base / "site"
    for name in names:
        (root / name / ".git").mkdir(parents=True)
        (root / name / "REVISION").write_text(f"rev-{name}\n")
    (root / "shared").mkdir()
    (root / ROOT_MARKER).write_text(json.dumps({"slots": list(names)}))
    (root / "live").symlink_to(names[0])
    (root / "stage").symlink_to(names[1])
    return DeployRoot(root.resolve(), names)


@pytest.fixture
def fake_root(tmp_path: Path) -> DeployRoot:
    return build_fake_root(tmp_path)
