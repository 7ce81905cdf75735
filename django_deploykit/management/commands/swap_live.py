from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import CommandError

from django_deploykit.deploy_root import locate
from django_deploykit.durations import VERIFY_TIMEOUT
from django_deploykit.management.base import (
    DeploykitCommand,
    add_format_argument,
    add_run_id_argument,
    duration_option,
    find_deploy_root,
    find_project_subdir,
    run_id_option,
)
from django_deploykit.swap_live import report, service


class Command(DeploykitCommand):
    help = (
        "Make the stage slot live: take the deploy lock, gate the stage slot (check --deploy, additive "
        "migrations, health URL), exchange the live and stage links atomically, reload both servers and verify "
        "the live server reports the new revision, swapping back if it does not. Exit codes: 0 swapped (or "
        "status/dry run), 1 refused or error with nothing changed, 4 verification failed and the state after "
        "swapping back is uncertain (or, with --reload-servers, the live server does not report the live slot), "
        "5 verification failed and swapped back, 6 another run holds the lock (docs/exit_codes.md)."
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
        action.add_argument(
            "--reload-servers",
            action="store_true",
            help="Reload both servers onto the slots the links name and verify them; exchange nothing.",
        )
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
            "--timeout",
            default="30s",
            help="How long to wait for verification, such as 30s or 2min (default 30s).",
        )
        add_run_id_argument(parser)
        add_format_argument(parser)

    def handle(
        self,
        *args: Any,
        status: bool,
        rollback: bool,
        repair: bool,
        reload_servers: bool,
        reverse_migrations: bool,
        dry_run: bool,
        reload: bool,
        timeout: str,
        format: str,
        **options: Any,
    ) -> None:
        timeout_seconds = duration_option(timeout, "--timeout", VERIFY_TIMEOUT)
        if reload_servers and (dry_run or not reload):
            raise CommandError(
                "--reload-servers reloads the servers; it goes with neither --dry-run nor --no-reload."
            )
        if reverse_migrations and not rollback:
            raise CommandError("--reverse-migrations goes with --rollback.")
        self.verbosity = options["verbosity"]
        root = find_deploy_root()
        if status:
            data = service.status(root)
            self.document = {"action": "status", **data}
            self.say(report.status_lines(data), even_quiet=True)
            return
        if repair:
            try:
                state, what = service.repair(root)
            except service.SwapError as exc:
                raise self.failed(exc) from exc
            self.document = {"action": "repair", "repair": what, "live": state.live, "stage": state.stage}
            self.say(report.repair_lines(state, what))
            return
        swap_options = service.SwapOptions(
            project_subdir=find_project_subdir(root),
            production_variable=locate.production_variable(),
            dry_run=dry_run,
            reload=reload,
            timeout=timeout_seconds,
            reverse_migrations=reverse_migrations,
            run_id=run_id_option(root, options["run_id"]),
        )
        try:
            run = service.rollback if rollback else service.reload_servers if reload_servers else service.swap
            outcome = run(root, swap_options, self.progress)
        except service.SwapError as exc:
            raise self.failed(exc) from exc
        self.document = outcome.as_dict()
        self.say(report.outcome_lines(outcome))
