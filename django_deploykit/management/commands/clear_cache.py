"""Clear exactly this instance's cache keys; the logic is in ``django_deploykit.cache_clearing``."""

from __future__ import annotations

import argparse
from typing import Any

from django.core.management.base import CommandError

from django_deploykit.cache_clearing.confirmation import ask_on_terminal, confirm, sessions_warnings
from django_deploykit.cache_clearing.plan import ClearRequest, PlanRefused, build_plans, setup_from_settings
from django_deploykit.cache_clearing.run import (
    MAX_BATCH,
    ClearFailed,
    clear_all,
    preflight,
    progress_lines,
    refuse_bad_batch,
)
from django_deploykit.exit_codes import ExitCode
from django_deploykit.management.base import DeploykitCommand, add_format_argument


class Command(DeploykitCommand):
    help = (
        "Delete this instance's cache keys (its KEY_PREFIX, on Redis with SCAN and batched UNLINK), leaving "
        "the other slot's keys, other prefixes and sessions alone. Exit codes: 0 done, 1 refused or failed "
        "with nothing changed, 3 failed after some keys were deleted (docs/exit_codes.md)."
    )
    # The command must run even when our own cache checks fail: it is how their cause gets cleaned up.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "aliases", nargs="*", metavar="ALIAS", help="Cache aliases to clear (default: default)."
        )
        parser.add_argument("--all-aliases", action="store_true", help="Clear every alias of CACHES.")
        namespace = parser.add_mutually_exclusive_group()
        namespace.add_argument("--prefix", help="Clear this KEY_PREFIX instead of the alias's own.")
        namespace.add_argument(
            "--slot",
            help="Clear the keys of this slot (its prefix is the alias's with the slot name swapped).",
        )
        parser.add_argument(
            "--all-versions",
            action="store_true",
            help="Clear every VERSION of the prefix, not only the current one.",
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be cleared; delete nothing."
        )
        parser.add_argument(
            "--batch",
            type=int,
            default=1000,
            help=f"Keys per SCAN step and per UNLINK or DELETE (1 to {MAX_BATCH}, default 1000).",
        )
        parser.add_argument(
            "--flush",
            action="store_true",
            help="Empty the whole store (FLUSHDB, flush_all, every file or row), whatever the prefix.",
        )
        parser.add_argument(
            "--yes", action="store_true", help="Confirm --flush and clearing sessions without being asked."
        )
        add_format_argument(parser)

    def handle(
        self,
        *args: str,
        aliases: list[str],
        all_aliases: bool,
        prefix: str | None,
        slot: str | None,
        all_versions: bool,
        dry_run: bool,
        batch: int,
        flush: bool,
        yes: bool,
        **options: Any,
    ) -> None:
        self.verbosity = int(options["verbosity"])
        request = ClearRequest(
            aliases=tuple(aliases),
            all_aliases=all_aliases,
            prefix=prefix,
            slot=slot,
            all_versions=all_versions,
            flush=flush,
        )
        try:
            refuse_bad_batch(batch)
            setup = setup_from_settings()
            plans = build_plans(request, setup)
            warnings = sessions_warnings(plans, setup)
            if not dry_run:
                # A prompt on stdout would break the JSON document.
                confirm(plans, warnings, yes=yes, ask=None if self.json_output else ask_on_terminal)
        except PlanRefused as exc:
            raise CommandError(str(exc), returncode=ExitCode.FAILED) from exc
        self.document = {"dry_run": dry_run, "aliases": [], "warnings": warnings}
        if not self.json_output:
            for warning in warnings:
                self.stderr.write(self.style.WARNING(warning))
        try:
            preflight(plans)
            quiet = self.verbosity < 1
            progress = None if quiet else progress_lines(self.stderr.write, every_step=self.verbosity >= 2)
            results = clear_all(plans, batch=batch, dry_run=dry_run, progress=progress)
        except ClearFailed as exc:
            raise CommandError(
                str(exc), returncode=ExitCode.FAILED_PARTWAY if exc.changed else ExitCode.FAILED
            ) from exc
        self.document["aliases"] = [result.as_dict() for result in results]
        if self.verbosity >= 1 and not self.json_output:
            for result in results:
                self.stdout.write(result.summary if result.dry_run else self.style.SUCCESS(result.summary))
                for item in result.left_alone:
                    self.progress(f"Left alone: {item}.")
