"""A process started with a .env the reader cannot read exits with the error, not in development mode.

Issue 11: the example project's manage.py, started as a service manager starts it (an empty environment,
everything in the .env file), quietly ran the development settings with DEBUG on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT

STRONG_KEY = "example-" + "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ"
PRINT_CHOICE = (
    "import json; from django.conf import settings; "
    "print(json.dumps({'mode': settings.DEPLOYKIT_SETTINGS_CHOICE['mode'], 'debug': settings.DEBUG}))"
)


def manage(project: Path, *args: str) -> subprocess.CompletedProcess[str]:
    # PYTHONPATH: this checkout's package, not whichever copy the virtualenv has installed.
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": str(REPO_ROOT),
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=project,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def last_json(completed: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert completed.returncode == 0, completed.stderr
    return json.loads(completed.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def production_lines(project: Path) -> str:
    return f"SECRET_KEY={STRONG_KEY}\nALLOWED_HOSTS=localhost\nDATABASE_URL=sqlite:///{project / 'prod.sqlite3'}\n"


class UnreadableEnvFileProcessTests:
    @pytest.mark.parametrize("first_line", ["PRODUCTION", "export PRODUCTION", "PRODUCTION # live"])
    def test_a_bare_production_line_stops_the_process(self, example_project: Path, first_line: str) -> None:
        (example_project / ".env").write_text(f"{first_line}\n{production_lines(example_project)}")
        completed = manage(example_project, "shell", "-c", PRINT_CHOICE)
        assert completed.returncode != 0
        assert f"Line 1 of the .env file {example_project / '.env'} cannot be read" in completed.stderr
        assert "which is ambiguous" in completed.stderr
        assert '"mode"' not in completed.stdout

    def test_a_dangling_link_stops_the_process(self, example_project: Path, tmp_path: Path) -> None:
        (tmp_path / "site.env").write_text(f"PRODUCTION=\n{production_lines(example_project)}")
        (example_project / ".env").symlink_to(tmp_path / "site.env")
        assert last_json(manage(example_project, "shell", "-c", PRINT_CHOICE))["mode"] == "production"
        (tmp_path / "site.env").rename(tmp_path / "moved.env")
        completed = manage(example_project, "shell", "-c", PRINT_CHOICE)
        assert completed.returncode != 0
        assert f"The .env file {example_project / '.env'} exists but cannot be read" in completed.stderr
        assert '"mode"' not in completed.stdout

    def test_a_production_line_from_a_windows_editor_selects_production(self, example_project: Path) -> None:
        content = "\ufeffPRODUCTION = 1\n" + production_lines(example_project)
        (example_project / ".env").write_bytes(content.replace("\n", "\r\n").encode())
        completed = manage(example_project, "shell", "-c", PRINT_CHOICE)
        assert last_json(completed) == {"mode": "production", "debug": False}
