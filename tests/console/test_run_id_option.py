"""--run-id, which the console gives deploy and swap_live (and a deploy gives its deploy_pull): refused with a
sentence and nothing changed when it is not a run id, is taken already, or goes with a dry run."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from django_deploykit.deploy_root import history
from django_deploykit.deploy_root.layout import DeployRoot
from django_deploykit.deploy_root.run import Run


def _snapshot(root: DeployRoot) -> tuple[list[str], list[str]]:
    logs = sorted(path.name for path in root.logs_dir.iterdir()) if root.logs_dir.exists() else []
    return logs, [record.id for record in history.read(root)]


@pytest.mark.parametrize(
    "command",
    [("deploy", "--yes"), ("swap_live", "--rollback"), ("deploy_pull",)],
    ids=lambda command: command[0],
)
@pytest.mark.parametrize(
    ("run_id", "sentence"),
    [
        ("../escape", "is not a run id"),
        ("20261201T101500Z-ABCDEF", "is not a run id"),
        ("taken", "exists already"),
    ],
)
def test_a_bad_run_id_is_refused_and_nothing_changes(
    root: DeployRoot, command: tuple[str, ...], run_id: str, sentence: str
) -> None:
    if run_id == "taken":
        run_id = Run(root, "deploy").finish("ok").id
    before = _snapshot(root)
    with pytest.raises(CommandError, match=sentence) as raised:
        call_command(*command, "--run-id", run_id, stdout=StringIO(), stderr=StringIO())
    assert raised.value.returncode == 1
    assert _snapshot(root) == before


def test_a_dry_run_records_nothing_so_takes_no_run_id(root: DeployRoot) -> None:
    before = _snapshot(root)
    with pytest.raises(CommandError, match="a dry run records nothing"):
        call_command("deploy_pull", "--dry-run", "--run-id", "20261201T101500Z-abcdef", stdout=StringIO())
    assert _snapshot(root) == before
