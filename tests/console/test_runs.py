"""A run's progress as the console reads it: stages as they go, a poll that reads only what is new."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable

import pytest
from django.test import Client

from django_deploykit.console import runs
from django_deploykit.deploy_root import history, progress
from django_deploykit.deploy_root.layout import PROGRESS_NAME, DeployRoot
from django_deploykit.deploy_root.run import Run
from django_deploykit.deploy_root.stages import StageFailed, StageSkipped
from tests.console.conftest import CONSOLE


def _run_with_stages(root: DeployRoot, run_id: str | None = None, fail: bool = False) -> Run:
    run = Run(root, "deploy", run_id)
    runner = run.stages(3, lambda line: None, planned=["first", "second", "third"])
    runner.run("first", lambda log: (log.write("hello from the first stage"), "did one thing")[1])

    def skipped(log: object) -> str:
        raise StageSkipped("nothing to do")

    runner.run("second", skipped)
    if fail:

        def failing(log: object) -> str:
            raise RuntimeError("it broke")

        with pytest.raises(StageFailed):
            runner.run("third", failing)
        run.finish("failed", message="The third stage failed; resume with --resume-from third.")
    return run


class ProgressFileTests:
    def test_stages_are_recorded_as_they_start_and_end(self, root: DeployRoot) -> None:
        run = _run_with_stages(root)
        state = progress.read(root, run.id)
        assert state is not None
        assert [(s.name, s.status) for s in state.stages] == [("first", "ok"), ("second", "skipped")]
        assert state.planned == ["first", "second", "third"]
        assert state.result is None
        assert state.pid == os.getpid()
        assert state.stages[0].summary == "did one thing"
        assert state.stages[0].log == "01-first.log"

    def test_a_stage_is_running_while_its_body_runs(self, root: DeployRoot) -> None:
        run = Run(root, "deploy")
        runner = run.stages(1, lambda line: None)
        seen = []

        def body(log: object) -> str:
            current = progress.read(root, run.id)
            assert current is not None
            seen.append(current.running_stage.name if current.running_stage else None)
            return "done"

        runner.run("only", body)
        assert seen == ["only"]

    def test_the_end_is_recorded_with_the_result(self, root: DeployRoot) -> None:
        run = _run_with_stages(root, fail=True)
        state = progress.read(root, run.id)
        assert state is not None
        assert state.result == "failed"
        assert state.stages[-1].status == "failed"
        assert "it broke" in state.stages[-1].summary
        assert "resume" in state.message

    def test_a_run_id_given_by_the_console_is_the_records_id(self, root: DeployRoot) -> None:
        run_id = "20261201T101500Z-abc123"
        run = Run(root, "rollback", run_id)
        # A run without stages has its progress file from the start, for the console's page.
        assert progress.read(root, run_id) is not None
        run.finish("ok")
        assert [record.id for record in history.read(root)][-1] == run_id

    def test_a_progress_file_that_cannot_be_written_does_not_fail_the_run(self, root: DeployRoot) -> None:
        run = Run(root, "deploy")
        runner = run.stages(1, lambda line: None)
        # A folder in the file's place: every replacement of it fails (as on a full or read-only disk).
        blocked = runner.logs.directory / PROGRESS_NAME
        blocked.unlink()
        (blocked / "in-the-way").mkdir(parents=True)
        runner.run("only", lambda log: "done")
        run.finish("ok")
        assert blocked.is_dir()
        assert list(history.read(root))[-1].result == "ok"


class ReadLogTests:
    def test_reads_from_an_offset_at_most_a_chunk(self, root: DeployRoot) -> None:
        run = _run_with_stages(root)
        whole = (root.run_log_dir(run.id) / "01-first.log").read_text()
        first = progress.read_log(root, run.id, "01-first.log", 0, limit=10)
        assert first.text == whole[:10]
        assert first.offset == 10
        assert not first.complete
        rest = progress.read_log(root, run.id, "01-first.log", first.offset)
        assert first.text + rest.text == whole
        assert rest.complete

    def test_never_cuts_a_character_in_two(self, root: DeployRoot) -> None:
        run = Run(root, "deploy")
        run.stages(1, lambda line: None)
        (root.run_log_dir(run.id) / "01-x.log").write_text("ab€cd", encoding="utf-8")
        chunk = progress.read_log(root, run.id, "01-x.log", 0, limit=3)
        assert chunk.text == "ab"
        assert chunk.offset == 2
        assert progress.read_log(root, run.id, "01-x.log", 2, limit=3).text == "€"

    @pytest.mark.parametrize("name", ["../history.jsonl", ".deploy.lock.json", "/etc/passwd", "a/b"])
    def test_only_the_runs_own_files(self, root: DeployRoot, name: str) -> None:
        run = _run_with_stages(root)
        assert progress.read_log(root, run.id, name).text == ""

    @pytest.mark.parametrize("run_id", ["..", "../logs", "20261201T101500Z-abc12", "x" * 300])
    def test_a_bad_run_id_reads_nothing(self, root: DeployRoot, run_id: str) -> None:
        assert progress.read(root, run_id) is None
        assert progress.read_log(root, run_id, "run.json").text == ""
        assert runs.state_of(root, run_id) is None


class RunStateTests:
    def test_a_run_whose_process_is_gone_is_stopped(self, root: DeployRoot) -> None:
        run = _run_with_stages(root)
        dead = subprocess.run(
            [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
        )
        path = root.run_log_dir(run.id) / PROGRESS_NAME
        data = json.loads(path.read_text())
        data["pid"] = int(dead.stdout)
        path.write_text(json.dumps(data))
        state = runs.state_of(root, run.id)
        assert state is not None
        assert state.state == "stopped"
        assert "killed" in state.message

    def test_a_finished_run_has_its_record_and_advice(self, root: DeployRoot) -> None:
        run = _run_with_stages(root, fail=True)
        state = runs.state_of(root, run.id)
        assert state is not None
        assert state.finished
        assert state.state == "failed"
        assert state.record is not None
        assert state.record.id == run.id

    def test_a_poll_of_a_run_with_progress_leaves_its_launch_record_unread(
        self, root: DeployRoot, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        run = _run_with_stages(root)
        read: list[str] = []
        monkeypatch.setattr(runs, "read_launch", lambda root, run_id: read.append(run_id))
        state = runs.state_of(root, run.id, with_record=False)
        assert state is not None
        assert state.stages
        assert read == []

    def test_a_run_recorded_without_progress_is_shown_from_its_record(self, root: DeployRoot) -> None:
        record = history.HistoryRecord(
            kind="swap", result="ok", started_at="2026-12-01T10:00:00+00:00", duration=2.0
        )
        history.append(root, record)
        state = runs.state_of(root, record.id)
        assert state is not None
        assert (state.kind, state.state) == ("swap", "ok")


@pytest.mark.django_db
class PollTests:
    def test_a_poll_returns_the_run_only_when_it_changed_and_the_new_bytes(
        self, root: DeployRoot, client_for: Callable[..., Client]
    ) -> None:
        client = client_for("view")
        run = Run(root, "deploy")
        runner = run.stages(2, lambda line: None, planned=["one", "two"])
        runner.run("one", lambda log: (log.write("line one"), "ok")[1])
        url = f"{CONSOLE}runs/{run.id}/poll/"
        first = client.get(url, {"log": "01-one.log", "offset": 0}).json()
        assert first["run"]["stages"][0]["status"] == "ok"
        assert first["state"] == "running"
        assert "line one" in first["log"]["text"]
        assert first["log"]["complete"]
        again = client.get(
            url, {"version": first["version"], "log": "01-one.log", "offset": first["log"]["offset"]}
        )
        body = again.json()
        assert "run" not in body
        assert body["log"]["text"] == ""
        runner.run("two", lambda log: "ok")
        changed = client.get(url, {"version": first["version"], "log": "02-two.log", "offset": 0}).json()
        assert [s["name"] for s in changed["run"]["stages"]] == ["one", "two"]
        run.finish("ok")
        done = client.get(url, {"version": changed["version"], "log": "02-two.log", "offset": 0}).json()
        assert done["finished"]
        assert done["run"]["state"] == "ok"

    def test_a_stages_own_run_is_polled_with_it(
        self, root: DeployRoot, client_for: Callable[..., Client]
    ) -> None:
        client = client_for("view")
        deploy = Run(root, "deploy")
        runner = deploy.stages(2, lambda line: None, planned=["pull", "swap"])
        seen = {}

        def pull_body(log: object) -> str:
            child = Run(root, "pull", "20261201T101500Z-c0ffee")
            runner.note_child(child.id)
            child_runner = child.stages(2, lambda line: None)
            child_runner.run("git", lambda log: "fetched")
            url = f"{CONSOLE}runs/{deploy.id}/poll/"
            seen["poll"] = client.get(url, {"log": "01-pull.log"}).json()
            seen["page"] = client.get(f"{CONSOLE}runs/{deploy.id}/").content.decode()
            child.finish("ok")
            return "pulled"

        runner.run("pull", pull_body)
        child = seen["poll"]["child"]
        assert child["stage"] == 1
        assert child["id"] == "20261201T101500Z-c0ffee"
        assert [(stage["name"], stage["status"]) for stage in child["stages"]] == [("git", "ok")]
        assert 'href="/-/deploykit/console/runs/20261201T101500Z-c0ffee/"' in seen["page"]
        assert progress.read(root, deploy.id).stages[0].child == "20261201T101500Z-c0ffee"  # type: ignore[union-attr]

    def test_the_run_page_shows_stages_logs_and_advice(
        self, root: DeployRoot, client_for: Callable[..., Client]
    ) -> None:
        run = _run_with_stages(root, fail=True)
        page = client_for("view").get(f"{CONSOLE}runs/{run.id}/").content.decode()
        assert "status-failed" in page
        assert "hello from the first stage" in page
        assert "resume with --resume-from third" in page
        # A finished run's page does not poll.
        assert "pollUrl" not in page

    def test_a_failed_deploys_page_offers_to_resume_or_deploy_again(
        self, root: DeployRoot, client_for: Callable[..., Client]
    ) -> None:
        after_swap = _run_with_stages(root, fail=True)
        after_swap.record.details = {
            "ref": "main",
            "next_steps": [
                "manage.py deploy --ref main --resume-from third --yes",
                "manage.py swap_live --rollback",
            ],
        }
        history.append(root, after_swap.record)
        client = client_for("push")
        page = client.get(f"{CONSOLE}runs/{after_swap.id}/").content.decode()
        assert 'name="resume_from" value="third"' in page
        assert "swap-back-button" in page
        before_swap = _run_with_stages(root, fail=True)
        before_swap.record.details = {"ref": "main", "next_steps": ["manage.py deploy --ref main --yes"]}
        history.append(root, before_swap.record)
        page = client.get(f"{CONSOLE}runs/{before_swap.id}/").content.decode()
        assert "deploy-again-button" in page
        assert "resume_from" not in page
        viewer = client_for("view").get(f"{CONSOLE}runs/{after_swap.id}/").content.decode()
        assert "resume-button" not in viewer
        assert "swap-back-button" not in viewer

    def test_an_unknown_run_is_404(self, root: DeployRoot, client_for: Callable[..., Client]) -> None:
        client = client_for("view")
        assert client.get(f"{CONSOLE}runs/20261201T101500Z-abcdef/").status_code == 404
        assert client.get(f"{CONSOLE}runs/../poll/").status_code == 404
        assert client.get(f"{CONSOLE}runs/20261201T101500Z-abcdef/poll/", {"offset": "x"}).status_code == 404
