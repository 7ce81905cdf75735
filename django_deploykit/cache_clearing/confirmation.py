"""What a run needs confirmed before it deletes anything: sessions it would delete, stores a flush empties.

Like every refusal of ``plan``, a refusal here comes before anything is deleted.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence

from django_deploykit.cache_clearing.plan import (
    AliasPlan,
    CacheSetup,
    PlanRefused,
    Strategy,
    sessions_warning,
)

# Puts a question to the operator: the answer, or None where there is no terminal to ask on.
Ask = Callable[[str], str | None]


def sessions_warnings(plans: Sequence[AliasPlan], setup: CacheSetup) -> list[str]:
    """One warning for each alias whose clearing logs everyone out."""
    return [sessions_warning(plan, setup) for plan in plans if plan.sessions_at_risk]


def ask_on_terminal(question: str) -> str | None:
    """The answer typed on the terminal; None when standard input is not a terminal."""
    return input(question) if sys.stdin.isatty() else None


def confirm(plans: Sequence[AliasPlan], warnings: Sequence[str], *, yes: bool, ask: Ask | None) -> None:
    """Raise ``PlanRefused`` unless what would be lost is confirmed: by ``--yes``, or, for a flush, by the
    operator typing 'flush' when ``ask`` puts the question (``None``: no question may be put)."""
    if yes:
        return
    if warnings:
        raise PlanRefused(
            " ".join(warnings) + " Pass --yes to clear it anyway, or --dry-run to see what would go. "
            "Nothing was cleared."
        )
    flushed = [plan for plan in plans if plan.strategy is Strategy.FLUSH]
    if not flushed:
        return
    stores = ", ".join(f"{plan.alias!r} ({plan.location or plan.backend})" for plan in flushed)
    question = (
        f"--flush empties the whole store of {stores}: every key of every prefix, the other slot's too. "
    )
    answer = None if ask is None else ask(question + "Type 'flush' to continue: ")
    if answer is None:
        raise PlanRefused(
            question + "Pass --yes to confirm (there is no terminal to ask on). Nothing was cleared."
        )
    if answer.strip() != "flush":
        raise PlanRefused("Flush not confirmed. Nothing was cleared.")
