"""deploy_log lists the history and shows one record with its stage logs."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from django_deploykit.deploy_root import history
from django_deploykit.deploy_root.logs import RunLogs
from tests.commands import run_command
from tests.deployment import Site, build_site
from tests.json_fields import assert_documented


@pytest.fixture
def bare_site(tmp_path: Path) -> Site:
    return build_site(tmp_path, venvs=False)


def run(site: Site, *args: str) -> str:
    out = StringIO()
    with override_settings(DEPLOYKIT_ROOT=str(site.root.path)):
        call_command("deploy_log", *args, stdout=out)
    return out.getvalue()


def add_pull(site: Site, result: history.Result = "ok") -> history.HistoryRecord:
    record = history.HistoryRecord(
        kind="pull", result=result, started_at="2026-01-01T00:00:00+00:00", duration=2.5
    )
    logs = RunLogs(site.root, record.id)
    log = logs.stage(1, "git")
    log.starting(["git", "fetch", "https://deploy:hunter22secret@git.example.org/site.git"])
    log.finished(0, 0.4, "fetched", "")
    record.to_slot, record.to_revision = "green", "a" * 40
    record.details = {
        "ref": "main",
        "log_dir": str(logs.directory),
        "stages": [
            {
                "number": 1,
                "name": "git",
                "status": result,
                "duration": 0.4,
                "summary": "moved",
                "log": str(log.path),
            }
        ],
    }
    history.append(site.root, record)
    return record


class DeployLogTests:
    def test_lists_newest_first_and_limits_with_last(self, bare_site: Site) -> None:
        first = add_pull(bare_site)
        second = add_pull(bare_site, "failed")
        lines = run(bare_site).splitlines()
        assert lines[0].startswith(second.id)
        assert lines[1].startswith(first.id)
        assert lines[2].split()[1] == "init"
        assert run(bare_site, "--last", "1").splitlines() == [lines[0]]
        data = json.loads(run(bare_site, "--format", "json", "--last", "2"))
        assert_documented(data, "deploy.md", "`deploy_log`")
        assert [item["id"] for item in data["records"]] == [second.id, first.id]
        assert data["exit_code"] == 0

    def test_shows_one_record_with_its_redacted_stage_logs(self, bare_site: Site) -> None:
        record = add_pull(bare_site)
        text = run(bare_site, record.id[:22])
        assert "--- 01 git: ok" in text
        assert "git.example.org" in text
        assert "hunter22secret" not in text
        data = json.loads(run(bare_site, record.id, "--format", "json"))
        assert_documented(data, "deploy.md", "`deploy_log ID`")
        assert {"id", "kind", "result", "from_slot", "to_slot", "details", "message"} <= set(data)
        assert data["stage_logs"][0]["name"] == "git"
        assert "fetched" in data["stage_logs"][0]["text"]

    def test_one_record_in_text_is_lines_not_python_values(self, bare_site: Site) -> None:
        message = "The pull stage failed: " + "a long reason, " * 20 + "and its end."
        record = history.HistoryRecord(
            kind="deploy",
            result="failed",
            started_at="2026-01-01T00:00:00+00:00",
            duration=2.5,
            from_slot="blue",
            to_slot="green",
            message=message,
            details={
                "ref": "main",
                "swapped": False,
                "commits": ["abc1234 v2: summary", "def5678 v3: no body"],
                "stages": [],
                "next_steps": ["manage.py deploy --ref main --yes"],
            },
        )
        history.append(bare_site.root, record)

        lines = run(bare_site, record.id).splitlines()

        assert lines[0].startswith(f"{record.id}  deploy   failed")
        assert lines[1:] == [
            f"message: {message}",
            "ref: main",
            "swapped: no",
            "commits:",
            "  abc1234 v2: summary",
            "  def5678 v3: no body",
            "next steps:",
            "  manage.py deploy --ref main --yes",
        ]
        # The list shortens the message at a word, says so, and says where the rest is.
        (listed,) = [line for line in run(bare_site).splitlines() if line.startswith(record.id)]
        shown = listed.rsplit("  ", 1)[1]
        assert shown.endswith(f"… (more in deploy_log {record.id})")
        kept = shown.split("…")[0]
        assert message.startswith(kept)
        assert message[len(kept)] in " ,"

    def test_a_pruned_log_is_reported_not_fatal(self, bare_site: Site) -> None:
        record = add_pull(bare_site)
        Path(record.details["stages"][0]["log"]).unlink()
        assert "cannot be read" in run(bare_site, record.id)

    def test_bad_input(self, bare_site: Site) -> None:
        with pytest.raises(CommandError, match="No record 'nope' in the deploy history"):
            run(bare_site, "nope")
        with override_settings(DEPLOYKIT_ROOT=str(bare_site.root.path)):
            out, err, code = run_command("deploy_log", "nope", "--format", "json")
        assert code == 1
        assert "No record 'nope'" in err
        assert json.loads(out) == {"error": err, "exit_code": 1}
        with pytest.raises(CommandError, match="--last must be a positive number of records."):
            run(bare_site, "--last", "0")
