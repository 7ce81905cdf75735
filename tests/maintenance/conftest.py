from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from django_deploykit.maintenance.state import MaintenanceState

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def make_state(**changes: Any) -> MaintenanceState:
    values: dict[str, Any] = {
        "start": NOW,
        "end": NOW + timedelta(minutes=30),
        "warn_seconds": 3600,
        "message": "Upgrading the database.",
        "set_by": "tester@host",
        "set_at": NOW - timedelta(minutes=5),
    }
    values.update(changes)
    return MaintenanceState(**values)


@pytest.fixture(autouse=True)
def _forget_logged_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees the middleware's once-per-change failure lines afresh, whatever ran before it."""
    from django_deploykit.maintenance import responses

    monkeypatch.setattr(responses, "_last_logged", None)


@pytest.fixture
def state_file(tmp_path: Path, settings: Any) -> Path:
    """The host-scope state file, in a private folder, with the reader's memo switched off."""
    folder = tmp_path / "state"
    folder.mkdir()
    path = folder / "maintenance.json"
    settings.DEPLOYKIT_MAINTENANCE_STATE_FILE = str(path)
    settings.DEPLOYKIT_MAINTENANCE_STALENESS = 0
    return path


def _writable(folder: Path) -> bool:
    probe = folder / ".write-probe"
    try:
        probe.write_text("")
    except OSError:
        return False
    probe.unlink()
    return True


@pytest.fixture
def read_only_folder() -> Callable[[Path], contextlib.AbstractContextManager[None]]:
    """Make a folder unwritable for this process, even as root (then with the immutable attribute)."""
    import sh

    @contextlib.contextmanager
    def make(folder: Path) -> Iterator[None]:
        mode = folder.stat().st_mode
        folder.chmod(0o555)
        immutable = False
        try:
            if _writable(folder):
                try:
                    sh.chattr("+i", str(folder))
                    immutable = True
                except sh.ErrorReturnCode as exc:
                    message = f"cannot make {folder} read-only for root: {exc.stderr.decode().strip()}"
                    if os.environ.get("CI"):
                        pytest.fail(message)
                    pytest.skip(message)
            assert not _writable(folder)
            yield
        finally:
            if immutable:
                sh.chattr("-i", str(folder))
            folder.chmod(mode)

    return make
