"""Defect 8: what ``swap_live --repair`` must refuse, saying what to do by hand and changing nothing."""

from __future__ import annotations

import hashlib
import json
import os

import pytest

from django_deploykit.deploy_root import history, links
from django_deploykit.deploy_root.layout import DeployRoot
from tests.swap_live.conftest import run_swap_live


def digest(root: DeployRoot) -> dict[str, str]:
    """Every entry of the deploy root: a link's target, a file's content hash, or 'dir'."""
    found: dict[str, str] = {}
    for folder, dirs, files in os.walk(root.path):
        for name in dirs + files:
            path = os.path.join(folder, name)
            relative = os.path.relpath(path, root.path)
            if relative == ".deploy.lock":
                continue  # stays after the lock is released; it carries no state
            if os.path.islink(path):
                found[relative] = "-> " + os.readlink(path)
            elif os.path.isdir(path):
                found[relative] = "dir"
            else:
                with open(path, "rb") as handle:
                    found[relative] = hashlib.sha256(handle.read()).hexdigest()
    return found


def refused_swap_live(root: DeployRoot, *args: str) -> tuple[int, str, dict[str, object]]:
    """swap_live with ``--format json``, which must refuse: its exit code, its message and its document."""
    out, err, code = run_swap_live(root, *args, "--format", "json")
    assert code != 0, out
    return code, err, json.loads(out)


def make_real_folder(root: DeployRoot, name: str) -> None:
    link = root.path / name
    link.unlink()
    link.mkdir()
    (link / "uploads.txt").write_text("something someone kept here\n")


class RealFolderTests:
    @pytest.mark.parametrize("name", ["stage", "live"])
    def test_repair_refuses_a_real_folder_and_changes_nothing(self, fake_root: DeployRoot, name: str) -> None:
        make_real_folder(fake_root, name)
        before = digest(fake_root)
        code, message, data = refused_swap_live(fake_root, "--repair")
        assert code == 1
        assert data["exit_code"] == 1
        assert f"{fake_root.path / name} is a folder, not a symbolic link" in message
        assert "nothing was changed" in message
        # What to do by hand: move it aside, then repair again.
        assert f"mv {fake_root.path / name} {fake_root.path / name}.moved-aside" in message
        assert "'manage.py swap_live --repair'" in message
        assert digest(fake_root) == before
        assert not fake_root.swap_journal.exists()
        assert list(history.read(fake_root)) == []

    def test_repair_refuses_a_plain_file_in_place_of_a_link(self, fake_root: DeployRoot) -> None:
        fake_root.stage_link.unlink()
        fake_root.stage_link.write_text("notes\n")
        before = digest(fake_root)
        _, message, _ = refused_swap_live(fake_root, "--repair")
        assert f"{fake_root.stage_link} is a file, not a symbolic link" in message
        assert digest(fake_root) == before

    def test_following_the_hint_repairs(self, fake_root: DeployRoot) -> None:
        make_real_folder(fake_root, "stage")
        os.rename(fake_root.stage_link, fake_root.path / "stage.moved-aside")
        out, err, code = run_swap_live(fake_root, "--repair")
        assert code == 0, err
        assert "pointed live -> blue and stage -> green" in out
        assert links.read_links(fake_root) == links.LinkState("blue", "green")

    def test_an_interrupted_swap_with_a_real_folder_is_not_finished_either(
        self, fake_root: DeployRoot
    ) -> None:
        fake_root.swap_journal.write_text('{"live": "green", "stage": "blue"}')
        make_real_folder(fake_root, "stage")
        before = digest(fake_root)
        _, message, _ = refused_swap_live(fake_root, "--repair")
        assert "is a folder, not a symbolic link" in message
        assert digest(fake_root) == before


BAD_JOURNALS = {
    "same-slot": ('{"live": "blue", "stage": "blue"}', "names blue for both live and stage"),
    "unknown-slot": ('{"live": "red", "stage": "blue"}', "names red for live, which is not one of the slots"),
    "not-json": ('{"live": "gre', "is not JSON"),
    "not-an-object": ('["green", "blue"]', "does not name a live and a stage slot"),
}


class BadJournalTests:
    @pytest.mark.parametrize("case", list(BAD_JOURNALS))
    @pytest.mark.parametrize("action", [("--repair",), ()], ids=["repair", "swap"])
    def test_refused_and_nothing_changed(
        self, fake_root: DeployRoot, case: str, action: tuple[str, ...]
    ) -> None:
        content, problem = BAD_JOURNALS[case]
        journal = fake_root.swap_journal
        journal.write_text(content)
        before = digest(fake_root)
        code, message, data = refused_swap_live(fake_root, *action)
        assert code == 1
        assert data["exit_code"] == 1
        assert f"The swap journal {journal} {problem}" in message
        assert "nothing was changed" in message
        assert f"rm {journal}" in message
        assert "'manage.py swap_live --status'" in message
        assert digest(fake_root) == before
        assert links.read_links(fake_root) == links.LinkState("blue", "green")
        assert list(history.read(fake_root)) == []

    def test_status_reports_the_bad_journal(self, fake_root: DeployRoot) -> None:
        fake_root.swap_journal.write_text('{"live": "blue", "stage": "blue"}')
        out, err, code = run_swap_live(fake_root, "--status", "--format", "json")
        assert code == 0, err
        data = json.loads(out)
        assert data["interrupted_swap"] is True
        assert data["links_ok"] is False
        assert "names blue for both live and stage" in data["links_problem"]

    def test_status_text_says_what_to_do_once(self, fake_root: DeployRoot) -> None:
        journal = fake_root.swap_journal
        journal.write_text('{"live": "blue", "stage": "blue"}')
        text, err, code = run_swap_live(fake_root, "--status")
        assert code == 0, err
        assert f"rm {journal}" in text
        assert "fixes them" not in text
        assert "finishes it" not in text
        assert links.needs_repair(fake_root) is not None
        assert "names blue for both live and stage" in str(links.needs_repair(fake_root))
