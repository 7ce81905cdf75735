from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from django_deploykit.deploy_root import history, lock
from django_deploykit.deploy_root.layout import DeployRoot

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from django_deploykit.deploy_root.lock import deploy_lock
    from django_deploykit.deploy_root.layout import DeployRoot

    with deploy_lock(DeployRoot(Path(sys.argv[1])), command="deploy_pull --ref v2"):
        open(sys.argv[2], "w").close()
        time.sleep(60)
    """
)


def start_holder(root: DeployRoot, tmp_path: Path) -> subprocess.Popen[bytes]:
    ready = tmp_path / "holding"
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(root.path), str(ready)])
    for _ in range(500):
        if ready.exists():
            return process
        time.sleep(0.01)
    process.kill()
    raise AssertionError("the holder never took the lock")


class DeployLockTests:
    def test_second_caller_is_refused_naming_the_holder(self, fake_root: DeployRoot, tmp_path: Path) -> None:
        holder = start_holder(fake_root, tmp_path)
        try:
            with pytest.raises(lock.DeployLockBusy) as excinfo, lock.deploy_lock(fake_root):
                pass
            message = str(excinfo.value)
            assert f"pid {holder.pid}" in message
            assert "deploy_pull --ref v2" in message
            found = lock.read_holder(fake_root)
            assert found is not None
            assert found.pid == holder.pid
        finally:
            holder.kill()
            holder.wait()

    def test_waiting_caller_says_how_long_it_waited(self, fake_root: DeployRoot, tmp_path: Path) -> None:
        holder = start_holder(fake_root, tmp_path)
        try:
            with (
                pytest.raises(lock.DeployLockBusy, match="after waiting 0.3 s"),
                lock.deploy_lock(fake_root, wait=0.3),
            ):
                pass
        finally:
            holder.kill()
            holder.wait()

    def test_kill_9_releases_the_lock(self, fake_root: DeployRoot, tmp_path: Path) -> None:
        holder = start_holder(fake_root, tmp_path)
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait()
        assert lock.read_holder(fake_root) is None
        with lock.deploy_lock(fake_root, command="swap_live") as record:
            assert record is not None
            found = lock.read_holder(fake_root)
            assert found is not None
            assert found.command == "swap_live"
        assert lock.read_holder(fake_root) is None

    def test_a_child_runs_under_its_parents_lock(self, fake_root: DeployRoot) -> None:
        child = textwrap.dedent(
            """
            import sys
            from pathlib import Path
            from django_deploykit.deploy_root.lock import deploy_lock
            from django_deploykit.deploy_root.layout import DeployRoot
            with deploy_lock(DeployRoot(Path(sys.argv[1]))) as held:
                print("under parent" if held is None else "own lock")
            """
        )
        with lock.deploy_lock(fake_root) as record:
            env = {**os.environ, **lock.child_environment(record)}
            output = subprocess.run(
                [sys.executable, "-c", child, str(fake_root.path)],
                env=env,
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            assert output.strip() == "under parent"
            # Without the token the child would wait for the lock; here it fails at once.
            failed = subprocess.run(
                [sys.executable, "-c", child, str(fake_root.path)],
                capture_output=True,
                text=True,
                check=False,
            )
            assert failed.returncode != 0
            assert "Another deploy holds the lock" in failed.stderr


class HistoryTests:
    def test_append_and_read(self, fake_root: DeployRoot) -> None:
        first = history.HistoryRecord(
            kind="swap",
            result="ok",
            started_at="t1",
            duration=1.5,
            from_slot="blue",
            to_slot="green",
            from_revision="a",
            to_revision="b",
        )
        history.append(fake_root, first)
        history.append(
            fake_root, history.HistoryRecord(kind="swap", result="swapped-back", started_at="t2", duration=2)
        )
        records = list(history.read(fake_root))
        assert [r.result for r in records] == ["ok", "swapped-back"]
        assert records[0] == first
        assert history.last(fake_root) == first
        line = json.loads(history.history_path(fake_root).read_text().splitlines()[0])
        assert line["schema"] == history.SCHEMA_VERSION
        assert line["user"]

    def test_torn_line_and_unknown_fields_are_tolerated(self, fake_root: DeployRoot) -> None:
        record = {"kind": "pull", "result": "ok", "started_at": "t", "duration": 1, "future_field": 1}
        history.history_path(fake_root).write_text(json.dumps(record) + '\n{"kind": "sw')
        assert [r.kind for r in history.read(fake_root)] == ["pull"]

    def test_no_history_yet(self, fake_root: DeployRoot) -> None:
        assert list(history.read(fake_root)) == []
        assert history.last(fake_root) is None
