"""Faults of the world during a pull: the origin unreachable, the disk filling.

Each leaves live untouched, records the pull as failed, says what happened naming the origin or
the file, and names the command that resumes; the next pull with the fault gone succeeds.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests import slot_packages
from tests.deploy_pull.pulling import deploy_pull, last_pull, live_snapshot, slot_head, stage_statuses
from tests.deployment import BARE_ENVIRONMENT, Site, commit_heading_v2, git
from tests.servers import free_port

# A heavy fault or corpus test: it runs in one tox environment only (tox.ini says which).
pytestmark = pytest.mark.faults


def origin_removed(site: Site) -> str:
    gone = site.source.parent / "source-moved-away"
    site.source.rename(gone)
    return str(site.source)


def origin_url_to_a_closed_port(site: Site) -> str:
    url = f"http://127.0.0.1:{free_port()}/source.git"
    git(site.slot_dir("green"), "remote", "set-url", "origin", url)
    return url


def origin_not_a_repository(site: Site) -> str:
    empty = site.source.parent / "empty"
    empty.mkdir()
    git(site.slot_dir("green"), "remote", "set-url", "origin", str(empty))
    return str(empty)


UNREACHABLE: dict[str, Callable[[Site], str]] = {
    "removed": origin_removed,
    "closed-port": origin_url_to_a_closed_port,
    "not-a-repository": origin_not_a_repository,
}


@pytest.fixture
def v2(site: Site) -> str:
    return commit_heading_v2(site.source)


class OriginUnreachableTests:
    @pytest.mark.parametrize("fault", list(UNREACHABLE))
    def test_the_pull_fails_naming_the_origin_and_what_to_run(self, site: Site, v2: str, fault: str) -> None:
        before = live_snapshot(site)
        stage_before = slot_head(site, "green")
        url = UNREACHABLE[fault](site)

        completed = deploy_pull(site)

        assert completed.returncode == 1, completed.stdout + completed.stderr
        assert "Traceback" not in completed.stderr
        assert f"git could not fetch from the remote 'origin' ({url})" in completed.stderr
        assert "Live was not touched" in completed.stderr
        assert "run 'manage.py deploy_pull --ref main' again" in completed.stderr
        assert live_snapshot(site) == before
        assert slot_head(site, "green") == stage_before
        record = last_pull(site)
        assert record.result == "failed"
        assert stage_statuses(record)["git"] == "failed"
        assert url in record.message

    def test_json_names_the_origin_too(self, site: Site, v2: str) -> None:
        url = origin_url_to_a_closed_port(site)
        completed = deploy_pull(site, "--format", "json")
        outcome = json.loads(completed.stdout)
        assert (completed.returncode, outcome["exit_code"], outcome["result"]) == (1, 1, "failed")
        assert url in outcome["error"]

    def test_once_the_origin_is_back_the_same_pull_succeeds(self, site: Site, v2: str) -> None:
        moved = site.source.parent / "source-moved-away"
        site.source.rename(moved)
        assert deploy_pull(site).returncode == 1
        moved.rename(site.source)
        completed = deploy_pull(site)
        assert completed.returncode == 0, completed.stdout + completed.stderr
        assert slot_head(site, "green") == v2
        assert last_pull(site).result == "ok"


# A large file no compression shrinks: the pull must find room for it in the stage slot twice, once
# in git's pack and once in the checkout.
BIG_FILE = "assets/big.bin"
BIG_SIZE = 8 * 1024 * 1024


class SmallFilesystem:
    """The stage slot moved onto a real ext4 filesystem of its own (a loop device), nearly full."""

    def __init__(self, site: Site, image: Path) -> None:
        self.site = site
        self.image = image
        self.mount_point = site.slot_dir("green")
        self.filler = self.mount_point / ".filler"

    def create(self) -> None:
        du = subprocess.run(["du", "-sb", str(self.mount_point)], check=True, capture_output=True, text=True)
        used = int(du.stdout.split()[0])
        files = sum(len(names) + 1 for _, _, names in os.walk(self.mount_point))
        with open(self.image, "wb") as handle:
            handle.truncate(used * 2 + 64 * 1024 * 1024)
        subprocess.run(
            ["mkfs.ext4", "-q", "-F", "-m", "0", "-N", str(files * 3 + 10000), str(self.image)],
            check=True,
            capture_output=True,
        )
        aside = self.mount_point.with_name("green.aside")
        self.mount_point.rename(aside)
        self.mount_point.mkdir()
        subprocess.run(
            ["mount", "-o", "loop", str(self.image), str(self.mount_point)], check=True, capture_output=True
        )
        subprocess.run(["cp", "-a", f"{aside}/.", str(self.mount_point)], check=True)
        shutil.rmtree(aside)

    def leave_free(self, free: int) -> None:
        self.filler.unlink(missing_ok=True)
        stats = os.statvfs(self.mount_point)
        available = stats.f_bavail * stats.f_frsize
        with open(self.filler, "wb") as handle:
            os.posix_fallocate(handle.fileno(), 0, available - free)

    def make_room(self) -> None:
        self.filler.unlink()

    def remove(self) -> None:
        subprocess.run(["umount", "-l", str(self.mount_point)], check=False, capture_output=True)
        self.image.unlink(missing_ok=True)


def can_mount() -> bool:
    return os.geteuid() == 0 and shutil.which("mkfs.ext4") is not None and Path("/dev/loop-control").exists()


@pytest.fixture
def small_stage(site: Site, tmp_path: Path) -> Iterator[SmallFilesystem]:
    if not can_mount():
        pytest.skip("a loop-mounted filesystem needs root, mkfs.ext4 and /dev/loop-control")
    filesystem = SmallFilesystem(site, tmp_path / "stage.img")
    filesystem.create()
    # The stage slot is a checkout of the site's own git repository: the pull stays in this filesystem.
    git(site.slot_dir("green"), "status", "--short")
    try:
        yield filesystem
    finally:
        site.stop_servers()
        filesystem.remove()


class DiskFullTests:
    def test_a_full_disk_during_the_fetch_fails_the_pull_and_the_next_pull_with_room_succeeds(
        self, site: Site, small_stage: SmallFilesystem
    ) -> None:
        v2 = commit_big_file(site)
        before = live_snapshot(site)
        stage_before = slot_head(site, "green")
        small_stage.leave_free(2 * 1024 * 1024)

        completed = deploy_pull(site)

        assert completed.returncode == 1, completed.stdout + completed.stderr
        assert "Traceback" not in completed.stderr
        assert f"git could not fetch from the remote 'origin' ({site.source})" in completed.stderr
        assert "there is no room for what it fetched; " in completed.stderr
        assert "MB free on the filesystem of" in completed.stderr
        assert "No space left on device" in completed.stderr
        assert_failed_cleanly(site, completed, before)
        assert slot_head(site, "green") == stage_before

        assert_next_pull_with_room_succeeds(site, small_stage, v2, before)

    def test_a_full_disk_during_the_checkout_is_caught_and_the_next_pull_finishes_it(
        self, site: Site, small_stage: SmallFilesystem
    ) -> None:
        # Room for git's copy of the file, not for the checkout's: git says "unable to write file"
        # yet exits 0, leaving the file empty.
        v2 = commit_big_file(site)
        before = live_snapshot(site)
        small_stage.leave_free(BIG_SIZE + 2 * 1024 * 1024)

        completed = deploy_pull(site)

        assert completed.returncode == 1, completed.stdout + completed.stderr
        assert "Traceback" not in completed.stderr
        assert (
            f"git could not write every file of {v2[:12]} into {site.slot_dir('green')}" in completed.stderr
        )
        assert f"unable to write file {BIG_FILE}" in completed.stderr
        assert "MB free on the filesystem of" in completed.stderr
        assert f"left unfinished: {BIG_FILE}. The next pull finishes the checkout" in completed.stderr
        assert_failed_cleanly(site, completed, before)
        # Nothing later ran on the half-written slot.
        assert list(stage_statuses(last_pull(site))) == ["lock", "git"]

        assert_next_pull_with_room_succeeds(site, small_stage, v2, before)


def commit_big_file(site: Site) -> str:
    (site.source / BIG_FILE).parent.mkdir()
    (site.source / BIG_FILE).write_bytes(os.urandom(BIG_SIZE))
    git(site.source, "add", BIG_FILE)
    git(site.source, "commit", "--quiet", "-m", "v2: a big asset")
    return git(site.source, "rev-parse", "HEAD")


def assert_failed_cleanly(site: Site, completed: subprocess.CompletedProcess[str], before: object) -> None:
    assert "Live was not touched" in completed.stderr
    assert "run 'manage.py deploy_pull --ref main' again" in completed.stderr
    assert live_snapshot(site) == before
    record = last_pull(site)
    assert record.result == "failed"
    assert stage_statuses(record)["git"] == "failed"
    assert "Live was not touched" in record.message


def assert_next_pull_with_room_succeeds(
    site: Site, small_stage: SmallFilesystem, v2: str, before: object
) -> None:
    small_stage.make_room()
    completed = deploy_pull(site)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert slot_head(site, "green") == v2
    assert (site.slot_dir("green") / BIG_FILE).read_bytes() == (site.source / BIG_FILE).read_bytes()
    assert git(site.slot_dir("green"), "status", "--porcelain", "--untracked-files=no") == ""
    assert (site.slot_dir("green") / "REVISION").read_text().strip() == v2
    assert last_pull(site).result == "ok"
    assert live_snapshot(site) == before


class FileSizeLimitTests:
    """Where no filesystem can be mounted: a file-size limit on the pull (RLIMIT_FSIZE), inherited by git."""

    def test_a_write_over_the_limit_fails_the_pull_and_the_next_pull_without_it_succeeds(
        self, site: Site
    ) -> None:
        v2 = commit_big_file(site)
        before = live_snapshot(site)
        stage_before = slot_head(site, "green")
        limit = BIG_SIZE // 2

        def limited() -> None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

        base = site.root.path / "live"
        completed = subprocess.run(
            [str(base / ".venv" / "bin" / "python"), "manage.py", "deploy_pull"],
            cwd=base / "example_project",
            env={**BARE_ENVIRONMENT, **slot_packages.pip_environment_in_use()},
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
            preexec_fn=limited,
        )

        assert completed.returncode == 1, completed.stdout + completed.stderr
        assert "Traceback" not in completed.stderr
        assert f"git could not fetch from the remote 'origin' ({site.source})" in completed.stderr
        assert "there is no room for what it fetched" in completed.stderr
        assert "File too large" in completed.stderr
        assert_failed_cleanly(site, completed, before)
        assert slot_head(site, "green") == stage_before
        assert deploy_pull(site).returncode == 0
        assert slot_head(site, "green") == v2
        assert (site.slot_dir("green") / BIG_FILE).read_bytes() == (site.source / BIG_FILE).read_bytes()
        assert live_snapshot(site) == before
