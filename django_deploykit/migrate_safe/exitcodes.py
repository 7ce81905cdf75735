"""Exit codes of migrate_safe; docs/migrate_safe.md lists them for scripts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from django_deploykit.migrate_safe.planning import PhasePlan

OK: Final = 0
ERROR: Final = 1  # CommandError: bad input, a failed migration
USAGE: Final = 2  # argparse: unknown option, missing value
CHECK_PENDING: Final = 3  # --check: migrations are pending, all of them runnable in a phase
CHECK_BLOCKED: Final = 4  # --check: a mixed or unclassifiable migration was found
LOCK_BUSY: Final = 5  # --no-wait: another run holds the migration lock
PARTIAL: Final = 6  # the journal shows a half-applied migration: --resume or --undo it
ROUNDTRIP_FAILED: Final = 7  # --roundtrip: a migration did not survive forwards/backwards/forwards


def for_check(plan: PhasePlan, phase: str | None) -> int:
    """--check: blocked migrations anywhere in the plan first, then pending ones in the phase
    (DB defaults kept for the old code count as pending destructive work)."""
    if plan.blocked:
        return CHECK_BLOCKED
    if plan.select(phase or "all"):
        return CHECK_PENDING
    if plan.contractions and phase != "additive":
        # DB defaults kept for the old code: the destructive phase still has to remove them.
        return CHECK_PENDING
    return OK
