"""The run skeleton every recorded run shares (django_deploykit.deploy_root.run)."""

from __future__ import annotations

from pathlib import Path

import pytest

from django_deploykit.deploy_root import history
from django_deploykit.deploy_root.layout import DeployRoot
from django_deploykit.deploy_root.run import Run, record_now


@pytest.fixture
def root(tmp_path: Path) -> DeployRoot:
    return DeployRoot(tmp_path)


class RunTests:
    def test_finish_records_the_result_duration_and_fields_once(self, root: DeployRoot) -> None:
        run = Run(root, "pull")
        record = run.finish("ok", to_slot="green", message="pulled", details={"ref": "main"})
        [read] = history.read(root)
        assert read == record
        assert (read.kind, read.result, read.to_slot, read.message, read.details) == (
            "pull",
            "ok",
            "green",
            "pulled",
            {"ref": "main"},
        )
        assert read.id == run.id
        assert read.started_at == run.stopwatch.started_at
        assert read.duration >= 0

    def test_a_field_a_record_does_not_have_is_refused_before_anything_is_written(
        self, root: DeployRoot
    ) -> None:
        with pytest.raises(TypeError, match="no field 'slot'"):
            Run(root, "swap").finish("ok", slot="green")
        assert list(history.read(root)) == []

    def test_stage_logs_go_under_the_runs_id_and_old_folders_are_pruned(self, root: DeployRoot) -> None:
        for _ in range(3):
            run = Run(root, "deploy")
            runner = run.stages(1, lambda line: None)
            runner.run("only", lambda log: "done")
            assert runner.logs.directory == root.logs_dir / run.id
            run.finish("ok", log_keep=2)
        assert len(list(root.logs_dir.iterdir())) == 2

    def test_a_dry_runs_logs_stay_out_of_the_deploy_root(self, root: DeployRoot) -> None:
        runner = Run(root, "pull").stages(1, lambda line: None, temporary=True)
        assert root.path not in runner.logs.directory.parents
        runner.logs.discard()

    def test_record_now(self, root: DeployRoot) -> None:
        record_now(root, "init", "ok", to_slot="blue")
        [read] = history.read(root)
        assert (read.kind, read.result, read.to_slot, read.duration) == ("init", "ok", "blue", 0.0)
