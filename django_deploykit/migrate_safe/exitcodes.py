"""The answer of ``migrate_safe --check``, in the package's one exit-code vocabulary (``exit_codes``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django_deploykit.exit_codes import ExitCode

if TYPE_CHECKING:
    from django_deploykit.migrate_safe.planning import PhasePlan


def for_check(plan: PhasePlan, phase: str | None) -> ExitCode:
    """--check: blocked migrations anywhere in the plan first, then pending ones in the phase
    (DB defaults kept for the old code count as pending destructive work)."""
    if plan.blocked:
        return ExitCode.MIGRATIONS_BLOCKED
    if plan.select(phase or "all"):
        return ExitCode.MIGRATIONS_PENDING
    if plan.contractions and phase != "additive":
        # DB defaults kept for the old code: the destructive phase still has to remove them.
        return ExitCode.MIGRATIONS_PENDING
    return ExitCode.OK
