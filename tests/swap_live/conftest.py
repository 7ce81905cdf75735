from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.test import override_settings

from django_deploykit.deploy_root.layout import ROOT_MARKER, DeployRoot
from tests.commands import run_command


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


def settings_of(root: DeployRoot) -> override_settings:
    """The settings of a project deployed in ``root``, its code in example_project/ of each slot."""
    return override_settings(DEPLOYKIT_ROOT=str(root.path), DEPLOYKIT_PROJECT_SUBDIR="example_project")


def run_swap_live(root: DeployRoot, *args: str) -> tuple[str, str, int]:
    """swap_live on ``root`` in this process: (stdout, stderr, exit code)."""
    with settings_of(root):
        return run_command("swap_live", *args)
