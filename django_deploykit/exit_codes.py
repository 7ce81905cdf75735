"""The exit codes of every deploykit command: one vocabulary, one meaning each (docs/exit_codes.md).

A script can act on a code without knowing which command returned it:

- 0 to 7 say how a run ended. 1 always means "nothing is left half done": the run was refused, or what it
  started was undone or never reached the live site. 3 means the opposite: something stays changed, and the
  message says what and how to finish.
- 10 to 19 are answers of status questions (``migrate_safe --check``, ``maintenance status``,
  ``migrate_safe --roundtrip``): the command ran fine and the code is its answer.
- 128 + N: stopped by signal N (SIGINT 130, SIGTERM 143, SIGHUP 129), the shell's convention; see
  ``interrupts``.

Before 0.2 each command had codes of its own (3 was "pending" in one and "failed after the swap" in another).
Code that reads another slot's commands may meet that older vocabulary: the code in a slot can be older than
the code reading it, so ``answer_of`` also takes the older numbers where they cannot be misread.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from typing import Final


class ExitCode(IntEnum):
    OK = 0
    # Refused, bad input, or a failure that left nothing half done (the live site as it was).
    FAILED = 1
    # A malformed command line, found by argparse before the command ran.
    USAGE = 2
    # A failure after something was changed that stays changed: the message says what, and how to finish.
    FAILED_PARTWAY = 3
    # The outcome could not be verified: look at the servers before doing anything else.
    UNCERTAIN = 4
    # The new code failed verification; the links were swapped back and the old code verified live again.
    SWAPPED_BACK = 5
    # Another run holds the lock: try again later.
    LOCK_BUSY = 6
    # The migration journal shows a half-applied migration: 'migrate_safe --resume' or '--undo' first.
    HALF_APPLIED = 7

    # Answers of status questions.
    MIGRATIONS_PENDING = 10
    MIGRATIONS_BLOCKED = 11
    ROUNDTRIP_FAILED = 12
    MAINTENANCE_ANNOUNCED = 13
    MAINTENANCE_ACTIVE = 14
    MAINTENANCE_ENDED = 15
    SERVER_CONFIG_DRIFT = 16


# What each code means, in the words of the docs' table and of the messages that name a child's exit code.
MEANINGS: Final[Mapping[ExitCode, str]] = {
    ExitCode.OK: "done",
    ExitCode.FAILED: "refused or failed with nothing left half done",
    ExitCode.USAGE: "a malformed command line",
    ExitCode.FAILED_PARTWAY: "failed after changing something that stays changed",
    ExitCode.UNCERTAIN: "the outcome could not be verified",
    ExitCode.SWAPPED_BACK: "the new code failed verification and was swapped back",
    ExitCode.LOCK_BUSY: "another run holds the lock",
    ExitCode.HALF_APPLIED: "a migration was left half applied; run 'migrate_safe --resume' or '--undo'",
    ExitCode.MIGRATIONS_PENDING: "migrations are pending",
    ExitCode.MIGRATIONS_BLOCKED: "a migration is mixed or cannot be classified; split it or mark its phase",
    ExitCode.ROUNDTRIP_FAILED: "a migration did not survive forwards, backwards, forwards",
    ExitCode.MAINTENANCE_ANNOUNCED: "maintenance is announced",
    ExitCode.MAINTENANCE_ACTIVE: "maintenance is on",
    ExitCode.MAINTENANCE_ENDED: "the maintenance window has ended",
    ExitCode.SERVER_CONFIG_DRIFT: "the server files differ from what the settings render",
}

# The answers of the status questions before 0.2, by question: there the numbers cannot mean anything else.
_OLDER_ANSWERS: Final[Mapping[str, Mapping[int, ExitCode]]] = {
    "migrate_safe --check": {3: ExitCode.MIGRATIONS_PENDING, 4: ExitCode.MIGRATIONS_BLOCKED},
    "maintenance status": {
        3: ExitCode.MAINTENANCE_ANNOUNCED,
        4: ExitCode.MAINTENANCE_ACTIVE,
        5: ExitCode.MAINTENANCE_ENDED,
    },
}


def answer_of(question: str, code: int) -> ExitCode | int:
    """The ``ExitCode`` a slot's ``question`` (a key of ``_OLDER_ANSWERS``) exited with, in either
    vocabulary; a number neither knows comes back as it is."""
    older = _OLDER_ANSWERS[question].get(code)
    if older is not None:
        return older
    try:
        return ExitCode(code)
    except ValueError:
        return code


def meaning(code: int) -> str:
    """A few words for ``code``, for a message that names a child's exit code."""
    if code > 128:
        return "stopped by a signal"
    try:
        return MEANINGS[ExitCode(code)]
    except ValueError:
        return "see the log"
