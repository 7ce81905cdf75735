from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest

from django_deploykit.maintenance.state import MaintenanceState, Phase, StateError
from django_deploykit.maintenance.stores import FileStore, default_state_file
from tests.maintenance.conftest import NOW, make_state


class PhaseTests:
    def test_phases_follow_the_clock(self) -> None:
        state = make_state(start=NOW, end=NOW + timedelta(minutes=30), warn_seconds=3600)
        assert state.phase(NOW - timedelta(minutes=61)) is Phase.IDLE
        assert state.phase(NOW - timedelta(minutes=60)) is Phase.ANNOUNCED
        assert state.phase(NOW - timedelta(seconds=1)) is Phase.ANNOUNCED
        assert state.phase(NOW) is Phase.ACTIVE
        assert state.phase(NOW + timedelta(minutes=29)) is Phase.ACTIVE
        assert state.phase(NOW + timedelta(minutes=30)) is Phase.ENDED

    def test_no_end_stays_active(self) -> None:
        assert make_state(end=None).phase(NOW + timedelta(days=30)) is Phase.ACTIVE


class DocumentTests:
    def test_round_trip(self) -> None:
        state = make_state(allow_ips=("10.0.0.0/8",), secret_hash="ab" * 32, retry_after=120, version=3)
        assert MaintenanceState.from_json(state.to_json()) == state

    def test_document_is_small_readable_json(self) -> None:
        data = json.loads(make_state().to_json())
        assert data["format"] == 1
        assert data["start"] == "2026-12-01T12:00:00+00:00"
        assert set(data) == {
            "format", "start", "end", "warn_seconds", "message", "retry_after", "allow_ips",
            "secret_hash", "set_by", "set_at", "version",
        }  # fmt: skip

    @pytest.mark.parametrize(
        ("text", "reason"),
        [
            ("{", "Expecting"),
            ("[]", "not a JSON object"),
            ('{"format": 9}', "unknown format 9"),
            ('{"format": 1}', "missing"),
            (
                '{"format": 1, "start": "2026-12-01T12:00", "set_at": "2026-12-01T12:00+00:00"}',
                "no UTC offset",
            ),
            # Written by hand: the banner would start before year 1, and every phase() would overflow.
            (
                '{"format": 1, "start": "0001-01-01T00:00+00:00", "warn_seconds": 3600, '
                '"set_at": "2026-12-01T12:00+00:00"}',
                "out of range",
            ),
            (
                '{"format": 1, "start": "2026-12-01T12:00+00:00", "warn_seconds": 1e400, '
                '"set_at": "2026-12-01T12:00+00:00"}',
                "out of range",
            ),
            (
                '{"format": 1, "start": "2026-12-01T12:00+00:00", "warn_seconds": 100000000000000, '
                '"set_at": "2026-12-01T12:00+00:00"}',
                "out of range",
            ),
        ],
    )
    def test_bad_documents_are_refused(self, text: str, reason: str) -> None:
        with pytest.raises(ValueError, match=reason):
            MaintenanceState.from_json(text)


class FileStoreTests:
    def test_write_then_read(self, tmp_path: Path) -> None:
        store = FileStore(tmp_path / "maintenance.json")
        assert store.read() is None
        store.write(make_state())
        assert store.read() == make_state()

    def test_write_is_atomic_and_leaves_no_temp_file(self, tmp_path: Path) -> None:
        store = FileStore(tmp_path / "maintenance.json")
        store.write(make_state(version=1))
        inode = os.stat(store.path).st_ino
        store.write(make_state(version=2))
        # A new file was renamed over the old one; readers never see a half-written file.
        assert os.stat(store.path).st_ino != inode
        assert sorted(p.name for p in tmp_path.iterdir()) == ["maintenance.json"]
        assert store.read() == make_state(version=2)

    def test_corrupt_file_says_so(self, tmp_path: Path) -> None:
        path = tmp_path / "maintenance.json"
        path.write_text("{not json")
        with pytest.raises(StateError, match=rf"The maintenance state file {path} is corrupt"):
            FileStore(path).read()

    def test_unreadable_path_says_so(self, tmp_path: Path) -> None:
        folder = tmp_path / "maintenance.json"
        folder.mkdir()  # a folder where the file should be
        with pytest.raises(StateError, match="cannot be read"):
            FileStore(folder).read()

    def test_clear(self, tmp_path: Path) -> None:
        store = FileStore(tmp_path / "maintenance.json")
        assert store.clear() is False
        store.write(make_state())
        assert store.clear() is True
        assert not store.path.exists()


class DefaultStateFileTests:
    def test_setting_wins(self, settings: object, tmp_path: Path) -> None:
        settings.DEPLOYKIT_MAINTENANCE_STATE_FILE = str(tmp_path / "x.json")  # type: ignore[attr-defined]
        assert default_state_file() == tmp_path / "x.json"

    def test_deploy_roots_shared_folder(
        self, settings: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("DEPLOYKIT_ROOT", raising=False)
        (tmp_path / ".deploykit-root").write_text('{"slots": ["blue", "green"]}')
        (tmp_path / "shared").mkdir()
        (tmp_path / "blue").mkdir()
        settings.BASE_DIR = tmp_path / "blue"  # type: ignore[attr-defined]
        assert default_state_file() == tmp_path / "shared" / "maintenance.json"

    def test_deploykit_root_setting(
        self, settings: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("DEPLOYKIT_ROOT", raising=False)
        (tmp_path / "root" / "shared").mkdir(parents=True)
        settings.DEPLOYKIT_ROOT = str(tmp_path / "root")  # type: ignore[attr-defined]
        settings.BASE_DIR = tmp_path / "elsewhere"  # type: ignore[attr-defined]
        assert default_state_file() == tmp_path / "root" / "shared" / "maintenance.json"

    def test_beside_the_project_without_a_deploy_root(
        self, settings: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.delenv("DEPLOYKIT_ROOT", raising=False)
        settings.BASE_DIR = tmp_path  # type: ignore[attr-defined]
        assert default_state_file() == tmp_path / "maintenance.json"
