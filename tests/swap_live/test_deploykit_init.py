from __future__ import annotations

import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from django_deploykit.deploy_root import history, links
from tests.deployment import make_source_repo


def init(*args: str) -> str:
    out = StringIO()
    call_command("deploykit_init", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


class DeploykitInitTests:
    def test_creates_the_layout(self, tmp_path: Path) -> None:
        source = make_source_repo(tmp_path)
        root = tmp_path / "site"
        output = init(str(root), "--source", str(source), "--slots", "dog", "cat", "--no-venv")
        assert f"Created the deploy root {root.absolute()}" in output
        assert json.loads((root / ".deploykit-root").read_text()) == {"slots": ["dog", "cat"]}
        assert (os.readlink(root / "live"), os.readlink(root / "stage")) == ("dog", "cat")
        head = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True, text=True
        ).stdout
        for slot in ("dog", "cat"):
            assert (root / slot / "REVISION").read_text().strip() == head.strip()
            assert (root / slot / "example_project" / "manage.py").is_file()
            # REVISION and the virtualenv do not make the checkout dirty.
            status = subprocess.run(
                ["git", "-C", str(root / slot), "status", "--porcelain"], capture_output=True, text=True
            )
            assert status.stdout == ""
        assert (root / "shared" / "media").is_dir()
        assert "PRODUCTION=" in (root / "shared" / ".env").read_text()
        assert oct((root / "shared" / ".env").stat().st_mode & 0o777) == "0o600"
        assert [r.kind for r in history.read(links.DeployRoot(root.absolute(), ("dog", "cat")))] == ["init"]

    def test_creates_virtualenvs(self, tmp_path: Path) -> None:
        source = make_source_repo(tmp_path)
        root = tmp_path / "site"
        init(str(root), "--source", str(source))
        for slot in ("blue", "green"):
            python = root / slot / ".venv" / "bin" / "python"
            prefix = subprocess.run(
                [str(python), "-c", "import sys; print(sys.prefix)"], capture_output=True, text=True
            )
            assert prefix.stdout.strip() == str(root.absolute() / slot / ".venv")

    def test_refuses_a_non_empty_root_and_changes_nothing(self, tmp_path: Path) -> None:
        source = make_source_repo(tmp_path)
        root = tmp_path / "site"
        root.mkdir()
        (root / "keep.txt").write_text("mine")
        with pytest.raises(CommandError, match="is not empty; deploykit_init never overwrites anything"):
            init(str(root), "--source", str(source), "--no-venv")
        assert [p.name for p in root.iterdir()] == ["keep.txt"]

    def test_refuses_a_file(self, tmp_path: Path) -> None:
        (tmp_path / "site").write_text("")
        with pytest.raises(CommandError, match="exists and is not a folder"):
            init(str(tmp_path / "site"), "--source", str(tmp_path), "--no-venv")

    def test_bad_source_leaves_nothing(self, tmp_path: Path) -> None:
        root = tmp_path / "site"
        with pytest.raises(CommandError, match="git could not clone"):
            init(str(root), "--source", str(tmp_path / "no-such-repo"), "--no-venv")
        assert not root.exists()

    def test_a_bare_source_whose_head_names_no_branch_gives_the_deployed_branch(self, tmp_path: Path) -> None:
        # 'git init --bare' points HEAD at master; the team pushed main.
        source = make_source_repo(tmp_path)
        bare = tmp_path / "origin.git"
        git = ["git", "-c", "init.defaultBranch=master"]
        subprocess.run([*git, "init", "--quiet", "--bare", str(bare)], check=True)
        subprocess.run(
            ["git", "-C", str(source), "push", "--quiet", str(bare), "HEAD:refs/heads/main"], check=True
        )
        root = tmp_path / "site"
        init(str(root), "--source", str(bare), "--no-venv")
        head = subprocess.run(
            ["git", "-C", str(source), "rev-parse", "HEAD"], capture_output=True, text=True, check=True
        ).stdout.strip()
        assert (root / "blue" / "REVISION").read_text().strip() == head
        assert (root / "green" / "REVISION").read_text().strip() == head

    def test_a_source_with_no_commit_to_deploy_is_refused_and_leaves_nothing(self, tmp_path: Path) -> None:
        bare = tmp_path / "origin.git"
        subprocess.run(
            ["git", "-c", "init.defaultBranch=master", "init", "--quiet", "--bare", str(bare)], check=True
        )
        root = tmp_path / "site"
        with pytest.raises(
            CommandError, match=r"has no commit at its HEAD, and no branch main \(DEPLOYKIT_PULL_REF\)"
        ):
            init(str(root), "--source", str(bare), "--no-venv")
        assert not root.exists()

    def test_unknown_ref_leaves_nothing(self, tmp_path: Path) -> None:
        source = make_source_repo(tmp_path)
        with pytest.raises(CommandError, match="git could not check out --ref no-such-ref in blue"):
            init(str(tmp_path / "site"), "--source", str(source), "--ref", "no-such-ref", "--no-venv")
        assert not (tmp_path / "site").exists()

    def test_missing_python_leaves_nothing(self, tmp_path: Path) -> None:
        source = make_source_repo(tmp_path)
        with pytest.raises(CommandError, match="Could not create a virtualenv with /no/such/python"):
            init(str(tmp_path / "site"), "--source", str(source), "--python", "/no/such/python")
        assert not (tmp_path / "site").exists()

    def test_bad_slot_names(self, tmp_path: Path) -> None:
        with pytest.raises(CommandError, match="The two slot names must differ"):
            init(str(tmp_path / "site"), "--source", str(tmp_path), "--slots", "a", "a", "--no-venv")
        assert not (tmp_path / "site").exists()

    def test_missing_requirements_file_leaves_nothing(self, tmp_path: Path) -> None:
        source = make_source_repo(tmp_path)
        root = tmp_path / "site"
        with pytest.raises(CommandError, match="missing.txt is not in the checkout"):
            init(str(root), "--source", str(source), "--requirements", "missing.txt")
        assert not root.exists()

    def test_a_virtualenv_interpreter_with_system_site_packages_is_refused(self, tmp_path: Path) -> None:
        # The slots would see the base Python's packages, not that virtualenv's: they could not import them.
        venv = tmp_path / "tools"
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        source = make_source_repo(tmp_path)
        root = tmp_path / "site"
        with pytest.raises(CommandError, match="belongs to the virtualenv .* not that virtualenv's"):
            init(
                str(root),
                "--source",
                str(source),
                "--python",
                str(venv / "bin" / "python"),
                "--system-site-packages",
            )
        assert not root.exists()

    def test_run_folder_and_the_origin_of_the_checkout(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # deploykit_init run in a developer's checkout: the slots clone the checkout's origin, not the checkout.
        source = make_source_repo(tmp_path)
        origin = tmp_path / "origin.git"
        subprocess.run(["git", "clone", "--quiet", "--bare", str(source), str(origin)], check=True)
        subprocess.run(["git", "-C", str(source), "remote", "add", "origin", str(origin)], check=True)
        monkeypatch.chdir(source)
        root = tmp_path / "site"
        output = init(str(root), "--no-venv")
        assert f"the slots pull from {origin}" in output
        assert (root / "run").is_dir()
        for slot in ("blue", "green"):
            url = subprocess.run(
                ["git", "-C", str(root / slot), "remote", "get-url", "origin"], capture_output=True, text=True
            ).stdout.strip()
            assert url == str(origin)

    def test_source_defaults_to_the_checkout_of_the_project(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # The test settings have no BASE_DIR, so the project folder is the working directory.
        monkeypatch.chdir(tmp_path)
        with pytest.raises(CommandError, match="is not inside a git checkout; pass --source"):
            init(str(tmp_path / "site"), "--no-venv")
        assert not (tmp_path / "site").exists()
