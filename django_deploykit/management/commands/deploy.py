"""deploy: maintenance, pull, swap, destructive migrations, cache, as one locked and logged run.

The logic is in django_deploykit.deploy; exit codes in docs/deploy.md.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from django.core.management.base import CommandError

from django_deploykit.deploy.pipeline import PipelineError
from django_deploykit.deploy.procedure import (
    DeployFailed,
    DeployOptions,
    deploy,
    maintenance_arguments,
    outcome_lines,
    pipeline_of_settings,
)
from django_deploykit.durations import VERIFY_TIMEOUT, WAIT_LOCK
from django_deploykit.management.base import (
    DeploykitCommand,
    add_deploy_maintenance_arguments,
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
        "Deploy in one step: notify the targets of DEPLOYKIT_NOTIFICATIONS, optional maintenance, deploy_pull, swap_live, "
        "destructive migrations in the new live slot, clear the old slot's cache keys, end maintenance. The stages "
        "come from DEPLOYKIT_DEPLOY_PIPELINE. Exit codes: 0 deployed; 1 bad input or a failure before the swap "
        "(live untouched); 3 a failure after the swap (the new code is live; the message says how to resume or "
        "roll back); 4 the swap's outcome is uncertain; 6 another run holds the lock (docs/exit_codes.md). "
        "Stopped by SIGTERM, SIGHUP or SIGINT, it stops the stage's command, "
        "records the run and exits with the code of where it stood."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_ref_argument(parser, "deploy")
        parser.add_argument("--offline", action="store_true", help="Pass --offline to deploy_pull.")
        parser.add_argument(
            "--allow-non-fast-forward",
            action="store_true",
            help="Pass --allow-non-fast-forward to deploy_pull: deploy an older commit, such as a recorded release.",
        )
        add_deploy_maintenance_arguments(parser)
        parser.add_argument("--resume-from", help="Start at this stage (after a failure that printed it).")
        add_wait_lock_argument(parser)
        parser.add_argument(
            "--swap-timeout",
            default="30s",
            help="How long swap_live waits for verification, such as 30s or 2min (default 30s).",
        )
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")
        add_run_id_argument(parser)
        add_format_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbosity = options["verbosity"]
        ref = ref_option(options["ref"])
        wait_lock = duration_option(options["wait_lock"], "--wait-lock", WAIT_LOCK)
        swap_timeout = duration_option(options["swap_timeout"], "--swap-timeout", VERIFY_TIMEOUT)
        try:
            maintenance_args = maintenance_arguments(
                options["maintenance"],
                options["at"],
                options["warn"],
                options["duration"],
                options["message"],
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        root = find_deploy_root()
        subdir = find_project_subdir(root)
        try:
            stages = pipeline_of_settings(root, ref, options["resume_from"])
        except PipelineError as exc:
            raise CommandError(str(exc)) from exc
        if not options["yes"]:
            self._confirm(ref, [stage.name for stage in stages])
        deploy_options = DeployOptions.from_settings(
            subdir,
            stages,
            offline=options["offline"],
            allow_non_fast_forward=options["allow_non_fast_forward"],
            ref=ref,
            maintenance=options["maintenance"],
            maintenance_args=maintenance_args,
            resume_from=options["resume_from"],
            swap_timeout=swap_timeout,
            wait_lock=wait_lock,
            run_id=run_id_option(root, options["run_id"]),
        )
        try:
            outcome = deploy(root, deploy_options, self.progress)
        except DeployFailed as exc:
            raise self.failed(exc) from exc
        self.document = outcome.as_dict()
        self.say(outcome_lines(outcome))

    def _confirm(self, ref: str, names: list[str]) -> None:
        # A prompt on stdout would break the JSON document.
        if not sys.stdin.isatty() or self.json_output:
            raise CommandError("deploy changes what is live: pass --yes to run it without a prompt.")
        answer = input(f"Deploy {ref} through {', '.join(names)}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            raise CommandError("Not confirmed; nothing was changed.")
