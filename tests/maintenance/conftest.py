from __future__ import annotations

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
