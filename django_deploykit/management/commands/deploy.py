"""deploy: maintenance, pull, swap, destructive migrations, cache, as one locked and logged run.

The logic is in django_deploykit.deploy; exit codes in docs/deploy.md.
"""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from typing import Any

from django.core.management.base import CommandError
from django.utils import timezone

from django_deploykit.conf import conf
from django_deploykit.deploy.pipeline import PipelineError, parse_pipeline
from django_deploykit.deploy.procedure import (
    DeployFailed,
    DeployOptions,
    DeployOutcome,
    deploy,
    maintenance_options_error,
    refused,
)
from django_deploykit.deploy_root import git
from django_deploykit.durations import VERIFY_TIMEOUT, WAIT_LOCK
from django_deploykit.management.base import (
    DeploykitCommand,
    add_format_argument,
    duration_option,
    find_deploy_root,
    find_project_subdir,
)


class Command(DeploykitCommand):
    help = (
        "Deploy in one step: optional announced maintenance, deploy_pull into the stage slot, swap_live, the "
        "destructive migrations in the new live slot, clear the old slot's cache keys, end maintenance. The stages "
        "come from DEPLOYKIT_DEPLOY_PIPELINE. Exit codes: 0 deployed; 1 bad input or a failure before the swap "
        "(live untouched); 3 a failure after the swap (the new code is live; the message says how to resume or "
        "roll back); 4 the swap's outcome is uncertain; 6 another run holds the lock (docs/exit_codes.md). "
        "Stopped by SIGTERM, SIGHUP or SIGINT, it stops the stage's command, "
        "records the run and exits with the code of where it stood."
    )
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "--ref", help="Branch, tag or commit to deploy (default DEPLOYKIT_PULL_REF, 'main')."
        )
        parser.add_argument("--offline", action="store_true", help="Pass --offline to deploy_pull.")
        parser.add_argument(
            "--maintenance",
            action="store_true",
            help="Announce and run a maintenance window around the deploy.",
        )
        parser.add_argument("--at", help="With --maintenance: when the window starts (maintenance on --at).")
        parser.add_argument("--warn", help="With --maintenance: how long before the start the banner shows.")
        parser.add_argument(
            "--for", dest="duration", help="With --maintenance: the window's length, e.g. 30m."
        )
        parser.add_argument("--message", help="With --maintenance: the banner's and the 503 page's text.")
        parser.add_argument("--resume-from", help="Start at this stage (after a failure that printed it).")
        parser.add_argument(
            "--wait-lock",
            default="0",
            help="How long to wait for the deploy lock, such as 30s or 5min (default 0).",
        )
        parser.add_argument(
            "--swap-timeout",
            default="30s",
            help="How long swap_live waits for verification, such as 30s or 2min (default 30s).",
        )
        parser.add_argument("--yes", action="store_true", help="Do not ask for confirmation.")
        add_format_argument(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        self.verbosity = options["verbosity"]
        ref = options["ref"] if options["ref"] is not None else conf.PULL_REF
        problem = git.ref_error(ref)
        if problem:
            raise CommandError(problem)
        wait_lock = duration_option(options["wait_lock"], "--wait-lock", WAIT_LOCK)
        swap_timeout = duration_option(options["swap_timeout"], "--swap-timeout", VERIFY_TIMEOUT)
        maintenance_args = self._maintenance_args(options)
        root = find_deploy_root()
        subdir = find_project_subdir(root)
        try:
            stages = parse_pipeline(conf.DEPLOY_PIPELINE)
        except PipelineError as exc:
            message = f"{exc} Nothing was deployed."
            refused(root, ref, message)
            raise CommandError(message) from exc
        names = [stage.name for stage in stages]
        if options["resume_from"] is not None and options["resume_from"] not in names:
            raise CommandError(f"--resume-from must be one of the pipeline's stages: {', '.join(names)}.")
        if not options["yes"]:
            self._confirm(ref, names)
        deploy_options = DeployOptions(
            project_subdir=subdir,
            stages=stages,
            ref=ref,
            offline=options["offline"] or conf.OFFLINE,
            maintenance=options["maintenance"],
            maintenance_args=maintenance_args,
            resume_from=options["resume_from"],
            production_variable=(conf.SETTINGS_CHOICE or {}).get("variable", "PRODUCTION"),
            stage_timeout=conf.STAGE_TIMEOUT,
            swap_timeout=swap_timeout,
            wait_lock=wait_lock,
            log_keep=conf.LOG_KEEP,
        )
        try:
            outcome = deploy(root, deploy_options, self.progress)
        except DeployFailed as exc:
            self.document = exc.outcome.as_dict()
            raise CommandError(str(exc), returncode=exc.exit_code) from exc
        self._show(outcome)

    def _maintenance_args(self, options: dict[str, Any]) -> tuple[str, ...]:
        pairs = [
            ("--at", options["at"]),
            ("--warn", options["warn"]),
            ("--for", options["duration"]),
            ("--message", options["message"]),
        ]
        given = [(flag, value) for flag, value in pairs if value is not None]
        if given and not options["maintenance"]:
            raise CommandError(
                f"{given[0][0]} only makes sense with --maintenance; add it or drop {given[0][0]}."
            )
        problem = maintenance_options_error(
            options["at"],
            options["duration"],
            options["warn"],
            now=datetime.now(UTC),
            zone=timezone.get_default_timezone(),
        )
        if problem:
            raise CommandError(f"{problem} Nothing was deployed.")
        return tuple(part for flag, value in given for part in (flag, value))

    def _confirm(self, ref: str, names: list[str]) -> None:
        # A prompt on stdout would break the JSON document.
        if not sys.stdin.isatty() or self.json_output:
            raise CommandError("deploy changes what is live: pass --yes to run it without a prompt.")
        answer = input(f"Deploy {ref} through {', '.join(names)}? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            raise CommandError("Not confirmed; nothing was changed.")

    def _show(self, outcome: DeployOutcome) -> None:
        self.document = outcome.as_dict()
        if not self.json_output and self.verbosity >= 1:
            for warning in outcome.warnings:
                self.stdout.write(self.style.WARNING(f"WARNING: {warning}"))
            self.stdout.write(
                self.style.SUCCESS(
                    f"Deployed {outcome.ref}: {outcome.live_after} is live (was {outcome.live_before}); "
                    f"logs in {outcome.log_dir}."
                )
            )
