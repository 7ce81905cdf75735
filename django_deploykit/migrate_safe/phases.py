"""The names of phases and hazards, shared by every module of migrate_safe."""

from __future__ import annotations

from typing import Final

ADDITIVE: Final = "additive"
"""Safe while the old code still runs: the old code keeps reading and writing after it."""
DESTRUCTIVE: Final = "destructive"
"""Only once the new code is live: the new code works before it."""
ANY: Final = "any"
"""No effect on what the code sees (state only, comments, index names): fits either phase."""
REFUSED: Final = "refused"
"""Breaks the old code and is needed by the new code (renames, NOT NULL without a DB default)."""
UNKNOWN: Final = "unknown"
"""deploykit cannot tell (RunSQL, RunPython, unknown operations) until the migration is marked."""

MIXED: Final = "mixed"
"""A migration whose operations need both phases: it runs in neither and has to be split."""
UNCLASSIFIED: Final = "unclassified"
"""A migration with a refused or unknown operation and no marker."""

RUNNABLE_PHASES: Final = (ADDITIVE, DESTRUCTIVE)
MARKABLE_PHASES: Final = (ADDITIVE, DESTRUCTIVE)
PHASE_CHOICES: Final = ("additive", "destructive", "all")

LOCK: Final = "lock"
REWRITE: Final = "rewrite"
IRREVERSIBLE: Final = "irreversible"
DATA_LOSS: Final = "data-loss"
NON_TRANSACTIONAL: Final = "non-transactional"


def flip(phase: str) -> str:
    """The phase of undoing a change: undoing an additive change destroys what it added."""
    if phase == ADDITIVE:
        return DESTRUCTIVE
    if phase == DESTRUCTIVE:
        return ADDITIVE
    return phase
