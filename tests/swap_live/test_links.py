from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from django_deploykit.deploy_root import links
from django_deploykit.deploy_root.layout import DeployRoot
from django_deploykit.deploy_root.links import LinkError, LinkState


def targets(root: DeployRoot) -> tuple[str, str]:
    return os.readlink(root.live_link), os.readlink(root.stage_link)


class ExchangeTests:
    def test_rename_exchange(self, fake_root: DeployRoot) -> None:
        assert links.exchange(fake_root) == "exchange"
        assert targets(fake_root) == ("green", "blue")
        assert links.read_links(fake_root) == LinkState("green", "blue")

    def test_journal_path(self, fake_root: DeployRoot) -> None:
        assert links.exchange(fake_root, force_journal=True) == "journal"
        assert targets(fake_root) == ("green", "blue")
        assert not fake_root.swap_journal.exists()
        assert not list(fake_root.path.glob(links.TEMP_LINK_PREFIX + "*"))

    def test_swap_twice_is_identity(self, fake_root: DeployRoot) -> None:
        links.exchange(fake_root)
        links.exchange(fake_root, force_journal=True)
        assert targets(fake_root) == ("blue", "green")


class BadLinksTests:
    def test_missing_link(self, fake_root: DeployRoot) -> None:
        fake_root.stage_link.unlink()
        with pytest.raises(LinkError, match="The stage link is missing"):
            links.exchange(fake_root)
        assert os.readlink(fake_root.live_link) == "blue"

    def test_link_outside_the_root(self, fake_root: DeployRoot, tmp_path: Path) -> None:
        outside = tmp_path / "elsewhere"
        (outside / ".git").mkdir(parents=True)
        fake_root.stage_link.unlink()
        fake_root.stage_link.symlink_to(outside)
        with pytest.raises(LinkError, match="outside the deploy root"):
            links.exchange(fake_root)
        assert targets(fake_root) == ("blue", str(outside))

    def test_both_links_on_one_slot(self, fake_root: DeployRoot) -> None:
        fake_root.stage_link.unlink()
        fake_root.stage_link.symlink_to("blue")
        with pytest.raises(LinkError, match="Both live and stage point at blue"):
            links.exchange(fake_root)
        assert targets(fake_root) == ("blue", "blue")

    def test_slot_that_is_not_a_checkout(self, fake_root: DeployRoot) -> None:
        (fake_root.path / "green" / ".git").rmdir()
        with pytest.raises(LinkError, match="green, which is not a git checkout"):
            links.exchange(fake_root)
        assert targets(fake_root) == ("blue", "green")

    def test_not_a_symlink(self, fake_root: DeployRoot) -> None:
        fake_root.live_link.unlink()
        fake_root.live_link.mkdir()
        with pytest.raises(LinkError, match="live is a folder, not a symbolic link"):
            links.read_links(fake_root)

    def test_target_that_is_not_a_slot(self, fake_root: DeployRoot) -> None:
        (fake_root.path / "red" / ".git").mkdir(parents=True)
        fake_root.stage_link.unlink()
        fake_root.stage_link.symlink_to("red")
        with pytest.raises(LinkError, match="not one of the slots blue, green"):
            links.read_links(fake_root)


class RepairTests:
    def test_nothing_to_repair(self, fake_root: DeployRoot) -> None:
        assert links.repair(fake_root) == (LinkState("blue", "green"), "nothing to repair")

    def test_both_on_one_slot_keeps_live(self, fake_root: DeployRoot) -> None:
        fake_root.stage_link.unlink()
        fake_root.stage_link.symlink_to("blue")
        state, what = links.repair(fake_root)
        assert state == LinkState("blue", "green")
        assert targets(fake_root) == ("blue", "green")
        assert "stage -> green" in what

    def test_missing_live_takes_the_slot_stage_does_not_use(self, fake_root: DeployRoot) -> None:
        fake_root.live_link.unlink()
        assert links.repair(fake_root)[0] == LinkState("blue", "green")

    def test_interrupted_journal_is_finished(self, fake_root: DeployRoot) -> None:
        fake_root.swap_journal.write_text('{"live": "green", "stage": "blue"}')
        (fake_root.path / (links.TEMP_LINK_PREFIX + "abc")).symlink_to("green")
        assert links.needs_repair(fake_root) == "a swap was interrupted (its journal is still there)"
        state, what = links.repair(fake_root)
        assert state == LinkState("green", "blue")
        assert targets(fake_root) == ("green", "blue")
        assert "finished the interrupted swap" in what
        assert links.needs_repair(fake_root) is None
        assert not list(fake_root.path.glob(links.TEMP_LINK_PREFIX + "*"))


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from django_deploykit.deploy_root.layout import DeployRoot
    from django_deploykit.deploy_root import links

    root = DeployRoot(Path(sys.argv[1]), ("blue", "green"))

    def hook(step):
        if step == sys.argv[2]:
            os.kill(os.getpid(), signal.SIGKILL)

    links.exchange(root, force_journal=True, step_hook=hook)
    """
)


class KillDuringJournalledSwapTests:
    @pytest.mark.parametrize("step", ["write-journal", "replace-live", "replace-stage", "remove-journal"])
    def test_kill_9_then_repair_restores_a_valid_pair(self, fake_root: DeployRoot, step: str) -> None:
        completed = subprocess.run([sys.executable, "-c", KILLER, str(fake_root.path), step], check=False)
        assert completed.returncode == -signal.SIGKILL
        # At every instant live points at a valid slot, killed or not.
        assert links.read_link_slot(fake_root, fake_root.live_link) in ("blue", "green")
        state, _ = links.repair(fake_root)
        assert state.live != state.stage
        assert links.read_links(fake_root) == state
        assert links.needs_repair(fake_root) is None
        if step == "write-journal":
            assert state == LinkState("blue", "green")  # killed before anything changed
        else:
            assert state == LinkState("green", "blue")  # the journal was written: the swap is finished


READER = textwrap.dedent(
    """
    import sys, time
    live = sys.argv[1] + "/live/REVISION"
    allowed = {"rev-blue\\n", "rev-green\\n"}
    reads = errors = 0
    seen = set()
    stop = sys.argv[2]
    import os
    open(sys.argv[3], "w").close()  # ready: the swaps may start
    while not os.path.exists(stop):
        try:
            with open(live) as handle:
                content = handle.read()
        except OSError:
            errors += 1
        else:
            if content not in allowed:
                errors += 1
            seen.add(content)
        reads += 1
    print(reads, errors, len(seen))
    """
)


class AtomicityTests:
    @pytest.mark.parametrize("force_journal", [False, True], ids=["rename-exchange", "journal"])
    def test_reader_never_sees_a_missing_link_during_1000_swaps(
        self, fake_root: DeployRoot, tmp_path: Path, force_journal: bool
    ) -> None:
        stop, ready = tmp_path / "stop", tmp_path / "ready"
        reader = subprocess.Popen(
            [sys.executable, "-c", READER, str(fake_root.path), str(stop), str(ready)],
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            while not ready.exists():
                time.sleep(0.01)
            for _ in range(1000):
                links.exchange(fake_root, force_journal=force_journal)
        finally:
            stop.touch()
            output, _ = reader.communicate(timeout=60)
        reads, errors, distinct = (int(x) for x in output.split())
        print(f"{reads} reads during 1000 swaps")
        assert errors == 0
        assert reads >= 1000
        assert distinct == 2
        assert links.read_links(fake_root) == LinkState("blue", "green")
