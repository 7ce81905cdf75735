"""What every deploykit command shares: undecodable arguments are refused before anything runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

REPO_ROOT = Path(__file__).resolve().parent.parent


class UndecodableArgumentTests:
    def test_an_option_with_a_lone_surrogate_is_named_in_the_error(self) -> None:
        # What Python makes of the bytes b"caf\xe9" on a UTF-8 command line.
        with pytest.raises(CommandError, match=r"given for format \('caf.'\) is not valid UTF-8"):
            call_command("deploy_log", format="caf\udce9")

    def test_a_positional_argument_is_checked_too(self) -> None:
        with pytest.raises(CommandError, match=r"given for id \('caf.'\) is not valid UTF-8"):
            call_command("deploy_log", "caf\udce9")

    def test_from_the_command_line_the_bytes_exit_1_without_a_traceback(self) -> None:
        completed = subprocess.run(
            [sys.executable, "-m", "django", "deploy_log", b"caf\xe9"],
            cwd=REPO_ROOT,
            env={"DJANGO_SETTINGS_MODULE": "tests.settings", "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
            capture_output=True,
            check=False,
        )
        assert completed.returncode == 1, completed
        assert b"is not valid UTF-8" in completed.stderr
        assert b"Traceback" not in completed.stderr
