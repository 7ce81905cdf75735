"""Migration-level phases, with the override layers, highest first:

1. a ``deploy_phase = "additive" | "destructive"`` attribute on the Migration class;
2. the ``DEPLOYKIT_MIGRATION_PHASES`` setting, ``{"app_label.migration_name": phase}``;
3. the reviewed-phases file (``reviews``), whose entries hold only while the migration's digest
   matches: below the setting, which a deployment may set on purpose to differ from what is
   checked in, and above contrib, since a review is the project's own decision;
4. the verdicts shipped for Django's contrib migrations (``contrib.CONTRIB_PHASES``);
5. the per-operation rules of ``classify``.

Every layer describes applying the migration; unapplying it flips the phase.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.migrations import Migration

from django_deploykit.conf import conf
from django_deploykit.migrate_safe.classify import Hazard, OperationVerdict
from django_deploykit.migrate_safe.contrib import CONTRIB_PHASES
from django_deploykit.migrate_safe.phases import (
    ADDITIVE,
    ANY,
    DESTRUCTIVE,
    MARKABLE_PHASES,
    MIXED,
    NON_TRANSACTIONAL,
    REFUSED,
    UNCLASSIFIED,
    UNKNOWN,
    Phase,
    flip,
)
from django_deploykit.migrate_safe.reviews import (
    MigrationDetails,
    current_reviews,
    migration_details,
    migration_digest,
)

MARKER_ATTRIBUTE = "deploy_phase"


class InvalidPhaseOverride(ValueError):
    """A marker or a DEPLOYKIT_MIGRATION_PHASES entry names no phase."""


@dataclass
class MigrationVerdict:
    app_label: str
    name: str
    backwards: bool
    phase: Phase
    source: str
    reason: str
    operations: list[OperationVerdict]
    atomic: bool = True
    hazards: list[Hazard] = field(default_factory=list)
    split: dict[Phase, list[int]] = field(default_factory=dict)
    # For a migration no rule decides: where it is and what it runs, for the reviewer.
    details: MigrationDetails | None = None
    # Why a reviewed entry was not used (the migration changed since), or "".
    review_note: str = ""

    @property
    def undecided(self) -> bool:
        """Unclassified because an operation has no rule (not because one is refused)."""
        return self.phase == UNCLASSIFIED and any(op.phase == UNKNOWN for op in self.operations)

    @property
    def key(self) -> tuple[str, str]:
        return (self.app_label, self.name)

    @property
    def label(self) -> str:
        return f"{self.app_label}.{self.name}"

    @property
    def runnable(self) -> bool:
        return self.phase in (ADDITIVE, DESTRUCTIVE)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "app_label": self.app_label,
            "name": self.name,
            "direction": "backwards" if self.backwards else "forwards",
            "phase": self.phase,
            "source": self.source,
            "reason": self.reason,
            "atomic": self.atomic,
            "hazards": [h.as_dict() for h in self.hazards],
            "split": self.split,
            "operations": [op.as_dict() for op in self.operations],
        }
        # Only where they say something, so the common migration's shape stays as it was.
        if self.details is not None:
            data["details"] = self.details.as_dict()
        if self.review_note:
            data["review_note"] = self.review_note
        return data


def validate_phase_setting(value: object) -> list[str]:
    """Sentences naming what is wrong with a DEPLOYKIT_MIGRATION_PHASES value (empty when fine)."""
    if not isinstance(value, dict):
        return [f"DEPLOYKIT_MIGRATION_PHASES must be a dict, not {type(value).__name__}."]
    problems = []
    for key, phase in value.items():
        if not isinstance(key, str) or key.count(".") != 1 or not all(key.split(".")):
            problems.append(f"Key {key!r} is not of the form 'app_label.migration_name'.")
        if phase not in MARKABLE_PHASES:
            problems.append(f"{key!r} maps to {phase!r}; use 'additive' or 'destructive'.")
    return problems


def _override(migration: Migration) -> tuple[tuple[Phase, str, str] | None, str]:
    """The overriding (phase, source, reason), or None; and why a review was not used."""
    label = f"{migration.app_label}.{migration.name}"
    marker = getattr(migration, MARKER_ATTRIBUTE, None)
    if marker is not None:
        if marker not in MARKABLE_PHASES:
            raise InvalidPhaseOverride(
                f"Migration {label} has deploy_phase = {marker!r}; set it to 'additive' or 'destructive'."
            )
        return (Phase(marker), "marker", f"Marked deploy_phase = {marker!r} in the migration."), ""
    configured = conf.MIGRATION_PHASES
    problems = validate_phase_setting(configured)
    if problems:
        raise InvalidPhaseOverride(" ".join(problems))
    if label in configured:
        phase = configured[label]
        return (Phase(phase), "setting", f"DEPLOYKIT_MIGRATION_PHASES maps {label} to {phase!r}."), ""
    note = ""
    path, reviews = current_reviews()
    review = reviews.get(label)
    if review is not None and review.decided:
        if migration_digest(migration) == review.digest:
            # One line in the plan, however the reason was wrapped in the file.
            reason = " ".join(review.reason.split())
            return (Phase(review.phase), "reviewed", f"Reviewed ({path.name}): {reason}"), ""
        on = f" on {review.reviewed_on}" if review.reviewed_on else ""
        note = (
            f"It changed since it was reviewed{on} ({path.name} says {review.phase}); review it again: "
            "migrate_safe --review."
        )
    if label in CONTRIB_PHASES:
        phase, reason = CONTRIB_PHASES[label]
        return (phase, "contrib", reason), note
    return None, note


def _from_rules(operations: list[OperationVerdict]) -> tuple[Phase, str, dict[Phase, list[int]]]:
    by_phase: dict[Phase, list[int]] = {}
    for op in operations:
        by_phase.setdefault(op.phase, []).append(op.index)
    if REFUSED in by_phase or UNKNOWN in by_phase:
        stuck = [op for op in operations if op.phase in (REFUSED, UNKNOWN)]
        names = "; ".join(f"operation {op.index} ({op.description}): {op.phase}" for op in stuck)
        return UNCLASSIFIED, f"Runs in no phase until fixed or marked: {names}.", {}
    if ADDITIVE in by_phase and DESTRUCTIVE in by_phase:
        split = {ADDITIVE: by_phase[ADDITIVE], DESTRUCTIVE: by_phase[DESTRUCTIVE]}
        reason = (
            f"Mixes phases: {_numbers(split[ADDITIVE])} additive, {_numbers(split[DESTRUCTIVE])} "
            "destructive. Split it: move the destructive operations into a new migration that "
            "depends on this one."
        )
        return MIXED, reason, split
    if DESTRUCTIVE in by_phase:
        return DESTRUCTIVE, "Every operation is destructive or fits either phase.", {}
    if ADDITIVE in by_phase:
        return ADDITIVE, "Every operation is additive or fits either phase.", {}
    return ADDITIVE, "No operation changes what the code sees; it runs with the additive phase.", {}


def _numbers(indexes: list[int]) -> str:
    if len(indexes) == 1:
        return f"operation {indexes[0]} is"
    return f"operations {', '.join(str(i) for i in indexes)} are"


def migration_verdict(
    migration: Migration,
    forward_operations: list[OperationVerdict],
    *,
    backwards: bool = False,
    transactional_ddl: bool = True,
    undo_operations: list[OperationVerdict] | None = None,
    first_install: bool = False,
) -> MigrationVerdict:
    """The phase of applying (or, with ``backwards``, unapplying) one migration.

    ``forward_operations`` are the verdicts of applying it; ``undo_operations`` those of
    unapplying it, required when ``backwards`` is true.
    """
    override, review_note = _override(migration)
    split: dict[Phase, list[int]] = {}
    if first_install:
        # Nothing runs against this database yet: no old code to protect, one phase for all.
        phase, source = ADDITIVE, "first-install"
        reason = "First install: no migration is applied on this database, so no code runs against it yet."
    elif override is not None:
        phase, source, reason = override
    else:
        phase, reason, split = _from_rules(forward_operations)
        source = "rules"
    shown = forward_operations
    if backwards:
        if undo_operations is None:
            raise ValueError("undo_operations are required for a backwards verdict.")
        shown = undo_operations
        forward_phase, phase = phase, flip(phase)
        split = {flip(k): v for k, v in split.items()}
        if forward_phase in (ADDITIVE, DESTRUCTIVE):
            reason = f"Unapplying a {forward_phase} migration is {phase}. ({reason})"
        else:
            reason = f"Unapplying it: {reason}"
    hazards = []
    effective = [op for op in shown if op.phase != ANY]
    if not transactional_ddl and len(effective) > 1:
        hazards.append(
            Hazard(
                NON_TRANSACTIONAL,
                "This database cannot roll DDL back: a failure between operations leaves the migration "
                "half-applied; migrate_safe journals each operation so it can resume or undo it.",
            )
        )
    if review_note:
        reason = f"{reason} {review_note}"
    verdict = MigrationVerdict(
        migration.app_label,
        migration.name,
        backwards,
        phase,
        source,
        reason,
        shown,
        atomic=bool(migration.atomic),
        hazards=hazards,
        split=split,
        review_note=review_note,
    )
    if verdict.undecided:
        verdict.details = migration_details(migration)
    return verdict
