"""deploy_pull: bring the stage slot to a ref, stage by stage (logic in django_deploykit.deploy_pull)."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import CommandError

from django_deploykit.conf import conf
from django_deploykit.deploy_pull.pull import PullError, PullOptions, PullOutcome, pull
from django_deploykit.deploy_root import git
from django_deploykit.durations import WAIT_LOCK
from django_deploykit.management.base import (
    DeploykitCommand,
    add_format_argument,
    duration_option,
    find_deploy_root,
    find_project_subdir,
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
        parser.add_argument(
            "--ref", help="Branch, tag or commit to deploy (default DEPLOYKIT_PULL_REF, 'main')."
        )
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
        parser.add_argument(
            "--wait-lock",
            default="0",
            help="How long to wait for the deploy lock, such as 30s or 5min (default 0: fail at once, naming the holder).",
        )
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
        add_format_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbosity = options["verbosity"]
        wait_lock = duration_option(options["wait_lock"], "--wait-lock", WAIT_LOCK)
        ref = options["ref"] if options["ref"] is not None else conf.PULL_REF
        problem = git.ref_error(ref)
        if problem:
            raise CommandError(problem)
        root = find_deploy_root()
        in_place_slot = self._running_slot(root) if options["in_place"] else None
        subdir = find_project_subdir(root)
        choice = conf.SETTINGS_CHOICE or {}
        pull_options = PullOptions(
            project_subdir=subdir,
            ref=ref,
            remote=conf.PULL_REMOTE,
            offline=options["offline"] or conf.OFFLINE,
            dry_run=options["dry_run"],
            wait_lock=wait_lock,
            in_place_slot=in_place_slot,
            allow_non_fast_forward=options["allow_non_fast_forward"],
            discard_local_changes=options["discard_local_changes"],
            production_variable=choice.get("variable", "PRODUCTION"),
            requirements=conf.REQUIREMENTS_FILE,
            wheelhouse=conf.WHEELHOUSE,
            test_settings=conf.TEST_SETTINGS,
            stage_timeout=conf.STAGE_TIMEOUT,
            reload=conf.RELOAD,
            stage_url=conf.STAGE_URL,
            revision_token=conf.REVISION_TOKEN,
            log_keep=conf.LOG_KEEP,
        )
        try:
            outcome = pull(root, pull_options, self.progress)
        except PullError as exc:
            self.document = exc.outcome.as_dict()
            raise CommandError(str(exc), returncode=exc.exit_code) from exc
        self._show(outcome)

    def _running_slot(self, root: Any) -> str:
        slot = (conf.SETTINGS_CHOICE or {}).get("slot")
        if slot not in root.slot_names:
            raise CommandError("--in-place needs the command to run from a slot's checkout (live or stage).")
        return str(slot)

    def _show(self, outcome: PullOutcome) -> None:
        self.document = outcome.as_dict()
        # The warnings were reported as they happened.
        if self.json_output or self.verbosity < 1:
            return
        if outcome.result == "dry-run":
            plan = outcome.plan
            self.stdout.write(self.style.MIGRATE_HEADING(f"Dry run for {outcome.slot}: nothing changed."))
            self.stdout.write(f"Commits ({len(plan['commits'])}):")
            for commit in plan["commits"]:
                self.stdout.write(f"  {commit}")
            requirements = plan["requirements"]
            if isinstance(requirements, list):
                self.stdout.write("Requirement changes:")
                for line in requirements:
                    self.stdout.write(f"  {line}")
            else:
                self.stdout.write(f"Requirements: {requirements}")
            self.stdout.write(f"New migration files: {', '.join(plan['new_migration_files']) or 'none'}")
            pending = plan["pending_migrations"]
            self.stdout.write(
                "Pending migrations of the target commit, by phase:" + ("" if pending else " none")
            )
            for phase, names in pending.items():
                self.stdout.write(f"  {phase}: {names if isinstance(names, str) else ', '.join(names)}")
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"{outcome.slot} is at {outcome.to_revision} (tag {outcome.tag}); logs in {outcome.log_dir}. "
                f"Next: manage.py swap_live."
            )
        )
