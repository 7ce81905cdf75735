"""The names of phases and hazards, shared by every module of migrate_safe.

Both are ``StrEnum``s: a member is equal to, hashes as, prints as and serialises to JSON as its
string value, so the plan's JSON, the reviewed-phases file and the command line keep the plain
words. The module-level names (``ADDITIVE``...) are the members themselves, under the short names
the package and its callers use.
"""

from __future__ import annotations

from enum import StrEnum, unique
from typing import Final


@unique
class Phase(StrEnum):
    """The phase an operation or a migration needs."""

    ADDITIVE = "additive"
    """Safe while the old code still runs: the old code keeps reading and writing after it."""
    DESTRUCTIVE = "destructive"
    """Only once the new code is live: the new code works before it."""
    ANY = "any"
    """No effect on what the code sees (state only, comments, index names): fits either phase."""
    REFUSED = "refused"
    """Breaks the old code and is needed by the new code (renames, NOT NULL without a DB default)."""
    UNKNOWN = "unknown"
    """deploykit cannot tell (RunSQL, RunPython, unknown operations) until the migration is marked."""
    MIXED = "mixed"
    """A migration whose operations need both phases: it runs in neither and has to be split."""
    UNCLASSIFIED = "unclassified"
    """A migration with a refused or unknown operation and no marker."""


@unique
class HazardKind(StrEnum):
    """What else an operation does besides its phase: what a reviewer should know before it runs."""

    LOCK = "lock"
    REWRITE = "rewrite"
    IRREVERSIBLE = "irreversible"
    DATA_LOSS = "data-loss"
    NON_TRANSACTIONAL = "non-transactional"


ADDITIVE: Final = Phase.ADDITIVE
DESTRUCTIVE: Final = Phase.DESTRUCTIVE
ANY: Final = Phase.ANY
REFUSED: Final = Phase.REFUSED
UNKNOWN: Final = Phase.UNKNOWN
MIXED: Final = Phase.MIXED
UNCLASSIFIED: Final = Phase.UNCLASSIFIED

MARKABLE_PHASES: Final = (ADDITIVE, DESTRUCTIVE)
"""The phases a marker, the setting or a review may give a migration."""
PHASE_CHOICES: Final = (ADDITIVE.value, DESTRUCTIVE.value, "all")
"""The command line's --phase values: "all" runs both phases in one run."""

LOCK: Final = HazardKind.LOCK
REWRITE: Final = HazardKind.REWRITE
IRREVERSIBLE: Final = HazardKind.IRREVERSIBLE
DATA_LOSS: Final = HazardKind.DATA_LOSS
NON_TRANSACTIONAL: Final = HazardKind.NON_TRANSACTIONAL


def flip(phase: Phase) -> Phase:
    """The phase of undoing a change: undoing an additive change destroys what it added."""
    if phase == ADDITIVE:
        return DESTRUCTIVE
    if phase == DESTRUCTIVE:
        return ADDITIVE
    return phase
