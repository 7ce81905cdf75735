"""What every deploykit command shares: undecodable arguments are refused before anything runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from django_deploykit.durations import VERIFY_TIMEOUT, WAIT_LOCK
from django_deploykit.management.base import duration_option

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


class DurationOptionTests:
    @pytest.mark.parametrize("value", ["nan", "inf", "-1", "86400.5", "1e300", "soon"])
    def test_not_a_usable_duration(self, value: str) -> None:
        with pytest.raises(CommandError, match=r"^--timeout "):
            duration_option(value, "--timeout", VERIFY_TIMEOUT)

    def test_zero_only_where_allowed(self) -> None:
        assert duration_option("0", "--wait-lock", WAIT_LOCK) == 0.0
        with pytest.raises(CommandError, match="--timeout 0 is zero; give a positive duration"):
            duration_option("0", "--timeout", VERIFY_TIMEOUT)
        assert duration_option(86_400.0, "--timeout", VERIFY_TIMEOUT) == 86_400.0
        assert duration_option("1h30m", "--timeout", VERIFY_TIMEOUT) == 5400.0
