"""What a migrate_safe run writes as it goes: its messages, and one line per migration that the
executor's progress callback opens ("Applying x...") and closes (" OK")."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from django.core.management.base import OutputWrapper
from django.core.management.color import Style

from django_deploykit.migrate_safe.phases import ADDITIVE

if TYPE_CHECKING:
    from django_deploykit.migrate_safe.planning import PhasePlan


class ProgressWriter:
    """Writes to ``stdout`` at ``verbosity`` 1 and more; at 2, how long each migration took.

    With ``json_output`` nothing but the JSON document may reach stdout: the command sets
    ``verbosity`` to 0 then, and the actions put what they found in the document instead."""

    def __init__(
        self, stdout: OutputWrapper, stderr: OutputWrapper, style: Style, verbosity: int, json_output: bool
    ) -> None:
        self.stdout = stdout
        self.stderr = stderr
        self.style = style
        self.verbosity = verbosity
        self.json_output = json_output
        self._line_open = False
        self._started_at = 0.0

    def say(self, message: str) -> None:
        if self.verbosity >= 1:
            self.close_line()
            self.stdout.write(message)

    def problem(self, message: str) -> None:
        """A finding that fails the run: on stderr whatever the verbosity, in the document with JSON."""
        if not self.json_output:
            self.stderr.write(message)

    def close_line(self) -> None:
        """End a migration's line that a failure left open, so what follows starts on a line of its own."""
        if self._line_open:
            self.stdout.write("")
            self._line_open = False

    def migration_progress(self, action: str, migration: Any = None, fake: bool = False) -> None:
        """The progress callback of Django's MigrationExecutor."""
        if self.verbosity < 1:
            return
        if action in ("apply_start", "unapply_start"):
            self._started_at = time.monotonic()
            verb = "Applying" if action == "apply_start" else "Unapplying"
            self.stdout.write(f"  {verb} {migration}...", ending="")
            self.stdout.flush()
            self._line_open = True
        elif action in ("apply_success", "unapply_success"):
            elapsed = f" ({time.monotonic() - self._started_at:.3f}s)" if self.verbosity > 1 else ""
            self.stdout.write(self.style.SUCCESS((" FAKED" if fake else " OK") + elapsed))
            self._line_open = False

    def announce(self, phase: str, plan: PhasePlan) -> None:
        """What the phase runs, and what it leaves for the destructive phase."""
        if self.verbosity < 1:
            return
        self.stdout.write(self.style.MIGRATE_HEADING(f"Running migrations ({phase} phase):"))
        if not plan.select(phase):
            self.stdout.write("  No migrations to apply.")
        if phase == ADDITIVE and plan.destructive:
            self.stdout.write(
                self.style.NOTICE(
                    f"  {len(plan.destructive)} migration(s) wait for the destructive phase: "
                    + ", ".join(v.label for v in plan.destructive)
                )
            )
            for label, reason in plan.held_back.items():
                self.stdout.write(self.style.NOTICE(f"  {label}: {reason}"))
        if phase == "all" and plan.blocked:
            self.stdout.write(
                self.style.WARNING(
                    "  Running mixed or unclassified migrations too (--phase=all): "
                    + ", ".join(v.label for v in plan.blocked)
                )
            )
