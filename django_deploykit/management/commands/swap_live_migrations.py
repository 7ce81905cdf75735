"""Internal to 'swap_live --rollback': run in a slot's own interpreter, answers in JSON."""

from __future__ import annotations

import argparse
import json
from typing import Any

from django.core.management.base import CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from django_deploykit.management.base import DeploykitCommand
from django_deploykit.migrate_safe import rollback
from django_deploykit.migrate_safe.planning import PlanError
from django_deploykit.migrate_safe.runner import PhaseRefused


class Command(DeploykitCommand):
    help = (
        "Used by 'swap_live --rollback' in each slot: 'known' lists this code's migrations; 'plan --to LEAVES' "
        "classifies what this code applied beyond LEAVES; 'reverse --to LEAVES' unapplies it. Output is JSON."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("action", choices=("known", "plan", "reverse"), help="What to answer.")
        parser.add_argument(
            "--to", dest="leaves", help="JSON list of the previous code's [app, migration] leaves."
        )
        parser.add_argument(
            "--database", default=DEFAULT_DB_ALIAS, choices=tuple(connections), help="Database alias."
        )

    def handle(self, *args: Any, action: str, leaves: str | None, database: str, **options: Any) -> None:
        connection = connections[database]
        if action == "known":
            self.stdout.write(json.dumps(rollback.known_migrations(connection)))
            return
        try:
            parsed = [(str(app), str(name)) for app, name in json.loads(leaves or "")]
        except (ValueError, TypeError) as exc:
            raise CommandError("--to must be a JSON list of [app_label, migration_name] pairs.") from exc
        try:
            if action == "plan":
                self.stdout.write(json.dumps(rollback.rollback_plan(connection, parsed)))
            else:
                self.stdout.write(json.dumps({"unapplied": rollback.reverse_to(connection, parsed)}))
        except (PlanError, PhaseRefused) as exc:
            raise CommandError(str(exc)) from exc
