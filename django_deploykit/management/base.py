"""What every deploykit command shares: one rule for exit codes, one for ``--format json``.

Exit codes. Every code is an ``exit_codes.ExitCode``, with one meaning in every command. A command never
calls ``sys.exit``. A failure, a refusal or bad input raises ``CommandError``
(its ``returncode`` is the exit code). Every other outcome returns; a command whose outcome has a code of its
own (``maintenance status`` exits 13 while a window is announced) sets ``exit_code``. From the command line
that code becomes the process's exit status; ``call_command`` returns a ``CommandOutput`` that carries it, so
it behaves the same for every outcome.

JSON. With ``--format json`` a command writes exactly one JSON object to stdout, whatever happens: the
``document`` it built, with ``"exit_code"``; on a ``CommandError``, the document so far (or nothing) with
``"error"`` (the message, which still goes to stderr too) and ``"exit_code"`` (the error's return code).
Argument errors found by argparse (exit 2) happen before the command runs and print no JSON.

Negative numbers. An option's value that starts with a minus and a digit (``--lock-timeout -5s``) is taken
as the value, so the command's own check says what is wrong with it, rather than argparse calling it a
missing argument.

Shared options and lookups. ``add_format_argument`` is the one ``--format`` (argparse checks its choices);
``progress`` writes a progress line unless the output is JSON or ``-v 0``; ``find_deploy_root`` and
``find_project_subdir`` turn "no deploy root here" into a ``CommandError`` with the sentence that says how
to make one.

Durations. ``duration_option`` reads every duration and timeout option in the one grammar of ``durations``
(``500ms``, ``90s``, ``2min``, ``1h30m``; a bare number is seconds for a timeout), within the option's bounds.

Arguments. Python hands a command-line argument that is not valid UTF-8 to the command with its bad bytes
as lone surrogates; such a string cannot be written to a file, a database or a page later. Every command
refuses it up front, naming the option, before anything is changed.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from django_deploykit.conf import conf
from django_deploykit.deploy_root import git, history, locate, progress
from django_deploykit.deploy_root.layout import PROGRESS_NAME, DeployRoot
from django_deploykit.deploy_root.run import RunFailed
from django_deploykit.durations import Bounds, DurationError, parse_duration
from django_deploykit.interrupts import Interrupted, stop_signals_raise
from django_deploykit.text import Say


class CommandOutput(str):
    """What ``call_command`` returns for a deploykit command: the text ``handle()`` returned (usually
    empty: the commands write as they go) and ``exit_code``, the status the command line exits with."""

    exit_code: int

    def __new__(cls, text: str = "", exit_code: int = 0) -> CommandOutput:
        output = super().__new__(cls, text)
        output.exit_code = exit_code
        return output


class DeploykitCommand(BaseCommand):
    """Base of the package's commands (see the module's docstring for the two rules)."""

    exit_code: int = 0
    json_output: bool = False
    # The JSON object of this run; handle() fills it in, execute() writes it once.
    document: dict[str, Any] | None = None

    def execute(self, *args: Any, **options: Any) -> CommandOutput:
        self.exit_code = 0
        self.json_output = options.get("format") == "json"
        self.document = None
        try:
            refuse_undecodable(args, options)
            returned = super().execute(*args, **options)
        except Interrupted as exc:
            error = CommandError(
                exc.explanation
                or f"{self.name_for_messages} was {exc} before it finished; what it had done so far stays done.",
                returncode=exc.exit_code,
            )
            if self.json_output:
                self._write_json(
                    {**(self.document or {}), "error": str(error), "exit_code": error.returncode}
                )
            raise error from exc
        except CommandError as exc:
            if self.json_output:
                self._write_json({**(self.document or {}), "error": str(exc), "exit_code": exc.returncode})
            raise
        if self.json_output:
            self._write_json({**(self.document or {}), "exit_code": self.exit_code})
        return CommandOutput(returned or "", self.exit_code)

    def create_parser(self, prog_name: str, subcommand: str, **kwargs: Any) -> CommandParser:
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        parser._negative_number_matcher = re.compile(r"^-\d")
        return parser

    def run_from_argv(self, argv: list[str]) -> None:
        # A CommandError has already exited here with its return code. From the command line a stop
        # signal unwinds the command (see interrupts) instead of ending the process where it stands.
        with stop_signals_raise():
            super().run_from_argv(argv)
        if self.exit_code:
            self.stdout.flush()
            sys.exit(self.exit_code)

    def progress(self, line: str) -> None:
        """A progress line of a long run, indented under the command's own lines; none with JSON or -v 0."""
        if getattr(self, "verbosity", 1) >= 1 and not self.json_output:
            self.stdout.write(f"  {line}")

    def failed(self, exc: RunFailed) -> CommandError:
        """The ``CommandError`` of a failed run, its outcome so far kept for the JSON document."""
        if exc.outcome is not None:
            self.document = exc.outcome.as_dict()
        return CommandError(str(exc), returncode=exc.exit_code)

    def say(self, lines: Iterable[Say], *, even_quiet: bool = False) -> None:
        """Write the lines a package composed, each styled by its tone; nothing with JSON, nor with -v 0
        unless the lines are what was asked for (``even_quiet``: a status)."""
        if self.json_output or (getattr(self, "verbosity", 1) < 1 and not even_quiet):
            return
        styles = {
            "heading": self.style.MIGRATE_HEADING,
            "success": self.style.SUCCESS,
            "warning": self.style.WARNING,
            "error": self.style.ERROR,
        }
        for line in lines:
            style = styles.get(line.tone)
            self.stdout.write(style(line.text) if style else line.text)

    @property
    def name_for_messages(self) -> str:
        return type(self).__module__.rsplit(".", 1)[-1]

    def _write_json(self, data: dict[str, Any]) -> None:
        self.stdout.write(json.dumps(data, indent=2, default=str))


def add_format_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--format",
        choices=("text", "json"),
        default="text",
        help="text (the default) or json: exactly one JSON object on stdout, whatever happens.",
    )


def add_ref_argument(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--ref", help=f"Branch, tag or commit to {what} (default DEPLOYKIT_PULL_REF, 'main')."
    )


def ref_option(value: str | None) -> str:
    """The ``--ref`` to pull or deploy (``DEPLOYKIT_PULL_REF`` when not given); ``CommandError`` when it cannot
    name a commit."""
    ref = value if value is not None else conf.PULL_REF
    problem = git.ref_error(ref)
    if problem:
        raise CommandError(problem)
    return ref


def add_deploy_maintenance_arguments(parser: argparse.ArgumentParser) -> None:
    """``deploy``'s window around the deploy: ``--maintenance`` and what ``maintenance on`` takes."""
    parser.add_argument(
        "--maintenance", action="store_true", help="Announce and run a maintenance window around the deploy."
    )
    parser.add_argument("--at", help="With --maintenance: when the window starts (maintenance on --at).")
    parser.add_argument("--warn", help="With --maintenance: how long before the start the banner shows.")
    parser.add_argument("--for", dest="duration", help="With --maintenance: the window's length, e.g. 30m.")
    parser.add_argument("--message", help="With --maintenance: the banner's and the 503 page's text.")


def add_run_id_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--run-id",
        help="Record the run under this id (the deploy console chooses it to follow the run from its start).",
    )


def run_id_option(root: DeployRoot, value: str | None) -> str | None:
    """``--run-id``: the form history ids have, and no run recorded or logged under it yet."""
    if value is None:
        return None
    if not progress.is_run_id(value):
        raise CommandError(
            f"--run-id {value!r} is not a run id; it looks like 20261201T101500Z-1a2b3c (a UTC time and six hex digits)."
        )
    if (root.run_log_dir(value) / PROGRESS_NAME).exists() or any(
        record.id == value for record in history.read(root)
    ):
        raise CommandError(f"--run-id {value}: a run with this id exists already; each run needs its own.")
    return value


def add_wait_lock_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--wait-lock",
        default="0",
        help="How long to wait for the deploy lock, such as 30s or 5min (default 0: fail at once, naming the holder).",
    )


def find_deploy_root() -> DeployRoot:
    """The running project's deploy root; ``CommandError`` saying how to create one when there is none."""
    try:
        return locate.deploy_root()
    except locate.DeployRootNotFound as exc:
        raise CommandError(str(exc)) from exc


def find_project_subdir(root: DeployRoot) -> Path:
    """The project's folder inside a slot; ``CommandError`` when the project is not inside the deploy root."""
    try:
        return locate.project_subdir(root)
    except locate.DeployRootNotFound as exc:
        raise CommandError(str(exc)) from exc


def duration_option(value: object, option: str, bounds: Bounds) -> float:
    """The seconds ``value`` gives ``option`` (see ``durations``); otherwise ``CommandError`` saying what is allowed."""
    try:
        return parse_duration(str(value), option, bounds).total_seconds()
    except DurationError as exc:
        raise CommandError(str(exc)) from None


def refuse_undecodable(args: tuple[Any, ...], options: dict[str, Any]) -> None:
    """Raise ``CommandError`` for an argument holding bytes that are not UTF-8 (see the module's docstring)."""
    named = [(None, value) for value in args] + list(options.items())
    for name, value in named:
        for text in value if isinstance(value, (list, tuple)) else [value]:
            if isinstance(text, str) and not _encodes(text):
                where = name.replace("_", "-") if name else "an argument"
                readable = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
                raise CommandError(
                    f"The value given for {where} ({readable!r}) is not valid UTF-8; write it in UTF-8 and run the "
                    "command again. Nothing was changed."
                )


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
