"""Run a management command in the test process and see what a shell would: stdout, stderr, exit code.

    out, err, code = run_command("maintenance", "status", "--format", "json")

A deploykit command returns a ``CommandOutput`` carrying its exit code; a refusal raises ``CommandError``,
whose message a shell would see on stderr and whose ``returncode`` is the exit code; anything that calls
``sys.exit`` (argparse on the command line, a plain Django command) raises ``SystemExit``. All three end
up as the same triple here, so a test asserts on the code and the text, whichever way the command ended.
"""

from __future__ import annotations

from io import StringIO
from typing import Any

from django.core.management import call_command
from django.core.management.base import CommandError


def run_command(name: str, *args: str, **options: Any) -> tuple[str, str, int]:
    """``name``'s (stdout, stderr, exit code); the output is plain text (no colour codes) unless a test
    asks for ``no_color=False``."""
    out, err = StringIO(), StringIO()
    # Colour depends on whether the test run's own stdout is a terminal; assertions must not.
    options.setdefault("no_color", True)
    try:
        returned = call_command(name, *args, stdout=out, stderr=err, **options)
    except CommandError as exc:
        err.write(str(exc))
        return out.getvalue(), err.getvalue(), exc.returncode
    except SystemExit as exc:
        return out.getvalue(), err.getvalue() + _exit_message(exc), _exit_status(exc)
    # A command that is not a deploykit one returns plain text: it exits 0.
    return out.getvalue(), err.getvalue(), getattr(returned, "exit_code", 0)


def _exit_status(exc: SystemExit) -> int:
    # As the interpreter does: None is success, a number is the status, anything else is printed and is 1.
    if exc.code is None:
        return 0
    return exc.code if isinstance(exc.code, int) else 1


def _exit_message(exc: SystemExit) -> str:
    return "" if exc.code is None or isinstance(exc.code, int) else str(exc.code)
