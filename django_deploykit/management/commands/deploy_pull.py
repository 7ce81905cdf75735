"""deploy_pull: bring the stage slot to a ref, stage by stage (logic in django_deploykit.deploy_pull)."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import CommandError

from django_deploykit.deploy_pull import report
from django_deploykit.deploy_pull.pull import PullError, PullOptions, pull
from django_deploykit.deploy_root import locate
from django_deploykit.deploy_root.layout import DeployRoot
from django_deploykit.durations import WAIT_LOCK
from django_deploykit.management.base import (
    DeploykitCommand,
    add_format_argument,
    add_ref_argument,
    add_run_id_argument,
    add_wait_lock_argument,
    duration_option,
    find_deploy_root,
    find_project_subdir,
    ref_option,
    run_id_option,
)


class Command(DeploykitCommand):
    help = (
        "Bring the stage slot to a ref: take the deploy lock, fetch and fast-forward, install the requirements "
        "into the slot's virtualenv, collectstatic, apply the additive migrations, run check --deploy (and the "
        "tests when configured), reload the stage server, tag and record. Each stage is logged under the deploy "
        "root's logs/ folder; the first failure halts the run. Exit codes: 0 done (or dry run), 1 a stage failed "
        "or bad input, live untouched; 6 another run holds the lock (docs/exit_codes.md)."
    )
    # The checks run in the stage slot's own interpreter as a stage.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_ref_argument(parser, "deploy")
        parser.add_argument(
            "--offline",
            action="store_true",
            help="Install the requirements only from the repository's wheelhouse (--no-index --find-links).",
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Fetch, then show the commit range, requirement changes and pending migrations; change nothing.",
        )
        add_wait_lock_argument(parser)
        parser.add_argument(
            "--in-place",
            action="store_true",
            help="Update the slot this command runs from, even the live one, instead of the stage slot (warns).",
        )
        parser.add_argument(
            "--allow-non-fast-forward",
            action="store_true",
            help="Move the slot to the ref even when it is not a descendant of the slot's commit.",
        )
        parser.add_argument(
            "--discard-local-changes",
            action="store_true",
            help="Throw away local changes in the slot's checkout.",
        )
        add_run_id_argument(parser)
        add_format_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbosity = options["verbosity"]
        wait_lock = duration_option(options["wait_lock"], "--wait-lock", WAIT_LOCK)
        ref = ref_option(options["ref"])
        if options["dry_run"] and options["run_id"]:
            raise CommandError(
                "--run-id names a recorded run, and a dry run records nothing: give one of them."
            )
        root = find_deploy_root()
        in_place_slot = self._running_slot(root) if options["in_place"] else None
        pull_options = PullOptions.from_settings(
            find_project_subdir(root),
            ref=ref,
            offline=options["offline"],
            dry_run=options["dry_run"],
            wait_lock=wait_lock,
            in_place_slot=in_place_slot,
            allow_non_fast_forward=options["allow_non_fast_forward"],
            discard_local_changes=options["discard_local_changes"],
            run_id=run_id_option(root, options["run_id"]),
        )
        try:
            outcome = pull(root, pull_options, self.progress)
        except PullError as exc:
            raise self.failed(exc) from exc
        self.document = outcome.as_dict()
        self.say(report.outcome_lines(outcome))

    def _running_slot(self, root: DeployRoot) -> str:
        slot = locate.running_slot()
        if slot not in root.slot_names:
            raise CommandError("--in-place needs the command to run from a slot's checkout (live or stage).")
        return str(slot)
