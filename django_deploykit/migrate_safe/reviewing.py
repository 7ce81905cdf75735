"""``migrate_safe --review``: write the pending migrations' phases into the reviewed-phases file, for a person
to confirm. Kept apart from ``reviews`` (the file, its entries and digests), which ``verdicts`` reads while
planning: this action works on a finished plan."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.db.migrations import Migration
from django.db.migrations.graph import MigrationGraph

from django_deploykit.atomic_files import write_atomically
from django_deploykit.migrate_safe.planning import PhasePlan
from django_deploykit.migrate_safe.reviews import (
    ReviewUpdate,
    Undecided,
    current_reviews,
    update_reviews,
)


class ReviewRefused(ValueError):
    """--review was asked of a plan it cannot review; the message says what to run instead."""


@dataclass
class ReviewRun:
    """What ``review_pending`` did to the file at ``path``."""

    path: Path
    written: bool
    update: ReviewUpdate

    def as_dict(self) -> dict[str, Any]:
        return {
            "action": "review",
            "file": str(self.path),
            "written": self.written,
            "added": self.update.added,
            "reopened": self.update.reopened,
            "waiting": self.update.waiting,
            "kept": self.update.kept,
            "unreviewable": self.update.unreviewable,
        }

    def messages(self) -> list[str]:
        """One sentence per migration, and what the reviewer does next."""
        update, path = self.update, self.path
        if not (update.added or update.reopened or update.waiting or update.unreviewable):
            return [
                f"No pending migration needs a review; {path} is unchanged."
                if not self.written
                else f"No pending migration needs a review; updated the comments of {path}."
            ]
        return [
            *(f"Added {label}: record its phase and reason." for label in update.added),
            *(
                f"Reopened {label}: it changed since it was reviewed; decide again."
                for label in update.reopened
            ),
            *(f"Still waiting for a phase and a reason: {label}." for label in update.waiting),
            *(f"Kept the review of {label}." for label in update.kept),
            *(
                f"Cannot review {label}: it has no source file; mark it or use DEPLOYKIT_MIGRATION_PHASES."
                for label in update.unreviewable
            ),
            f"Wrote {path}; fill in phase and reason, then commit it."
            if self.written
            else f"{path} is unchanged.",
        ]


def review_pending(
    plan: PhasePlan, graph: MigrationGraph, document: dict[str, Any], say: Callable[[str], None]
) -> None:
    """--review: write every undecided migration of ``plan`` into the reviewed-phases file,
    refresh the entries of the reviewed ones, and say what the reviewer does next. Raises
    ReviewRefused for a plan that unapplies and ReviewFileError for a file that cannot be used."""
    if plan.direction == "backwards":
        raise ReviewRefused(
            "--review records phases of migrations to apply; this plan unapplies. Run it without "
            "a target behind the applied state."
        )
    # Parsed (and checked) before anything is written: a bad file is reported, not replaced.
    path, existing = current_reviews()
    steps = {(m.app_label, m.name): m for m, _ in plan.steps}
    undecided = [
        Undecided(steps[v.key], [(op.index, op.description, op.phase) for op in v.operations])
        for v in plan.migrations
        # Reviewed ones too, so their digests are checked and their comments stay current.
        if v.undecided or v.source == "reviewed"
    ]

    def find(label: str) -> Migration | None:
        app_label, _, name = label.partition(".")
        migration: Migration | None = graph.nodes.get((app_label, name))
        return migration

    update = update_reviews(existing, undecided, find, datetime.date.today().isoformat())
    old = path.read_text(encoding="utf-8") if path.exists() else None
    # No file is created for nothing; an existing one is rewritten only when it changes.
    written = update.text != old and (old is not None or bool(update.added))
    if written:
        write_atomically(path, update.text)
    run = ReviewRun(path, written, update)
    document.update(run.as_dict())
    for message in run.messages():
        say(message)
