from __future__ import annotations

import argparse
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from django_deploykit import runtime
from django_deploykit.conf import conf
from django_deploykit.swap_live import service


class Command(BaseCommand):
    help = (
        "Make the stage slot live: take the deploy lock, gate the stage slot (check --deploy, additive "
        "migrations, health URL), exchange the live and stage links atomically, reload both servers and verify "
        "the live server reports the new revision, swapping back if it does not. Exit codes: 0 swapped (or "
        "status/dry run), 1 refused or error with nothing changed, 3 verification failed and swapped back, "
        "4 verification failed and the state after swapping back is uncertain."
    )
    # Checks run in the stage slot's own interpreter as part of the gate.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        action = parser.add_mutually_exclusive_group()
        action.add_argument(
            "--status", action="store_true", help="Show the slots, revisions, last swap and lock holder."
        )
        action.add_argument("--rollback", action="store_true", help="Swap back to the previously live slot.")
        action.add_argument("--repair", action="store_true", help="Finish or undo a half-done swap.")
        parser.add_argument(
            "--reverse-migrations",
            action="store_true",
            help="With --rollback: after swapping back, unapply the newer code's migrations with that code.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Run the gate and say what would happen; change nothing."
        )
        parser.add_argument(
            "--no-reload", action="store_false", dest="reload", help="Exchange the links only."
        )
        parser.add_argument(
            "--timeout", type=float, default=30.0, help="Seconds to wait for verification (default 30)."
        )
        parser.add_argument("--format", choices=("text", "json"), default="text", help="Output format.")

    def handle(
        self,
        *args: Any,
        status: bool,
        rollback: bool,
        repair: bool,
        reverse_migrations: bool,
        dry_run: bool,
        reload: bool,
        timeout: float,
        format: str,
        **options: Any,
    ) -> None:
        if timeout <= 0:
            raise CommandError("--timeout must be a positive number of seconds.")
        if reverse_migrations and not rollback:
            raise CommandError("--reverse-migrations goes with --rollback.")
        self.verbosity = options["verbosity"]
        self.json = format == "json"
        try:
            root = runtime.deploy_root()
        except runtime.DeployRootNotFound as exc:
            raise CommandError(str(exc)) from exc
        if status:
            self._emit(service.status(root))
            return
        if repair:
            try:
                state, what = service.repair(root, self._progress)
            except service.SwapError as exc:
                raise CommandError(str(exc)) from exc
            self._emit({"repair": what, "live": state.live, "stage": state.stage})
            return
        try:
            subdir = runtime.project_subdir(root)
        except runtime.DeployRootNotFound as exc:
            raise CommandError(str(exc)) from exc
        choice = conf.SETTINGS_CHOICE or {}
        swap_options = service.SwapOptions(
            project_subdir=subdir,
            production_variable=choice.get("variable", "PRODUCTION"),
            dry_run=dry_run,
            reload=reload,
            timeout=timeout,
            reverse_migrations=reverse_migrations,
        )
        try:
            outcome = (service.rollback if rollback else service.swap)(root, swap_options, self._progress)
        except service.SwapError as exc:
            if exc.outcome is not None and self.json:
                self.stdout.write(json.dumps(exc.outcome.as_dict(), indent=2))
            raise CommandError(str(exc), returncode=exc.exit_code) from exc
        if self.json:
            self.stdout.write(json.dumps(outcome.as_dict(), indent=2))
        elif self.verbosity >= 1:
            for message in outcome.messages:
                self.stdout.write(message)
            if outcome.result == "ok":
                self.stdout.write(
                    self.style.SUCCESS(
                        f"{outcome.after['live']} is live (revision {outcome.revisions.get(outcome.after['live'])}), "
                        f"{outcome.after['stage']} is the stage; {outcome.verification or 'verified'}."
                    )
                )

    def _progress(self, line: str) -> None:
        if self.verbosity >= 1 and not self.json:
            self.stdout.write(f"  {line}")

    def _emit(self, data: dict[str, Any]) -> None:
        if self.json:
            self.stdout.write(json.dumps(data, indent=2, default=str))
            return
        for key, value in data.items():
            if isinstance(value, dict):
                self.stdout.write(f"{key}:")
                for inner_key, inner_value in value.items():
                    self.stdout.write(f"  {inner_key}: {inner_value}")
            else:
                self.stdout.write(f"{key}: {value}")
